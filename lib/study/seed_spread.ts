/**
 * How far a family's seed variants move each headline number, measured in shares of a set of tolerances: the
 * basis on which the rerun tolerances are set (data/micro-family/README.md, "Rerunning the training") and the
 * check that they still cover what was observed.
 * @module
 */
import { compareHeadlines, type FamilyTolerances, type HeadlineRow } from "./family_headline.ts";
import type { SeedVariants } from "./seed_variants_file.ts";

/** The margin rule: a tolerance is at least this many times the widest move seen across the seed variants. */
export const SEED_SPREAD_MARGIN = 1.5;

/** One headline number across the seed variants. */
export interface SpreadRow {
  name: string;
  reference: number | null;
  /** Each variant's value, in the file's order. */
  variants: (number | null)[];
  /** The tolerance, as text. */
  allowed: string;
  /** The largest share of the tolerance any variant uses (null for the yes/no rows). */
  widestUse: number | null;
  /** Whether every variant is within the tolerance. */
  allWithin: boolean;
  /** Whether the tolerance keeps the margin: widest use ≤ 1 / {@link SEED_SPREAD_MARGIN}. */
  keepsMargin: boolean;
}

/** The spread of every headline number over the variants of `file`, against `tolerances`. */
export function seedSpread(file: SeedVariants, tolerances: FamilyTolerances): SpreadRow[] {
  const compared: HeadlineRow[][] = file.variants.map((x) =>
    compareHeadlines(file.reference, x.headline, tolerances).rows
  );
  return compared[0].map((row, i) => {
    const rows = compared.map((c) => c[i]);
    const uses = rows.map((r) => r.used).filter((u): u is number => u !== null);
    const widestUse = uses.length === 0 ? null : Math.max(...uses);
    const allWithin = rows.every((r) => r.within);
    return {
      name: row.name,
      reference: row.reference,
      variants: rows.map((r) => r.rerun),
      allowed: row.allowed,
      widestUse,
      allWithin,
      keepsMargin: allWithin && (widestUse === null || widestUse <= 1 / SEED_SPREAD_MARGIN),
    };
  });
}
