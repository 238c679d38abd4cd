/**
 * Comparing two families' headline numbers: each number against its stage's tolerance (relative, absolute or a
 * factor either way), the
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
import { headline } from "../helpers/family_headline_fixture.ts";

const STAGE = {
  perplexity: { relative: 0.1 },
  entropy: { absolute: 0.1 },
  confidence: { absolute: 0.05 },
  effectiveVocab: { relative: 0.2 },
  integerShare: { absolute: 0.1 },
  integerCount: { relative: 0.3 },
};
const TUNE = { ...STAGE, kl: { relative: 0.2 }, lessDiverse: { absolute: 0.1 } };
const TOL: FamilyTolerances = { base: STAGE, sft: TUNE, dpo: { ...TUNE, perplexity: { factor: 2 } } };

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
  // Relative: 10 % of 300 = 30.
  assert.deepEqual(outside((h) => (h.corpus.sft.perplexity = 329)), []);
  assert.deepEqual(outside((h) => (h.corpus.sft.perplexity = 331)), ["sft perplexity"]);
  // A factor either way: DPO's 4000 may be 2000 … 8000; the base's tolerance is not the DPO's.
  assert.deepEqual(outside((h) => (h.corpus.dpo.perplexity = 7990)), []);
  assert.deepEqual(outside((h) => (h.corpus.dpo.perplexity = 2010)), []);
  assert.deepEqual(outside((h) => (h.corpus.dpo.perplexity = 8010)), ["dpo perplexity"]);
  assert.deepEqual(outside((h) => (h.corpus.dpo.perplexity = 1990)), ["dpo perplexity"]);
  assert.deepEqual(outside((h) => (h.corpus.base.perplexity = 300)), [
    "base perplexity",
  ]);
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
