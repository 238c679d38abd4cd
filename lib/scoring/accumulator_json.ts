/**
 * The `accumulator/1` serialisation of a corpus accumulator: its JSON shape, and the reader that validates a parsed
 * serialisation (types, sizes and internal consistency) and decodes it into the accumulator's committed state. A
 * hand-edited or truncated file fails here, with an {@link AccumulatorFormatError} naming the field, rather than
 * giving wrong statistics.
 * @module
 */
import {
  ACCUMULATOR_FORMAT,
  AccumulatorFormatError,
  readCount,
  readCountArray,
  readF64Array,
  readHex,
  readObject,
} from "./accumulator_fields.ts";
import { DOC_COLUMNS, type DocColumn, DocumentColumns } from "./document_rows.ts";
import { ExactSum, type ExactSumJson, ExactVector, type ExactVectorJson } from "./exact_sum.ts";

/** The integer counts an accumulator keeps, in serialisation order. */
export const COUNT_NAMES = [
  "documents",
  "emptyDocuments",
  "tokens",
  "bytes",
  "correct",
  "argmaxChanged",
  "allRows",
  "windows",
] as const;
/** One of {@link COUNT_NAMES}. */
export type CountName = typeof COUNT_NAMES[number];

/** The exact float sums an accumulator keeps, in serialisation order. */
export const SUM_NAMES = [
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
/** One of {@link SUM_NAMES}. */
export type SumName = typeof SUM_NAMES[number];

/** Serialised accumulator (written by `CorpusAccumulator.toJSON`). */
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

const ROOT_KEYS = [
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
] as const;

/** What a serialisation declares the accumulator to be: the options it is built with. */
export interface AccumulatorShape {
  vocab: number;
  withBase: boolean;
  entropyBins: number;
  confidenceBins: number;
  calibrationBins: number;
}

/** A serialisation whose root, format and shape are checked; {@link readAccumulatorState} reads the rest. */
export interface AccumulatorHeader {
  /** The root object's fields, unchecked beyond the format and shape. */
  fields: Record<typeof ROOT_KEYS[number], unknown>;
  /** The declared shape. */
  shape: AccumulatorShape;
}

/** The committed state a serialisation holds, validated and decoded. */
export interface AccumulatorState {
  counts: Record<CountName, number>;
  sums: Record<SumName, ExactSum>;
  entropyHistogram: Float64Array;
  confidenceHistogram: Float64Array;
  calibration: { count: Float64Array; correct: Float64Array; sumConfidence: ExactSum[] };
  documents: DocumentColumns;
  docIndices: Set<number>;
  firstDocument: { docIndex: number; rows: number; sumEntropyNats: number } | null;
  distribution: ExactVector;
  windowDistribution: ExactVector;
}

/** Checks the root object (fields, format) and reads the declared shape. */
export function readAccumulatorHeader(json: unknown): AccumulatorHeader {
  const o = readObject(json, "(root)", ROOT_KEYS);
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
  return {
    fields: o,
    shape: {
      vocab,
      withBase: o.withBase,
      entropyBins: binCount("entropy"),
      confidenceBins: binCount("confidence"),
      calibrationBins: binCount("calibration"),
    },
  };
}

/** Reads and cross-checks everything after the header: the committed state of an accumulator of its shape. */
export function readAccumulatorState({ fields: o, shape }: AccumulatorHeader): AccumulatorState {
  const counts = readObject(o.counts, "counts", COUNT_NAMES);
  const c = Object.fromEntries(COUNT_NAMES.map((k) => [k, readCount(counts[k], `counts.${k}`)])) as Record<
    CountName,
    number
  >;
  const sumsJson = readObject(o.sums, "sums", SUM_NAMES);
  const sums = Object.fromEntries(
    SUM_NAMES.map((k) => [k, ExactSum.fromJSON(sumsJson[k], `sums.${k}`)]),
  ) as Record<
    SumName,
    ExactSum
  >;
  const entropyHistogram = Float64Array.from(
    readCountArray(o.entropyHistogram, "entropyHistogram", shape.entropyBins),
  );
  const confidenceHistogram = Float64Array.from(
    readCountArray(o.confidenceHistogram, "confidenceHistogram", shape.confidenceBins),
  );
  const cal = readObject(o.calibration, "calibration", ["count", "correct", "sumConfidence"]);
  const calCount = Float64Array.from(readCountArray(cal.count, "calibration.count", shape.calibrationBins));
  const calCorrect = Float64Array.from(
    readCountArray(cal.correct, "calibration.correct", shape.calibrationBins),
  );
  if (!Array.isArray(cal.sumConfidence) || cal.sumConfidence.length !== shape.calibrationBins) {
    throw new AccumulatorFormatError("calibration.sumConfidence", `expected ${shape.calibrationBins} sums`);
  }
  const calConfidence = cal.sumConfidence.map((x: unknown, i: number) =>
    ExactSum.fromJSON(x, `calibration.sumConfidence[${i}]`)
  );

  const docsJson = readObject(o.documents, "documents", DOC_COLUMNS);
  const cols = Object.fromEntries(
    DOC_COLUMNS.map((k) => [k, readF64Array(docsJson[k], `documents.${k}`, c.documents, false)]),
  ) as Record<DocColumn, Float64Array>;
  const documents = new DocumentColumns();
  const docIndices = new Set<number>();
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
    if (docIndices.has(row.docIndex)) {
      throw new AccumulatorFormatError(`${at}.docIndex`, `document ${row.docIndex} listed twice`);
    }
    docIndices.add(row.docIndex);
    documents.push(row);
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
  expect("entropyHistogram", sumOf(entropyHistogram), c.tokens, "counts.tokens");
  expect("confidenceHistogram", sumOf(confidenceHistogram), c.tokens, "counts.tokens");
  expect("calibration.count", sumOf(calCount), c.tokens, "counts.tokens");
  expect("calibration.correct", sumOf(calCorrect), c.correct, "counts.correct");
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

  let firstDocument: AccumulatorState["firstDocument"] = null;
  if (o.firstDocument === null) {
    if (c.documents > 0) {
      throw new AccumulatorFormatError("firstDocument", "is null but there are documents");
    }
  } else {
    const f = readObject(o.firstDocument, "firstDocument", ["docIndex", "rows", "sumEntropyNats"]);
    const docIndex = readCount(f.docIndex, "firstDocument.docIndex");
    const rows = readCount(f.rows, "firstDocument.rows");
    let min = Infinity;
    for (const i of docIndices) min = Math.min(min, i);
    if (docIndex !== min) {
      throw new AccumulatorFormatError(
        "firstDocument.docIndex",
        `${docIndex} is not the lowest document index`,
      );
    }
    if (rows < 1) throw new AccumulatorFormatError("firstDocument.rows", "must be ≥ 1");
    firstDocument = {
      docIndex,
      rows,
      sumEntropyNats: readHex(f.sumEntropyNats, "firstDocument.sumEntropyNats"),
    };
  }
  return {
    counts: c,
    sums,
    entropyHistogram,
    confidenceHistogram,
    calibration: { count: calCount, correct: calCorrect, sumConfidence: calConfidence },
    documents,
    docIndices,
    firstDocument,
    distribution: ExactVector.fromJSON(o.distribution, "distribution", shape.vocab),
    windowDistribution: ExactVector.fromJSON(o.windowDistribution, "windowDistribution", shape.vocab),
  };
}

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
