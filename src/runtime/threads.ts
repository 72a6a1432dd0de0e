// The worker pool of the threaded core. Each worker instantiates the threaded build on the one
// shared memory and enters pool_work (assembly/parallel.ts), where it serves the main thread's
// jobs (products, activations, optimizer updates) until the pool stops; all coordination is
// atomics in linear memory, so a training step makes no postMessage and runs no JS in a worker.
//
// Workers come from an inline source (no file to locate, no bundler configuration): Node's
// worker_threads (`eval`; also in Deno and Bun), elsewhere (browsers) a module Worker from a
// Blob URL. worker_threads workers are unref'd: a script that trains and returns exits by itself.
// When workers cannot be started (no Worker, a CSP that forbids blob: workers), the core runs on
// the calling thread: the same bits, one thread, and runtimeInfo() says so.
import { RuntimeError } from '../errors.js';
import type { AnyKernel, KernelName, PoolExports } from './abi.js';
import type { Core } from './load.js';

/** What the pool needs of the Arena (memory.ts, which holds the pool: no import back). */
interface PoolArena {
  reserve(bytes: number): number;
  wrapKernels(wrap: (name: KernelName, kernel: AnyKernel) => AnyKernel): () => void;
}

/** What a worker reports: ready (instantiated, about to serve), or the error that ended it. */
type WorkerMessage = { ready: true } | { error: string };

interface WorkerHandle {
  terminate(): unknown;
}

/**
 * The worker's whole program, as source text (a string, so that no bundler rewrites it: esbuild
 * would turn `require` into its own shim). It receives { module, memory, block, scratch }
 * (workerData, or the first message), instantiates the threaded build on the shared memory,
 * says ready and serves in pool_work; a trap there calls pool_fail and is reported.
 * worker_threads' eval code has `require` in scope (a global in Node, a local in Bun).
 */
const WORKER_SOURCE = `
const start = (d, post) => {
  let ex;
  try {
    ex = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports;
  } catch (e) {
    post({ error: String(e && e.message || e) });
    return;
  }
  post({ ready: true });
  try {
    ex.pool_work(d.block, d.scratch);
  } catch (e) {
    ex.pool_fail(d.block);
    post({ error: String(e && e.message || e) });
  }
};
if (typeof require === 'function') {
  const wt = require('node:worker_threads');
  start(wt.workerData, (m) => wt.parentPort.postMessage(m));
} else {
  self.onmessage = (e) => {
    self.onmessage = null;
    start(e.data, (m) => self.postMessage(m));
  };
}
`;

const START_TIMEOUT_MS = 15_000;

// Kept in a variable so that bundlers leave Node's module alone (browsers never reach it).
const NODE_WORKERS = 'node:worker_threads';

type Spawn = (data: object, onMessage: (m: WorkerMessage) => void) => WorkerHandle;

async function spawner(): Promise<Spawn | null> {
  // Node's worker_threads first (Node, Deno and Bun have it): its workers can be unref'd, so a
  // script that trains and returns exits by itself (a Deno web Worker would keep it running).
  try {
    const wt = (await import(/* @vite-ignore */ NODE_WORKERS)) as typeof import('node:worker_threads');
    if (typeof wt.Worker === 'function') {
      return (data, onMessage) => {
        const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data });
        // unref'd once ready: until then the pending start keeps the process alive
        w.on('message', (m: WorkerMessage) => {
          if ('ready' in m) w.unref();
          onMessage(m);
        });
        w.on('error', (e) => onMessage({ error: e.message }));
        return w;
      };
    }
  } catch {
    // not a server runtime: a browser
  }
  const WebWorker = (globalThis as { Worker?: new (url: string, o: object) => WebWorkerLike }).Worker;
  if (typeof WebWorker !== 'function' || typeof URL.createObjectURL !== 'function' || typeof Blob !== 'function') return null;
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  return (data, onMessage) => {
    const w = new WebWorker(url, { type: 'module' });
    w.onmessage = (e) => onMessage(e.data as WorkerMessage);
    w.onerror = (e) => onMessage({ error: String((e as { message?: string }).message ?? 'worker error') });
    w.postMessage(data);
    return w;
  };
}

