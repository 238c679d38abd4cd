/**
 * The corpus statistics a `score/1` file stores at its top level, under the names it writes them with (computed by
 * lib/scoring/corpus_stats.ts). Undefined values (an empty corpus) are NaN in memory and null in the file.
 * @module
 */

/** The vocabulary mass thresholds reported (the paper's 70th and 90th "percentiles"). */
export const VOCAB_MASS_THRESHOLDS = ["0.7", "0.9"] as const;

/** Fractions keyed by threshold. */
export type VocabMassFraction = Record<typeof VOCAB_MASS_THRESHOLDS[number], number>;

/** A downsampled cumulative distribution: `cumulative[k]` = mass of the `ranks[k]` most probable tokens. */
export interface CdfPoints {
  ranks: number[];
  cumulative: number[];
}

/** One reliability-diagram bin. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean confidence of the bin's positions (NaN when empty). */
  mean_confidence: number;
  /** Share of the bin's positions whose argmax is the target (NaN when empty). */
  accuracy: number;
}

/** A histogram over [lower, upper] in equal-width bins. */
export interface Histogram {
  lower: number;
  upper: number;
  counts: number[];
}

/** One document's statistics, as in the output JSON. */
export interface DocumentStats {
  doc_index: number;
  tokens: number;
  bytes: number;
  perplexity: number;
  mean_entropy: number;
  mean_confidence: number;
  accuracy: number;
}

/** The paper's quirks (docs/PAPER_QUIRKS.md, Corpus statistics), computed alongside the defaults. */
export interface PaperCompatStats {
  /** Mean entropy over every row of the first document's windows, re-read context included (the paper's "Entropy"). */
  first_doc_entropy: number;
  /** Index of that document (null for an empty corpus). */
  first_doc_index: number | null;
  /** Mean over documents of each document's mean confidence over all its rows (the paper's "average confidence"). */
  doc_mean_confidence_all_rows: number;
  /** Mean entropy over all rows (row-weighted; context rows counted again). */
  mean_entropy_all_rows: number;
  /** Mean confidence over all rows (row-weighted). */
  mean_confidence_all_rows: number;
  /** Rows read (scored + context). */
  rows: number;
  /** Windows. */
  windows: number;
  /** Vocabulary mass fractions of the window-weighted mean distribution (the paper's proportions). */
  vocab_mass_fraction: VocabMassFraction;
  /** exp(H) of the window-weighted mean distribution. */
  effective_vocab: number;
  /** Downsampled sorted cumulative window-weighted distribution. */
  cdf: CdfPoints;
}

/** The JSON-ready corpus statistics (field names as in the score command's output). */
export interface CorpusStats {
  documents: number;
  tokens: number;
  bytes: number;
  /** exp(−Σ log p / tokens). */
  perplexity: number;
  /** −Σ log p / ln 2 / bytes. */
  bits_per_byte: number;
  /** Token-weighted mean entropy, nats. */
  mean_entropy: number;
  /** Token-weighted mean max-probability. */
  mean_confidence: number;
  /** Mean over documents of each document's mean confidence (the paper's weighting, over scored positions). */
  doc_mean_confidence: number;
  /** Share of positions whose argmax is the target. */
  accuracy: number;
  /** exp(H(mean next-token distribution)), H in nats. */
  effective_vocab: number;
  /** (0-based index of the first sorted cumulative value > threshold) / V, the paper's definition. */
  vocab_mass_fraction: VocabMassFraction;
  /** Mean KL(base ‖ tuned) per position, nats (only with a base). */
  kl_from_base?: number;
  /** Mean Jensen–Shannon divergence per position, nats (only with a base). */
  js_with_base?: number;
  /** Share of positions whose argmax differs from the base model's (only with a base). */
  argmax_changed?: number;
  /** Vocabulary size. */
  vocab: number;
  /** Documents with no token (not counted). */
  empty_documents: number;
  /** Downsampled sorted cumulative mean distribution. */
  cdf: CdfPoints;
  /** Entropy histogram over [0, ln V] nats. */
  entropy_histogram: Histogram;
  /** Confidence histogram over [0, 1]. */
  confidence_histogram: Histogram;
  /** Reliability bins. */
  calibration: CalibrationBin[];
  /** Expected calibration error: Σ_bins (n_b / N)·|accuracy_b − confidence_b|. */
  ece: number;
  /** Per-document statistics, ascending doc_index. */
  per_document: DocumentStats[];
  /** The paper's quirks. */
  paper_compat: PaperCompatStats;
}
