// f32 GEMM: C[m×n] = (accumulate ? C : 0) + op(A)·op(B), row-major, contiguous.
//
// Design (BLIS, Van Zee & van de Geijn 2015; XNNPACK's f32-gemm for the WASM SIMD tile): B is
// packed into NR-wide panels over a KC×NC block, A into an MR-row panel over the same KC, and a
// register-blocked f32x4 micro-kernel computes one MR×NR tile of C. Edge tiles run the same kernel
// on zero-padded panels into a static temp tile, of which only the valid part is copied out. The
// three variants differ only in how they pack. Small m (batch-1 inference) avoids the packed path,
// where packing B would cost as much as the product: nn and tn read B in place one row of C at a
// time, nt transposes B once per 32 columns and shares that across the m rows (see below). A
// caller that multiplies by the same B many times (a dense layer's W in inference) can instead
// pack it once into panels (f32_pack_nt_panels, at the end) and stream them: ~3× faster at m = 1.
//
// Summation order, the determinism contract: every element of C is computed as
//   c = init;  for p = 0 .. k−1 in order: c = madd(a[i, p], b[p, j], c)
// with init = 0 or the prior C, one f32 rounding per mul and per add (strict build) or one
// relaxed_madd per step (relaxed build). KC blocking keeps this order (a tile's accumulators are
// stored to C and reloaded, which is exact), and every path below — packed tiles, edge tiles, the
// small-m direct kernels — follows it. So an element's bits depend only on its row of A, its column
// of B and its init: not on m, n, its position in C, the tile it lands in, or the variant
// (nt(A, B) == nn(A, Bᵀ) bitwise).

import { madd } from './simd';
import { parallelGemm } from './parallel';

// Tile: NR = 8 columns (two f32x4) × MR rows. (AssemblyScript performance notes,
// measured on this machine): V8 x64 has ~15 SIMD registers; 5×8 (10 accumulators + 2 B + 1
// broadcast + 1 mul temporary) is the largest plain tile that does not spill, 6×8 fits with FMA
// (no temporary) and was the fastest relaxed tile.
// Strict 5×8 alternatives A/B-tested on in-cache panels (interleaved, CPU time, 2026-11-23), none
// a consistent win: A as one v128 load + i32x4.shuffle broadcasts (no spills in V8's code, yet
// -3%), pre-broadcast A packing (+3-5%, but 4× the A buffer), 4×8 (-2 to -8%), K unrolled by 2
// (-20%: V8 hoists the second step's loads and spills), pointer-end loop (even). V8 11.3 places
// every load of the loop body ahead of the arithmetic, so load32_splat's 5 broadcasts + 2 B + 10
// accumulators spill 2-3 vectors per step, but removing the spills did not speed it up.
const NR: i32 = 8;
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
// Cache blocks (AMD Zen 4 here: L1d 32 KiB, L2 1 MiB). asconfig.json fixes the initial memory at
// 2 pages (128 KiB) for the whole module, so the scratch must stay near 100 KiB; that rules out
// BLIS's usual MC×KC A block in L2 plus a KC×NC B block in L3. The order is turned around instead:
// a KC×NC block of B (80 KiB, packed once per block) stays in L2, and a strip of AG micro-panels
// of A (AG·MR rows × KC, ≤ 18 KiB) is packed just before use; each micro-panel stays in L1 while
// the kernel walks the NC/NR B panels. A is repacked once per NC block of columns: m·k·n/NC extra
// moves, ~1% of the m·n·k products. Packing AG panels at once reads whole cache lines of a
// transposed A (tn), where one 5-float row per line would refetch each line AG times.
const KC: i32 = 256;
const NC: i32 = 80; // a multiple of NR
const AG: i32 = 3;
// For parallel.ts's task grid.
export const GEMM_MR = MR;
export const GEMM_NR = NR;
export const GEMM_NC = NC;

// Scratch, never allocated: the B block (KC·NC floats), the A strip (AG·MR rows × KC, MR ≤ 6)
// and an edge tile of C (at most 8 × NR). Static data by default. A wasm global belongs to its
// instance, so in the threaded build (parallel.ts), where every thread's instance shares one
// memory, each worker points its instance's scratch at its own block (gemm_set_scratch).
const B_BYTES: usize = 256 * 80 * 4;
const A_BYTES: usize = 3 * 6 * 256 * 4;
export const GEMM_SCRATCH_BYTES: usize = B_BYTES + A_BYTES + 8 * 8 * 4;
// (The threaded builds get every thread's block from the host, the main thread's included: with
// an imported memory the static block would be a 110 KB data segment, rewritten by each
// instantiation.)
let B_PACK: usize = ASC_FEATURE_THREADS ? 0 : memory.data(256 * 80 * 4 + 3 * 6 * 256 * 4 + 8 * 8 * 4, 64);
let A_PACK: usize = B_PACK + B_BYTES;
let TILE: usize = A_PACK + A_BYTES;

