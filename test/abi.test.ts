// The kernel table (src/runtime/abi.ts) against the modules themselves: every build's exports,
// read from its binary (names, kinds, parameter and result types) and from the instance (arity),
// and the parameter names and types declared in assembly/. Nothing missing, nothing extra.
/// <reference types="vite/client" />
import { describe, expect, test } from 'vitest';
import { ACTIVATIONS, KERNELS, POOL_KERNELS, activationGlobal, type ActivationName, type KernelName } from '../src/runtime/abi.js';
import { RuntimeError } from '../src/errors.js';
import { createCore } from '../src/runtime/load.js';
import { STRICT_WASM_BASE64 } from '../src/runtime/wasm-bytes.js';
import { RELAXED_WASM_BASE64 } from '../src/runtime/wasm-relaxed-bytes.js';
import { THREADS_RELAXED_WASM_BASE64, THREADS_WASM_BASE64 } from '../src/runtime/wasm-threads-bytes.js';
import { DEBUG_WASM_BASE64 } from './helpers/wasm-debug-bytes.js';
import { RUNNABLE_BUILDS, scratchCore, type Build } from './helpers/core.js';

type AnyBuild = Build | 'threads' | 'threads-relaxed';
const BYTES: Record<AnyBuild, string> = {
  strict: STRICT_WASM_BASE64,
  relaxed: RELAXED_WASM_BASE64,
  debug: DEBUG_WASM_BASE64,
  threads: THREADS_WASM_BASE64,
  'threads-relaxed': THREADS_RELAXED_WASM_BASE64,
};
const bytesOf = (build: AnyBuild) => Uint8Array.from(atob(BYTES[build]), (c) => c.charCodeAt(0));

type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
const VALTYPES: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };
interface Export {
  kind: 'function' | 'memory' | 'global' | 'table';
  params?: ValType[];
  results?: ValType[];
  /** For globals: mutable? */
  mutable?: boolean;
}
interface Parsed {
  imports: { module: string; name: string; kind: number }[];
  exports: Map<string, Export>;
}

/** Just enough of the binary format (type, import, function, global, export sections). */
function parseModule(bytes: Uint8Array): Parsed {
  let p = 8; // magic + version
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      result |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return result >>> 0;
      shift += 7;
    }
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const valtypes = () => Array.from({ length: u32() }, () => VALTYPES[bytes[p++]]);
  const limits = () => {
    const flag = bytes[p++];
    u32();
    if (flag & 1) u32();
  };
  const types: { params: ValType[]; results: ValType[] }[] = [];
  const funcTypes: number[] = []; // function index → type index (imports first)
  const globals: { type: ValType; mutable: boolean }[] = [];
  const imports: Parsed['imports'] = [];
  const exports = new Map<string, Export>();
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        expect(bytes[p++]).toBe(0x60);
        types.push({ params: valtypes(), results: valtypes() });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        const entry = { module: name(), name: name(), kind: bytes[p++] };
        imports.push(entry);
        if (entry.kind === 0) funcTypes.push(u32());
        else if (entry.kind === 1) (p++, limits());
        else if (entry.kind === 2) limits();
        else globals.push({ type: VALTYPES[bytes[p++]], mutable: bytes[p++] === 1 });
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcTypes.push(u32());
    } else if (id === 6) {
      for (let n = u32(); n > 0; n--) {
        globals.push({ type: VALTYPES[bytes[p++]], mutable: bytes[p++] === 1 });
        while (bytes[p++] !== 0x0b); // the init expression (a constant here) up to `end`
      }
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const key = name();
        const kind = bytes[p++];
        const index = u32();
        if (kind === 0) exports.set(key, { kind: 'function', ...types[funcTypes[index]] });
        else if (kind === 3) exports.set(key, { kind: 'global', params: [], results: [globals[index].type], mutable: globals[index].mutable });
        else exports.set(key, { kind: kind === 2 ? 'memory' : 'table' });
      }
    }
    p = end;
  }
  return { imports, exports };
}

