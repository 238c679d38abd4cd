/**
 * Streaming corpus accumulator for per-position next-token statistics. Memory does not grow with the number of
 * tokens: sums, histograms, calibration bins, the summed next-token distribution (one float64 per vocabulary
 * entry) and one summary row per document.
 *
 * Feeding it (per document, per window of the rolling-window scheme):
 *
 *     acc.beginDocument(docIndex, utf8Bytes);
 *     // per window: the rows read only as context (re-read tokens; none in most windows), then the scored rows
 *     scoreRows(logits, V, 0, L - P, null, stats, { distributionSink: acc.windowSinks.context });
 *     acc.addContextRows(stats, 0, L - P);
 *     scoreRows(logits, V, L - P, P, targets, stats, { distributionSink: acc.windowSinks.scored });
 *     acc.addScoredRows(stats, 0, P, divergence);   // divergence only when built with { withBase: true }
 *     acc.endWindow();
 *     acc.endDocument();
 *
 * Scored rows (each document token predicted once) make the default statistics; scored + context rows ("all
 * rows", what the paper's arrays held) feed only the paper-compatible outputs: the first document's entropy, the
 * window-weighted mean distribution and the document-weighted confidence over all rows (docs/PAPER_QUIRKS.md, Corpus statistics).
 *
 * Exact merging. Inside a document everything is summed in float64, in feeding order. Across documents every
 * float sum is exact: Shewchuk partials for scalars (as lib/numeric/fsum.ts), and for the vocabulary vectors a
 * per-entry double-double (hi, lo) whose rare inexact lo additions spill their rounding error into a small
 * per-entry list of Shewchuk partials (see {@link ExactVector}). The state therefore always represents the exact
 * sum of the per-document partials, and every output is that exact sum rounded once — so splitting a corpus at
 * document boundaries, accumulating the shards separately and merging them in any order gives bit-identical
 * results. Integer counts are exact in float64 up to 2^53.
 * @module
 */
import { f64ArrayToBase64, f64ToHex } from "../numeric/float64_codec.ts";
import { ACCUMULATOR_FORMAT } from "./accumulator_fields.ts";
import {
  type AccumulatorJson,
  COUNT_NAMES,
  type CountName,
  readAccumulatorHeader,
  readAccumulatorState,
  SUM_NAMES,
  type SumName,
} from "./accumulator_json.ts";
import type { DivergenceStats } from "./divergence.ts";
import { DOC_COLUMNS, type DocColumn, DocumentColumns, type DocumentRow } from "./document_rows.ts";
import { ExactSum, type ExactSumJson, ExactVector } from "./exact_sum.ts";
import type { PositionStats } from "./position_stats.ts";

/** Default number of entropy histogram bins over [0, ln V]. */
export const DEFAULT_ENTROPY_BINS = 100;
/** Default number of confidence histogram bins over [0, 1]. */
export const DEFAULT_CONFIDENCE_BINS = 100;
/** Default number of equal-width calibration (reliability) bins over [0, 1]. */
export const DEFAULT_CALIBRATION_BINS = 20;

/** Construction options of a {@link CorpusAccumulator}. */
export interface AccumulatorOptions {
  /** Vocabulary size V (length of every probability vector). */
  vocab: number;
  /** Scored rows carry divergences from a base model (KL, JS, argmax changed). Default false. */
  withBase?: boolean;
  /** Entropy histogram bins over [0, ln V]; default 100. */
  entropyBins?: number;
  /** Confidence histogram bins over [0, 1]; default 100. */
  confidenceBins?: number;
  /** Calibration bins over [0, 1]; default 20. */
  calibrationBins?: number;
}

