/**
 * Did fine-tuning collapse the model? The one collapse rule of the project — the report, `deno task reproduce`
 * and every notebook that states a verdict call this module and print its text:
 *
 * - **corpus**: every defined check moves in the collapsed direction (lower mean next-token entropy, higher
 *   mean confidence, smaller effective vocabulary, KL(base ‖ fine-tune) > 0) and at least one is defined;
 * - **completions**: the fine-tune is less diverse than its base on more than half
 *   ({@link COLLAPSE_RULE}.lessDiverseShare) of the defined (pack, metric, word limit, temperature) points,
 *   each metric read in the registry's direction (lib/metrics/registry.ts, `metricDirection`);
 * - **mode collapse detected** when both hold. A part that was not measured (e.g. notebook 01 scores the corpus
 *   only) is reported as such, and the verdict is then "not established" rather than a yes or a no.
 * @module
 */
import { existsSync } from "node:fs";
import { type DiversityFile, parseDiversityFile } from "../io/diversity_format.ts";
import { METRICS } from "../metrics/registry.ts";
import { seriesFromDiversityFile } from "../data/diversity_series.ts";
import { lessDiverseShare as seriesLessDiverseShare } from "./diversity_stats.ts";
import type { StudyConfig } from "./config.ts";
import { formatPercent, formatSignificant } from "../numeric/number_format.ts";
import { type ScoreHeadline, studyPackNames, studyPaths } from "./steps.ts";

/** The rule's one threshold, and its statement in words. */
export const COLLAPSE_RULE = {
  /** The fine-tune must be less diverse on more than this share of the defined diversity points. */
  lessDiverseShare: 0.5,
  /** The rule in one sentence (shown under verdicts). */
  text: "Mode collapse = on the corpus, every defined check in the collapsed direction (mean entropy down, " +
    "mean confidence up, effective vocabulary down, KL from the base > 0), and in the completions, less " +
    "diverse than the base on more than half of the (pack, metric, word limit, temperature) points, each " +
    "metric read in the registry's direction.",
} as const;

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
  /** Corpus checks (entropy, confidence, effective vocabulary, KL). */
  corpus: CollapseCheck[];
  /** The corpus part of the rule: every defined check collapsed and at least one defined. */
  corpusCollapsed: boolean;
  /** Share of defined (pack, metric, word limit, temperature) points where the fine-tune is less diverse. */
  lessDiverseShare: number | null;
  /** Points counted in {@link lessDiverseShare}. */
  diversityPoints: number;
  /** The completions part: share > {@link COLLAPSE_RULE}.lessDiverseShare; null when not measured. */
  diversityCollapsed: boolean | null;
  /** Mode collapse detected: both parts hold. */
  collapsed: boolean;
  /** "mode collapse detected", "no collapse detected" or "collapse not established (…)". */
  headline: string;
  /** The verdict in a few sentences, with the numbers. */
  text: string;
}

/**
 * Compares a fine-tune's diversity with its base's, point by point: for each pack present in both, each metric
 * (with a registry direction) and word limit both computed, and each temperature, the mean over prompts; a
 * similarity metric going up or a diversity metric going down counts as less diverse (the notebooks' count,
 * ./diversity_stats.ts, on the same files).
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
  const r = seriesLessDiverseShare(series, "tuned", "base", packs, metrics);
  const points = r.less + r.more;
  return { share: points === 0 ? null : r.less / points, points };
}

/** The corpus checks of `tuned` against `base`. */
export function corpusChecks(base: ScoreHeadline, tuned: ScoreHeadline): CollapseCheck[] {
  const check = (
    name: string,
    b: number | null,
    t: number | null,
    collapsedIf: (b: number, t: number) => boolean,
  ) => ({ name, base: b, tuned: t, collapsed: b === null || t === null ? null : collapsedIf(b, t) });
  return [
    check("mean entropy (nats)", base.mean_entropy, tuned.mean_entropy, (b, t) => t < b),
    check("mean confidence", base.mean_confidence, tuned.mean_confidence, (b, t) => t > b),
    check("effective vocabulary", base.effective_vocab, tuned.effective_vocab, (b, t) => t < b),
    check("KL(base ‖ fine-tune) (nats)", 0, tuned.kl_from_base, (_b, t) => t > 0),
  ];
}