interface WebWorkerLike {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  postMessage(m: unknown): void;
  terminate(): void;
}

/** The running pool: how many threads compute (the caller's included) and how to stop it. */
export class Pool {
  /** The last error a worker reported (its message may arrive after the trap that ends a job). */
  workerError: string | null = null;

  constructor(
    private readonly ex: PoolExports,
    private readonly block: number,
    private readonly scratch: number,
    private readonly workers: WorkerHandle[],
  ) {}

  /** Threads that compute large products, the calling one included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Tasks the workers ran since the pool started (a statistic: proof that they worked). */
  workerTasks(): number {
    return this.ex.pool_worker_tasks(this.block);
  }

  /**
   * After a kernel threw: if a worker failed during it (pool_fail), stops the pool and returns
   * the RuntimeError to throw instead; null if the error was the calling thread's own.
   */
  failed(): RuntimeError | null {
    if (this.workers.length === 0) return null;
    this.ex.pool_abandon(this.block); // the trap may have been this thread's, mid-job
    if (this.ex.pool_failed(this.block) === 0) return null;
    this.stop();
    return new RuntimeError(
      `a worker thread of the core failed (${this.workerError ?? 'it trapped'}): the call was abandoned, and the core now runs on ` +
        'the calling thread',
    );
  }

  /** Stops the workers (they return from pool_work and end); the core keeps the calling thread. */
  stop(): void {
    this.ex.pool_attach(0, this.scratch);
    this.ex.pool_stop(this.block);
    for (const w of this.workers.splice(0)) void w.terminate();
  }
}

/**
 * Starts `threads − 1` workers for the threaded core (core.shared set). Falls back to the calling
 * thread alone (a pool of one) when workers cannot be started here.
 */
export async function startPool(core: Core, arena: PoolArena, threads: number): Promise<Pool> {
  const ex = core.exports as unknown as PoolExports;
  const block = arena.reserve(ex.pool_block_bytes());
  const scratchBytes = ex.pool_scratch_bytes();
  const mainScratch = arena.reserve(scratchBytes);
  ex.pool_attach(0, mainScratch);
  const spawn = threads > 1 ? await spawner() : null;
  const workers: WorkerHandle[] = [];
  const pool = new Pool(ex, block, mainScratch, workers);
  if (spawn) {
    try {
      const ready: Promise<void>[] = [];
      for (let i = 1; i < threads; i++) {
        const data = { module: core.shared!.module, memory: core.memory, block, scratch: arena.reserve(scratchBytes) };
        ready.push(
          new Promise<void>((resolve, reject) => {
            const onMessage = (m: WorkerMessage): void => {
              if ('ready' in m) resolve();
              else {
                pool.workerError = m.error;
                reject(new Error(m.error));
              }
            };
            workers.push(spawn(data, onMessage));
          }),
        );
      }
      // a worker that never answers (a runtime that accepts the Worker but cannot run it) must
      // not hang init: after START_TIMEOUT_MS the core runs on one thread
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('workers did not start')), START_TIMEOUT_MS);
      });
      try {
        await Promise.race([Promise.all(ready), late]);
      } finally {
        clearTimeout(timer);
      }
      ex.pool_attach(block, mainScratch);
    } catch {
      // no workers here (a CSP, a runtime without them): one thread, said by runtimeInfo()
      pool.stop();
    }
  }
  if (pool.threads > 1) {
    // any kernel may split its work (gemm, activations, optimizer updates: assembly/parallel.ts);
    // a worker's failure surfaces as a trap of the call that dispatched it
    arena.wrapKernels((_, kernel) => (...args) => {
      try {
        return kernel(...args);
      } catch (e) {
        throw pool.failed() ?? e;
      }
    });
  }
  return pool;
}