/** Everything an accumulator holds, finalised (each float sum rounded once); input of corpus statistics. */
export interface AccumulatorSummary {
  /** Vocabulary size. */
  vocab: number;
  /** Whether divergences from a base model were accumulated. */
  withBase: boolean;
  /** Documents with at least one scored position. */
  documents: number;
  /** Documents ended with no scored position (not counted anywhere else; the original skipped them too). */
  emptyDocuments: number;
  /** Scored positions. */
  tokens: number;
  /** UTF-8 bytes of the counted documents. */
  bytes: number;
  /** Scored positions whose argmax is the target. */
  correct: number;
  /** Σ ln p(target), nats. */
  sumLogprobNats: number;
  /** Σ entropy over scored positions, nats. */
  sumEntropyNats: number;
  /** Σ confidence over scored positions. */
  sumConfidence: number;
  /** Σ over documents of the document's mean confidence (scored positions). */
  sumDocMeanConfidence: number;
  /** Σ KL(base ‖ tuned), nats (0 without a base). */
  sumKlNats: number;
  /** Σ Jensen–Shannon, nats (0 without a base). */
  sumJsNats: number;
  /** Scored positions whose argmax differs from the base model's (0 without a base). */
  argmaxChanged: number;
  /** Σ over scored positions of the probability vector (divide by `tokens` for the mean distribution). */
  distributionSum: Float64Array;
  /** Entropy histogram over [0, upperNats = ln V] (values at or above the top go to the last bin). */
  entropyHistogram: { upperNats: number; counts: Float64Array };
  /** Confidence histogram over [0, 1]. */
  confidenceHistogram: { counts: Float64Array };
  /** Equal-width confidence bins over [0, 1]: positions, Σ confidence, Σ correct. */
  calibration: { count: Float64Array; sumConfidence: Float64Array; correct: Float64Array };
  /** One row per counted document, ascending docIndex. */
  documentRows: DocumentRow[];
  /** The paper's quirks, computed alongside (docs/PAPER_QUIRKS.md, Corpus statistics). */
  compat: {
    /** Rows read, scored or context (what the paper's entropy/confidence arrays held). */
    allRows: number;
    /** Windows. */
    windows: number;
    /** Σ entropy over all rows, nats. */
    sumEntropyAllRowsNats: number;
    /** Σ confidence over all rows. */
    sumConfidenceAllRows: number;
    /** docIndex of the first (lowest-index) counted document, or null. */
    firstDocIndex: number | null;
    /** Mean entropy over all rows of the first document's windows (the paper's "Entropy"); NaN if none. */
    paperFirstDocEntropy: number;
    /** Mean over documents of the mean confidence over all the document's rows (the paper's); NaN if none. */
    paperDocMeanConfidenceAllRows: number;
    /** Mean over windows of each window's mean probability vector over all its rows (the paper's). */
    paperWindowWeightedDistribution: Float64Array;
  };
}