/** Points this instance's GEMM scratch at `scratch` (GEMM_SCRATCH_BYTES, 64-byte aligned). */
export function setGemmScratch(scratch: usize): void {
  B_PACK = scratch;
  A_PACK = scratch + B_BYTES;
  TILE = A_PACK + A_BYTES;
}

// Below these m, packing B (n·k work) would cost as much as the product itself (m·n·k).
const SMALL_M_NN: i32 = MR; // nn, tn: per-row axpy kernel
const SMALL_M_NT: i32 = 4; // nt: B transposed 32 columns at a time, shared by the m rows

/**
 * C[m×n] = (accumulate ? C : 0) + A·B, with A [m×k] and B [k×n], row-major. With accumulate = 0
 * the prior contents of C are never read (NaN there is ignored). m, n or k ≤ 0 is allowed.
 */
export function f32_gemm_nn(m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: i32): void {
  if (ASC_FEATURE_THREADS) {
    if (parallelGemm(false, false, m, n, k, a, b, c, accumulate != 0)) return;
  }
  gemm(false, false, m, n, k, a, b, c, accumulate != 0);
}

/**
 * C[m×n] = (accumulate ? C : 0) + A·Bᵀ, with A [m×k] and B [n×k] (y = x·Wᵀ for PyTorch's
 * W[out, in]). Same contract and the same bits as f32_gemm_nn on the transposed B.
 */
export function f32_gemm_nt(m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: i32): void {
  if (ASC_FEATURE_THREADS) {
    if (parallelGemm(false, true, m, n, k, a, b, c, accumulate != 0)) return;
  }
  gemm(false, true, m, n, k, a, b, c, accumulate != 0);
}

/**
 * C[m×n] = (accumulate ? C : 0) + Aᵀ·B, with A [k×m] and B [k×n] (dW = dYᵀ·X). Same contract and
 * the same bits as f32_gemm_nn on the transposed A.
 */
export function f32_gemm_tn(m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: i32): void {
  if (ASC_FEATURE_THREADS) {
    if (parallelGemm(true, false, m, n, k, a, b, c, accumulate != 0)) return;
  }
  gemm(true, false, m, n, k, a, b, c, accumulate != 0);
}

function gemm(aT: bool, bT: bool, m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: bool): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) memory.fill(c, 0, <usize>m * <usize>n * 4);
    return;
  }
  const ldc = <usize>n << 2;
  if (bT ? m <= SMALL_M_NT : m < SMALL_M_NN) {
    if (bT) {
      smallNT(m, n, k, a, b, c, accumulate);
      return;
    }
    for (let i = 0; i < m; i++) {
      const ci = c + <usize>i * ldc;
      if (aT) {
        rowNN(n, k, a + (<usize>i << 2), <usize>m << 2, b, ci, accumulate);
      } else {
        rowNN(n, k, a + <usize>i * (<usize>k << 2), 4, b, ci, accumulate);
      }
    }
    return;
  }
  gemmBlock(aT, bT, m, n, k, a, b, c, accumulate, 0, m, 0, n);
}

/**
 * Rows i0 .. i1−1 and columns j0 .. j1−1 of the product (k > 0) on the packed path: how
 * parallel.ts splits a GEMM into tasks. Each element's bits are those of the whole product
 * (see the top), so any split gives the same C.
 */
export function gemmBlock(
  aT: bool, bT: bool, m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: bool,
  i0: i32, i1: i32, j0: i32, j1: i32,
): void {
  const ldc = <usize>n << 2;
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const load = accumulate || pc > 0;
      if (bT) packBT(b, k, pc, kc, jc, nc);
      else packBN(b, n, pc, kc, jc, nc);
      for (let is = i0; is < i1; is += AG * MR) {
        const rows = min(AG * MR, i1 - is);
        if (aT) packAT(a, m, is, rows, pc, kc);
        else packAN(a, k, is, rows, pc, kc);
        let pa = A_PACK;
        for (let ir = 0; ir < rows; ir += MR) {
          row(pa, min(MR, rows - ir), nc, kc, c + <usize>(is + ir) * ldc + (<usize>jc << 2), ldc, load);
          pa += <usize>kc * (<usize>MR << 2);
        }
      }
    }
  }
}

