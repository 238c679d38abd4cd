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
 * window-weighted mean distribution and the document-weighted confidence over all rows (SEED.md §3.2, §9.1–3).
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
import { Buffer } from "node:buffer";
import { fsum, growPartials } from "../numeric/fsum.ts";
import type { DivergenceStats } from "./divergence.ts";
import type { PositionStats } from "./position_stats.ts";

/** The format tag of serialised accumulators. */
export const ACCUMULATOR_FORMAT = "accumulator/1";

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

/** Thrown by {@link CorpusAccumulator.fromJSON} for a malformed or inconsistent serialisation. */
export class AccumulatorFormatError extends Error {
  constructor(path: string, detail: string) {
    super(`${ACCUMULATOR_FORMAT}: ${path}: ${detail}`);
    this.name = "AccumulatorFormatError";
  }
}

// ---- float64 encodings ----------------------------------------------------------------------------------------

const f64View = new DataView(new ArrayBuffer(8));

/** The 16 hex digits of a float64's bits (big-endian), which round-trip every value incl. −0, NaN and ±∞. */
export function f64ToHex(x: number): string {
  f64View.setFloat64(0, x);
  return f64View.getUint32(0).toString(16).padStart(8, "0") +
    f64View.getUint32(4).toString(16).padStart(8, "0");
}

/** Inverse of {@link f64ToHex}; undefined when `s` is not 16 hex digits. */
export function hexToF64(s: unknown): number | undefined {
  if (typeof s !== "string" || !/^[0-9a-f]{16}$/.test(s)) return undefined;
  f64View.setUint32(0, parseInt(s.slice(0, 8), 16));
  f64View.setUint32(4, parseInt(s.slice(8), 16));
  return f64View.getFloat64(0);
}

/** Base64 of a Float64Array's values as little-endian bytes. */
export function f64ArrayToBase64(values: Float64Array): string {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
  return Buffer.from(bytes).toString("base64");
}

