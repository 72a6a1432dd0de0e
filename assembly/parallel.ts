// The thread pool of the threaded builds (asconfig targets `threads`, `threads-relaxed`; entry
// index-threads.ts). Every thread runs its own instance of this module on one shared memory; the
// TS layer (src/runtime/threads.ts) starts the workers, the main thread's instance dispatches.
//
// Protocol, all in a control block of shared memory (POOL_BLOCK_BYTES, allocated by the Arena):
// the main thread writes a job (its kind, task count and arguments), opens it and bumps GEN; workers spin
// on GEN for a while, then sleep on it (memory.atomic.wait32); every participant, the main thread
// included, claims tasks with an atomic add on CLAIM until none are left, counting them in DONE.
// The main thread spins until DONE reaches the task count (it never sleeps: browsers forbid
// waiting on the main thread), closes the job and waits until no worker is INSIDE it, so the next
// job's arguments are never written under a worker still reading them.
//
// Same bits for any thread count: a job is split into tasks by sizes that depend only on the
// problem, and each task writes its own part of the output with the serial code: a block of C
// (by gemm.ts's contract an element's bits do not depend on the block it lands in), a band of
// rows of an activation or of an int8 product, a range of an elementwise optimizer update, rows of a loss (each row's
// total kept apart and added in row order by the caller, as the serial loop adds them). No
// floating-point sum is split differently from the serial code. So 1, 2 or 3
// threads, and the single-threaded builds, give identical results. Nothing here allocates; a wasm global is
// per instance, so `pool` and the GEMM scratch pointer are each thread's own.
import { gemmBlock, setGemmScratch, GEMM_SCRATCH_BYTES, GEMM_MR, GEMM_NC, GEMM_NR } from './gemm';
import { f32_bias_act } from './activations';
import { f32_adadelta, f32_adagrad, f32_adam, f32_rmsprop, f32_sgd } from './optimizers';
import { bceSigmoidRow } from './losses';
import { i8_gemm_panels, i8_quantize_rows } from './int8';

// Control block slots (byte offsets), by cache line: what idle workers spin on (written once
// per job), what the tasks update (claims and counts), and the job itself (read-only while open).
const GEN: usize = 0; // job generation: bumped to start a job (and to stop the pool)
const QUIT: usize = 4; // 1: workers return
const SLEEPERS: usize = 8; // workers asleep on GEN
const FAILED: usize = 12; // 1: a worker trapped (pool_fail, called by its JS)
const OPEN: usize = 64; // 1 while the current job takes participants
const CLAIM: usize = 68; // next task to hand out
const DONE: usize = 72; // tasks finished
const INSIDE: usize = 76; // workers inside the current job
const J_RESULT: usize = 80; // the sum of the tasks' integer results (order-free)
const WORKER_TASKS: usize = 84; // tasks run by workers since start (a statistic for the tests)
const J_KIND: usize = 128;
const J_TASKS: usize = 132;
const J_ARGS: usize = 136; // 16 slots of 8 bytes
const PARTIALS: usize = 264; // per-row f64 totals of a split loss, summed in row order by the caller
const MAX_PARTIALS: i32 = 1024;
const POOL_BLOCK_BYTES: i32 = 264 + MAX_PARTIALS * 8;

// Kinds of job.
// A GEMM and its grid of RH-row × CW-column blocks, NCOL blocks per row band. Arguments:
// flags (bit 0: A transposed, 1: B transposed, 2: accumulate), m, n, k, a, b, c, cw, rh, ncol.
const JOB_GEMM: i32 = 0;
// f32_bias_act on bands of ROWS rows. Arguments: act, alpha, z, bias, y, m, n, rows.
const JOB_BIAS_ACT: i32 = 1;
// An optimizer update (optimizers.ts) on CHUNK-element ranges. Arguments: the kernel's own, in
// order (n first); pointers are offset to the range, the undo displacement is not.
const JOB_SGD: i32 = 2;
const JOB_ADAM: i32 = 3;
const JOB_RMSPROP: i32 = 4;
const JOB_ADAGRAD: i32 = 5;
const JOB_ADADELTA: i32 = 6;
// f32_loss_bce_sigmoid on bands of ROWS rows, each row's total to PARTIALS. Arguments: logits,
// probs, target, grad, m, n, gscale, rows.
const JOB_BCE_SIGMOID: i32 = 7;
// i8_gemm_panels on bands of ROWS rows (each row's sums are its own). Arguments: m, n, kp, a,
// panels, sa, sw, bias, c, rows.
const JOB_I8_GEMM: i32 = 8;
// i8_quantize_rows on bands of ROWS rows. Arguments: x, q, scales, m, k, kp, fixedScale, rows.
const JOB_I8_QUANTIZE: i32 = 9;