// One MR-row strip of an NC-column block of C over one KC block: the A micro-panel stays in L1,
// the B panels stream from L2.
function row(pa: usize, mr: i32, nc: i32, kc: i32, c: usize, ldc: usize, load: bool): void {
  let pb = B_PACK;
  const panel = <usize>kc << 5; // bytes per B panel: kc × NR floats
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const ct = c + (<usize>jr << 2);
    if (mr == MR && nr == NR) {
      kernel(kc, pa, pb, ct, ldc, load);
    } else {
      // Edge tile: the padded rows and columns compute zeros into TILE and are dropped.
      if (load) copyTile(ct, ldc, TILE, NR << 2, mr, nr);
      kernel(kc, pa, pb, TILE, NR << 2, load);
      copyTile(TILE, NR << 2, ct, ldc, mr, nr);
    }
    pb += panel;
  }
}

function copyTile(src: usize, lds: usize, dst: usize, ldd: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + <usize>r * ldd, src + <usize>r * lds, <usize>cols << 2);
  }
}

// @ts-ignore: decorator
@inline function kernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, load: bool): void {
  if (ASC_FEATURE_RELAXED_SIMD) kernel6x8(kc, pa, pb, c, ldc, load);
  else kernel5x8(kc, pa, pb, c, ldc, load);
}

// One 5×8 tile: pa holds 5 floats per k step (packed A), pb 8 (packed B). Not inlined: V8 tiers
// a wasm function up only between calls, so the hot loop lives in a function called per tile.
function kernel5x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, load: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc;
  if (load) {
    c00 = v128.load(c, 0); c01 = v128.load(c, 16);
    c10 = v128.load(c1, 0); c11 = v128.load(c1, 16);
    c20 = v128.load(c2, 0); c21 = v128.load(c2, 16);
    c30 = v128.load(c3, 0); c31 = v128.load(c3, 16);
    c40 = v128.load(c4, 0); c41 = v128.load(c4, 16);
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa, 0);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa, 4);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(pa, 8);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(pa, 12);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    av = v128.load32_splat(pa, 16);
    c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
    pa += 20;
    pb += 32;
  }
  v128.store(c, c00, 0); v128.store(c, c01, 16);
  v128.store(c1, c10, 0); v128.store(c1, c11, 16);
  v128.store(c2, c20, 0); v128.store(c2, c21, 16);
  v128.store(c3, c30, 0); v128.store(c3, c31, 16);
  v128.store(c4, c40, 0); v128.store(c4, c41, 16);
}

// One 6×8 tile (relaxed build: relaxed_madd needs no temporary, so 12 accumulators fit).
function kernel6x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, load: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
  if (load) {
    c00 = v128.load(c, 0); c01 = v128.load(c, 16);
    c10 = v128.load(c1, 0); c11 = v128.load(c1, 16);
    c20 = v128.load(c2, 0); c21 = v128.load(c2, 16);
    c30 = v128.load(c3, 0); c31 = v128.load(c3, 16);
    c40 = v128.load(c4, 0); c41 = v128.load(c4, 16);
    c50 = v128.load(c5, 0); c51 = v128.load(c5, 16);
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa, 0);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa, 4);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(pa, 8);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(pa, 12);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    av = v128.load32_splat(pa, 16);
    c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
    av = v128.load32_splat(pa, 20);
    c50 = madd(av, b0, c50); c51 = madd(av, b1, c51);
    pa += 24;
    pb += 32;
  }
  v128.store(c, c00, 0); v128.store(c, c01, 16);
  v128.store(c1, c10, 0); v128.store(c1, c11, 16);
  v128.store(c2, c20, 0); v128.store(c2, c21, 16);
  v128.store(c3, c30, 0); v128.store(c3, c31, 16);
  v128.store(c4, c40, 0); v128.store(c4, c41, 16);
  v128.store(c5, c50, 0); v128.store(c5, c51, 16);
}

// Packing. A strip (A_PACK): micro-panel q holds, for each p in the KC block, the MR values
// a[i0+q·MR .. +MR−1, p] (rows past m are zero) and starts at A_PACK + q·MR·kc floats. B block
// (B_PACK): panel q holds, for each p, the NR values b[p, j0+q·NR .. +NR−1] (columns past n are
// zero) and starts at B_PACK + q·NR·kc floats.

// A stored [m×k] (nn, nt), rows i0 .. i0+rows−1: each micro-panel reads MR contiguous rows.
function packAN(a: usize, k: i32, i0: i32, rows: i32, pc: i32, kc: i32): void {
  const lda = <usize>k << 2;
  let dst = A_PACK;
  for (let r0 = 0; r0 < rows; r0 += MR) {
    packAN1(a + <usize>(i0 + r0) * lda + (<usize>pc << 2), lda, min(MR, rows - r0), kc, dst);
    dst += <usize>kc * (<usize>MR << 2);
  }
}

