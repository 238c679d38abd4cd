/**
 * exp(d) for d ≤ 0 in float64, the one exp of the scoring and sampling kernels. Math.exp is a call into fdlibm per
 * entry and dominated the per-position statistics (≈ 600–900 ms per 1024 × 50,304 window); this table-driven
 * version is inlined by the JIT and about 2–3× faster, within 1 ulp of Math.exp (tested). The WebAssembly kernel
 * (row_stats_wasm.ts) computes the same function from the same tables and constants ({@link EXP_CONSTANTS}).
 *
 * exp(d) = 2^q · 2^(j/64) · exp(r), k = round(d·64/ln2) = 64q + j, r = d − k·ln2/64 (Cody–Waite, |r| ≤ ln2/128),
 * exp(r) − 1 by a degree-6 Taylor polynomial (truncation < 4e-17 relative).
 * @module
 */

const EXP_TABLE_BITS = 6;
const EXP_TABLE_SIZE = 1 << EXP_TABLE_BITS;
/** 2^(j/64) for j in [0, 64). */
export const EXP_TWO_J: Float64Array = new Float64Array(EXP_TABLE_SIZE);
for (let j = 0; j < EXP_TABLE_SIZE; j++) EXP_TWO_J[j] = Math.pow(2, j / EXP_TABLE_SIZE);
const EXP_POW2_OFFSET = 1100;
/** 2^q for q in [−1100, 0] at index q + 1100; exact (subnormals included). */
export const EXP_POW2: Float64Array = new Float64Array(EXP_POW2_OFFSET + 1);
for (let q = -EXP_POW2_OFFSET; q <= 0; q++) EXP_POW2[q + EXP_POW2_OFFSET] = Math.pow(2, q);
const EXP_INV_STEP = EXP_TABLE_SIZE / Math.LN2;
const ROUND_SHIFTER = 6755399441055744; // 1.5·2^52: (x + s) − s rounds x to an integer (ties to even)
const LN2_HI_STEP = 6.93147180369123816490e-01 / EXP_TABLE_SIZE; // fdlibm's ln2_hi (32 bits): k·LN2_HI exact
const LN2_LO_STEP = 1.90821492927058770002e-10 / EXP_TABLE_SIZE;
const EXP_UNDERFLOW = -745.2; // exp(d) rounds to 0 below this
const C3 = 1 / 6, C4 = 1 / 24, C5 = 1 / 120, C6 = 1 / 720;
/** Below it 2^q (q = k >> 6) may be subnormal: the SIMD kernel takes such lanes one by one, through the table. */
const EXP_VECTOR_LIMIT = -708;

/**
 * The doubles the WebAssembly kernel reads, in its order: 64/ln2, the rounding shifter, ln2_hi/64, ln2_lo/64,
 * 0.5, 1/6, 1/24, 1/120, 1/720, the underflow bound and the vector-path limit.
 */
export const EXP_CONSTANTS: Float64Array = Float64Array.of(
  EXP_INV_STEP,
  ROUND_SHIFTER,
  LN2_HI_STEP,
  LN2_LO_STEP,
  0.5,
  C3,
  C4,
  C5,
  C6,
  EXP_UNDERFLOW,
  EXP_VECTOR_LIMIT,
);

/** exp(d) for d ≤ 0 (and NaN → NaN), within 1 ulp of Math.exp; exp(0) is exactly 1, exp(−Infinity) is 0. */
export function expNonPositive(d: number): number {
  if (d < EXP_UNDERFLOW) return 0;
  const kf = (d * EXP_INV_STEP + ROUND_SHIFTER) - ROUND_SHIFTER;
  const r = (d - kf * LN2_HI_STEP) - kf * LN2_LO_STEP;
  const k = kf | 0; // |k| < 2^17 here; NaN d gives k = 0 and r = NaN, so NaN propagates
  const t = EXP_TWO_J[k & (EXP_TABLE_SIZE - 1)] * EXP_POW2[(k >> EXP_TABLE_BITS) + EXP_POW2_OFFSET];
  return t + t * (r + r * r * (0.5 + r * (C3 + r * (C4 + r * (C5 + r * C6)))));
}
