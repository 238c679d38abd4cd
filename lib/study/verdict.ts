/**
 * Did fine-tuning collapse the model? The study's evidence, reduced to checks a reader can verify: on the corpus,
 * lower predictive entropy, higher confidence and a positive KL from the base; in the completions, less
 * diversity than the base on most (metric, temperature) points, each metric read in its own direction.
 * @module
 */
import type { DiversityFile } from "../io/diversity_format.ts";
import { METRICS } from "../metrics/registry.ts";
import { seriesFromDiversityFile } from "../figures/diversity_data.ts";
import { lessDiverseShare as viewsLessDiverseShare, registryDirection } from "./diversity_views.ts";
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

/**
 * Compares a fine-tune's diversity with its base's, point by point: for each pack present in both, each metric
 * (with a registry direction) and word limit both computed, and each temperature, the mean over prompts; a
 * similarity metric going up or a diversity metric going down counts as less diverse (the notebooks' count,
 * lib/study/diversity_views.ts, on the same files).
 */
export function lessDiverseShare(
  base: readonly DiversityFile[],
  tuned: readonly DiversityFile[],
): { share: number | null; points: number } {
  const series = [
    ...base.flatMap((f) => seriesFromDiversityFile(f, "base")),
    ...tuned.flatMap((f) => seriesFromDiversityFile(f, "tuned")),
  ];
  const metrics = METRICS.map((m) => m.key).filter((k) => series.some((s) => s.values[k] !== undefined));
  const packs = [...new Set(series.map((s) => s.promptSet))];
  const r = viewsLessDiverseShare(series, "tuned", "base", packs, metrics, registryDirection);
  const points = r.less + r.more;
  return { share: points === 0 ? null : r.less / points, points };
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
