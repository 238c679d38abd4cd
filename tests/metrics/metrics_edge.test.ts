/** Edge cases of the metric functions, with the NaN reasons the runner records. */
import assert from "node:assert/strict";
import { MetricUndefinedError } from "../../lib/metrics/errors.ts";
import { selfBleuSmoothed } from "../../lib/metrics/self_bleu.ts";
import { averagePairwiseNcd } from "../../lib/metrics/ncd.ts";
import { averagePairwiseJaccard } from "../../lib/metrics/jaccard.ts";
import { avgCompressionRatioFull, avgCompressionRatioTarget } from "../../lib/metrics/compression_ratio.ts";
import { vendiScoreOfKernel } from "../../lib/metrics/vendi.ts";
import { distinctN } from "../../lib/metrics/distinct.ts";
import { cosine, cosineSimilarity } from "../../lib/metrics/cosine.ts";
import { cellSeed, matrixSimilarity, orderQExact, orderQMonteCarlo } from "../../lib/metrics/order_q.ts";
import { SampleSet } from "../../lib/metrics/sample_set.ts";
import { RandomState } from "../../lib/numeric/mt19937.ts";
import { METRICS, PAPER_KEY_ORDER, selectMetrics } from "../../lib/metrics/registry.ts";

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MetricUndefinedError) return e.reason;
    throw e;
  }
  return "defined";
}

Deno.test("single sample and empty set: named reasons, as the original's NaNs", () => {
  for (const f of [selfBleuSmoothed, averagePairwiseNcd, (s: string[]) => averagePairwiseJaccard(s, 2)]) {
    assert.equal(reasonOf(() => f(["one sample here"])), "fewer_than_2_samples");
    assert.equal(reasonOf(() => f([])), "no_samples");
  }
  assert.equal(reasonOf(() => avgCompressionRatioFull(["x"])), "fewer_than_2_samples");
  // The target variant of a single sample is 0.0, not NaN, as in the original.
  assert.equal(avgCompressionRatioTarget(["x y"]), 0);
  assert.equal(vendiScoreOfKernel([1], 1), 1);
});

Deno.test("an empty completion makes the target compression ratio undefined, nothing else", () => {
  const s = ["the cat sat", "", "a dog ran far"];
  assert.equal(reasonOf(() => avgCompressionRatioTarget(s)), "empty_sample");
  assert.ok(Number.isFinite(avgCompressionRatioFull(s)));
  assert.ok(Number.isFinite(averagePairwiseNcd(s)));
  assert.equal(reasonOf(() => avgCompressionRatioFull(["", "x"])), "all_others_empty");
});

Deno.test("a lone surrogate cannot be UTF-8 encoded: compression metrics say so", () => {
  const s = ["ok text", "bad \ud800 text"];
  assert.equal(reasonOf(() => averagePairwiseNcd(s)), "lone_surrogate");
  assert.equal(reasonOf(() => avgCompressionRatioFull(s)), "lone_surrogate");
  assert.ok(Number.isFinite(averagePairwiseJaccard(s, 1)));
});

Deno.test("order-q: reasons and the exact value's bounds", () => {
  const set = new SampleSet(["a b c", "d e f", "g h i", "j k l"]);
  const m = set.jaccardMatrix(2), n = set.size;
  // Disjoint samples: the exact diversity is n for every q (similarity matrix = identity).
  for (const q of [2, 3]) assert.ok(Math.abs(orderQExact(m, n, q) - n) < 1e-12, `q=${q}`);
  // The original asserts len(samples) > q.
  assert.equal(reasonOf(() => orderQExact(m, n, 4)), "too_few_samples_for_order");
  // Single-word samples have zero self-similarity under Jaccard-2: every group is 0.
  const words = new SampleSet(["a", "b", "c", "d", "e", "f", "g"]);
  const wm = words.jaccardMatrix(2);
  assert.equal(
    reasonOf(() => orderQMonteCarlo(7, 3, matrixSimilarity(wm, 7), new RandomState(0))),
    "zero_mean_similarity",
  );
  // Negative mean cosine: fine for q = 2, undefined for q ≥ 3.
  const anti = Array.from({ length: 25 }, (_, k) => (k % 6 === 0 ? 1 : -0.5)); // 5×5, 1 on the diagonal
  assert.ok(orderQExact(anti, 5, 2) < 0); // row means −0.2: D_2 = 1/(−0.2) = −5, as Python computes it
  assert.equal(reasonOf(() => orderQExact(anti, 5, 4)), "negative_mean_similarity");
  assert.notEqual(cellSeed(0, "order_2_jaccard_2", 0, 1), cellSeed(0, "order_2_jaccard_2", 1, 0));
});

Deno.test("cosine: unit vectors, zero vector, the original's zero-excluding mean", () => {
  const a = new Float32Array([1, 0]),
    b = new Float32Array([0, 1]),
    c = new Float32Array([Math.SQRT1_2, Math.SQRT1_2]);
  assert.equal(cosine(a, a), 1);
  assert.equal(cosine(a, new Float32Array(2)), 0);
  // Pairs: (a,b)=0 is left out of the count, (a,c)=(b,c)=0.7071…; mean over 2, not 3.
  assert.ok(Math.abs(cosineSimilarity([a, b, c]) - Math.fround(Math.SQRT1_2)) < 1e-7);
  assert.equal(reasonOf(() => cosineSimilarity([a, b])), "no_nonzero_similarity");
});

Deno.test("distinct-n", () => {
  assert.equal(distinctN(["a b a b", "a b"], 1), 2 / 6);
  assert.equal(distinctN(["a b c", "a b d"], 2), 3 / 4);
  assert.equal(reasonOf(() => distinctN(["a", "b"], 2)), "no_ngrams");
});

Deno.test("registry: the paper's 20 keys in order, selections, unknown keys", () => {
  assert.deepEqual(METRICS.slice(0, 20).map((m) => m.key), PAPER_KEY_ORDER);
  assert.equal(selectMetrics("paper").length, 20);
  assert.deepEqual(selectMetrics("deterministic").map((m) => m.key), [
    "selfBleuSmoothed",
    "average_pairwise_ncd",
    "average_pairwise_jaccard_2",
    "average_pairwise_jaccard_3",
    "average_pairwise_jaccard_4",
    "avg_compression_ratio_full",
    "avg_compression_ratio_target",
    "vendi_jaccard_2",
  ]);
  assert.deepEqual(selectMetrics("vendi_jaccard_2,selfBleuSmoothed").map((m) => m.key), [
    "selfBleuSmoothed",
    "vendi_jaccard_2",
  ]);
  assert.throws(() => selectMetrics("nope"), /unknown metric key "nope"/);
  assert.ok(selectMetrics("all").length > 20);
});