type Declared = Map<string, { names: string[]; types: string[]; result: string }>;
const SOURCES = import.meta.glob('../assembly/*.ts', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

/**
 * `export function name(a: T, ...): R` of an entry of assembly/ (index.ts, index-threads.ts): its
 * own, all of those a file it `export *`s from declares, and the ones it names in `export { … }`.
 */
function declaredKernels(entry = 'index'): Declared {
  const src = SOURCES[`../assembly/${entry}.ts`];
  expect(src, entry).toBeTypeOf('string');
  const out: Declared = new Map();
  for (const m of src.matchAll(/^export function (\w+)\(([^)]*)\)\s*:\s*(\w+)/gm)) {
    const params = m[2].split(',').map((s) => s.trim()).filter(Boolean).map((s) => s.split(':').map((t) => t.trim()));
    out.set(m[1], { names: params.map(([n]) => n), types: params.map(([, t]) => t), result: m[3] });
  }
  for (const m of src.matchAll(/^export \* from '\.\/([\w-]+)'/gm)) for (const [k, v] of declaredKernels(m[1])) out.set(k, v);
  for (const m of src.matchAll(/^export \{([^}]*)\} from '\.\/([\w-]+)'/gm)) {
    const all = declaredKernels(m[2]);
    for (const name of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
      expect(all.has(name), `${name} in ${m[2]}.ts`).toBe(true);
      out.set(name, all.get(name)!);
    }
  }
  return out;
}

/** AssemblyScript's types as wasm32 lowers them. */
const LOWERED: Record<string, ValType | 'void'> = { i32: 'i32', u32: 'i32', usize: 'i32', bool: 'i32', f32: 'f32', f64: 'f64', void: 'void' };
const RESULT: Record<string, ValType[]> = { void: [], i32: ['i32'], f64: ['f64'] };

describe('the kernel table (src/runtime/abi.ts)', () => {
  const names = Object.keys(KERNELS) as KernelName[];

  test('lists every exported function of assembly/, with its parameter names, in order', () => {
    const declared = declaredKernels();
    expect([...declared.keys()].sort()).toEqual([...names].sort());
    const table = Object.fromEntries(names.map((k) => [k, [...KERNELS[k].args]]));
    expect(table).toEqual(Object.fromEntries(names.map((k) => [k, declared.get(k)!.names])));
  });

  test('names each activation id as its exported global', () => {
    expect(activationGlobal('leakyRelu')).toBe('ACT_LEAKY_RELU');
    expect(activationGlobal('gelu')).toBe('ACT_GELU');
    // ids are distinct and dense from 0: the kernels switch on them
    expect(Object.values(ACTIVATIONS).sort()).toEqual(Object.keys(ACTIVATIONS).map((_, i) => i));
  });

  test('lists the pool of the threaded builds (assembly/index-threads.ts) after the kernels', () => {
    const declared = declaredKernels('index-threads');
    const pool = Object.keys(POOL_KERNELS) as (keyof typeof POOL_KERNELS)[];
    expect([...declared.keys()].sort()).toEqual([...names, ...pool].sort());
    for (const k of pool) expect([...POOL_KERNELS[k].args], k).toEqual(declared.get(k)!.names);
  });

  for (const build of ['strict', 'relaxed', 'debug', 'threads', 'threads-relaxed'] as const) {
    describe(`the ${build} build`, () => {
      const parsed = parseModule(bytesOf(build));
      const threaded = build.startsWith('threads');
      const declared = declaredKernels(threaded ? 'index-threads' : 'index');
      const table: Record<string, { result: 'void' | 'i32' | 'f64' }> = threaded ? { ...KERNELS, ...POOL_KERNELS } : KERNELS;

      test('exports exactly the table, the memory and one immutable global per activation', () => {
        const globals = Object.keys(ACTIVATIONS).map((a) => activationGlobal(a as ActivationName));
        const expected = [...Object.keys(table), 'memory', ...globals].sort();
        expect([...parsed.exports.keys()].sort()).toEqual(expected);
        expect(parsed.exports.get('memory')!.kind).toBe('memory');
        for (const a of Object.keys(ACTIVATIONS) as ActivationName[]) {
          const g = parsed.exports.get(activationGlobal(a))!;
          expect(g, a).toMatchObject({ kind: 'global', results: ['i32'], mutable: false });
        }
      });

      test("each kernel's parameter and result types are those of its table entry and its source", () => {
        for (const k of Object.keys(table)) {
          const e = parsed.exports.get(k)!;
          expect(e.kind, k).toBe('function');
          expect(e.params, k).toEqual(declared.get(k)!.types.map((t) => LOWERED[t]));
          expect(e.results, k).toEqual(RESULT[table[k].result]);
          expect(LOWERED[declared.get(k)!.result], k).toBe(table[k].result);
        }
      });

      const imports = { debug: ['env.abort'], threads: ['env.memory'], 'threads-relaxed': ['env.memory'] }[build as string] ?? [];
      test(imports.length ? `imports only ${imports.join(', ')}` : 'imports nothing', () => {
        expect(parsed.imports.map((i) => `${i.module}.${i.name}`)).toEqual(imports);
      });

      test.runIf((RUNNABLE_BUILDS as readonly string[]).includes(build))('instantiates: arity of every function, value of every activation id', async () => {
        const { exports } = await scratchCore(build as Build).then((s) => ({ exports: s.ex as unknown as Record<string, unknown> }));
        for (const k of names) {
          expect(exports[k], k).toBeTypeOf('function');
          expect((exports[k] as (...a: number[]) => unknown).length, k).toBe(KERNELS[k].args.length);
        }
        for (const [a, id] of Object.entries(ACTIVATIONS)) {
          expect((exports[activationGlobal(a as ActivationName)] as { value: number }).value, a).toBe(id);
        }
      });
    });
  }
});

