/**
 * Vendi score (q = 1, uniform weights, unnormalised kernel): exp of the Shannon entropy of the eigenvalues of K/n.
 * A diversity: from 1 (all alike) to n (all orthogonal). As in the `vendi_score` package the original used,
 * non-positive eigenvalues are dropped without renormalising.
 * @module
 */
import { symmetricEigenvalues } from "../numeric/eigh.ts";
import { numpySum } from "../numeric/numpy_sum.ts";
import { undefinedMetric } from "./errors.ts";

/** Vendi score of a symmetric similarity matrix `kernel` (n×n row-major, diagonal included). */
export function vendiScoreOfKernel(kernel: ArrayLike<number>, n: number): number {
  if (n === 0) undefinedMetric("no_samples", "Vendi score of an empty set");
  const scaled = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) scaled[i] = kernel[i] / n;
  const w = symmetricEigenvalues(scaled, n);
  const terms: number[] = [];
  for (const x of w) if (x > 0) terms.push(x * Math.log(x));
  return Math.exp(-numpySum(terms));
}
