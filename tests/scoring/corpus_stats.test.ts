/**
 * Corpus statistics on a two-document example small enough to compute by hand (rows whose probabilities are
 * exact dyadic numbers), the paper-compatible outputs where the paper's quirks change the answer and where they
 * do not, and an empty corpus.
 */
import assert from "node:assert/strict";
import { CorpusAccumulator } from "../../lib/scoring/corpus_accumulator.ts";
import {
  cdfRanks,
  computeCorpusStats,
  sortedCumulative,
  vocabMassFraction,
} from "../../lib/scoring/corpus_stats.ts";
import { createDivergenceStats, divergeRows } from "../../lib/scoring/divergence.ts";
import { createPositionStats, scoreRows } from "../../lib/scoring/position_stats.ts";

const N = -Infinity;
const V = 4;
const LN2 = Math.LN2;

/** Feeds one window: context rows (re-read, not scored), then scored rows with their targets (and base rows). */
function window(
  acc: CorpusAccumulator,
  context: number[][],
  scored: number[][],
  targets: number[],
  base?: number[][],
): void {
  const rows = [...context, ...scored];
  const logits = new Float32Array(rows.flat());
  const stats = createPositionStats(rows.length);
  scoreRows(logits, V, 0, context.length, null, stats, { distributionSink: acc.windowSinks.context });
  acc.addContextRows(stats, 0, context.length);
  scoreRows(logits, V, context.length, scored.length, targets, stats, {
    distributionSink: acc.windowSinks.scored,
    outOffset: context.length,
  });
  let div;
  if (base) {
    div = createDivergenceStats(rows.length);
    const baseLogits = new Float32Array([...context, ...base].flat());
    divergeRows(baseLogits, logits, V, context.length, scored.length, div, context.length);
  }
  acc.addScoredRows(stats, context.length, scored.length, div);
  acc.endWindow();
}

/**
 * Document 0 (3 bytes): one window, one scored row p = (1, 0, 0, 0), target 0.
 * Document 1 (9 bytes): window 1 scores p = (½, ½, 0, 0) with target 1 (argmax 0 by the first-index tie rule);
 * window 2 re-reads one context row p = (1, 0, 0, 0), then scores the uniform row (target 3) and p = (0, 1, 0, 0)
 * (target 1).
 */
function example(withBase: boolean): CorpusAccumulator {
  const acc = new CorpusAccumulator({ vocab: V, withBase });
  acc.beginDocument(0, 3);
  window(acc, [], [[0, N, N, N]], [0], withBase ? [[0, N, N, N]] : undefined);
  acc.endDocument();
  acc.beginDocument(1, 9);
  window(acc, [], [[0, 0, N, N]], [1], withBase ? [[0, N, N, N]] : undefined);
  window(
    acc,
    [[0, N, N, N]],
    [[0, 0, 0, 0], [N, 0, N, N]],
    [3, 1],
    withBase ? [[N, N, N, 0], [N, 0, N, N]] : undefined,
  );
  acc.endDocument();
  return acc;
}

function close(actual: number, expected: number, what: string, rel = 1e-14): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300,
    `${what}: ${actual} vs ${expected}`,
  );
}

Deno.test("corpus stats: the two-document example by hand", () => {
  const { stats, sortedCumulative: cdf, meanDistribution, documentPerplexities } = computeCorpusStats(
    example(false),
  );
  assert.equal(stats.documents, 2);
  assert.equal(stats.tokens, 4);
  assert.equal(stats.bytes, 12);
  // Σ log p = 0 − ln 2 − ln 4 + 0 = −3 ln 2.
  close(stats.perplexity, Math.pow(2, 3 / 4), "perplexity");
  close(stats.bits_per_byte, 3 / 12, "bits per byte");
  close(stats.mean_entropy, (0 + LN2 + 2 * LN2 + 0) / 4, "mean entropy");
  assert.equal(stats.mean_confidence, (1 + 0.5 + 0.25 + 1) / 4); // token-weighted: 0.6875
  close(stats.doc_mean_confidence, (1 + (0.5 + 0.25 + 1) / 3) / 2, "doc mean confidence"); // 0.7917
  assert.equal(stats.accuracy, 0.5);
  // Mean distribution: Σ p = (1.75, 1.75, 0.25, 0.25) over 4 tokens.
  assert.deepEqual([...meanDistribution], [0.4375, 0.4375, 0.0625, 0.0625]);
  assert.deepEqual([...cdf], [0.4375, 0.875, 0.9375, 1]);
  assert.deepEqual(stats.vocab_mass_fraction, { "0.7": 1 / 4, "0.9": 2 / 4 });
  close(
    stats.effective_vocab,
    Math.exp(-(2 * 0.4375 * Math.log(0.4375) + 2 * 0.0625 * Math.log(0.0625))),
    "eff V",
  );
  assert.deepEqual(stats.cdf, { ranks: [1, 2, 3, 4], cumulative: [0.4375, 0.875, 0.9375, 1] });
  assert.deepEqual([...documentPerplexities], [1, 2]);
  assert.deepEqual(stats.per_document.map((d) => [d.doc_index, d.tokens, d.bytes, d.accuracy]), [
    [0, 1, 3, 1],
    [1, 3, 9, 1 / 3],
  ]);
  // Calibration (20 bins): confidence 1 → bin 19 (2 right), ½ → bin 10 (wrong), ¼ → bin 5 (wrong).
  const nonEmpty = stats.calibration.filter((b) => b.count > 0).map((b) => [b.lower, b.count, b.accuracy]);
  assert.deepEqual(nonEmpty, [[5 / 20, 1, 0], [10 / 20, 1, 0], [19 / 20, 2, 1]]);
  assert.equal(stats.ece, 0.25 * 0.25 + 0.25 * 0.5);
  // Histograms: entropy 0 ×2, ln 2 (bin 50 of [0, ln 4]), ln 4 (top edge → last bin).
  const at = (counts: number[]) => counts.flatMap((c, i) => (c > 0 ? [[i, c]] : []));
  assert.deepEqual(at(stats.entropy_histogram.counts), [[0, 2], [50, 1], [99, 1]]);
  assert.equal(stats.entropy_histogram.upper, Math.log(4));
  assert.deepEqual(at(stats.confidence_histogram.counts), [[25, 1], [50, 1], [99, 2]]);
  assert.equal(stats.kl_from_base, undefined);
});

