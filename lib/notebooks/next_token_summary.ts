/**
 * What the next-token notebook says about a study's score results: the order to score models in (bases
 * before their fine-tunes), the figure role of each study model, the headline table (one row per statistic,
 * one column per model). The verdict on mode collapse is the study's one rule, lib/study/verdict.ts.
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
