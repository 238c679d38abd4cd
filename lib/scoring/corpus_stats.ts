/**
 * Corpus statistics from a {@link CorpusAccumulator}: perplexity, bits per byte, token-weighted means, the
 * document-weighted confidence the paper reported, the mean next-token distribution's effective vocabulary and
 * vocabulary mass fractions (the paper's definition), its sorted cumulative distribution (for the CDF figure),
 * histograms, calibration (reliability bins and ECE), divergences from a base model, and the paper's quirks under
 * `paper_compat`. Pure functions of the accumulator's summary. Undefined values (an empty corpus) are NaN, which
 * JSON.stringify writes as null.
 * @module
 */
import type { AccumulatorSummary, CorpusAccumulator } from "./corpus_accumulator.ts";
import type { DocumentRow } from "./document_rows.ts";

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

/** The paper's quirks (SEED.md §3.2, §3.5, §9.1–3, §9.10), computed alongside the defaults. */
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

/** Statistics plus the full-length vectors (for figures and the binary side file). */
export interface CorpusStatsResult {
  /** JSON-ready statistics. */
  stats: CorpusStats;
  /** Mean next-token distribution (token-weighted), length V. */
  meanDistribution: Float64Array;
  /** Descending-sorted cumulative mean distribution, length V (entry k = mass of the k + 1 likeliest tokens). */
  sortedCumulative: Float64Array;
  /** Per-document perplexities, ascending doc index. */
  documentPerplexities: Float64Array;
  /** The paper's window-weighted mean distribution, length V. */
  paperWindowWeightedDistribution: Float64Array;
  /** Its descending-sorted cumulative distribution. */
  paperSortedCumulative: Float64Array;
}

/** Options of {@link computeCorpusStats}. */
export interface CorpusStatsOptions {
  /** Approximate number of points of the downsampled CDFs (default 256: half linear, half log-spaced ranks). */
  cdfPoints?: number;
}

/** Cumulative sums of `p` sorted in descending order (entry k = mass of the k + 1 most probable entries). */
export function sortedCumulative(p: Float64Array): Float64Array {
  const sorted = Float64Array.from(p).sort().reverse();
  let acc = 0;
  for (let i = 0; i < sorted.length; i++) {
    acc += sorted[i];
    sorted[i] = acc;
  }
  return sorted;
}

/**
 * The paper's vocabulary fraction: (0-based index of the first entry of `cumulative` strictly greater than
 * `threshold`) / length (SEED.md §9 item 10: the number of tokens needed would be index + 1). NaN when no entry
 * exceeds the threshold.
 */
export function vocabMassFraction(cumulative: Float64Array, threshold: number): number {
  for (let i = 0; i < cumulative.length; i++) if (cumulative[i] > threshold) return i / cumulative.length;
  return NaN;
}

/** exp(−Σ p ln p) in nats, zeros contributing 0: the effective number of tokens of a distribution. */
export function effectiveVocab(p: Float64Array): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(p[i]);
  return Math.exp(h);
}

/** Ranks (1 … V) for a downsampled CDF: about n/2 linearly and n/2 logarithmically spaced, always 1 and V. */
export function cdfRanks(vocab: number, n: number): number[] {
  const half = Math.max(1, Math.floor(n / 2));
  const ranks = new Set<number>([1, vocab]);
  for (let j = 1; j <= half; j++) {
    ranks.add(Math.max(1, Math.round((vocab * j) / half)));
    ranks.add(Math.max(1, Math.round(Math.pow(vocab, j / half))));
  }
  return [...ranks].filter((r) => r <= vocab).sort((a, b) => a - b);
}

function downsample(cumulative: Float64Array, n: number): CdfPoints {
  if (cumulative.length === 0) return { ranks: [], cumulative: [] };
  const ranks = cdfRanks(cumulative.length, n);
  return { ranks, cumulative: ranks.map((r) => cumulative[r - 1]) };
}

function fractions(cumulative: Float64Array): VocabMassFraction {
  return {
    "0.7": vocabMassFraction(cumulative, 0.7),
    "0.9": vocabMassFraction(cumulative, 0.9),
  };
}

