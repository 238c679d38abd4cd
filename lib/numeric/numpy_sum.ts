/**
 * numpy's float64 pairwise summation, reproduced bit for bit.
 *
 * `np.mean(list)` and `np.sum(array)` do not add left to right: numpy's reduction loop sums blocks of 8 with
 * 8 accumulators and splits long arrays in two. The paper's stored means were computed that way, so the last bits
 * of every averaged metric depend on it.
 * @module
 */

const BLOCK = 128;

/** numpy's `pairwise_sum` over `values[start, start + n)`. */
function pairwiseSum(values: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += values[start + i];
    return res;
  }
  if (n <= BLOCK) {
    let r0 = values[start], r1 = values[start + 1], r2 = values[start + 2], r3 = values[start + 3];
    let r4 = values[start + 4], r5 = values[start + 5], r6 = values[start + 6], r7 = values[start + 7];
    const whole = n - (n % 8);
    let i = 8;
    for (; i < whole; i += 8) {
      const k = start + i;
      r0 += values[k];
      r1 += values[k + 1];
      r2 += values[k + 2];
      r3 += values[k + 3];
      r4 += values[k + 4];
      r5 += values[k + 5];
      r6 += values[k + 6];
      r7 += values[k + 7];
    }
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += values[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(values, start, n2) + pairwiseSum(values, start + n2, n - n2);
}

/** `np.sum` of a float64 vector: numpy's pairwise summation. */
export function numpySum(values: ArrayLike<number>): number {
  return pairwiseSum(values, 0, values.length);
}

/** `np.mean` of a float64 vector (pairwise sum divided by n); NaN for an empty vector, as numpy returns. */
export function numpyMean(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  return pairwiseSum(values, 0, values.length) / values.length;
}

/** Python's built-in `sum(values)`: a plain left-to-right loop starting from integer 0. */
export function pythonSum(values: ArrayLike<number>): number {
  let res = 0;
  for (let i = 0; i < values.length; i++) res += values[i];
  return res;
}