/** Inverse of {@link f64ArrayToBase64}; undefined when `s` is not canonical base64 of a multiple of 8 bytes. */
export function base64ToF64Array(s: unknown): Float64Array | undefined {
  // Buffer's decoder skips invalid characters, so the alphabet and padding are checked first.
  if (typeof s !== "string" || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const bytes = Buffer.from(s, "base64");
  if (bytes.length % 8 !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

// ---- exact sums ---------------------------------------------------------------------------------------------------

/** Serialised {@link ExactSum}: hex float64 partials and the sum of non-finite addends. */
export interface ExactSumJson {
  partials: string[];
  special: string;
}

/** An exact running sum of float64 values (Shewchuk partials); {@link value} is the correctly rounded sum. */
export class ExactSum {
  #partials: number[] = [];
  #special = 0; // non-finite addends (±∞, NaN) summed apart, as math.fsum does; their sum is order independent

  /** Adds `x` exactly. */
  add(x: number): void {
    if (Number.isFinite(x)) growPartials(this.#partials, x);
    else this.#special += x;
  }

  /** Adds another exact sum exactly. */
  addSum(other: ExactSum): void {
    for (const p of other.#partials) growPartials(this.#partials, p);
    this.#special += other.#special;
  }

  /** The correctly rounded sum (or the non-finite result when a non-finite value was added). */
  value(): number {
    return this.#special !== 0 ? this.#special : fsum(this.#partials);
  }

  /** Bit-exact serialisation. */
  toJSON(): ExactSumJson {
    return { partials: this.#partials.map(f64ToHex), special: f64ToHex(this.#special) };
  }

  /** Reads {@link toJSON}'s output; throws an {@link AccumulatorFormatError} naming `path` when malformed. */
  static fromJSON(json: unknown, path: string): ExactSum {
    const o = readObject(json, path, ["partials", "special"]);
    if (!Array.isArray(o.partials)) throw new AccumulatorFormatError(`${path}.partials`, "expected an array");
    const sum = new ExactSum();
    // Kept as stored, so a round trip is bit-exact. Each grow step is an error-free transformation whatever the
    // list, and value() re-sums the list with fsum, so a list not in Shewchuk's canonical form still sums exactly:
    // only finiteness needs checking.
    sum.#partials = o.partials.map((h, i) => readFinitePartial(h, `${path}.partials[${i}]`));
    const special = readHex(o.special, `${path}.special`);
    if (Number.isFinite(special) && special !== 0) {
      throw new AccumulatorFormatError(`${path}.special`, "must be 0, ±Infinity or NaN");
    }
    sum.#special = special;
    return sum;
  }
}

/** Serialised {@link ExactVector}. */
export interface ExactVectorJson {
  /** Base64 of the little-endian float64 high parts. */
  hi: string;
  /** Base64 of the little-endian float64 low parts. */
  lo: string;
  /** Entries whose sum needed more than hi + lo: [index, hex partials]. */
  overflow: [number, string[]][];
}

/**
 * Per-entry exact sums of finite float64 vectors (here: the per-document summed next-token distributions).
 *
 * Why this scheme: a plain double-double (TwoSum into hi, errors added into lo) is exact only while the lo
 * additions are; it is not when one entry receives addends whose magnitudes span more than ~2^53 (rare tokens
 * with per-document partials from 1e-25 to 1e-5), and then merge orders could differ in the last bit. Here the
 * lo addition is itself a TwoSum and its (rare) rounding error goes to a per-entry list of Shewchuk partials, so
 * hi + lo + Σ overflow is always the exact sum, at the cost of two TwoSums per entry per document (≈ 0.15 ms
 * per vector of V = 50,304 entries); an entry's overflow list is bounded by the float64 exponent range
 * (non-overlapping partials: at most ~40), never by the number of documents, and is empty for typical entries.
 * A fixed-size superaccumulator (~67 words per entry) would be exact too, but ~30× larger in memory and in every
 * checkpoint.
 */
export class ExactVector {
  /** High parts. */
  readonly hi: Float64Array;
  /** Low parts. */
  readonly lo: Float64Array;
  /** Shewchuk partials of the entries that needed them. */
  readonly overflow: Map<number, number[]> = new Map();

  constructor(length: number) {
    this.hi = new Float64Array(length);
    this.lo = new Float64Array(length);
  }

  /** Adds `x` to entry `i` exactly. */
  addAt(i: number, x: number): void {
    const a = this.hi[i];
    const s = a + x;
    const bv = s - a;
    const e = (a - (s - bv)) + (x - bv); // TwoSum: a + x = s + e exactly
    this.hi[i] = s;
    if (e !== 0) {
      const l = this.lo[i];
      const t = l + e;
      const bl = t - l;
      const e2 = (l - (t - bl)) + (e - bl);
      this.lo[i] = t;
      if (e2 !== 0) this.#spill(i, e2);
    }
  }

  #spill(i: number, x: number): void {
    let list = this.overflow.get(i);
    if (list === undefined) this.overflow.set(i, list = []);
    growPartials(list, x);
    if (list.length === 0) this.overflow.delete(i);
  }

  /** Adds `values` (same length) entry by entry, exactly. */
  addVector(values: Float64Array): void {
    const hi = this.hi;
    const lo = this.lo;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      const a = hi[i];
      const s = a + x;
      const bv = s - a;
      const e = (a - (s - bv)) + (x - bv);
      hi[i] = s;
      if (e !== 0) {
        const l = lo[i];
        const t = l + e;
        const bl = t - l;
        const e2 = (l - (t - bl)) + (e - bl);
        lo[i] = t;
        if (e2 !== 0) this.#spill(i, e2);
      }
    }
  }

  /** Adds another exact vector exactly. */
  addExact(other: ExactVector): void {
    this.addVector(other.hi);
    this.addVector(other.lo);
    for (const [i, list] of other.overflow) for (const p of list) this.addAt(i, p);
  }

  /** The correctly rounded sums. */
  values(): Float64Array {
    const out = new Float64Array(this.hi.length);
    for (let i = 0; i < out.length; i++) out[i] = this.hi[i] + this.lo[i]; // exact sum hi + lo, rounded once
    for (const [i, list] of this.overflow) out[i] = fsum([this.hi[i], this.lo[i], ...list]);
    return out;
  }

  /** Bit-exact serialisation. */
  toJSON(): ExactVectorJson {
    const overflow: [number, string[]][] = [...this.overflow.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([i, list]) => [i, list.map(f64ToHex)]);
    return { hi: f64ArrayToBase64(this.hi), lo: f64ArrayToBase64(this.lo), overflow };
  }

  /** Reads {@link toJSON}'s output for vectors of `length` entries; throws naming `path` when malformed. */
  static fromJSON(json: unknown, path: string, length: number): ExactVector {
    const o = readObject(json, path, ["hi", "lo", "overflow"]);
    const v = new ExactVector(length);
    v.hi.set(readF64Array(o.hi, `${path}.hi`, length, true));
    v.lo.set(readF64Array(o.lo, `${path}.lo`, length, true));
    if (!Array.isArray(o.overflow)) throw new AccumulatorFormatError(`${path}.overflow`, "expected an array");
    for (let k = 0; k < o.overflow.length; k++) {
      const p = `${path}.overflow[${k}]`;
      const item = o.overflow[k];
      if (!Array.isArray(item) || item.length !== 2 || !Array.isArray(item[1])) {
        throw new AccumulatorFormatError(p, "expected [index, [hex partials]]");
      }
      const i = readCount(item[0], `${p}[0]`);
      if (i >= length) throw new AccumulatorFormatError(`${p}[0]`, `index ${i} ≥ vocab ${length}`);
      if (v.overflow.has(i)) throw new AccumulatorFormatError(`${p}[0]`, `index ${i} listed twice`);
      const list = item[1].map((h: unknown, j: number) => readFinitePartial(h, `${p}[1][${j}]`)); // as stored
      if (list.length > 0) v.overflow.set(i, list);
    }
    return v;
  }
}

// ---- per-document rows ------------------------------------------------------------------------------------------

/** One document's summary (scored positions only). */
export interface DocumentRow {
  /** Index of the document in the corpus stream. */
  docIndex: number;
  /** Scored positions (= the document's tokens). */
  tokens: number;
  /** UTF-8 bytes of the document's text. */
  bytes: number;
  /** Σ ln p(target) in nats. */
  sumLogprobNats: number;
  /** Mean entropy in nats. */
  meanEntropyNats: number;
  /** Mean max-probability. */
  meanConfidence: number;
  /** Share of positions whose argmax is the target. */
  accuracy: number;
  /** exp(−sumLogprobNats / tokens). */
  perplexity: number;
}

const DOC_COLUMNS = [
  "docIndex",
  "tokens",
  "bytes",
  "sumLogprobNats",
  "sumEntropyNats",
  "sumConfidence",
  "correct",
] as const;
type DocColumn = typeof DOC_COLUMNS[number];

/** Growable float64 columns, one entry per committed document. */
class DocumentColumns {
  count = 0;
  cols: Record<DocColumn, Float64Array>;
  constructor(capacity = 64) {
    this.cols = Object.fromEntries(DOC_COLUMNS.map((c) => [c, new Float64Array(capacity)])) as Record<
      DocColumn,
      Float64Array
    >;
  }
  push(values: Record<DocColumn, number>): void {
    if (this.count === this.cols.docIndex.length) {
      for (const c of DOC_COLUMNS) {
        const grown = new Float64Array(this.count * 2);
        grown.set(this.cols[c]);
        this.cols[c] = grown;
      }
    }
    for (const c of DOC_COLUMNS) this.cols[c][this.count] = values[c];
    this.count++;
  }
  get(i: number): Record<DocColumn, number> {
    return Object.fromEntries(DOC_COLUMNS.map((c) => [c, this.cols[c][i]])) as Record<DocColumn, number>;
  }
}

// ---- the accumulator ----------------------------------------------------------------------------------------------

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
  /** The paper's quirks, computed alongside (SEED.md §3.2, §3.5, §9.1–3). */
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

/** Serialised accumulator (see {@link CorpusAccumulator.toJSON}). */
export interface AccumulatorJson {
  format: typeof ACCUMULATOR_FORMAT;
  vocab: number;
  withBase: boolean;
  bins: { entropy: number; confidence: number; calibration: number };
  counts: Record<CountName, number>;
  sums: Record<SumName, ExactSumJson>;
  entropyHistogram: number[];
  confidenceHistogram: number[];
  calibration: { count: number[]; correct: number[]; sumConfidence: ExactSumJson[] };
  firstDocument: { docIndex: number; rows: number; sumEntropyNats: string } | null;
  documents: Record<DocColumn, string>;
  distribution: ExactVectorJson;
  windowDistribution: ExactVectorJson;
}

const COUNT_NAMES = [
  "documents",
  "emptyDocuments",
  "tokens",
  "bytes",
  "correct",
  "argmaxChanged",
  "allRows",
  "windows",
] as const;
type CountName = typeof COUNT_NAMES[number];

const SUM_NAMES = [
  "logprobNats",
  "entropyNats",
  "confidence",
  "docMeanConfidence",
  "klNats",
  "jsNats",
  "entropyAllRowsNats",
  "confidenceAllRows",
  "docMeanConfidenceAllRows",
] as const;
type SumName = typeof SUM_NAMES[number];

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
   * an {@link AccumulatorFormatError} whose message names the offending field.
   */
  static fromJSON(json: unknown): CorpusAccumulator {
    const o = readObject(json, "(root)", [
      "format",
      "vocab",
      "withBase",
      "bins",
      "counts",
      "sums",
      "entropyHistogram",
      "confidenceHistogram",
      "calibration",
      "firstDocument",
      "documents",
      "distribution",
      "windowDistribution",
    ]);
    if (o.format !== ACCUMULATOR_FORMAT) {
      throw new AccumulatorFormatError(
        "format",
        `expected "${ACCUMULATOR_FORMAT}", got ${JSON.stringify(o.format)}`,
      );
    }
    const vocab = readCount(o.vocab, "vocab");
    if (vocab < 1) throw new AccumulatorFormatError("vocab", "must be ≥ 1");
    if (typeof o.withBase !== "boolean") throw new AccumulatorFormatError("withBase", "expected a boolean");
    const bins = readObject(o.bins, "bins", ["entropy", "confidence", "calibration"]);
    const binCount = (k: "entropy" | "confidence" | "calibration") => {
      const v = readCount(bins[k], `bins.${k}`);
      if (v < 1) throw new AccumulatorFormatError(`bins.${k}`, "must be ≥ 1");
      return v;
    };
    const acc = new CorpusAccumulator({
      vocab,
      withBase: o.withBase,
      entropyBins: binCount("entropy"),
      confidenceBins: binCount("confidence"),
      calibrationBins: binCount("calibration"),
    });

    const counts = readObject(o.counts, "counts", COUNT_NAMES);
    for (const k of COUNT_NAMES) acc.#counts[k] = readCount(counts[k], `counts.${k}`);
    const sums = readObject(o.sums, "sums", SUM_NAMES);
    for (const k of SUM_NAMES) acc.#sums[k] = ExactSum.fromJSON(sums[k], `sums.${k}`);
    acc.#entropyHist.set(readCountArray(o.entropyHistogram, "entropyHistogram", acc.entropyBins));
    acc.#confidenceHist.set(readCountArray(o.confidenceHistogram, "confidenceHistogram", acc.confidenceBins));
    const cal = readObject(o.calibration, "calibration", ["count", "correct", "sumConfidence"]);
    acc.#calCount.set(readCountArray(cal.count, "calibration.count", acc.calibrationBins));
    acc.#calCorrect.set(readCountArray(cal.correct, "calibration.correct", acc.calibrationBins));
    if (!Array.isArray(cal.sumConfidence) || cal.sumConfidence.length !== acc.calibrationBins) {
      throw new AccumulatorFormatError("calibration.sumConfidence", `expected ${acc.calibrationBins} sums`);
    }
    acc.#calConfidence = cal.sumConfidence.map((x: unknown, i: number) =>
      ExactSum.fromJSON(x, `calibration.sumConfidence[${i}]`)
    );

    const c = acc.#counts;
    const docsJson = readObject(o.documents, "documents", DOC_COLUMNS);
    const cols = Object.fromEntries(
      DOC_COLUMNS.map((k) => [k, readF64Array(docsJson[k], `documents.${k}`, c.documents, false)]),
    ) as Record<DocColumn, Float64Array>;
    let tokens = 0, bytes = 0, correct = 0;
    for (let i = 0; i < c.documents; i++) {
      const at = `documents[${i}]`;
      const row = Object.fromEntries(DOC_COLUMNS.map((k) => [k, cols[k][i]])) as Record<DocColumn, number>;
      for (const k of ["docIndex", "tokens", "bytes", "correct"] as const) {
        if (!Number.isSafeInteger(row[k]) || row[k] < 0) {
          throw new AccumulatorFormatError(`${at}.${k}`, `expected an integer ≥ 0, got ${row[k]}`);
        }
      }
      if (row.tokens < 1) {
        throw new AccumulatorFormatError(`${at}.tokens`, "a counted document has ≥ 1 token");
      }
      if (row.correct > row.tokens) throw new AccumulatorFormatError(`${at}.correct`, "exceeds its tokens");
      if (acc.#docIndices.has(row.docIndex)) {
        throw new AccumulatorFormatError(`${at}.docIndex`, `document ${row.docIndex} listed twice`);
      }
      acc.#docIndices.add(row.docIndex);
      acc.#docs.push(row);
      tokens += row.tokens;
      bytes += row.bytes;
      correct += row.correct;
    }
    // Cross-checks: a hand-edited or truncated file fails here rather than giving wrong statistics.
    const expect = (path: string, got: number, want: number, what: string) => {
      if (got !== want) throw new AccumulatorFormatError(path, `${got} ≠ ${what} (${want})`);
    };
    expect("counts.tokens", c.tokens, tokens, "the documents' tokens");
    expect("counts.bytes", c.bytes, bytes, "the documents' bytes");
    expect("counts.correct", c.correct, correct, "the documents' correct counts");
    expect("entropyHistogram", sumOf(acc.#entropyHist), c.tokens, "counts.tokens");
    expect("confidenceHistogram", sumOf(acc.#confidenceHist), c.tokens, "counts.tokens");
    expect("calibration.count", sumOf(acc.#calCount), c.tokens, "counts.tokens");
    expect("calibration.correct", sumOf(acc.#calCorrect), c.correct, "counts.correct");
    if (c.argmaxChanged > c.tokens) {
      throw new AccumulatorFormatError("counts.argmaxChanged", "exceeds counts.tokens");
    }
    if (c.allRows < c.tokens) throw new AccumulatorFormatError("counts.allRows", "is below counts.tokens");
    if (c.windows < (c.documents > 0 ? c.documents : 0) || c.windows > c.allRows) {
      throw new AccumulatorFormatError(
        "counts.windows",
        `${c.windows} is inconsistent with documents and rows`,
      );
    }

    if (o.firstDocument === null) {
      if (c.documents > 0) {
        throw new AccumulatorFormatError("firstDocument", "is null but there are documents");
      }
    } else {
      const f = readObject(o.firstDocument, "firstDocument", ["docIndex", "rows", "sumEntropyNats"]);
      const docIndex = readCount(f.docIndex, "firstDocument.docIndex");
      const rows = readCount(f.rows, "firstDocument.rows");
      let min = Infinity;
      for (const i of acc.#docIndices) min = Math.min(min, i);
      if (docIndex !== min) {
        throw new AccumulatorFormatError(
          "firstDocument.docIndex",
          `${docIndex} is not the lowest document index`,
        );
      }
      if (rows < 1) throw new AccumulatorFormatError("firstDocument.rows", "must be ≥ 1");
      acc.#firstDoc = {
        docIndex,
        rows,
        sumEntropyNats: readHex(f.sumEntropyNats, "firstDocument.sumEntropyNats"),
      };
    }
    acc.#distribution = ExactVector.fromJSON(o.distribution, "distribution", vocab);
    acc.#windowDistribution = ExactVector.fromJSON(o.windowDistribution, "windowDistribution", vocab);
    return acc;
  }
}

// ---- JSON readers (throw AccumulatorFormatError naming the path) ----------------------------------------------------

function readObject<K extends string>(x: unknown, path: string, keys: readonly K[]): Record<K, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) {
    throw new AccumulatorFormatError(path, `expected an object, got ${x === null ? "null" : typeof x}`);
  }
  const o = x as Record<string, unknown>;
  const prefix = path === "(root)" ? "" : `${path}.`;
  for (const k of keys) if (!(k in o)) throw new AccumulatorFormatError(`${prefix}${k}`, "missing");
  for (const k of Object.keys(o)) {
    if (!(keys as readonly string[]).includes(k)) {
      throw new AccumulatorFormatError(`${prefix}${k}`, "unknown field");
    }
  }
  return o as Record<K, unknown>;
}

function readCount(x: unknown, path: string): number {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) {
    throw new AccumulatorFormatError(path, `expected an integer ≥ 0, got ${JSON.stringify(x)}`);
  }
  return x;
}

function readCountArray(x: unknown, path: string, length: number): number[] {
  if (!Array.isArray(x)) throw new AccumulatorFormatError(path, "expected an array");
  if (x.length !== length) {
    throw new AccumulatorFormatError(path, `expected ${length} entries, got ${x.length}`);
  }
  return x.map((v, i) => readCount(v, `${path}[${i}]`));
}

function readHex(x: unknown, path: string): number {
  const v = hexToF64(x);
  if (v === undefined) {
    throw new AccumulatorFormatError(
      path,
      `expected 16 lowercase hex digits (float64 bits), got ${JSON.stringify(x)}`,
    );
  }
  return v;
}

function readFinitePartial(x: unknown, path: string): number {
  const v = readHex(x, path);
  if (!Number.isFinite(v)) throw new AccumulatorFormatError(path, `partial is not finite (${v})`);
  return v;
}

function readF64Array(x: unknown, path: string, length: number, finite: boolean): Float64Array {
  const v = base64ToF64Array(x);
  if (v === undefined) {
    throw new AccumulatorFormatError(path, "expected base64 of little-endian float64 values");
  }
  if (v.length !== length) {
    throw new AccumulatorFormatError(
      path,
      `expected ${length} float64 values (${length * 8} bytes), got ${v.length}`,
    );
  }
  if (finite) {
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new AccumulatorFormatError(`${path}[${i}]`, `not finite (${v[i]})`);
    }
  }
  return v;
}

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