function documentStats(r: DocumentRow): DocumentStats {
  return {
    doc_index: r.docIndex,
    tokens: r.tokens,
    bytes: r.bytes,
    perplexity: r.perplexity,
    mean_entropy: r.meanEntropyNats,
    mean_confidence: r.meanConfidence,
    accuracy: r.accuracy,
  };
}

/** Corpus statistics of an accumulator (or its summary). Pure: the accumulator is not modified. */
export function computeCorpusStats(
  source: CorpusAccumulator | AccumulatorSummary,
  options: CorpusStatsOptions = {},
): CorpusStatsResult {
  const s = "summary" in source ? source.summary() : source;
  const cdfPoints = options.cdfPoints ?? 256;
  const n = s.tokens;
  const V = s.vocab;

  const meanDistribution = new Float64Array(V);
  for (let i = 0; i < V; i++) meanDistribution[i] = s.distributionSum[i] / n;
  const cumulative = sortedCumulative(meanDistribution);
  const paperDist = s.compat.paperWindowWeightedDistribution;
  const paperCumulative = sortedCumulative(paperDist);

  const calibration: CalibrationBin[] = [];
  const kBins = s.calibration.count.length;
  let ece = 0;
  for (let b = 0; b < kBins; b++) {
    const count = s.calibration.count[b];
    const meanConfidence = s.calibration.sumConfidence[b] / count;
    const accuracy = s.calibration.correct[b] / count;
    if (count > 0) ece += (count / n) * Math.abs(accuracy - meanConfidence);
    calibration.push({
      lower: b / kBins,
      upper: (b + 1) / kBins,
      count,
      mean_confidence: meanConfidence,
      accuracy,
    });
  }

  const stats: CorpusStats = {
    documents: s.documents,
    tokens: n,
    bytes: s.bytes,
    perplexity: Math.exp(-s.sumLogprobNats / n),
    bits_per_byte: -s.sumLogprobNats / Math.LN2 / s.bytes,
    mean_entropy: s.sumEntropyNats / n,
    mean_confidence: s.sumConfidence / n,
    doc_mean_confidence: s.sumDocMeanConfidence / s.documents,
    accuracy: s.correct / n,
    effective_vocab: n > 0 ? effectiveVocab(meanDistribution) : NaN,
    vocab_mass_fraction: fractions(cumulative),
    ...(s.withBase
      ? {
        kl_from_base: s.sumKlNats / n,
        js_with_base: s.sumJsNats / n,
        argmax_changed: s.argmaxChanged / n,
      }
      : {}),
    vocab: V,
    empty_documents: s.emptyDocuments,
    cdf: downsample(cumulative, cdfPoints),
    entropy_histogram: {
      lower: 0,
      upper: s.entropyHistogram.upperNats,
      counts: [...s.entropyHistogram.counts],
    },
    confidence_histogram: { lower: 0, upper: 1, counts: [...s.confidenceHistogram.counts] },
    calibration,
    ece: n > 0 ? ece : NaN,
    per_document: s.documentRows.map(documentStats),
    paper_compat: {
      first_doc_entropy: s.compat.paperFirstDocEntropy,
      first_doc_index: s.compat.firstDocIndex,
      doc_mean_confidence_all_rows: s.compat.paperDocMeanConfidenceAllRows,
      mean_entropy_all_rows: s.compat.sumEntropyAllRowsNats / s.compat.allRows,
      mean_confidence_all_rows: s.compat.sumConfidenceAllRows / s.compat.allRows,
      rows: s.compat.allRows,
      windows: s.compat.windows,
      vocab_mass_fraction: fractions(paperCumulative),
      effective_vocab: s.compat.windows > 0 ? effectiveVocab(paperDist) : NaN,
      cdf: downsample(paperCumulative, cdfPoints),
    },
  };
  return {
    stats,
    meanDistribution,
    sortedCumulative: cumulative,
    documentPerplexities: Float64Array.from(s.documentRows, (r) => r.perplexity),
    paperWindowWeightedDistribution: paperDist,
    paperSortedCumulative: paperCumulative,
  };
}
