/**
 * Did fine-tuning collapse the model? The study's evidence, reduced to checks a reader can verify: on the corpus,
 * lower predictive entropy, higher confidence and a positive KL from the base; in the completions, less
 * diversity than the base on most (metric, temperature) points, each metric read in its own direction.
 * @module
 */
import type { DiversityFile } from "../io/diversity_format.ts";
import { METRICS } from "../metrics/registry.ts";
import type { ScoreHeadline } from "./steps.ts";

/** One check of the verdict. */
export interface CollapseCheck {
  /** What is compared. */
  name: string;
  /** The base model's value. */
  base: number | null;
  /** The fine-tune's value. */
  tuned: number | null;
  /** True when the fine-tune moved in the collapsed direction; null when undefined. */
  collapsed: boolean | null;
}

/** The verdict for one fine-tune against its base. */
export interface CollapseVerdict {
  /** The fine-tune. */
  model: string;
  /** Its base. */
  base: string;
  /** Corpus checks (entropy, confidence, KL). */
  corpus: CollapseCheck[];
  /** Share of defined (pack, metric, word limit, temperature) points where the fine-tune is less diverse. */
  lessDiverseShare: number | null;
  /** Points counted in {@link lessDiverseShare}. */
  diversityPoints: number;
  /** True when every corpus check holds and the fine-tune is less diverse on more than half the points. */
  collapsed: boolean;
}

/** Mean of the finite values of a row; NaN when none. */
function meanFinite(values: readonly number[]): number {
  let s = 0, n = 0;
  for (const v of values) {
    if (v !== null && Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return n === 0 ? NaN : s / n;
}

/**
 * Compares a fine-tune's diversity with its base's, point by point: for each pack present in both, each metric
 * and word limit both computed, and each temperature, the mean over prompts; a similarity metric going up or a
 * diversity metric going down counts as less diverse.
 */
export function lessDiverseShare(
  base: readonly DiversityFile[],
  tuned: readonly DiversityFile[],
): { share: number | null; points: number } {
  const direction = new Map(METRICS.map((m) => [m.key, m.direction]));
  let less = 0, points = 0;
  for (const t of tuned) {
    const b = base.find((x) => x.input.prompt_set === t.input.prompt_set);
    if (b === undefined) continue;
    for (const [words, byKey] of Object.entries(t.results)) {
      for (const [key, grid] of Object.entries(byKey)) {
        const other = b.results[words]?.[key];
        const dir = direction.get(key);
        if (other === undefined || dir === undefined) continue;
        const rows = Math.min(grid.length, other.length);
        for (let i = 0; i < rows; i++) {
          const mt = meanFinite(grid[i] as number[]), mb = meanFinite(other[i] as number[]);
          if (!Number.isFinite(mt) || !Number.isFinite(mb) || mt === mb) continue;
          points++;
          if (dir === "similarity" ? mt > mb : mt < mb) less++;
        }
      }
    }
  }
  return { share: points === 0 ? null : less / points, points };
}

/** The verdict for `model` against `base` from their score headlines and diversity files. */
export function collapseVerdict(
  model: string,
  base: string,
  scores: { base: ScoreHeadline; tuned: ScoreHeadline },
  diversity: { base: readonly DiversityFile[]; tuned: readonly DiversityFile[] },
): CollapseVerdict {
  const check = (
    name: string,
    b: number | null,
    t: number | null,
    collapsedIf: (b: number, t: number) => boolean,
  ) => ({
    name,
    base: b,
    tuned: t,
    collapsed: b === null || t === null ? null : collapsedIf(b, t),
  });
  const corpus: CollapseCheck[] = [
    check("mean entropy (nats)", scores.base.mean_entropy, scores.tuned.mean_entropy, (b, t) => t < b),
    check("mean confidence", scores.base.mean_confidence, scores.tuned.mean_confidence, (b, t) => t > b),
    check("effective vocabulary", scores.base.effective_vocab, scores.tuned.effective_vocab, (b, t) => t < b),
    check("KL(base ‖ fine-tune) (nats)", 0, scores.tuned.kl_from_base, (_b, t) => t > 0),
  ];
  const { share, points } = lessDiverseShare(diversity.base, diversity.tuned);
  const corpusCollapsed = corpus.every((c) => c.collapsed !== false) &&
    corpus.some((c) => c.collapsed === true);
  return {
    model,
    base,
    corpus,
    lessDiverseShare: share,
    diversityPoints: points,
    collapsed: corpusCollapsed && share !== null && share > 0.5,
  };
}
