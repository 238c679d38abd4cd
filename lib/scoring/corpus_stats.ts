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
import type {
  CalibrationBin,
  CdfPoints,
  CorpusStats,
  DocumentStats,
  VocabMassFraction,
} from "../io/score_stats.ts";

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
 * `threshold`) / length, one less than the number of tokens needed (docs/PAPER_QUIRKS.md, Vocabulary fraction
 * off by one). NaN when no entry exceeds the threshold.
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
