/**
 * What a trained base → SFT → DPO family must show (data/micro-family/README.md, "What it shows"), as checks on
 * its headline numbers: the base is a language model, the corpus statistics and the completions collapse step
 * by step, and after the "random integer" prompt the DPO model answers with fewer integers, more of them the
 * rater's favourites. The CI test holds the committed family to these; `tools/micro_family/compare_rerun.ts`
 * holds a retrained one to them as well as to the numeric tolerances.
 * @module
 */
import type { FamilyHeadline } from "./family_headline.ts";

/** The bounds of the claims: set below the committed family's measurements and below a seed variant's. */
export interface FamilyClaimBounds {
  /** unigram perplexity / base perplexity on the study corpus, at least. */
  unigramOverBase: number;
  /** Share of (metric, word limit, temperature) points on which a stage is less diverse than the one before. */
  lessDiverse: number;
  /** Packs on which output diversity must fall after each stage. */
  lessDiversePacks: readonly string[];
  /** Effective number of integers after the integer prompt: SFT at least. */
  sftEffectiveIntegers: number;
  /** Effective number of integers: DPO at most. */
  dpoEffectiveIntegers: number;
  /** Share of the DPO model's integer mass on the rater's favourites, at least. */
  dpoFavouritesShare: number;
  /** The DPO favourites share over the base's, at least. */
  dpoOverBaseFavourites: number;
  /** The DPO model's next-token mass on " 0" … " 100", at least. */
  dpoIntegerMass: number;
}

/**
 * The bounds the README states. Measured on the committed family: unigram/base 5.63; less-diverse shares
 * 0.52–0.95; effective integers base 23.0, SFT 43.4, DPO 16.4; DPO favourites 0.460 (7 on top), base 0.019;
 * DPO integer mass 0.59. Seed variants of the training land on the same side of every bound
 * (data/micro-family/README.md, "Rerunning the training").
 */
export const FAMILY_CLAIM_BOUNDS: FamilyClaimBounds = {
  unigramOverBase: 4,
  lessDiverse: 0.5,
  lessDiversePacks: ["creative", "factual"],
  sftEffectiveIntegers: 35,
  dpoEffectiveIntegers: 25,
  dpoFavouritesShare: 0.3,
  dpoOverBaseFavourites: 5,
  dpoIntegerMass: 0.5,
};

/** One claim and whether the headline bears it out. */
export interface FamilyClaim {
  claim: string;
  holds: boolean;
  /** The numbers behind it. */
  detail: string;
}

const f = (x: number | null, digits = 4) => (x === null ? "undefined" : +x.toPrecision(digits));

/** Checks every claim of {@link FamilyClaimBounds} on a family's headline numbers. */
export function familyClaims(
  h: FamilyHeadline,
  bounds: FamilyClaimBounds = FAMILY_CLAIM_BOUNDS,
): FamilyClaim[] {
  const { base, sft, dpo } = h.corpus;
  const n = h.integers;
  const claims: FamilyClaim[] = [
    {
      claim: `the base is a language model: unigram / base perplexity ≥ ${bounds.unigramOverBase}`,
      holds: h.unigramOverBase >= bounds.unigramOverBase,
      detail: `${f(h.unigramPerplexity)} / ${f(base.perplexity)} = ${f(h.unigramOverBase)}`,
    },
  ];
  for (const [a, b, step] of [[base, sft, "base → SFT"], [sft, dpo, "SFT → DPO"]] as const) {
    claims.push(
      {
        claim: `${step}: entropy falls`,
        holds: b.entropyNats < a.entropyNats,
        detail: `${f(a.entropyNats)} → ${f(b.entropyNats)} nats`,
      },
      {
        claim: `${step}: effective vocabulary falls`,
        holds: b.effectiveVocab < a.effectiveVocab,
        detail: `${f(a.effectiveVocab)} → ${f(b.effectiveVocab)}`,
      },
      {
        claim: `${step}: confidence rises`,
        holds: b.confidence > a.confidence,
        detail: `${f(a.confidence)} → ${f(b.confidence)}`,
      },
    );
  }
  claims.push({
    claim: "KL from the base grows: 0 < SFT < DPO",
    holds: sft.klFromBaseNats !== null && dpo.klFromBaseNats !== null && sft.klFromBaseNats > 0 &&
      dpo.klFromBaseNats > sft.klFromBaseNats,
    detail: `SFT ${f(sft.klFromBaseNats)}, DPO ${f(dpo.klFromBaseNats)} nats`,
  });
  for (const stage of ["sft", "dpo"] as const) {
    const v = h.verdicts[stage];
    claims.push({
      claim: `${stage}: collapse detected`,
      holds: v.collapsed,
      detail: `less diverse on ${f(v.lessDiverseShare, 3)} of ${v.points} points`,
    });
  }
  for (const pack of bounds.lessDiversePacks) {
    for (const stage of ["sft", "dpo"] as const) {
      const cell = h.lessDiverse[pack]?.[stage];
      claims.push({
        claim:
          `${pack}: ${stage} less diverse than the stage before on more than ${bounds.lessDiverse} of points`,
        holds: cell !== undefined && cell.share !== null && cell.share > bounds.lessDiverse,
        detail: cell === undefined ? "pack not in the study" : `${f(cell.share, 3)} of ${cell.points}`,
      });
    }
  }
  claims.push(
    {
      claim: `integer prompt: SFT has at least ${bounds.sftEffectiveIntegers} integers in play`,
      holds: n.sft.effective >= bounds.sftEffectiveIntegers,
      detail: `${f(n.sft.effective, 3)}`,
    },
    {
      claim: `integer prompt: DPO has at most ${bounds.dpoEffectiveIntegers} integers in play`,
      holds: n.dpo.effective <= bounds.dpoEffectiveIntegers,
      detail: `${f(n.dpo.effective, 3)}`,
    },
    {
      claim: `integer prompt: at least ${bounds.dpoFavouritesShare} of DPO's integer mass on the favourites`,
      holds: n.dpo.favouritesShare >= bounds.dpoFavouritesShare,
      detail: `${f(n.dpo.favouritesShare, 3)}`,
    },
    {
      claim: `integer prompt: DPO's favourites share over ${bounds.dpoOverBaseFavourites}× the base's`,
      holds: n.dpo.favouritesShare > bounds.dpoOverBaseFavourites * n.base.favouritesShare,
      detail: `${f(n.dpo.favouritesShare, 3)} vs ${f(n.base.favouritesShare, 3)}`,
    },
    {
      claim: "integer prompt: DPO's most likely integer is a favourite",
      holds: n.dpo.topIsFavourite,
      detail: `${n.dpo.top}`,
    },
    {
      claim: `integer prompt: DPO answers an integer (mass ≥ ${bounds.dpoIntegerMass}, above the base's)`,
      holds: n.dpo.mass >= bounds.dpoIntegerMass && n.base.mass < n.dpo.mass,
      detail: `DPO ${f(n.dpo.mass, 3)}, base ${f(n.base.mass, 3)}`,
    },
  );
  return claims;
}
