/**
 * The one collapse rule (lib/study/verdict.ts): corpus checks, the direction-aware share of less-diverse points
 * (directions from the metric registry), the threshold, the verdict's text — used by the report and notebooks.
 */
import assert from "node:assert/strict";
import {
  COLLAPSE_RULE,
  collapseVerdict,
  corpusChecks,
  diversityCollapsed,
  lessDiverseShare,
} from "../../lib/study/verdict.ts";
import { metricDirection, METRICS } from "../../lib/metrics/registry.ts";
import type { DiversityFile } from "../../lib/io/diversity_format.ts";
import type { ScoreHeadline } from "../../lib/study/steps.ts";

function file(set: string, results: Record<string, number[][]>): DiversityFile {
  const rows = Object.values(results)[0]?.length ?? 0;
  const temperatures = Array.from({ length: rows }, (_, t) => (t + 1) / 10);
  return {
    input: { prompt_set: set, path: set },
    temperatures,
    results: { "20": results },
  } as unknown as DiversityFile;
}
const headline = (h: Partial<ScoreHeadline>): ScoreHeadline => ({
  documents: 1,
  tokens: 10,
  perplexity: 10,
  bits_per_byte: 1,
  mean_entropy: 2,
  mean_confidence: 0.3,
  doc_mean_confidence: 0.3,
  accuracy: 0.2,
  effective_vocab: 100,
  vocab_mass_fraction: { "0.7": 0.1, "0.9": 0.2 },
  kl_from_base: null,
  js_with_base: null,
  argmax_changed: null,
  ...h,
});

Deno.test("lessDiverseShare reads similarity metrics up and diversity metrics down, over prompt means", () => {
  // selfBleuSmoothed is a similarity (higher = less diverse), average_pairwise_ncd a distance (diversity).
  const base = [
    file("creative", { selfBleuSmoothed: [[0.2, 0.4], [0.1, 0.1]], average_pairwise_ncd: [[0.8, 0.8]] }),
  ];
  const tuned = [
    file("creative", { selfBleuSmoothed: [[0.5, 0.5], [0.1, 0.1]], average_pairwise_ncd: [[0.9, NaN]] }),
  ];
  // Points: bleu t0 (0.5 > 0.3: less diverse), bleu t1 (equal: not counted), ncd t0 (0.9 > 0.8: MORE diverse).
  assert.deepEqual(lessDiverseShare(base, tuned), { share: 0.5, points: 2 });
  assert.deepEqual(lessDiverseShare(base, [file("factual", { selfBleuSmoothed: [[1]] })]), {
    share: null,
    points: 0,
  });
});

Deno.test("collapseVerdict: every corpus check in the collapsed direction and most points less diverse", () => {
  const base = [file("creative", { selfBleuSmoothed: [[0.2], [0.3], [0.4]] })];
  const tuned = [file("creative", { selfBleuSmoothed: [[0.6], [0.7], [0.1]] })];
  const v = collapseVerdict("ft", "pt", {
    base: headline({}),
    tuned: headline({ mean_entropy: 1, mean_confidence: 0.6, effective_vocab: 20, kl_from_base: 0.5 }),
  }, { base, tuned });
  assert.equal(v.collapsed, true);
  assert.equal(v.lessDiverseShare, 2 / 3);
  assert.deepEqual(v.corpus.map((c) => c.collapsed), [true, true, true, true]);
  const notCollapsed = collapseVerdict("ft", "pt", {
    base: headline({}),
    tuned: headline({ mean_entropy: 3, mean_confidence: 0.6, effective_vocab: 20, kl_from_base: 0.5 }),
  }, { base, tuned });
  assert.equal(notCollapsed.collapsed, false, "entropy went up");
  assert.equal(notCollapsed.corpus[0].collapsed, false);
});

Deno.test("collapseVerdict: the text states the rule's outcome with the numbers", () => {
  const base = [file("creative", { selfBleuSmoothed: [[0.2], [0.3], [0.4]] })];
  const tuned = [file("creative", { selfBleuSmoothed: [[0.6], [0.7], [0.1]] })];
  const scores = {
    base: headline({ mean_entropy: 3 }),
    tuned: headline({ mean_entropy: 1, mean_confidence: 0.7, effective_vocab: 20, kl_from_base: 1.5 }),
  };
  const yes = collapseVerdict("t", "b", scores, { base, tuned });
  assert.equal(yes.headline, "mode collapse detected");
  assert.match(
    yes.text,
    /^t vs b: mode collapse detected\. Corpus: mean entropy \(nats\) 3\.000 → 1\.000 \(collapsed direction\)/,
  );
  assert.match(yes.text, /less diverse than b on 67% of 3 points \(more than half\)\.$/);
  // The former notebook-01 case: entropy up → not collapsed, whatever the rest says.
  const no = collapseVerdict("t", "b", {
    base: scores.base,
    tuned: headline({ mean_entropy: 3.5, mean_confidence: 0.7, effective_vocab: 20, kl_from_base: 0.2 }),
  }, { base, tuned });
  assert.equal(no.collapsed, false);
  assert.deepEqual(no.corpus.map((c) => c.collapsed), [false, true, true, true]);
  assert.equal(no.headline, "no collapse detected");
  // Missing KL: undefined, not failed; the other checks decide.
  const missing = corpusChecks(
    scores.base,
    headline({ mean_entropy: 1, mean_confidence: 0.7, effective_vocab: 20 }),
  );
  assert.equal(missing[3].collapsed, null);
  // Without diversity the completions part is not measured and the verdict is not established.
  const corpusOnly = collapseVerdict("t", "b", scores);
  assert.equal(corpusOnly.corpusCollapsed, true);
  assert.equal(corpusOnly.diversityCollapsed, null);
  assert.equal(corpusOnly.collapsed, false);
  assert.match(corpusOnly.headline, /^collapse not established/);
  assert.match(corpusOnly.text, /diversity of completions: not measured\.$/);
  // A share computed elsewhere (a notebook's count) goes through the same threshold.
  assert.equal(collapseVerdict("t", "b", scores, { share: 0.6, points: 10 }).collapsed, true);
  assert.equal(collapseVerdict("t", "b", scores, { share: 0.5, points: 10 }).collapsed, false);
  assert.equal(collapseVerdict("t", "b", scores, { share: NaN, points: 0 }).diversityCollapsed, null);
});

Deno.test("the rule's one threshold: more than half of the points", () => {
  assert.equal(COLLAPSE_RULE.lessDiverseShare, 0.5);
  assert.equal(diversityCollapsed(0.5), false);
  assert.equal(diversityCollapsed(0.51), true);
  assert.equal(diversityCollapsed(2 / 3), true);
  assert.equal(diversityCollapsed(null), null);
  assert.equal(diversityCollapsed(NaN), null);
  assert.match(COLLAPSE_RULE.text, /more than half/);
});

Deno.test("metric directions: one table, the registry's, read by the views and the verdict alike", () => {
  for (const m of METRICS) assert.equal(metricDirection(m.key), m.direction);
  assert.equal(metricDirection("avg_compression_ratio_target"), "similarity");
  assert.equal(metricDirection("nope"), undefined);
});
