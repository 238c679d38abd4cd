/**
 * Comparing two families' headline numbers: each number against its tolerance (relative or absolute), the
 * verdicts and the DPO model's top integer (a favourite in both, or in neither).
 */
import assert from "node:assert/strict";
import {
  compareHeadlines,
  type FamilyHeadline,
  familyModels,
  type FamilyTolerances,
} from "../../lib/study/family_headline.ts";
import { embeddedStudy } from "../../lib/study/config.ts";

const TOL: FamilyTolerances = {
  perplexity: { relative: 0.1 },
  entropy: { absolute: 0.1 },
  confidence: { absolute: 0.05 },
  effectiveVocab: { relative: 0.2 },
  kl: { relative: 0.2 },
  share: { absolute: 0.1 },
  count: { relative: 0.3 },
};

function headline(): FamilyHeadline {
  const stage = (ppl: number, h: number, kl: number | null) => ({
    perplexity: ppl,
    entropyNats: h,
    confidence: 1 / h,
    effectiveVocab: 10 * ppl,
    klFromBaseNats: kl,
  });
  const ints = (mass: number, effective: number, fav: number, top: number, topIsFavourite: boolean) => ({
    mass,
    effective,
    favouritesShare: fav,
    top,
    topIsFavourite,
  });
  return {
    corpus: { base: stage(200, 5.5, null), sft: stage(300, 5, 0.5), dpo: stage(4000, 2, 3) },
    unigramPerplexity: 1200,
    unigramOverBase: 6,
    verdicts: {
      sft: { collapsed: true, lessDiverseShare: 0.9, points: 170 },
      dpo: { collapsed: true, lessDiverseShare: 0.8, points: 170 },
    },
    lessDiverse: {
      creative: { sft: { share: 0.9, points: 60 }, dpo: { share: 0.7, points: 60 } },
      factual: { sft: { share: 0.9, points: 60 }, dpo: { share: 0.55, points: 60 } },
    },
    integers: {
      base: ints(0.02, 23, 0.02, 11, false),
      sft: ints(0.5, 43, 0.05, 42, true),
      dpo: ints(0.6, 16, 0.46, 7, true),
    },
  };
}

Deno.test("family headline: a rerun within every tolerance, and each way of falling outside", () => {
  const same = compareHeadlines(headline(), headline(), TOL);
  assert.ok(same.within);
  assert.ok(same.rows.every((r) => r.difference === 0));
  assert.ok(same.rows.some((r) => r.name === "factual: dpo less diverse than sft"));

  const outside = (edit: (h: FamilyHeadline) => void) => {
    const h = headline();
    edit(h);
    const r = compareHeadlines(headline(), h, TOL);
    return r.rows.filter((x) => !x.within).map((x) => x.name);
  };
  // Relative: 10 % of 4000 = 400.
  assert.deepEqual(outside((h) => (h.corpus.dpo.perplexity = 4390)), []);
  assert.deepEqual(outside((h) => (h.corpus.dpo.perplexity = 4410)), ["dpo perplexity"]);
  // Absolute.
  assert.deepEqual(outside((h) => (h.corpus.sft.entropyNats = 5.09)), []);
  assert.deepEqual(outside((h) => (h.corpus.sft.entropyNats = 5.11)), ["sft entropy (nats)"]);
  assert.deepEqual(outside((h) => (h.lessDiverse.factual.dpo.share = 0.4)), [
    "factual: dpo less diverse than sft",
  ]);
  assert.deepEqual(outside((h) => (h.lessDiverse.factual.dpo.share = null)), [
    "factual: dpo less diverse than sft",
  ]);
  assert.deepEqual(outside((h) => (h.verdicts.dpo.collapsed = false)), ["dpo collapse detected (1 = yes)"]);
  // Another favourite on top is fine; a top that is no favourite is not.
  assert.deepEqual(outside((h) => (h.integers.dpo.top = 42)), []);
  assert.deepEqual(
    outside((h) => {
      h.integers.dpo.top = 3;
      h.integers.dpo.topIsFavourite = false;
    }),
    ["dpo top integer"],
  );
});

Deno.test("family headline: the stages are the study's models by role", () => {
  const m = familyModels(embeddedStudy("ci"));
  assert.deepEqual([m.base.name, m.sft.name, m.dpo.name], ["micro-base", "micro-sft", "micro-dpo"]);
  const study = embeddedStudy("ci");
  study.models = study.models.filter((x) => x.role !== "dpo");
  assert.throws(() => familyModels(study), /expected one model with role dpo, found 0/);
});
