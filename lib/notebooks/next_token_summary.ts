/**
 * What the next-token notebook says about a study's score results: the order to score models in (bases
 * before their fine-tunes), the figure role of each study model, the headline table (one row per statistic,
 * one column per model), and the verdict on mode collapse of each fine-tune against its base — computed from
 * the numbers, in words, with the checks behind it.
 * @module
 */
import type { ModelRole as FigureRole } from "../figures/style.ts";
import { recordsToHtml } from "../figures/table.ts";
import type { StudyConfig } from "../study/config.ts";
export { baseFirstOrder } from "../study/config.ts";
import type { ScoreHeadline } from "../study/steps.ts";

const FIGURE_ROLES: readonly FigureRole[] = ["base", "sft", "dpo", "ppo", "chat", "kto", "slic", "collapsed"];

/**
 * Figure role per study model (for the figures' `roles` option): the study role when the figures know it, else
 * `other`.
 */
export function figureRoles(study: StudyConfig): Record<string, FigureRole> {
  return Object.fromEntries(
    study.models.map((
      m,
    ) => [m.name, (FIGURE_ROLES as readonly string[]).includes(m.role) ? m.role : "other"]),
  ) as Record<string, FigureRole>;
}

/** The rows of the headline table: label, unit note, and how to read one headline. */
export const HEADLINE_ROWS: readonly { label: string; get: (h: ScoreHeadline) => number | null }[] = [
  { label: "documents", get: (h) => h.documents },
  { label: "tokens scored", get: (h) => h.tokens },
  { label: "perplexity", get: (h) => h.perplexity },
  { label: "bits per byte", get: (h) => h.bits_per_byte },
  { label: "mean entropy (nats, token-weighted)", get: (h) => h.mean_entropy },
  { label: "mean confidence (token-weighted)", get: (h) => h.mean_confidence },
  { label: "mean confidence (doc-weighted, as the paper)", get: (h) => h.doc_mean_confidence },
  { label: "accuracy (argmax = next token)", get: (h) => h.accuracy },
  { label: "effective vocabulary exp(H(mean dist.))", get: (h) => h.effective_vocab },
  { label: "vocabulary fraction for 70% of mass", get: (h) => h.vocab_mass_fraction["0.7"] ?? null },
  { label: "vocabulary fraction for 90% of mass", get: (h) => h.vocab_mass_fraction["0.9"] ?? null },
  { label: "KL(base ‖ model), nats/token", get: (h) => h.kl_from_base },
  { label: "JS(base, model), nats/token", get: (h) => h.js_with_base },
  { label: "argmax changed vs base (share)", get: (h) => h.argmax_changed },
];

/** The headline table as records: one per statistic, a column per model (null where undefined). */
export function headlineRecords(
  headlines: readonly { model: string; headline: ScoreHeadline }[],
): Record<string, unknown>[] {
  return HEADLINE_ROWS.map((r) => ({
    statistic: r.label,
    ...Object.fromEntries(headlines.map((h) => [h.model, r.get(h.headline)])),
  }));
}

/** The headline table as HTML (`–` where a statistic is undefined, e.g. KL of a base model). */
export function headlineTableHtml(
  headlines: readonly { model: string; headline: ScoreHeadline }[],
  caption = "Next-token statistics on the corpus (one column per model)",
): string {
  return recordsToHtml(headlineRecords(headlines), {
    columns: ["statistic", ...headlines.map((h) => h.model)],
    caption,
  });
}

/** One check of the collapse verdict. */
export interface CollapseCheck {
  /** What is checked. */
  name: "entropy down" | "confidence up" | "KL from base > 0";
  /** The base's value (null for the KL check). */
  base: number | null;
  /** The fine-tune's value. */
  tuned: number | null;
  passed: boolean;
}

/** Whether a fine-tune shows mode collapse against its base, and why. */
export interface CollapseVerdict {
  model: string;
  base: string;
  /** All checks passed: lower mean entropy, higher mean confidence, positive KL from the base. */
  collapsed: boolean;
  checks: CollapseCheck[];
  /** The verdict in one or two sentences, with the numbers. */
  text: string;
}

const f = (x: number | null, digits = 4) => x === null ? "n/a" : x.toPrecision(digits);

/**
 * The collapse verdict of `tuned` against `base` from their headline numbers: collapse = mean next-token
 * entropy lower than the base's, mean confidence higher, and KL(base ‖ tuned) > `klMin` (default 0). Undefined
 * numbers fail their check.
 */
export function collapseVerdict(
  base: { model: string; headline: ScoreHeadline },
  tuned: { model: string; headline: ScoreHeadline },
  options: { klMin?: number } = {},
): CollapseVerdict {
  const b = base.headline, t = tuned.headline;
  const klMin = options.klMin ?? 0;
  const checks: CollapseCheck[] = [
    {
      name: "entropy down",
      base: b.mean_entropy,
      tuned: t.mean_entropy,
      passed: b.mean_entropy !== null && t.mean_entropy !== null && t.mean_entropy < b.mean_entropy,
    },
    {
      name: "confidence up",
      base: b.mean_confidence,
      tuned: t.mean_confidence,
      passed: b.mean_confidence !== null && t.mean_confidence !== null &&
        t.mean_confidence > b.mean_confidence,
    },
    {
      name: "KL from base > 0",
      base: null,
      tuned: t.kl_from_base,
      passed: t.kl_from_base !== null && t.kl_from_base > klMin,
    },
  ];
  const collapsed = checks.every((c) => c.passed);
  const [e, c, k] = checks;
  const facts = `mean entropy ${f(b.mean_entropy)} → ${f(t.mean_entropy)} nats (${
    e.passed ? "down" : "not down"
  }), mean confidence ${f(b.mean_confidence)} → ${f(t.mean_confidence)} (${
    c.passed ? "up" : "not up"
  }), KL(${base.model} ‖ ${tuned.model}) = ${f(t.kl_from_base)} nats per token (${
    k.passed ? "> 0" : "not > 0"
  })`;
  const text = collapsed
    ? `${tuned.model} shows mode collapse against ${base.model}: ${facts}. Its next-token distributions are ` +
      `sharper and further from the base's.`
    : `${tuned.model} does not show mode collapse against ${base.model} on every check: ${facts}.`;
  return { model: tuned.model, base: base.model, collapsed, checks, text };
}
