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
import type { CorpusStats } from "../scoring/corpus_stats.ts";
import { NdArray } from "./pickle.ts";
import { writeNpy } from "./npy.ts";
import { writeJsonAtomic } from "./atomic.ts";

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
