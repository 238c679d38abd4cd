/**
 * The claims a trained family must bear out (lib/study/family_claims.ts): all hold on a headline shaped like the
 * committed family's, and each edit that breaks one claim is reported as that claim, with its numbers.
 */
import assert from "node:assert/strict";
import { FAMILY_CLAIM_BOUNDS, familyClaims } from "../../lib/study/family_claims.ts";
import type { FamilyHeadline } from "../../lib/study/family_headline.ts";
import { headline } from "../helpers/family_headline_fixture.ts";

/** The claims that fail after `edit`. */
function failing(edit: (h: FamilyHeadline) => void): string[] {
  const h = headline();
  edit(h);
  return familyClaims(h).filter((c) => !c.holds).map((c) => c.claim);
}

Deno.test("family claims: every claim holds on a collapsing family", () => {
  const claims = familyClaims(headline());
  assert.equal(claims.length, 20);
  assert.deepEqual(claims.filter((c) => !c.holds), []);
  assert.ok(claims.every((c) => c.detail.length > 0 && !c.detail.includes("NaN")));
});

Deno.test("family claims: each way of failing names its claim", () => {
  assert.deepEqual(failing((h) => (h.unigramOverBase = 3.9)), [
    "the base is a language model: unigram / base perplexity ≥ 4",
  ]);
  assert.deepEqual(failing((h) => (h.corpus.dpo.entropyNats = 5.2)), ["SFT → DPO: entropy falls"]);
  assert.deepEqual(failing((h) => (h.corpus.sft.effectiveVocab = 200)), [
    "base → SFT: effective vocabulary falls",
  ]);
  assert.deepEqual(failing((h) => (h.corpus.sft.confidence = 0.1)), ["base → SFT: confidence rises"]);
  assert.deepEqual(failing((h) => (h.corpus.dpo.klFromBaseNats = 0.4)), [
    "KL from the base grows: 0 < SFT < DPO",
  ]);
  assert.deepEqual(failing((h) => (h.corpus.sft.klFromBaseNats = null)), [
    "KL from the base grows: 0 < SFT < DPO",
  ]);
  assert.deepEqual(failing((h) => (h.verdicts.dpo.collapsed = false)), ["dpo: collapse detected"]);
  assert.deepEqual(failing((h) => (h.lessDiverse.factual.dpo.share = 0.5)), [
    "factual: dpo less diverse than the stage before on more than 0.5 of points",
  ]);
  assert.deepEqual(failing((h) => delete (h.lessDiverse as Record<string, unknown>).creative), [
    "creative: sft less diverse than the stage before on more than 0.5 of points",
    "creative: dpo less diverse than the stage before on more than 0.5 of points",
  ]);
  assert.deepEqual(failing((h) => (h.integers.sft.effective = 30)), [
    "integer prompt: SFT has at least 35 integers in play",
  ]);
  assert.deepEqual(failing((h) => (h.integers.dpo.effective = 26)), [
    "integer prompt: DPO has at most 25 integers in play",
  ]);
  assert.deepEqual(failing((h) => (h.integers.dpo.favouritesShare = 0.29)), [
    "integer prompt: at least 0.3 of DPO's integer mass on the favourites",
  ]);
  assert.deepEqual(failing((h) => (h.integers.base.favouritesShare = 0.1)), [
    "integer prompt: DPO's favourites share over 5× the base's",
  ]);
  assert.deepEqual(failing((h) => (h.integers.dpo.topIsFavourite = false)), [
    "integer prompt: DPO's most likely integer is a favourite",
  ]);
  assert.deepEqual(failing((h) => (h.integers.base.mass = 0.7)), [
    "integer prompt: DPO answers an integer (mass ≥ 0.5, above the base's)",
  ]);
});

Deno.test("family claims: the bounds are the caller's to set", () => {
  const strict = { ...FAMILY_CLAIM_BOUNDS, unigramOverBase: 7 };
  assert.deepEqual(familyClaims(headline(), strict).filter((c) => !c.holds).map((c) => c.claim), [
    "the base is a language model: unigram / base perplexity ≥ 7",
  ]);
});