// @ts-ignore: decorator
@inline function argI(p: usize, i: i32): i32 {
  return load<i32>(p + J_ARGS + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function setI(p: usize, i: i32, v: i32): void {
  store<i32>(p + J_ARGS + (<usize>i << 3), v);
}
// @ts-ignore: decorator
@inline function argF(p: usize, i: i32): f64 {
  return load<f64>(p + J_ARGS + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function setF(p: usize, i: i32, v: f64): void {
  store<f64>(p + J_ARGS + (<usize>i << 3), v);
}

// Below this many multiply-adds a GEMM stays on the calling thread: waking a worker and sharing
// the packing would cost more than the half it takes (~30 µs of single-thread work).
const MIN_PARALLEL_MACS: i64 = 1 << 19;
// Elementwise work: split when it has at least 2 chunks of CHUNK elements (~5-50 µs each).
const CHUNK: i32 = 16384;
// Spins on GEN before a worker sleeps: 2^20 atomic loads, ~2-5 ms here. A training step's
// products come every few hundred µs at most (the loss and the JS between steps are the longest
// gaps), and a sleeping worker takes ~50 µs or more to wake, which would cost more than the
// split saves; after the last product of a fit, the workers spin a few ms, then sleep.
const SPIN: i32 = 1 << 20;

let pool: usize = 0; // this instance's control block; 0 on the main thread until attached

/** Bytes of the control block the host allocates (64-byte aligned, zero-filled). */
export function pool_block_bytes(): i32 {
  return POOL_BLOCK_BYTES;
}

/** Bytes of GEMM scratch each thread needs, the main one included (its own, 64-byte aligned). */
export function pool_scratch_bytes(): i32 {
  return <i32>GEMM_SCRATCH_BYTES;
}

/**
 * Main thread: GEMM scratch at `scratch` (pool_scratch_bytes), and large GEMMs dispatched to the
 * workers serving `block` (0: none, every GEMM runs here).
 */
export function pool_attach(block: usize, scratch: usize): void {
  setGemmScratch(scratch);
  pool = block;
}

/** How many tasks the workers have run since the pool started. */
export function pool_worker_tasks(block: usize): i32 {
  return atomic.load<i32>(block + WORKER_TASKS);
}

/**
 * A worker's life: serves jobs on `block` until the pool stops. Never returns otherwise; a trap
 * unwinds to the worker's JS, which sets FAILED and leaves the job (src/runtime/threads.ts).
 */
export function pool_work(block: usize, scratch: usize): void {
  setGemmScratch(scratch);
  let seen = atomic.load<i32>(block + GEN);
  while (true) {
    let spins = 0;
    let g = atomic.load<i32>(block + GEN);
    while (g == seen) {
      if (++spins >= SPIN) {
        atomic.add<i32>(block + SLEEPERS, 1);
        atomic.wait<i32>(block + GEN, seen, -1);
        atomic.sub<i32>(block + SLEEPERS, 1);
        spins = 0;
      }
      g = atomic.load<i32>(block + GEN);
    }
    seen = g;
    if (atomic.load<i32>(block + QUIT) != 0) return;
    atomic.add<i32>(block + INSIDE, 1);
    if (atomic.load<i32>(block + OPEN) != 0) {
      const n = runTasks(block);
      if (n > 0) atomic.add<i32>(block + WORKER_TASKS, n);
    }
    atomic.sub<i32>(block + INSIDE, 1);
  }
}

/** A worker's JS after pool_work trapped inside a job: marks the pool failed, leaves the job. */
export function pool_fail(block: usize): void {
  atomic.store<i32>(block + FAILED, 1);
  atomic.sub<i32>(block + INSIDE, 1);
}

/**
 * Main thread, after a job trapped on it: closes the job and waits until no worker is inside, so
 * that the pool is consistent again (workers finish or fail their tasks); re-attaches `block`.
 */
export function pool_abandon(block: usize): void {
  atomic.store<i32>(block + OPEN, 0);
  while (atomic.load<i32>(block + INSIDE) != 0) {}
  pool = block; // the trap may have left dispatch() with the pool set aside
}

/** 1 if a worker failed (pool_fail) since the pool started. */
export function pool_failed(block: usize): i32 {
  return atomic.load<i32>(block + FAILED);
}

/** Stops the workers of `block`: each returns from pool_work. */
export function pool_stop(block: usize): void {
  atomic.store<i32>(block + QUIT, 1);
  atomic.add<i32>(block + GEN, 1);
  atomic.notify(block + GEN, -1);
}

/**
 * Runs C = op(A)·op(B) (+ C) on the pool if one is attached and the product is large enough;
 * false leaves it to the caller (the serial gemm). Traps if a worker failed during the job.
 */
export function parallelGemm(aT: bool, bT: bool, m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: bool): bool {
  const p = pool;
  if (p == 0 || k <= 0 || m < GEMM_MR || n < GEMM_NR) return false;
  if (<i64>m * <i64>n * <i64>k < MIN_PARALLEL_MACS) return false;
  // The grid, from the sizes alone: column blocks up to NC wide (no more A repacking than the
  // serial code's NC blocks), an even count of them so two threads share evenly; with fewer
  // than 4, row bands too (multiples of MR, ~8 tasks), each band repacking its B block.
  let ncol = (n + GEMM_NC - 1) / GEMM_NC;
  if (ncol > 1 && (ncol & 1) != 0) ncol++;
  const cw = GEMM_NR * ((n + GEMM_NR * ncol - 1) / (GEMM_NR * ncol));
  ncol = (n + cw - 1) / cw;
  let rh = m;
  if (ncol < 4) {
    const bands = (8 + ncol - 1) / ncol;
    const tiles = (m + GEMM_MR - 1) / GEMM_MR;
    rh = GEMM_MR * ((tiles + bands - 1) / bands);
  }
  const tasks = ncol * ((m + rh - 1) / rh);
  if (tasks < 2) return false;
  setI(p, 0, (aT ? 1 : 0) | (bT ? 2 : 0) | (accumulate ? 4 : 0));
  setI(p, 1, m);
  setI(p, 2, n);
  setI(p, 3, k);
  setI(p, 4, <i32>a);
  setI(p, 5, <i32>b);
  setI(p, 6, <i32>c);
  setI(p, 7, cw);
  setI(p, 8, rh);
  setI(p, 9, ncol);
  dispatch(p, JOB_GEMM, tasks);
  return true;
}

/** f32_bias_act over [m×n] on the pool, in bands of rows (each row's values are independent). */
export function parallelBiasAct(act: i32, alpha: f32, z: usize, bias: usize, y: usize, m: i32, n: i32): bool {
  const p = pool;
  if (p == 0 || n <= 0 || <i64>m * <i64>n < <i64>(2 * CHUNK)) return false;
  const rows = max(1, CHUNK / n);
  setI(p, 0, act);
  setF(p, 1, alpha);
  setI(p, 2, <i32>z);
  setI(p, 3, <i32>bias);
  setI(p, 4, <i32>y);
  setI(p, 5, m);
  setI(p, 6, n);
  setI(p, 7, rows);
  dispatch(p, JOB_BIAS_ACT, (m + rows - 1) / rows);
  return true;
}

// The optimizer updates: elementwise, so any split gives the same values; each returns a count
// that is > 0 exactly when a new value is non-finite, and the tasks' counts add up (order-free).
// -1: not split (no pool, or too small), the caller runs the kernel itself.

export function parallelSgd(n: i32, pp: usize, g: usize, buf: usize, lr: f64, momentum: f64, dampening: f64,
  weightDecay: f64, nesterov: i32, step: i32, undo: usize): i32 {
  const p = pool;
  if (p == 0 || n < 2 * CHUNK) return -1;
  setI(p, 0, n); setI(p, 1, <i32>pp); setI(p, 2, <i32>g); setI(p, 3, <i32>buf);
  setF(p, 4, lr); setF(p, 5, momentum); setF(p, 6, dampening); setF(p, 7, weightDecay);
  setI(p, 8, nesterov); setI(p, 9, step); setI(p, 10, <i32>undo);
  return dispatch(p, JOB_SGD, (n + CHUNK - 1) / CHUNK);
}

export function parallelAdam(n: i32, pp: usize, g: usize, m: usize, v: usize, vmax: usize, lr: f64, beta1: f64,
  beta2: f64, eps: f64, weightDecay: f64, decoupled: i32, amsgrad: i32, step: i32, undo: usize): i32 {
  const p = pool;
  if (p == 0 || n < 2 * CHUNK) return -1;
  setI(p, 0, n); setI(p, 1, <i32>pp); setI(p, 2, <i32>g); setI(p, 3, <i32>m); setI(p, 4, <i32>v); setI(p, 5, <i32>vmax);
  setF(p, 6, lr); setF(p, 7, beta1); setF(p, 8, beta2); setF(p, 9, eps); setF(p, 10, weightDecay);
  setI(p, 11, decoupled); setI(p, 12, amsgrad); setI(p, 13, step); setI(p, 14, <i32>undo);
  return dispatch(p, JOB_ADAM, (n + CHUNK - 1) / CHUNK);
}

export function parallelRmsprop(n: i32, pp: usize, g: usize, sq: usize, gavg: usize, buf: usize, lr: f64, alpha: f64,
  eps: f64, weightDecay: f64, momentum: f64, centered: i32, undo: usize): i32 {
  const p = pool;
  if (p == 0 || n < 2 * CHUNK) return -1;
  setI(p, 0, n); setI(p, 1, <i32>pp); setI(p, 2, <i32>g); setI(p, 3, <i32>sq); setI(p, 4, <i32>gavg); setI(p, 5, <i32>buf);
  setF(p, 6, lr); setF(p, 7, alpha); setF(p, 8, eps); setF(p, 9, weightDecay); setF(p, 10, momentum);
  setI(p, 11, centered); setI(p, 12, <i32>undo);
  return dispatch(p, JOB_RMSPROP, (n + CHUNK - 1) / CHUNK);
}

export function parallelAdagrad(n: i32, pp: usize, g: usize, sum: usize, lr: f64, lrDecay: f64, weightDecay: f64,
  eps: f64, step: i32, undo: usize): i32 {
  const p = pool;
  if (p == 0 || n < 2 * CHUNK) return -1;
  setI(p, 0, n); setI(p, 1, <i32>pp); setI(p, 2, <i32>g); setI(p, 3, <i32>sum);
  setF(p, 4, lr); setF(p, 5, lrDecay); setF(p, 6, weightDecay); setF(p, 7, eps); setI(p, 8, step); setI(p, 9, <i32>undo);
  return dispatch(p, JOB_ADAGRAD, (n + CHUNK - 1) / CHUNK);
}

export function parallelAdadelta(n: i32, pp: usize, g: usize, sq: usize, accDelta: usize, lr: f64, rho: f64, eps: f64,
  weightDecay: f64, undo: usize): i32 {
  const p = pool;
  if (p == 0 || n < 2 * CHUNK) return -1;
  setI(p, 0, n); setI(p, 1, <i32>pp); setI(p, 2, <i32>g); setI(p, 3, <i32>sq); setI(p, 4, <i32>accDelta);
  setF(p, 5, lr); setF(p, 6, rho); setF(p, 7, eps); setF(p, 8, weightDecay); setI(p, 9, <i32>undo);
  return dispatch(p, JOB_ADADELTA, (n + CHUNK - 1) / CHUNK);
}

/**
 * f32_loss_bce_sigmoid on the pool, by bands of rows (at most MAX_PARTIALS rows): each row's total
 * goes to PARTIALS, and pooledRowSum adds them in row order, as the serial loop does.
 */
export function parallelBceSigmoid(logits: usize, probs: usize, target: usize, grad: usize, m: i32, n: i32, gscale: f32): bool {
  const p = pool;
  if (p == 0 || n <= 0 || m > MAX_PARTIALS || <i64>m * <i64>n < <i64>(2 * CHUNK)) return false;
  const rows = max(1, CHUNK / n);
  setI(p, 0, <i32>logits); setI(p, 1, <i32>probs); setI(p, 2, <i32>target); setI(p, 3, <i32>grad);
  setI(p, 4, m); setI(p, 5, n); setF(p, 6, gscale); setI(p, 7, rows);
  dispatch(p, JOB_BCE_SIGMOID, (m + rows - 1) / rows);
  return true;
}

/** The int8 product (int8.ts) on the pool, by bands of rows of A and C; the weight panels are shared. */
export function parallelI8Gemm(m: i32, n: i32, kp: i32, a: usize, panels: usize, sa: usize, sw: usize, bias: usize, c: usize): bool {
  const p = pool;
  if (p == 0 || m < 8 || <i64>m * <i64>n * <i64>kp < MIN_PARALLEL_MACS) return false;
  const rows = (m + 7) >> 3; // 8 bands
  setI(p, 0, m); setI(p, 1, n); setI(p, 2, kp); setI(p, 3, <i32>a); setI(p, 4, <i32>panels);
  setI(p, 5, <i32>sa); setI(p, 6, <i32>sw); setI(p, 7, <i32>bias); setI(p, 8, <i32>c); setI(p, 9, rows);
  dispatch(p, JOB_I8_GEMM, (m + rows - 1) / rows);
  return true;
}

/** The int8 quantizer (int8.ts) on the pool, by bands of rows (each row has its own scale). */
export function parallelI8Quantize(x: usize, q: usize, scales: usize, m: i32, k: i32, kp: i32, fixedScale: f32): bool {
  const p = pool;
  if (p == 0 || k <= 0 || <i64>m * <i64>k < <i64>(2 * CHUNK)) return false;
  const rows = max(1, CHUNK / k);
  setI(p, 0, <i32>x); setI(p, 1, <i32>q); setI(p, 2, <i32>scales); setI(p, 3, m); setI(p, 4, k); setI(p, 5, kp);
  setF(p, 6, fixedScale); setI(p, 7, rows);
  dispatch(p, JOB_I8_QUANTIZE, (m + rows - 1) / rows);
  return true;
}

/** Σ of the first m row totals of the last split loss, in row order. */
export function pooledRowSum(m: i32): f64 {
  let sum: f64 = 0;
  for (let r = 0; r < m; r++) sum += load<f64>(pool + PARTIALS + (<usize>r << 3));
  return sum;
}

// Runs a job written into p's argument slots on every thread of the pool, this one included, and
// returns the sum of the tasks' results. Traps if a worker failed during it.
function dispatch(p: usize, kind: i32, tasks: i32): i32 {
  store<i32>(p + J_KIND, kind);
  store<i32>(p + J_TASKS, tasks);
  atomic.store<i32>(p + J_RESULT, 0);
  atomic.store<i32>(p + CLAIM, 0);
  atomic.store<i32>(p + DONE, 0);
  atomic.store<i32>(p + OPEN, 1);
  atomic.add<i32>(p + GEN, 1);
  if (atomic.load<i32>(p + SLEEPERS) != 0) atomic.notify(p + GEN, -1);
  // this thread's tasks run its kernels serially: no job inside a job
  pool = 0;
  runTasks(p);
  pool = p;
  let failed = false;
  while (atomic.load<i32>(p + DONE) < tasks) {
    if (atomic.load<i32>(p + FAILED) != 0) {
      failed = true;
      break;
    }
  }
  atomic.store<i32>(p + OPEN, 0);
  while (atomic.load<i32>(p + INSIDE) != 0) {}
  if (failed) unreachable();
  return atomic.load<i32>(p + J_RESULT);
}

// Claims and runs tasks of the open job until none are left; returns how many it ran.
function runTasks(p: usize): i32 {
  const tasks = load<i32>(p + J_TASKS);
  const kind = load<i32>(p + J_KIND);
  let ran = 0;
  while (true) {
    const t = atomic.add<i32>(p + CLAIM, 1);
    if (t >= tasks) break;
    const r = kind == JOB_GEMM ? gemmTask(p, t) : kind == JOB_BIAS_ACT ? biasActTask(p, t) : kind == JOB_BCE_SIGMOID ? bceTask(p, t)
      : kind == JOB_I8_GEMM ? i8GemmTask(p, t) : kind == JOB_I8_QUANTIZE ? i8QuantizeTask(p, t) : updateTask(p, kind, t);
    if (r != 0) atomic.add<i32>(p + J_RESULT, r);
    atomic.add<i32>(p + DONE, 1);
    ran++;
  }
  return ran;
}

function gemmTask(p: usize, t: i32): i32 {
  const flags = argI(p, 0), m = argI(p, 1), n = argI(p, 2);
  const cw = argI(p, 7), rh = argI(p, 8), ncol = argI(p, 9);
  const i0 = (t / ncol) * rh;
  const j0 = (t % ncol) * cw;
  gemmBlock(
    (flags & 1) != 0, (flags & 2) != 0, m, n, argI(p, 3), <usize>argI(p, 4), <usize>argI(p, 5), <usize>argI(p, 6),
    (flags & 4) != 0, i0, min(i0 + rh, m), j0, min(j0 + cw, n),
  );
  return 0;
}

function biasActTask(p: usize, t: i32): i32 {
  const m = argI(p, 5), n = argI(p, 6), rows = argI(p, 7);
  const i0 = t * rows;
  const o = <usize>i0 * <usize>n << 2;
  f32_bias_act(argI(p, 0), <f32>argF(p, 1), <usize>argI(p, 2) + o, <usize>argI(p, 3), <usize>argI(p, 4) + o, min(rows, m - i0), n);
  return 0;
}

function i8GemmTask(p: usize, t: i32): i32 {
  const m = argI(p, 0), n = argI(p, 1), kp = argI(p, 2), rows = argI(p, 9);
  const i0 = t * rows;
  i8_gemm_panels(
    min(rows, m - i0), n, kp, <usize>argI(p, 3) + ((<usize>i0 * <usize>kp) << 1), <usize>argI(p, 4),
    <usize>argI(p, 5) + (<usize>i0 << 2), <usize>argI(p, 6), <usize>argI(p, 7), <usize>argI(p, 8) + ((<usize>i0 * <usize>n) << 2),
  );
  return 0;
}

function i8QuantizeTask(p: usize, t: i32): i32 {
  const m = argI(p, 3), k = argI(p, 4), kp = argI(p, 5), rows = argI(p, 7);
  const i0 = t * rows;
  i8_quantize_rows(
    <usize>argI(p, 0) + ((<usize>i0 * <usize>k) << 2), <usize>argI(p, 1) + ((<usize>i0 * <usize>kp) << 1),
    <usize>argI(p, 2) + (<usize>i0 << 2), min(rows, m - i0), k, kp, <f32>argF(p, 6),
  );
  return 0;
}

function bceTask(p: usize, t: i32): i32 {
  const m = argI(p, 4), n = argI(p, 5), rows = argI(p, 7);
  const grad = <usize>argI(p, 3);
  const gscale = <f32>argF(p, 6);
  const end = min(m, (t + 1) * rows);
  for (let r = t * rows; r < end; r++) {
    const off = <usize>r * <usize>n << 2;
    const total = bceSigmoidRow(<usize>argI(p, 0) + off, <usize>argI(p, 1) + off, <usize>argI(p, 2) + off, grad == 0 ? 0 : grad + off, n, gscale);
    store<f64>(p + PARTIALS + (<usize>r << 3), total);
  }
  return 0;
}

// Argument i as a pointer into task t's range (0 stays 0: an unused buffer).
// @ts-ignore: decorator
@inline function at(p: usize, i: i32, t: i32): usize {
  const v = <usize>argI(p, i);
  return v == 0 ? 0 : v + (<usize>(t * CHUNK) << 2);
}

function updateTask(p: usize, kind: i32, t: i32): i32 {
  const len = min(CHUNK, argI(p, 0) - t * CHUNK);
  switch (kind) {
    case JOB_SGD:
      return f32_sgd(len, at(p, 1, t), at(p, 2, t), at(p, 3, t), argF(p, 4), argF(p, 5), argF(p, 6), argF(p, 7), argI(p, 8), argI(p, 9), <usize>argI(p, 10));
    case JOB_ADAM:
      return f32_adam(len, at(p, 1, t), at(p, 2, t), at(p, 3, t), at(p, 4, t), at(p, 5, t), argF(p, 6), argF(p, 7), argF(p, 8),
        argF(p, 9), argF(p, 10), argI(p, 11), argI(p, 12), argI(p, 13), <usize>argI(p, 14));
    case JOB_RMSPROP:
      return f32_rmsprop(len, at(p, 1, t), at(p, 2, t), at(p, 3, t), at(p, 4, t), at(p, 5, t), argF(p, 6), argF(p, 7), argF(p, 8),
        argF(p, 9), argF(p, 10), argI(p, 11), <usize>argI(p, 12));
    case JOB_ADAGRAD:
      return f32_adagrad(len, at(p, 1, t), at(p, 2, t), at(p, 3, t), argF(p, 4), argF(p, 5), argF(p, 6), argF(p, 7), argI(p, 8), <usize>argI(p, 9));
    case JOB_ADADELTA:
      return f32_adadelta(len, at(p, 1, t), at(p, 2, t), at(p, 3, t), at(p, 4, t), argF(p, 5), argF(p, 6), argF(p, 7), argF(p, 8), <usize>argI(p, 9));
    default:
      unreachable();
      return 0;
  }
}
