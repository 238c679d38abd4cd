/**
 * Which diversity metrics the figures plot and what their rows and axes are called: the paper's 8 plotted keys
 * and its row labels, with short labels for the paper presets' small panels.
 * @module
 */
import { PAPER_KEY_ORDER } from "../metrics/registry.ts";

/** The 8 metrics the paper's notebooks plot, in their row order (they never plot order_q_* or vendi_*). */
export const PLOTTED_METRICS: readonly string[] = PAPER_KEY_ORDER.slice(0, 8); // selfBleuSmoothed … cosine_similarity

/** Row labels of the paper's figures (others: the key itself). */
const METRIC_LABELS: Readonly<Record<string, string>> = {
  selfBleuSmoothed: "Self Bleu Smoothed",
  average_pairwise_ncd: "Average Pairwise NCD",
  average_pairwise_jaccard_2: "Average Pairwise Jaccard 2",
  average_pairwise_jaccard_3: "Average Pairwise Jaccard 3",
  average_pairwise_jaccard_4: "Average Pairwise Jaccard 4",
  avg_compression_ratio_full: "Average Compression Ratio Full",
  avg_compression_ratio_target: "Average Compression Ratio Target",
  cosine_similarity: "Cosine Similarity",
};

/** The label of a metric key. */
export function metricLabel(key: string): string {
  return METRIC_LABELS[key] ?? key;
}

/** Short axis labels for the paper presets' small panels (others: the long label). */
const METRIC_SHORT_LABELS: Readonly<Record<string, string>> = {
  selfBleuSmoothed: "Self-BLEU",
  average_pairwise_ncd: "Pairwise NCD",
  average_pairwise_jaccard_2: "Jaccard, 2-grams",
  average_pairwise_jaccard_3: "Jaccard, 3-grams",
  average_pairwise_jaccard_4: "Jaccard, 4-grams",
  avg_compression_ratio_full: "Compr. ratio, full",
  avg_compression_ratio_target: "Compr. ratio, target",
  cosine_similarity: "Cosine similarity",
  distinct_1: "Distinct-1",
  distinct_2: "Distinct-2",
  distinct_3: "Distinct-3",
};

/** The short label of a metric key (the long one when there is none). */
export function metricShortLabel(key: string): string {
  return METRIC_SHORT_LABELS[key] ?? metricLabel(key);
}
