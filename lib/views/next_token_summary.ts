/**
 * What the next-token notebook says about a study's score results: the order to score models in (bases
 * before their fine-tunes) and the headline table (one row per statistic, one column per model). The figure
 * role of each model is lib/study/figure_selection.ts; the verdict on mode collapse is the study's one rule,
 * lib/study/verdict.ts.
 * @module
 */
import { recordsToHtml } from "../figures/table.ts";
export { baseFirstOrder } from "../study/config.ts";
import type { ScoreHeadline } from "../study/steps.ts";

/** The rows of the headline table: label, unit note, and how to read one headline. */
const HEADLINE_ROWS: readonly { label: string; get: (h: ScoreHeadline) => number | null }[] = [
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
