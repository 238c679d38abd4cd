/**
 * Order-q similarity-sensitive diversity (Leinster–Cobbold), `order_{q}_{jaccard_2|cosine}`, q ≥ 2.
 *
 * - `orderQMonteCarlo`: the paper's estimator — 50 groups of q samples drawn uniformly with replacement, each
 *   group's similarity the product of the first draw's similarities to the other q − 1, then mean^(1/(1−q)). The
 *   original drew from numpy's global RNG without a seed; here the draws come from a {@link RandomState}, so
 *   `new RandomState(s)` reproduces `np.random.seed(s)` in Python bit for bit.
 * - `orderQExact`: the plug-in value the estimator aims at, with the full similarity matrix instead of 50 groups:
 *   D_q = ((1/n) Σ_i ((1/n) Σ_j S_ij)^(q−1))^(1/(1−q)). Deterministic and unbiased by sampling.
 * @module
 */
import { RandomState } from "../numeric/mt19937.ts";
import { pythonSum } from "../numeric/numpy_sum.ts";
import { undefinedMetric } from "./errors.ts";

/** Number of sampled groups in the paper's estimator. */
export const ORDER_Q_GROUPS = 50;

/** A similarity between samples i and j (the same sample drawn twice is `sim(i, i)`). */
export type IndexSimilarity = (i: number, j: number) => number;

function checkOrder(q: number, n: number): void {
  if (!Number.isInteger(q) || q < 2) throw new RangeError(`order q must be an integer ≥ 2, got ${q}`);
  if (n === 0) undefinedMetric("no_samples", "order-q diversity of an empty set");
  if (n <= q) {
    undefinedMetric("too_few_samples_for_order", `order ${q} needs more than ${q} samples, got ${n}`);
  }
}

function powerMean(mu: number, q: number): number {
  if (Number.isNaN(mu)) {
    undefinedMetric("no_nonzero_similarity", "a sampled similarity is undefined (0/0 cosine)");
  }
  if (mu === 0) {
    undefinedMetric("zero_mean_similarity", "mean group similarity is 0; 0 ** (1/(1−q)) is undefined");
  }
  if (mu < 0 && q !== 2) {
    undefinedMetric("negative_mean_similarity", `mean group similarity ${mu} < 0 to the power 1/(1−${q})`);
  }
  return Math.pow(mu, 1 / (1 - q));
}

/** The paper's Monte-Carlo order-q diversity over `n` samples, drawing from `rng`. */
export function orderQMonteCarlo(
  n: number,
  q: number,
  sim: IndexSimilarity,
  rng: RandomState,
  groups = ORDER_Q_GROUPS,
): number {
  checkOrder(q, n);
  const groupSims: number[] = [];
  for (let t = 0; t < groups; t++) {
    const idx = rng.choiceIndices(n, q);
    let g = sim(idx[0], idx[1]);
    for (let k = 2; k < q; k++) g *= sim(idx[0], idx[k]);
    groupSims.push(g);
  }
  return powerMean(pythonSum(groupSims) / groups, q);
}

/** The exact plug-in order-q diversity of an n×n similarity matrix (row-major, diagonal included). */
export function orderQExact(matrix: ArrayLike<number>, n: number, q: number): number {
  checkOrder(q, n);
  let outer = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += matrix[i * n + j];
    outer += Math.pow(row / n, q - 1);
  }
  return powerMean(outer / n, q);
}

/** `IndexSimilarity` view of a row-major n×n matrix. */
export function matrixSimilarity(matrix: ArrayLike<number>, n: number): IndexSimilarity {
  return (i, j) => matrix[i * n + j];
}

/** A 32-bit seed for one cell and metric, from the run seed: FNV-1a over `"<seed>|<key>|<t>|<p>"`. */
export function cellSeed(
  runSeed: number,
  key: string,
  temperatureIndex: number,
  promptIndex: number,
): number {
  const text = `${runSeed}|${key}|${temperatureIndex}|${promptIndex}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