// One micro-panel: 4×4 register transposes for rows 0-3, lane extracts for rows 4-5.
function packAN1(s0: usize, lda: usize, mr: i32, kc: i32, dst: usize): void {
  const step = <usize>MR << 2;
  if (mr == MR) {
    const s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda, s4 = s3 + lda, s5 = s4 + lda;
    let p = 0;
    for (; p + 4 <= kc; p += 4) {
      const o = <usize>p << 2;
      const x0 = v128.load(s0 + o), x1 = v128.load(s1 + o);
      const x2 = v128.load(s2 + o), x3 = v128.load(s3 + o);
      const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
      const x4 = v128.load(s4 + o);
      v128.store(dst, v128.shuffle<f64>(t0, t2, 0, 2), 0);
      store<f32>(dst, f32x4.extract_lane(x4, 0), 16);
      v128.store(dst + step, v128.shuffle<f64>(t0, t2, 1, 3), 0);
      store<f32>(dst + step, f32x4.extract_lane(x4, 1), 16);
      v128.store(dst + 2 * step, v128.shuffle<f64>(t1, t3, 0, 2), 0);
      store<f32>(dst + 2 * step, f32x4.extract_lane(x4, 2), 16);
      v128.store(dst + 3 * step, v128.shuffle<f64>(t1, t3, 1, 3), 0);
      store<f32>(dst + 3 * step, f32x4.extract_lane(x4, 3), 16);
      if (MR > 5) {
        const x5 = v128.load(s5 + o);
        store<f32>(dst, f32x4.extract_lane(x5, 0), 20);
        store<f32>(dst + step, f32x4.extract_lane(x5, 1), 20);
        store<f32>(dst + 2 * step, f32x4.extract_lane(x5, 2), 20);
        store<f32>(dst + 3 * step, f32x4.extract_lane(x5, 3), 20);
      }
      dst += step << 2;
    }
    for (; p < kc; p++) {
      const s = s0 + (<usize>p << 2);
      for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), load<f32>(s + <usize>r * lda));
      dst += step;
    }
  } else {
    for (let p = 0; p < kc; p++) {
      const s = s0 + (<usize>p << 2);
      let r = 0;
      for (; r < mr; r++) store<f32>(dst + (<usize>r << 2), load<f32>(s + <usize>r * lda));
      for (; r < MR; r++) store<f32>(dst + (<usize>r << 2), 0);
      dst += step;
    }
  }
}

// A stored [k×m] (tn), rows i0 .. i0+rows−1: for each p, the AG·MR values of the strip are
// contiguous in A and go to AG micro-panels.
function packAT(a: usize, m: i32, i0: i32, rows: i32, pc: i32, kc: i32): void {
  const lda = <usize>m << 2;
  const step = <usize>MR << 2;
  const panel = <usize>kc * step;
  const src = a + <usize>pc * lda + (<usize>i0 << 2);
  if (rows == AG * MR) {
    let s = src;
    let dst = A_PACK;
    const end = dst + panel;
    while (dst < end) {
      for (let q = 0; q < AG; q++) {
        const d = dst + <usize>q * panel;
        const sq = s + <usize>q * step;
        v128.store(d, v128.load(sq));
        store<f32>(d, load<f32>(sq, 16), 16);
        if (MR > 5) store<f32>(d, load<f32>(sq, 20), 20);
      }
      dst += step;
      s += lda;
    }
  } else {
    for (let r0 = 0; r0 < rows; r0 += MR) {
      const mr = min(MR, rows - r0);
      let s = src + (<usize>r0 << 2);
      let dst = A_PACK + <usize>(r0 / MR) * panel;
      for (let p = 0; p < kc; p++) {
        let r = 0;
        for (; r < mr; r++) store<f32>(dst + (<usize>r << 2), load<f32>(s + (<usize>r << 2)));
        for (; r < MR; r++) store<f32>(dst + (<usize>r << 2), 0);
        dst += step;
        s += lda;
      }
    }
  }
}

// B stored [k×n] (nn, tn): each p contributes NR consecutive values, two f32x4 for a full panel.
function packBN(b: usize, n: i32, pc: i32, kc: i32, jc: i32, nc: i32): void {
  let dst = B_PACK;
  const ldb = <usize>n << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    let s = b + <usize>pc * ldb + (<usize>(jc + jr) << 2);
    if (nr == NR) {
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(s, 0), 0);
        v128.store(dst, v128.load(s, 16), 16);
        dst += 32;
        s += ldb;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        let q = 0;
        for (; q < nr; q++) store<f32>(dst + (<usize>q << 2), load<f32>(s + (<usize>q << 2)));
        for (; q < NR; q++) store<f32>(dst + (<usize>q << 2), 0);
        dst += 32;
        s += ldb;
      }
    }
  }
}

