// Build-dependent SIMD helpers. The `relaxed` target compiles f32x4.relaxed_madd (one fused
// multiply-add where the engine has it); the default target keeps mul + add so every engine
// rounds the same way.

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, acc);
  } else {
    return f32x4.add(f32x4.mul(a, b), acc);
  }
}

/** Loads the first k floats at p into lanes 0…k−1 (k = 1…4), zeros elsewhere: the SIMD tail. */
// @ts-ignore: decorator
@inline export function loadLanes(p: usize, k: i32): v128 {
  if (k == 4) return v128.load(p);
  let v = v128.load32_zero(p);
  if (k > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (k > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores lanes 0…k−1 of v at p (k = 1…4), touching nothing past them. */
// @ts-ignore: decorator
@inline export function storeLanes(p: usize, v: v128, k: i32): void {
  if (k == 4) {
    v128.store(p, v);
  } else {
    store<f32>(p, f32x4.extract_lane(v, 0));
    if (k > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
    if (k > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
  }
}
