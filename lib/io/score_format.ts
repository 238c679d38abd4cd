/**
 * The corpus-scoring results file, `"format": "score/1"`: the corpus statistics at the top level under fixed names
 * (`documents`, `tokens`, `bytes`, `perplexity`, `bits_per_byte`, `mean_entropy`, `mean_confidence`,
 * `doc_mean_confidence`, `accuracy`, `effective_vocab`, `vocab_mass_fraction`, and with a base model
 * `kl_from_base`, `js_with_base`, `argmax_changed`), then histograms, calibration, per-document rows and the
 * paper-compatible outputs, with inputs and provenance. The full mean next-token distribution goes beside it as a
 * float64 `.npy` (readable by numpy and by `lib/io/npy.ts`), for the CDF figures.
 * @module
 */
import { basename } from "node:path";
import type { CorpusStats } from "./score_stats.ts";
import { NdArray } from "./py_value.ts";
import { writeNpy } from "./npy.ts";
import { writeJsonAtomic } from "./atomic.ts";
import {
  arr,
  bool,
  int,
  isoTime,
  loose,
  nonEmpty,
  num,
  numbers,
  parseJsonText,
  str,
  strict,
  tag,
  v,
  validateWith,
} from "./schema.ts";

/** The format tag of score files. */
export const SCORE_FORMAT = "score/1";

/** Where a model came from, as recorded. */
export interface ModelRecord {
  source: string;
  [field: string]: unknown;
}

/** A `score/1` file. */
export interface ScoreFile extends CorpusStats {
  format: typeof SCORE_FORMAT;
  created: string;
  /** False when the run stopped before the end of the corpus (the statistics cover what was scored). */
  complete: boolean;
  model: ModelRecord;
  base: ModelRecord | null;
  data: { path: string; bytes: number; sha256: string; decoder?: string };
  settings: {
    max_seq_len: number;
    context_len: number;
    prefix_token: number;
    max_docs: number | null;
    doc_indices: string | null;
  };
  /** Corpus lines that were not documents, with the first reasons. */
  skipped: { lines: number; reasons: string[] };
  provenance: {
    toolkit_version: string;
    runtime: string;
    elapsed_seconds: number;
    resumed_from_documents: number;
  };
  /** File name (beside this one) of the mean next-token distribution, float64 `.npy` of length `vocab`. */
  mean_distribution_file: string;
}

/** `<out>.meandist.npy` beside `out` (a `.json` suffix is replaced). */
export function meanDistributionPath(outPath: string): string {
  return outPath.replace(/\.json$/i, "") + ".meandist.npy";
}

/** Writes the score file and the mean distribution beside it, both atomically. */
export async function writeScoreFile(
  outPath: string,
  file: Omit<ScoreFile, "format" | "mean_distribution_file">,
  meanDistribution: Float64Array,
): Promise<ScoreFile> {
  const distPath = meanDistributionPath(outPath);
  await writeNpy(distPath, new NdArray("<f8", [meanDistribution.length], meanDistribution));
  const full: ScoreFile = { format: SCORE_FORMAT, ...file, mean_distribution_file: basename(distPath) };
  await writeJsonAtomic(outPath, full);
  return full;
}

// ---------------------------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------------------------

/** A statistic: a finite number, or null (written for NaN, e.g. an empty corpus) read back as NaN. */
const stat = v.pipe(
  v.nullable(num()),
  v.transform((x) => x ?? NaN),
);
const count = int({ min: 0 });
const massFractions = strict({ "0.7": stat, "0.9": stat });
const cdfPoints = strict({ ranks: numbers({ integer: true, min: 1 }), cumulative: arr(stat) });
const histogram = strict({ lower: num(), upper: num(), counts: numbers({ integer: true, min: 0 }) });
const modelRecord = loose({ source: str() });

/** The `score/1` schema (statistics that were NaN are written as null and read back as NaN). */
const SCORE_SCHEMA: v.GenericSchema<unknown, ScoreFile> = strict({
  format: tag(SCORE_FORMAT),
  created: isoTime(),
  complete: bool(),
  model: modelRecord,
  base: v.nullable(modelRecord),
  data: strict({ path: str(), bytes: count, sha256: str(), decoder: v.optional(str()) }),
  settings: loose({
    max_seq_len: int({ min: 1 }),
    context_len: count,
    prefix_token: count,
    max_docs: v.nullable(count),
    doc_indices: v.nullable(str()),
  }),
  skipped: strict({ lines: count, reasons: arr(str()) }),
  provenance: loose({
    toolkit_version: str(),
    runtime: str(),
    elapsed_seconds: num({ min: 0 }),
    resumed_from_documents: count,
  }),
  mean_distribution_file: nonEmpty(),
  documents: count,
  tokens: count,
  bytes: count,
  perplexity: stat,
  bits_per_byte: stat,
  mean_entropy: stat,
  mean_confidence: stat,
  doc_mean_confidence: stat,
  accuracy: stat,
  effective_vocab: stat,
  vocab_mass_fraction: massFractions,
  kl_from_base: v.optional(stat),
  js_with_base: v.optional(stat),
  argmax_changed: v.optional(stat),
  vocab: count,
  empty_documents: count,
  cdf: cdfPoints,
  entropy_histogram: histogram,
  confidence_histogram: histogram,
  calibration: arr(strict({ lower: num(), upper: num(), count, mean_confidence: stat, accuracy: stat })),
  ece: stat,
  per_document: arr(strict({
    doc_index: count,
    tokens: count,
    bytes: count,
    perplexity: stat,
    mean_entropy: stat,
    mean_confidence: stat,
    accuracy: stat,
  })),
  paper_compat: strict({
    first_doc_entropy: stat,
    first_doc_index: v.nullable(count),
    doc_mean_confidence_all_rows: stat,
    mean_entropy_all_rows: stat,
    mean_confidence_all_rows: stat,
    rows: count,
    windows: count,
    vocab_mass_fraction: massFractions,
    effective_vocab: stat,
    cdf: cdfPoints,
  }),
});

/** Parses and validates a `score/1` file's text; errors name `path` and the JSON path of each problem. */
export function parseScoreFile(text: string, path = "<score file>"): ScoreFile {
  return validateWith(SCORE_SCHEMA, parseJsonText(text, path), path, { formats: [SCORE_FORMAT] });
}

/** Reads and validates a `score/1` file. */
export async function readScoreFile(path: string): Promise<ScoreFile> {
  return parseScoreFile(await Deno.readTextFile(path), path);
}