// B stored [n×k] (nt): a panel is a transposed 8×kc slab of B, built from 4×4 register transposes.
function packBT(b: usize, k: i32, pc: i32, kc: i32, jc: i32, nc: i32): void {
  let dst = B_PACK;
  const ldb = <usize>k << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const s = b + <usize>(jc + jr) * ldb + (<usize>pc << 2);
    if (nr == NR) {
      for (let h = 0; h < 2; h++) {
        const r0 = s + <usize>(h * 4) * ldb;
        const r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
        const d = dst + (<usize>h << 4);
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const o = <usize>p << 2;
          const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o);
          const x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          const dp = d + (<usize>p << 5);
          v128.store(dp, v128.shuffle<f64>(t0, t2, 0, 2), 0);
          v128.store(dp, v128.shuffle<f64>(t0, t2, 1, 3), 32);
          v128.store(dp, v128.shuffle<f64>(t1, t3, 0, 2), 64);
          v128.store(dp, v128.shuffle<f64>(t1, t3, 1, 3), 96);
        }
        for (; p < kc; p++) {
          const o = <usize>p << 2;
          const dp = d + (<usize>p << 5);
          store<f32>(dp, load<f32>(r0 + o), 0);
          store<f32>(dp, load<f32>(r1 + o), 4);
          store<f32>(dp, load<f32>(r2 + o), 8);
          store<f32>(dp, load<f32>(r3 + o), 12);
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const dp = dst + (<usize>p << 5);
        let q = 0;
        for (; q < nr; q++) store<f32>(dp + (<usize>q << 2), load<f32>(s + <usize>q * ldb + (<usize>p << 2)));
        for (; q < NR; q++) store<f32>(dp + (<usize>q << 2), 0);
      }
    }
    dst += <usize>kc << 5;
  }
}

// Small-m paths: one row of C at a time over 32 columns (8 accumulators hide the add or FMA
// latency); nn and tn read B in place, nt from a transposed slab.

