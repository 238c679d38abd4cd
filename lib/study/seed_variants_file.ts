/**
 * `family-seed-variants/1` files: a trained family's headline numbers beside those of the same training run
 * with other seeds (data/micro-family/seed_variants.json, written by tools/micro_family/seed_spread.ts). They
 * record how far a retraining moves each number, which is what the rerun tolerances are set from. One schema,
 * validated whole on read.
 * @module
 */
import {
  arr,
  bool,
  int,
  nonEmpty,
  num,
  readJsonSync,
  record,
  sha256Hex,
  strict,
  tag,
  v,
  validateWith,
} from "../io/schema.ts";
import type { FamilyHeadline } from "./family_headline.ts";

/** The format tag of seed-variant files. */
export const SEED_VARIANTS_FORMAT = "family-seed-variants/1";

/** One retraining with other seeds. */
export interface SeedVariant {
  /** Added to every training seed (`train_all.py --seed-offset`). */
  seed_offset: number;
  /** Which steps were retrained, in words. */
  about: string;
  headline: FamilyHeadline;
}

/** A family's headline numbers and those of its seed variants. */
export interface SeedVariants {
  /** Always {@link SEED_VARIANTS_FORMAT}. */
  format: typeof SEED_VARIANTS_FORMAT;
  /** How the numbers were measured, in words. */
  about: string;
  /** sha256 of the reference family's `export.json` (which lists every exported file's sha256). */
  reference_export_sha256: string;
  /** The committed family's numbers, measured the same way. */
  reference: FamilyHeadline;
  variants: SeedVariant[];
}

const share = () => num({ min: 0, max: 1, noun: "a share" });
const nullableShare = () => v.nullable(share());
const positive = () => num({ min: 0, exclusiveMin: true, noun: "a positive value" });

const STAGE_CORPUS = strict({
  perplexity: num({ min: 1, noun: "a perplexity" }),
  entropyNats: num({ min: 0, noun: "an entropy" }),
  confidence: share(),
  effectiveVocab: num({ min: 1, noun: "an effective vocabulary" }),
  klFromBaseNats: v.nullable(num({ min: 0, noun: "a KL divergence" })),
});
const STAGE_INTEGERS = strict({
  mass: share(),
  effective: num({ min: 1, noun: "an effective count" }),
  favouritesShare: share(),
  top: int({ min: 0, max: 100 }),
  topIsFavourite: bool(),
});
const VERDICT = strict({ collapsed: bool(), lessDiverseShare: nullableShare(), points: int({ min: 0 }) });
const LESS_DIVERSE_CELL = strict({ share: nullableShare(), points: int({ min: 0 }) });

const HEADLINE = strict({
  corpus: strict({ base: STAGE_CORPUS, sft: STAGE_CORPUS, dpo: STAGE_CORPUS }),
  unigramPerplexity: positive(),
  unigramOverBase: positive(),
  verdicts: strict({ sft: VERDICT, dpo: VERDICT }),
  lessDiverse: record(strict({ sft: LESS_DIVERSE_CELL, dpo: LESS_DIVERSE_CELL })),
  integers: strict({ base: STAGE_INTEGERS, sft: STAGE_INTEGERS, dpo: STAGE_INTEGERS }),
}, (h, report) => {
  if (h.corpus.base.klFromBaseNats !== null) report(["corpus", "base", "klFromBaseNats"], "expected null");
  for (const stage of ["sft", "dpo"] as const) {
    if (h.corpus[stage].klFromBaseNats === null) {
      report(["corpus", stage, "klFromBaseNats"], "expected a number");
    }
  }
});

const SCHEMA: v.GenericSchema<unknown, SeedVariants> = strict({
  format: tag(SEED_VARIANTS_FORMAT),
  about: nonEmpty(),
  reference_export_sha256: sha256Hex(),
  reference: HEADLINE,
  variants: arr(
    strict({ seed_offset: int({ min: 1, noun: "a seed offset" }), about: nonEmpty(), headline: HEADLINE }),
    1,
  ),
}, (f, report) => {
  const seen = new Set<number>();
  f.variants.forEach((x, i) => {
    if (seen.has(x.seed_offset)) report(["variants", i, "seed_offset"], `${x.seed_offset} appears twice`);
    seen.add(x.seed_offset);
  });
}) as v.GenericSchema<unknown, SeedVariants>;

/** Validates a parsed seed-variant document; one error names `file` and lists every problem's JSON path. */
export function validateSeedVariants(value: unknown, file: string): SeedVariants {
  return validateWith(SCHEMA, value, file, { formats: [SEED_VARIANTS_FORMAT] });
}

/** Reads and validates a seed-variant file. */
export function readSeedVariants(file: string): SeedVariants {
  return validateSeedVariants(readJsonSync(file), file);
}
