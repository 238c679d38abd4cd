/**
 * A synthetic family headline for the tests of comparing and claim-checking: numbers shaped like the committed
 * micro family's (every claim holds), which each test edits to fall outside one way at a time.
 */
import type { FamilyHeadline } from "../../lib/study/family_headline.ts";

/** A fresh headline on which every claim of lib/study/family_claims.ts holds. */
export function headline(): FamilyHeadline {
  const stage = (ppl: number, h: number, kl: number | null) => ({
    perplexity: ppl,
    entropyNats: h,
    confidence: 1 / h,
    effectiveVocab: 20_000 / ppl,
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