// Up to 4 lanes at p (w in 1..4): never reads past the w-th float.
// @ts-ignore: decorator
@inline function loadPart(p: usize, w: i32): v128 {
  if (w >= 4) return v128.load(p);
  let v = v128.load32_zero(p);
  if (w > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (w > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline function storePart(p: usize, v: v128, w: i32): void {
  if (w >= 4) {
    v128.store(p, v);
    return;
  }
  v128.store32_lane(p, v, 0);
  if (w > 1) v128.store32_lane(p, v, 1, 4);
  if (w > 2) v128.store32_lane(p, v, 2, 8);
}

// c[0..n) = (load ? c : 0) + Σ_p a[p]·b[p, 0..n) for B [k×n]; a[p] is at arow + p·ak bytes.
function rowNN(n: i32, k: i32, arow: usize, ak: usize, b: usize, c: usize, load: bool): void {
  const ldb = <usize>n << 2;
  let j = 0;
  for (; j + 32 <= n; j += 32) row32(k, arow, ak, b + (<usize>j << 2), ldb, c + (<usize>j << 2), load);
  for (; j < n; j += 4) row4(k, arow, ak, b + (<usize>j << 2), ldb, c + (<usize>j << 2), load, min(4, n - j));
}

// 1×32: eight independent accumulators hide the add (or FMA) latency.
function row32(k: i32, a: usize, ak: usize, b: usize, ldb: usize, c: usize, load: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  if (load) {
    c0 = v128.load(c, 0); c1 = v128.load(c, 16); c2 = v128.load(c, 32); c3 = v128.load(c, 48);
    c4 = v128.load(c, 64); c5 = v128.load(c, 80); c6 = v128.load(c, 96); c7 = v128.load(c, 112);
  }
  for (let p = 0; p < k; p++) {
    const av = v128.load32_splat(a);
    c0 = madd(av, v128.load(b, 0), c0);
    c1 = madd(av, v128.load(b, 16), c1);
    c2 = madd(av, v128.load(b, 32), c2);
    c3 = madd(av, v128.load(b, 48), c3);
    c4 = madd(av, v128.load(b, 64), c4);
    c5 = madd(av, v128.load(b, 80), c5);
    c6 = madd(av, v128.load(b, 96), c6);
    c7 = madd(av, v128.load(b, 112), c7);
    a += ak;
    b += ldb;
  }
  v128.store(c, c0, 0); v128.store(c, c1, 16); v128.store(c, c2, 32); v128.store(c, c3, 48);
  v128.store(c, c4, 64); v128.store(c, c5, 80); v128.store(c, c6, 96); v128.store(c, c7, 112);
}

// 1×w, w ≤ 4: the column tail.
function row4(k: i32, a: usize, ak: usize, b: usize, ldb: usize, c: usize, load: bool, w: i32): void {
  let acc = load ? loadPart(c, w) : f32x4.splat(0);
  for (let p = 0; p < k; p++) {
    acc = madd(v128.load32_splat(a), loadPart(b, w), acc);
    a += ak;
    b += ldb;
  }
  storePart(c, acc, w);
}

// nt for small m: 32 columns at a time, B's KC×32 slab is transposed once into B_PACK (row stride
// 32 floats) and each row of A runs row32 on it; the column tail (< 32) transposes in registers.
// Either way each element's sum over p keeps its order (see the top).
const KT: i32 = 64; // a KT×32 slab (8 KiB) and the rows of B it comes from stay in L1

function smallNT(m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: bool): void {
  const ldb = <usize>k << 2;
  const ldc = <usize>n << 2;
  let j = 0;
  for (; j + 32 <= n; j += 32) {
    for (let pc = 0; pc < k; pc += KT) {
      const kc = min(KT, k - pc);
      packBT32(b + <usize>j * ldb + (<usize>pc << 2), ldb, kc);
      const load = accumulate || pc > 0;
      for (let i = 0; i < m; i++) {
        row32(kc, a + <usize>i * ldb + (<usize>pc << 2), 4, B_PACK, 128, c + <usize>i * ldc + (<usize>j << 2), load);
      }
    }
  }
  if (j < n) {
    for (let i = 0; i < m; i++) {
      rowNT(n - j, k, a + <usize>i * ldb, b + <usize>j * ldb, c + <usize>i * ldc + (<usize>j << 2), accumulate);
    }
  }
}

// B_PACK[p, 0..32) = b[0..32), p] for p < kc: rows of b are ldb bytes apart.
function packBT32(b: usize, ldb: usize, kc: i32): void {
  for (let g = 0; g < 8; g++) {
    const r0 = b + <usize>(g * 4) * ldb;
    const r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
    const d = B_PACK + (<usize>g << 4);
    let p = 0;
    for (; p + 4 <= kc; p += 4) {
      const o = <usize>p << 2;
      const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o);
      const x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
      const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
      const dp = d + (<usize>p << 7);
      v128.store(dp, v128.shuffle<f64>(t0, t2, 0, 2), 0);
      v128.store(dp, v128.shuffle<f64>(t0, t2, 1, 3), 128);
      v128.store(dp, v128.shuffle<f64>(t1, t3, 0, 2), 256);
      v128.store(dp, v128.shuffle<f64>(t1, t3, 1, 3), 384);
    }
    for (; p < kc; p++) {
      const o = <usize>p << 2;
      const dp = d + (<usize>p << 7);
      store<f32>(dp, load<f32>(r0 + o), 0);
      store<f32>(dp, load<f32>(r1 + o), 4);
      store<f32>(dp, load<f32>(r2 + o), 8);
      store<f32>(dp, load<f32>(r3 + o), 12);
    }
  }
}

// c[0..n) = (load ? c : 0) + Σ_p a[p]·b[0..n), p] for B [n×k], transposing 4×4 blocks of B in
// registers so that the lanes run along n.
function rowNT(n: i32, k: i32, a: usize, b: usize, c: usize, load: bool): void {
  const ldb = <usize>k << 2;
  let j = 0;
  for (; j + 16 <= n; j += 16) nt16(k, a, b + <usize>j * ldb, ldb, c + (<usize>j << 2), load);
  for (; j < n; j += 4) nt4(k, a, b + <usize>j * ldb, ldb, c + (<usize>j << 2), load, min(4, n - j));
}

// @ts-ignore: decorator
@inline function gather4(r0: usize, r1: usize, r2: usize, r3: usize, o: usize): v128 {
  let v = v128.load32_zero(r0 + o);
  v = f32x4.replace_lane(v, 1, load<f32>(r1 + o));
  v = f32x4.replace_lane(v, 2, load<f32>(r2 + o));
  return f32x4.replace_lane(v, 3, load<f32>(r3 + o));
}

// acc = madd over p .. p+3 of a[p]·(column p of the 4×4 block x0..x3), in order of p.
// @ts-ignore: decorator
@inline function madd4x4(a0: v128, a1: v128, a2: v128, a3: v128, x0: v128, x1: v128, x2: v128, x3: v128, acc: v128): v128 {
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  acc = madd(a0, v128.shuffle<f64>(t0, t2, 0, 2), acc);
  acc = madd(a1, v128.shuffle<f64>(t0, t2, 1, 3), acc);
  acc = madd(a2, v128.shuffle<f64>(t1, t3, 0, 2), acc);
  return madd(a3, v128.shuffle<f64>(t1, t3, 1, 3), acc);
}

// 1×16 of nt: four 4×4 transposes per 4 steps of p, sharing the four broadcasts of a.
function nt16(k: i32, a: usize, b: usize, ldb: usize, c: usize, load: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  if (load) {
    c0 = v128.load(c, 0); c1 = v128.load(c, 16); c2 = v128.load(c, 32); c3 = v128.load(c, 48);
  }
  const l4 = ldb << 2;
  const b0 = b, b1 = b0 + l4, b2 = b1 + l4, b3 = b2 + l4;
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    const o = <usize>p << 2;
    const ap = a + o;
    const a0 = v128.load32_splat(ap, 0), a1 = v128.load32_splat(ap, 4);
    const a2 = v128.load32_splat(ap, 8), a3 = v128.load32_splat(ap, 12);
    c0 = madd4x4(a0, a1, a2, a3, v128.load(b0 + o), v128.load(b0 + ldb + o), v128.load(b0 + 2 * ldb + o), v128.load(b0 + 3 * ldb + o), c0);
    c1 = madd4x4(a0, a1, a2, a3, v128.load(b1 + o), v128.load(b1 + ldb + o), v128.load(b1 + 2 * ldb + o), v128.load(b1 + 3 * ldb + o), c1);
    c2 = madd4x4(a0, a1, a2, a3, v128.load(b2 + o), v128.load(b2 + ldb + o), v128.load(b2 + 2 * ldb + o), v128.load(b2 + 3 * ldb + o), c2);
    c3 = madd4x4(a0, a1, a2, a3, v128.load(b3 + o), v128.load(b3 + ldb + o), v128.load(b3 + 2 * ldb + o), v128.load(b3 + 3 * ldb + o), c3);
  }
  for (; p < k; p++) {
    const o = <usize>p << 2;
    const av = v128.load32_splat(a + o);
    c0 = madd(av, gather4(b0, b0 + ldb, b0 + 2 * ldb, b0 + 3 * ldb, o), c0);
    c1 = madd(av, gather4(b1, b1 + ldb, b1 + 2 * ldb, b1 + 3 * ldb, o), c1);
    c2 = madd(av, gather4(b2, b2 + ldb, b2 + 2 * ldb, b2 + 3 * ldb, o), c2);
    c3 = madd(av, gather4(b3, b3 + ldb, b3 + 2 * ldb, b3 + 3 * ldb, o), c3);
  }
  v128.store(c, c0, 0); v128.store(c, c1, 16); v128.store(c, c2, 32); v128.store(c, c3, 48);
}

// 1×w of nt, w ≤ 4. Missing rows of B alias the last valid one: their lanes are computed from
// readable memory and never stored.
function nt4(k: i32, a: usize, b: usize, ldb: usize, c: usize, load: bool, w: i32): void {
  let acc = load ? loadPart(c, w) : f32x4.splat(0);
  const r0 = b;
  const r1 = w > 1 ? r0 + ldb : r0;
  const r2 = w > 2 ? r1 + ldb : r1;
  const r3 = w > 3 ? r2 + ldb : r2;
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    const o = <usize>p << 2;
    const ap = a + o;
    acc = madd4x4(v128.load32_splat(ap, 0), v128.load32_splat(ap, 4), v128.load32_splat(ap, 8), v128.load32_splat(ap, 12),
      v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), acc);
  }
  for (; p < k; p++) {
    const o = <usize>p << 2;
    acc = madd(v128.load32_splat(a + o), gather4(r0, r1, r2, r3, o), acc);
  }
  storePart(c, acc, w);
}

