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
