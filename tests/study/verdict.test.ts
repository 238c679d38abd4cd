/** The collapse verdict: corpus checks and the direction-aware share of less-diverse points. */
import assert from "node:assert/strict";
import { collapseVerdict, lessDiverseShare } from "../../lib/study/verdict.ts";
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