// Panels of a weight matrix for small-m nt products (batch-1 inference of a dense layer). The
// [n×k] B of nt (PyTorch's W[out, in]) is packed once into 32-column panels, panel q holding
// b[32q .. 32q+31, p] for p = 0 .. k−1 (32 floats per p, rows past n zero), so a product streams
// each panel contiguously with the 32 outputs in registers, one madd per p in increasing p:
// the same bits as f32_gemm_nt (see the top). The caller keeps the panels and repacks after B
// changes. Size: ceil(n / 32) · 32 · k floats.
const PW: i32 = 32;

/** dst = the panels of B [n×k] (f32_gemm_nt_panels reads them), ceil(n/32)·32·k floats. */
export function f32_pack_nt_panels(n: i32, k: i32, b: usize, dst: usize): void {
  if (n <= 0 || k <= 0) return;
  const ldb = <usize>k << 2;
  for (let j = 0; j < n; j += PW) {
    for (let g = 0; g < PW; g += 4) {
      const d = dst + (<usize>g << 2);
      const r = j + g;
      if (r + 4 <= n) {
        const r0 = b + <usize>r * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
        let p = 0;
        for (; p + 4 <= k; p += 4) {
          const o = <usize>p << 2;
          const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o);
          const x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          const dp = d + (<usize>p << 7);
          v128.store(dp, v128.shuffle<f64>(t0, t2, 0, 2), 0);
          v128.store(dp, v128.shuffle<f64>(t0, t2, 1, 3), 128);
          v128.store(dp, v128.shuffle<f64>(t1, t3, 0, 2), 256);
          v128.store(dp, v128.shuffle<f64>(t1, t3, 1, 3), 384);
        }
        for (; p < k; p++) {
          const o = <usize>p << 2;
          const dp = d + (<usize>p << 7);
          store<f32>(dp, load<f32>(r0 + o), 0);
          store<f32>(dp, load<f32>(r1 + o), 4);
          store<f32>(dp, load<f32>(r2 + o), 8);
          store<f32>(dp, load<f32>(r3 + o), 12);
        }
      } else {
        for (let p = 0; p < k; p++) {
          const dp = d + (<usize>p << 7);
          for (let q = 0; q < 4; q++) {
            store<f32>(dp + (<usize>q << 2), r + q < n ? load<f32>(b + <usize>(r + q) * ldb + (<usize>p << 2)) : 0);
          }
        }
      }
    }
    dst += <usize>k << 7;
  }
}