Deno.test("corpus stats: the paper's quirks differ from the defaults where they apply", () => {
  const { stats, paperWindowWeightedDistribution, paperSortedCumulative } = computeCorpusStats(
    example(false),
  );
  const c = stats.paper_compat;
  // First document only: entropy 0, against the corpus mean of ¾ ln 2.
  assert.equal(c.first_doc_entropy, 0);
  assert.equal(c.first_doc_index, 0);
  // Document-weighted confidence over every row, the re-read context row included: (1 + 2.75/4)/2.
  assert.equal(c.doc_mean_confidence_all_rows, 0.84375);
  assert.notEqual(c.doc_mean_confidence_all_rows, stats.doc_mean_confidence);
  close(c.mean_entropy_all_rows, (3 * LN2) / 5, "all-row entropy");
  assert.equal(c.mean_confidence_all_rows, 0.75);
  assert.equal(c.rows, 5);
  assert.equal(c.windows, 3);
  // Window-weighted distribution: mean of (1,0,0,0), (½,½,0,0) and (1.25, 1.25, .25, .25)/3 = (23, 11, 1, 1)/36.
  const expected = [23 / 36, 11 / 36, 1 / 36, 1 / 36];
  paperWindowWeightedDistribution.forEach((x, i) => close(x, expected[i], `window-weighted[${i}]`));
  close(paperSortedCumulative[1], 34 / 36, "window-weighted cdf");
  assert.deepEqual(c.vocab_mass_fraction, { "0.7": 1 / 4, "0.9": 1 / 4 });
  assert.notEqual(c.vocab_mass_fraction["0.9"], stats.vocab_mass_fraction["0.9"]);
});

Deno.test("corpus stats: where the quirks do not apply, compat equals default", () => {
  // Single-window documents without context rows: the all-row and window-weighted views equal the defaults.
  const acc = new CorpusAccumulator({ vocab: V });
  acc.beginDocument(4, 2);
  window(acc, [], [[0, 0, N, N], [0, 0, 0, 0]], [0, 2]);
  acc.endDocument();
  const { stats, meanDistribution, paperWindowWeightedDistribution } = computeCorpusStats(acc);
  const c = stats.paper_compat;
  assert.equal(c.doc_mean_confidence_all_rows, stats.doc_mean_confidence);
  assert.equal(c.first_doc_entropy, stats.mean_entropy);
  assert.equal(c.mean_confidence_all_rows, stats.mean_confidence);
  assert.deepEqual([...paperWindowWeightedDistribution], [...meanDistribution]);
  assert.deepEqual(c.vocab_mass_fraction, stats.vocab_mass_fraction);
});

Deno.test("corpus stats: divergences from a base model", () => {
  const { stats } = computeCorpusStats(example(true));
  // KL(base ‖ tuned): 0, ln 2, ln 4, 0.
  close(stats.kl_from_base!, (3 * LN2) / 4, "KL");
  const js2 = 0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * LN2; // p = (1,0), q = (½,½)
  const js3 = 0.5 * Math.log(1.6) + 0.375 * LN2 + 0.125 * Math.log(0.4); // p = e₃, q uniform
  close(stats.js_with_base!, (js2 + js3) / 4, "JS", 1e-12);
  assert.equal(stats.argmax_changed, 1 / 4); // base argmax 3 vs tuned 0 on the uniform row
  // The defaults do not depend on the base.
  const plain = computeCorpusStats(example(false)).stats;
  assert.equal(stats.perplexity, plain.perplexity);
  assert.deepEqual(stats.vocab_mass_fraction, plain.vocab_mass_fraction);
});

Deno.test("corpus stats: helpers and an empty corpus", () => {
  assert.equal(vocabMassFraction(new Float64Array([0.5, 0.7, 0.9, 1]), 0.7), 2 / 4); // strictly greater
  assert.ok(Number.isNaN(vocabMassFraction(new Float64Array([0.2, 0.5]), 0.7)));
  assert.deepEqual([...sortedCumulative(new Float64Array([0.25, 0.5, 0.125, 0.125]))], [0.5, 0.75, 0.875, 1]);
  const ranks = cdfRanks(50304, 256);
  assert.equal(ranks[0], 1);
  assert.equal(ranks.at(-1), 50304);
  assert.ok(ranks.length > 200 && ranks.length <= 258);
  assert.ok(ranks.every((r, i) => i === 0 || r > ranks[i - 1]));

  const { stats } = computeCorpusStats(new CorpusAccumulator({ vocab: V }));
  assert.equal(stats.documents, 0);
  assert.ok(Number.isNaN(stats.perplexity) && Number.isNaN(stats.effective_vocab));
  assert.ok(Number.isNaN(stats.paper_compat.first_doc_entropy));
  const json = JSON.parse(JSON.stringify(stats));
  assert.equal(json.perplexity, null);
});