describe('the debug build', () => {
  test('names a broken precondition (a RuntimeError from its assert); the release build only traps', async () => {
    const debug = await scratchCore('debug');
    const strict = await scratchCore('strict');
    for (const s of [debug, strict]) {
      const x = s.put([1, 2, 3, 4]);
      const y = s.alloc(4);
      s.ex.f32_act_forward(ACTIVATIONS.tanh, 0, x, y, 4); // a valid id runs in both
      expect(s.read(y, 4)[3]).toBeCloseTo(Math.tanh(4), 6);
    }
    const x = debug.put([1, 2, 3, 4]);
    expect(() => debug.ex.f32_act_forward(99, 0, x, x, 4)).toThrow(RuntimeError);
    expect(() => debug.ex.f32_act_forward(99, 0, x, x, 4)).toThrow(/unknown activation id \(assembly\/activations\.ts:\d+:\d+\)/);
    const sx = strict.put([1, 2, 3, 4]);
    expect(() => strict.ex.f32_act_forward(99, 0, sx, sx, 4)).toThrow(/unreachable/);
    expect(() => strict.ex.f32_act_forward(99, 0, sx, sx, 4)).not.toThrow(RuntimeError);
  });

  test('checks a window: an output size that the geometry does not give is refused', async () => {
    const s = await scratchCore('debug');
    // 1 channel 4×4, 3×3 kernel, stride 1, no padding → 2×2; claiming 3×3 is a caller's bug
    const x = s.alloc(16);
    const col = s.alloc(9 * 9);
    const args = (oh: number) => [x, col, 1, 1, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, oh, oh, oh * oh, 9 * oh * oh] as const;
    expect(() => s.ex.f32_im2col(...args(2))).not.toThrow();
    expect(() => s.ex.f32_im2col(...args(3))).toThrow(/output size does not match/);
  });

  test('is accepted as the strict build by createCore, and not as the relaxed one', async () => {
    const core = await createCore({ module: bytesOf('debug'), simd: 'strict' });
    expect(core.simd).toBe('strict');
    await expect(createCore({ module: bytesOf('debug'), simd: 'relaxed' })).rejects.toThrow(/debug build .* simd: 'strict'/);
  });
});