// Rows of A per pass over a panel's KP-row slab (16 KiB, stays in L1 while the rows reuse it).
const KP: i32 = 128;

/**
 * C[m×n] = (accumulate ? C : 0) + A·Bᵀ from B's panels (f32_pack_nt_panels), A [m×k]: the same
 * result, bit for bit, as f32_gemm_nt(m, n, k, a, b, c, accumulate). Meant for small m.
 */
export function f32_gemm_nt_panels(m: i32, n: i32, k: i32, a: usize, panels: usize, c: usize, accumulate: i32): void {
  if (m <= 0 || n <= 0) return;
  const ldc = <usize>n << 2;
  if (k <= 0) {
    if (accumulate == 0) memory.fill(c, 0, <usize>m * ldc);
    return;
  }
  const lda = <usize>k << 2;
  const kb = m == 1 ? k : KP;
  for (let j = 0; j < n; j += PW) {
    const w = min(PW, n - j);
    const panel = panels + <usize>j * lda; // j·k floats
    for (let pc = 0; pc < k; pc += kb) {
      const kc = min(kb, k - pc);
      const load = accumulate != 0 || pc > 0;
      const pp = panel + (<usize>pc << 7);
      for (let i = 0; i < m; i++) {
        const ci = c + <usize>i * ldc + (<usize>j << 2);
        const ai = a + <usize>i * lda + (<usize>pc << 2);
        if (w == PW) {
          panel32(kc, ai, pp, ci, load);
        } else {
          if (load) memory.copy(TILE, ci, <usize>w << 2);
          panel32(kc, ai, pp, TILE, load);
          memory.copy(ci, TILE, <usize>w << 2);
        }
      }
    }
  }
}

// c[0..32) = (load ? c : 0) + Σ_p a[p]·panel[p, 0..32), p in order.
function panel32(k: i32, a: usize, b: usize, c: usize, load: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  if (load) {
    c0 = v128.load(c, 0); c1 = v128.load(c, 16); c2 = v128.load(c, 32); c3 = v128.load(c, 48);
    c4 = v128.load(c, 64); c5 = v128.load(c, 80); c6 = v128.load(c, 96); c7 = v128.load(c, 112);
  }
  const end = a + (<usize>k << 2);
  while (a < end) {
    const av = v128.load32_splat(a);
    c0 = madd(av, v128.load(b, 0), c0);
    c1 = madd(av, v128.load(b, 16), c1);
    c2 = madd(av, v128.load(b, 32), c2);
    c3 = madd(av, v128.load(b, 48), c3);
    c4 = madd(av, v128.load(b, 64), c4);
    c5 = madd(av, v128.load(b, 80), c5);
    c6 = madd(av, v128.load(b, 96), c6);
    c7 = madd(av, v128.load(b, 112), c7);
    a += 4;
    b += 128;
  }
  v128.store(c, c0, 0); v128.store(c, c1, 16); v128.store(c, c2, 32); v128.store(c, c3, 48);
  v128.store(c, c4, 64); v128.store(c, c5, 80); v128.store(c, c6, 96); v128.store(c, c7, 112);
}