function checkBins(n: number | undefined, fallback: number, what: string): number {
  const v = n ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${what} must be an integer ≥ 1, got ${v}`);
  return v;
}

/** Bin of `x` in [0, 1) scaled by `scale` = bins / range; clamped to [0, bins − 1] (x at the top → last bin). */
function binOf(x: number, scale: number, bins: number): number {
  const b = Math.floor(x * scale);
  return b >= 0 ? (b < bins ? b : bins - 1) : 0;
}

/** Tolerance of the window sink check: a probability vector sums to 1 within ~1e-13. */
const SINK_TOLERANCE = 1e-6;

/** Streams per-position statistics of a corpus into bounded, exactly mergeable state. */
export class CorpusAccumulator {
  /** Vocabulary size V. */
  readonly vocab: number;
  /** Whether scored rows carry divergences from a base model. */
  readonly withBase: boolean;
  /** Entropy histogram bins over [0, ln V]. */
  readonly entropyBins: number;
  /** Confidence histogram bins over [0, 1]. */
  readonly confidenceBins: number;
  /** Calibration bins over [0, 1]. */
  readonly calibrationBins: number;
  /**
   * The current window's probability-vector sums: pass `scored` as `distributionSink` when scoring the scored
   * rows and `context` for context-only rows; {@link endWindow} consumes and clears them.
   */
  readonly windowSinks: { readonly scored: Float64Array; readonly context: Float64Array };

  // Committed state (documents ended so far).
  #counts: Record<CountName, number> = Object.fromEntries(COUNT_NAMES.map((c) => [c, 0])) as Record<
    CountName,
    number
  >;
  #sums: Record<SumName, ExactSum> = Object.fromEntries(SUM_NAMES.map((s) => [s, new ExactSum()])) as Record<
    SumName,
    ExactSum
  >;
  #entropyHist: Float64Array;
  #confidenceHist: Float64Array;
  #calCount: Float64Array;
  #calCorrect: Float64Array;
  #calConfidence: ExactSum[];
  #firstDoc: { docIndex: number; rows: number; sumEntropyNats: number } | null = null;
  #docs = new DocumentColumns();
  #docIndices = new Set<number>();
  #distribution: ExactVector;
  #windowDistribution: ExactVector;

  // The open document (float64 partials in feeding order).
  #open = false;
  #docIndex = -1;
  #docBytes = 0;
  #d = CorpusAccumulator.#emptyDoc();
  #dEntropyHist: Float64Array;
  #dConfidenceHist: Float64Array;
  #dCalCount: Float64Array;
  #dCalCorrect: Float64Array;
  #dCalConfidence: Float64Array;
  #dDistribution: Float64Array;
  #dWindowDistribution: Float64Array;
  #wScored = 0;
  #wContext = 0;

  readonly #entropyScale: number;

  constructor(options: AccumulatorOptions) {
    const vocab = options.vocab;
    if (!Number.isSafeInteger(vocab) || vocab < 1) {
      throw new RangeError(`vocab must be an integer ≥ 1, got ${vocab}`);
    }
    this.vocab = vocab;
    this.withBase = options.withBase ?? false;
    this.entropyBins = checkBins(options.entropyBins, DEFAULT_ENTROPY_BINS, "entropyBins");
    this.confidenceBins = checkBins(options.confidenceBins, DEFAULT_CONFIDENCE_BINS, "confidenceBins");
    this.calibrationBins = checkBins(options.calibrationBins, DEFAULT_CALIBRATION_BINS, "calibrationBins");
    const lnV = Math.log(vocab);
    this.#entropyScale = lnV > 0 ? this.entropyBins / lnV : 0; // V = 1: every entropy is 0, bin 0
    this.windowSinks = { scored: new Float64Array(vocab), context: new Float64Array(vocab) };
    this.#entropyHist = new Float64Array(this.entropyBins);
    this.#confidenceHist = new Float64Array(this.confidenceBins);
    this.#calCount = new Float64Array(this.calibrationBins);
    this.#calCorrect = new Float64Array(this.calibrationBins);
    this.#calConfidence = Array.from({ length: this.calibrationBins }, () => new ExactSum());
    this.#distribution = new ExactVector(vocab);
    this.#windowDistribution = new ExactVector(vocab);
    this.#dEntropyHist = new Float64Array(this.entropyBins);
    this.#dConfidenceHist = new Float64Array(this.confidenceBins);
    this.#dCalCount = new Float64Array(this.calibrationBins);
    this.#dCalCorrect = new Float64Array(this.calibrationBins);
    this.#dCalConfidence = new Float64Array(this.calibrationBins);
    this.#dDistribution = new Float64Array(vocab);
    this.#dWindowDistribution = new Float64Array(vocab);
  }

  static #emptyDoc() {
    return {
      tokens: 0,
      correct: 0,
      logprob: 0,
      entropy: 0,
      confidence: 0,
      kl: 0,
      js: 0,
      changed: 0,
      allRows: 0,
      entropyAll: 0,
      confidenceAll: 0,
      windows: 0,
    };
  }

  /** Documents committed so far (with at least one scored position). */
  get documents(): number {
    return this.#counts.documents;
  }

  /** Scored positions committed so far. */
  get tokens(): number {
    return this.#counts.tokens;
  }

  /** Whether a document is open (between {@link beginDocument} and {@link endDocument}). */
  get documentOpen(): boolean {
    return this.#open;
  }

  /** Opens document `docIndex` (unique within the accumulator and anything merged into it) of `utf8Bytes` bytes. */
  beginDocument(docIndex: number, utf8Bytes: number): void {
    if (this.#open) throw new Error(`document ${this.#docIndex} is still open; end or discard it first`);
    if (!Number.isSafeInteger(docIndex) || docIndex < 0) {
      throw new RangeError(`docIndex must be an integer ≥ 0, got ${docIndex}`);
    }
    if (!Number.isSafeInteger(utf8Bytes) || utf8Bytes < 0) {
      throw new RangeError(`utf8Bytes must be an integer ≥ 0, got ${utf8Bytes}`);
    }
    if (this.#docIndices.has(docIndex)) throw new Error(`document ${docIndex} was already accumulated`);
    this.#open = true;
    this.#docIndex = docIndex;
    this.#docBytes = utf8Bytes;
  }

  #checkRows(stats: { capacity: number }, offset: number, count: number, what: string): void {
    if (!this.#open) throw new Error(`${what}: no document is open`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(count) || offset < 0 || count < 0) {
      throw new RangeError(`${what}: offset and count must be integers ≥ 0, got ${offset}, ${count}`);
    }
    if (offset + count > stats.capacity) {
      throw new RangeError(
        `${what}: rows ${offset}..${offset + count - 1} exceed capacity ${stats.capacity}`,
      );
    }
  }

  /**
   * Adds scored rows `stats[offset … offset + count)` of the current window (positions that predict a document
   * token). Their probability vectors must have gone into `windowSinks.scored`. `divergence` (same offsets) is
   * required exactly when the accumulator was built with `withBase`.
   */
  addScoredRows(stats: PositionStats, offset: number, count: number, divergence?: DivergenceStats): void {
    this.#checkRows(stats, offset, count, "addScoredRows");
    if (this.withBase !== (divergence !== undefined)) {
      throw new Error(
        this.withBase
          ? "addScoredRows: this accumulator compares with a base model; pass the rows' divergences"
          : "addScoredRows: divergences given, but the accumulator was built without withBase",
      );
    }
    if (divergence !== undefined && offset + count > divergence.capacity) {
      throw new RangeError(
        `addScoredRows: divergence holds ${divergence.capacity} rows, need ${offset + count}`,
      );
    }
    const end = offset + count;
    const { logprobNats, entropyNats, confidence, correct } = stats;
    for (let r = offset; r < end; r++) {
      if (Number.isNaN(logprobNats[r])) {
        throw new Error(`addScoredRows: row ${r} has no target log-prob (scored rows need targets)`);
      }
    }
    const d = this.#d;
    const eScale = this.#entropyScale;
    const eBins = this.entropyBins;
    const cBins = this.confidenceBins;
    const kBins = this.calibrationBins;
    for (let r = offset; r < end; r++) {
      const h = entropyNats[r];
      const c = confidence[r];
      const k = correct[r];
      d.logprob += logprobNats[r];
      d.entropy += h;
      d.confidence += c;
      d.correct += k;
      d.entropyAll += h;
      d.confidenceAll += c;
      this.#dEntropyHist[binOf(h, eScale, eBins)]++;
      this.#dConfidenceHist[binOf(c, cBins, cBins)]++;
      const b = binOf(c, kBins, kBins);
      this.#dCalCount[b]++;
      this.#dCalCorrect[b] += k;
      this.#dCalConfidence[b] += c;
    }
    if (divergence !== undefined) {
      for (let r = offset; r < end; r++) {
        d.kl += divergence.klNats[r];
        d.js += divergence.jsNats[r];
        d.changed += divergence.argmaxChanged[r];
      }
    }
    d.tokens += count;
    d.allRows += count;
    this.#wScored += count;
  }

  /**
   * Adds context-only rows `stats[offset … offset + count)` of the current window (re-read tokens that are not
   * scored). They only feed the paper-compatible all-row outputs; their probability vectors must have gone into
   * `windowSinks.context`.
   */
  addContextRows(stats: PositionStats, offset: number, count: number): void {
    this.#checkRows(stats, offset, count, "addContextRows");
    const d = this.#d;
    for (let r = offset; r < offset + count; r++) {
      d.entropyAll += stats.entropyNats[r];
      d.confidenceAll += stats.confidence[r];
    }
    d.allRows += count;
    this.#wContext += count;
  }

  /** Closes the current window: checks and consumes {@link windowSinks}. */
  endWindow(): void {
    if (!this.#open) throw new Error("endWindow: no document is open");
    const rows = this.#wScored + this.#wContext;
    if (rows === 0) throw new Error("endWindow: the window has no rows");
    const { scored, context } = this.windowSinks;
    let sumScored = 0;
    let sumContext = 0;
    for (let i = 0; i < this.vocab; i++) {
      sumScored += scored[i];
      sumContext += context[i];
    }
    // Each row's probabilities sum to 1, so the sinks' totals are the row counts: catches a forgotten sink.
    for (
      const [what, sum, n] of [["scored", sumScored, this.#wScored], [
        "context",
        sumContext,
        this.#wContext,
      ]] as const
    ) {
      if (!(Math.abs(sum - n) <= SINK_TOLERANCE * Math.max(n, 1))) {
        throw new Error(
          `endWindow: windowSinks.${what} sums to ${sum} for ${n} rows; pass it as distributionSink to scoreRows`,
        );
      }
    }
    const dist = this.#dDistribution;
    const wdist = this.#dWindowDistribution;
    for (let i = 0; i < this.vocab; i++) {
      const s = scored[i];
      dist[i] += s;
      wdist[i] += (s + context[i]) / rows;
    }
    scored.fill(0);
    context.fill(0);
    this.#d.windows++;
    this.#wScored = 0;
    this.#wContext = 0;
  }

  /**
   * Commits the open document. Returns false (and counts it in `emptyDocuments`) when it had no scored
   * position. Throws when a window is still open.
   */
  endDocument(): boolean {
    if (!this.#open) throw new Error("endDocument: no document is open");
    if (this.#wScored + this.#wContext > 0) {
      throw new Error("endDocument: call endWindow for the last window first");
    }
    const d = this.#d;
    if (d.tokens === 0) {
      this.#counts.emptyDocuments++;
      this.#resetDocument();
      return false;
    }
    const c = this.#counts;
    c.documents++;
    c.tokens += d.tokens;
    c.bytes += this.#docBytes;
    c.correct += d.correct;
    c.argmaxChanged += d.changed;
    c.allRows += d.allRows;
    c.windows += d.windows;
    const s = this.#sums;
    s.logprobNats.add(d.logprob);
    s.entropyNats.add(d.entropy);
    s.confidence.add(d.confidence);
    s.docMeanConfidence.add(d.confidence / d.tokens);
    s.klNats.add(d.kl);
    s.jsNats.add(d.js);
    s.entropyAllRowsNats.add(d.entropyAll);
    s.confidenceAllRows.add(d.confidenceAll);
    s.docMeanConfidenceAllRows.add(d.confidenceAll / d.allRows);
    for (let b = 0; b < this.entropyBins; b++) this.#entropyHist[b] += this.#dEntropyHist[b];
    for (let b = 0; b < this.confidenceBins; b++) this.#confidenceHist[b] += this.#dConfidenceHist[b];
    for (let b = 0; b < this.calibrationBins; b++) {
      this.#calCount[b] += this.#dCalCount[b];
      this.#calCorrect[b] += this.#dCalCorrect[b];
      this.#calConfidence[b].add(this.#dCalConfidence[b]);
    }
    if (this.#firstDoc === null || this.#docIndex < this.#firstDoc.docIndex) {
      this.#firstDoc = { docIndex: this.#docIndex, rows: d.allRows, sumEntropyNats: d.entropyAll };
    }
    this.#docs.push({
      docIndex: this.#docIndex,
      tokens: d.tokens,
      bytes: this.#docBytes,
      sumLogprobNats: d.logprob,
      sumEntropyNats: d.entropy,
      sumConfidence: d.confidence,
      correct: d.correct,
    });
    this.#docIndices.add(this.#docIndex);
    this.#distribution.addVector(this.#dDistribution);
    this.#windowDistribution.addVector(this.#dWindowDistribution);
    this.#resetDocument();
    return true;
  }

  /** Drops the open document (and its open window) without counting anything. */
  discardDocument(): void {
    this.windowSinks.scored.fill(0);
    this.windowSinks.context.fill(0);
    this.#resetDocument();
  }

  #resetDocument(): void {
    this.#open = false;
    this.#docIndex = -1;
    this.#docBytes = 0;
    this.#d = CorpusAccumulator.#emptyDoc();
    this.#wScored = 0;
    this.#wContext = 0;
    for (
      const a of [
        this.#dEntropyHist,
        this.#dConfidenceHist,
        this.#dCalCount,
        this.#dCalCorrect,
        this.#dCalConfidence,
        this.#dDistribution,
        this.#dWindowDistribution,
      ]
    ) a.fill(0);
  }

  /**
   * Adds the committed documents of `other` (same vocab, base mode and bins; disjoint document indices) exactly.
   * The result does not depend on how a corpus was split or in which order shards are merged.
   */
  merge(other: CorpusAccumulator): void {
    if (other === this) throw new Error("merge: cannot merge an accumulator into itself");
    for (const k of ["vocab", "withBase", "entropyBins", "confidenceBins", "calibrationBins"] as const) {
      if (this[k] !== other[k]) throw new Error(`merge: ${k} differs (${this[k]} vs ${other[k]})`);
    }
    for (const i of other.#docIndices) {
      if (this.#docIndices.has(i) || (this.#open && i === this.#docIndex)) {
        throw new Error(`merge: document ${i} is in both accumulators (overlapping shards)`);
      }
    }
    for (const c of COUNT_NAMES) this.#counts[c] += other.#counts[c];
    for (const s of SUM_NAMES) this.#sums[s].addSum(other.#sums[s]);
    for (let b = 0; b < this.entropyBins; b++) this.#entropyHist[b] += other.#entropyHist[b];
    for (let b = 0; b < this.confidenceBins; b++) this.#confidenceHist[b] += other.#confidenceHist[b];
    for (let b = 0; b < this.calibrationBins; b++) {
      this.#calCount[b] += other.#calCount[b];
      this.#calCorrect[b] += other.#calCorrect[b];
      this.#calConfidence[b].addSum(other.#calConfidence[b]);
    }
    const f = other.#firstDoc;
    if (f !== null && (this.#firstDoc === null || f.docIndex < this.#firstDoc.docIndex)) {
      this.#firstDoc = { ...f };
    }
    for (let i = 0; i < other.#docs.count; i++) this.#docs.push(other.#docs.get(i));
    for (const i of other.#docIndices) this.#docIndices.add(i);
    this.#distribution.addExact(other.#distribution);
    this.#windowDistribution.addExact(other.#windowDistribution);
  }

  /** The committed state, finalised (an open document is not included). */
  summary(): AccumulatorSummary {
    const c = this.#counts;
    const s = this.#sums;
    const order = Array.from({ length: this.#docs.count }, (_, i) => i);
    const idx = this.#docs.cols.docIndex;
    order.sort((a, b) => idx[a] - idx[b]);
    const documentRows: DocumentRow[] = order.map((i) => {
      const r = this.#docs.get(i);
      return {
        docIndex: r.docIndex,
        tokens: r.tokens,
        bytes: r.bytes,
        sumLogprobNats: r.sumLogprobNats,
        meanEntropyNats: r.sumEntropyNats / r.tokens,
        meanConfidence: r.sumConfidence / r.tokens,
        accuracy: r.correct / r.tokens,
        perplexity: Math.exp(-r.sumLogprobNats / r.tokens),
      };
    });
    const windowDistribution = this.#windowDistribution.values();
    for (let i = 0; i < windowDistribution.length; i++) windowDistribution[i] /= c.windows;
    const f = this.#firstDoc;
    return {
      vocab: this.vocab,
      withBase: this.withBase,
      documents: c.documents,
      emptyDocuments: c.emptyDocuments,
      tokens: c.tokens,
      bytes: c.bytes,
      correct: c.correct,
      sumLogprobNats: s.logprobNats.value(),
      sumEntropyNats: s.entropyNats.value(),
      sumConfidence: s.confidence.value(),
      sumDocMeanConfidence: s.docMeanConfidence.value(),
      sumKlNats: s.klNats.value(),
      sumJsNats: s.jsNats.value(),
      argmaxChanged: c.argmaxChanged,
      distributionSum: this.#distribution.values(),
      entropyHistogram: { upperNats: Math.log(this.vocab), counts: this.#entropyHist.slice() },
      confidenceHistogram: { counts: this.#confidenceHist.slice() },
      calibration: {
        count: this.#calCount.slice(),
        sumConfidence: Float64Array.from(this.#calConfidence, (x) => x.value()),
        correct: this.#calCorrect.slice(),
      },
      documentRows,
      compat: {
        allRows: c.allRows,
        windows: c.windows,
        sumEntropyAllRowsNats: s.entropyAllRowsNats.value(),
        sumConfidenceAllRows: s.confidenceAllRows.value(),
        firstDocIndex: f === null ? null : f.docIndex,
        paperFirstDocEntropy: f === null ? NaN : f.sumEntropyNats / f.rows,
        paperDocMeanConfidenceAllRows: s.docMeanConfidenceAllRows.value() / c.documents,
        paperWindowWeightedDistribution: windowDistribution,
      },
    };
  }

  /**
   * Bit-exact, versioned serialisation of the committed state (an open document is not included, so a
   * checkpoint can be written at any time and resumes from the last completed document).
   */
  toJSON(): AccumulatorJson {
    const n = this.#docs.count;
    return {
      format: ACCUMULATOR_FORMAT,
      vocab: this.vocab,
      withBase: this.withBase,
      bins: { entropy: this.entropyBins, confidence: this.confidenceBins, calibration: this.calibrationBins },
      counts: { ...this.#counts },
      sums: Object.fromEntries(SUM_NAMES.map((k) => [k, this.#sums[k].toJSON()])) as Record<
        SumName,
        ExactSumJson
      >,
      entropyHistogram: [...this.#entropyHist],
      confidenceHistogram: [...this.#confidenceHist],
      calibration: {
        count: [...this.#calCount],
        correct: [...this.#calCorrect],
        sumConfidence: this.#calConfidence.map((x) => x.toJSON()),
      },
      firstDocument: this.#firstDoc === null ? null : {
        docIndex: this.#firstDoc.docIndex,
        rows: this.#firstDoc.rows,
        sumEntropyNats: f64ToHex(this.#firstDoc.sumEntropyNats),
      },
      documents: Object.fromEntries(
        DOC_COLUMNS.map((k) => [k, f64ArrayToBase64(this.#docs.cols[k].subarray(0, n))]),
      ) as Record<DocColumn, string>,
      distribution: this.#distribution.toJSON(),
      windowDistribution: this.#windowDistribution.toJSON(),
    };
  }

  /**
   * Reads {@link toJSON}'s output (the parsed object), validating types, sizes and internal consistency; throws
   * an `AccumulatorFormatError` whose message names the offending field.
   */
  static fromJSON(json: unknown): CorpusAccumulator {
    const header = readAccumulatorHeader(json);
    const acc = new CorpusAccumulator(header.shape);
    const state = readAccumulatorState(header);
    acc.#counts = state.counts;
    acc.#sums = state.sums;
    acc.#entropyHist.set(state.entropyHistogram);
    acc.#confidenceHist.set(state.confidenceHistogram);
    acc.#calCount.set(state.calibration.count);
    acc.#calCorrect.set(state.calibration.correct);
    acc.#calConfidence = state.calibration.sumConfidence;
    acc.#docs = state.documents;
    acc.#docIndices = state.docIndices;
    acc.#firstDoc = state.firstDocument;
    acc.#distribution = state.distribution;
    acc.#windowDistribution = state.windowDistribution;
    return acc;
  }
}