/** The corpus part of the rule. */
function corpusCollapsed(checks: readonly CollapseCheck[]): boolean {
  return checks.every((c) => c.collapsed !== false) && checks.some((c) => c.collapsed === true);
}

/** The completions part of the rule from a less-diverse share (null or NaN: not measured). */
export function diversityCollapsed(share: number | null): boolean | null {
  return share === null || !Number.isFinite(share) ? null : share > COLLAPSE_RULE.lessDiverseShare;
}

/** A corpus statistic in the verdict's sentence (4 significant digits; the report lists them the same way). */
export const formatCheckValue = (x: number | null): string => formatSignificant(x, 4);

/**
 * The verdict for `model` against `base` from their score headlines and, when measured, their diversity files
 * (or an already computed less-diverse share, e.g. a notebook's count over the packs it shows). Without
 * diversity the completions part is "not measured" and the verdict is not established.
 */
export function collapseVerdict(
  model: string,
  base: string,
  scores: { base: ScoreHeadline; tuned: ScoreHeadline },
  diversity?:
    | { base: readonly DiversityFile[]; tuned: readonly DiversityFile[] }
    | { share: number | null; points: number },
): CollapseVerdict {
  const corpus = corpusChecks(scores.base, scores.tuned);
  const corpusOk = corpusCollapsed(corpus);
  const { share, points } = diversity === undefined ? { share: null, points: 0 } : "share" in diversity
    ? {
      share: diversity.share !== null && Number.isFinite(diversity.share) ? diversity.share : null,
      points: diversity.points,
    }
    : lessDiverseShare(diversity.base, diversity.tuned);
  const divOk = diversityCollapsed(share);
  const collapsed = corpusOk && divOk === true;
  const headline = collapsed
    ? "mode collapse detected"
    : !corpusOk || divOk === false
    ? "no collapse detected"
    : "collapse not established (the diversity of completions was not measured)";
  const checks = corpus.map((c) =>
    `${c.name} ${formatCheckValue(c.base)} → ${formatCheckValue(c.tuned)} (${
      c.collapsed === null ? "undefined" : c.collapsed ? "collapsed direction" : "not collapsed"
    })`
  ).join(", ");
  const div = share === null
    ? "diversity of completions: not measured"
    : `less diverse than ${base} on ${formatPercent(share)} of ${points} points (${
      divOk ? "more than half" : "not more than half"
    })`;
  const text = `${model} vs ${base}: ${headline}. Corpus: ${checks}. ${div}.`;
  return {
    model,
    base,
    corpus,
    corpusCollapsed: corpusOk,
    lessDiverseShare: share,
    diversityPoints: points,
    diversityCollapsed: divOk,
    collapsed,
    headline,
    text,
  };
}

/** The diversity files of `model` that the study has written so far (none before its sweeps ran). */
async function studyDiversityFiles(study: StudyConfig, model: string): Promise<DiversityFile[]> {
  const files: DiversityFile[] = [];
  for (const pack of studyPackNames(study)) {
    const path = studyPaths.diversity(study, model, pack);
    if (existsSync(path)) files.push(parseDiversityFile(await Deno.readTextFile(path), path));
  }
  return files;
}

/**
 * The verdict of every fine-tune of the study against its base, from the score headlines given (by model name)
 * and the diversity files written so far (the completions part is "not measured" while there are none).
 */
export async function studyVerdicts(
  study: StudyConfig,
  headlines: Readonly<Record<string, ScoreHeadline>>,
): Promise<CollapseVerdict[]> {
  const verdicts: CollapseVerdict[] = [];
  for (const m of study.models) {
    if (m.base === undefined) continue;
    const base = await studyDiversityFiles(study, m.base);
    const tuned = await studyDiversityFiles(study, m.name);
    verdicts.push(
      collapseVerdict(
        m.name,
        m.base,
        { base: headlines[m.base], tuned: headlines[m.name] },
        base.length > 0 && tuned.length > 0 ? { base, tuned } : undefined,
      ),
    );
  }
  return verdicts;
}
