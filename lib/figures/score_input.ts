/**
 * Reading `score/1` files (the output of `analyse score`) for the next-token figures: the JSON, and the full
 * mean next-token distribution in the `.meandist.npy` beside it, turned into the descending-sorted cumulative
 * distribution the CDF figure plots; adapters to the inputs of the CDF, histogram and reliability figures (for
 * the KL figure: `klRowFromScore` in kl.ts).
 * @module
 */
import { basename, dirname, join } from "node:path";
import { readNpy } from "../io/npy.ts";
import { parseScoreFile, type ScoreFile } from "../io/score_format.ts";
import { sortedCumulative } from "../scoring/corpus_stats.ts";
import type { CdfInput } from "./cdf.ts";
import type { HistogramInput } from "./histograms.ts";
import type { ReliabilityInput } from "./reliability.ts";

/** A score file with its model name and (when its side file exists) its sorted cumulative distribution. */
export interface ScoreFigureInput {
  /** Display name of the model (given, else the model record's name/source basename, else the file stem). */
  model: string;
  score: ScoreFile;
  /** Descending-sorted cumulative mean distribution (length V), or null when the `.npy` is missing. */
  sortedCumulative: Float64Array | null;
  path: string;
}

function modelName(score: ScoreFile, path: string): string {
  const m = score.model as Record<string, unknown>;
  for (const k of ["name", "preset", "id"]) if (typeof m?.[k] === "string") return m[k] as string;
  if (typeof m?.source === "string") return basename(m.source as string);
  return basename(path).replace(/\.json$/i, "");
}

/** Reads a `score/1` file and its mean distribution side file (if present). */
export async function readScoreFigureInput(path: string, model?: string): Promise<ScoreFigureInput> {
  const score = parseScoreFile(await Deno.readTextFile(path), path);
  let cumulative: Float64Array | null = null;
  const dist = join(dirname(path), score.mean_distribution_file ?? "");
  if (score.mean_distribution_file) {
    try {
      const arr = await readNpy(dist);
      cumulative = sortedCumulative(Float64Array.from(arr.data as ArrayLike<number>));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return { model: model ?? modelName(score, path), score, sortedCumulative: cumulative, path };
}

/**
 * CDF input of a score file: the full sorted cumulative distribution when its side file was read, else the
 * file's downsampled `cdf` points. `paperCompat` uses the paper's window-weighted distribution
 * (`paper_compat.cdf`, downsampled points only).
 */
export function toCdfInput(input: ScoreFigureInput, options: { paperCompat?: boolean } = {}): CdfInput {
  if (options.paperCompat) {
    return { model: input.model, points: input.score.paper_compat.cdf, vocab: input.score.vocab };
  }
  return input.sortedCumulative
    ? { model: input.model, sortedCumulative: input.sortedCumulative }
    : { model: input.model, points: input.score.cdf, vocab: input.score.vocab };
}

/** Entropy-histogram input of a score file. */
export function toEntropyHistogramInput(input: ScoreFigureInput): HistogramInput {
  return { model: input.model, histogram: input.score.entropy_histogram };
}

/** Confidence-histogram input of a score file. */
export function toConfidenceHistogramInput(input: ScoreFigureInput): HistogramInput {
  return { model: input.model, histogram: input.score.confidence_histogram };
}

/** Reliability input of a score file (its bins and stored ECE). */
export function toReliabilityInput(input: ScoreFigureInput): ReliabilityInput {
  return { model: input.model, calibration: input.score.calibration, ece: input.score.ece };
}
