/**
 * Evaluates a list of metrics on one cell (one prompt at one temperature): truncation, the shared sample set,
 * seeded random states, the cosine matrix, and NaN reasons. Pure and synchronous, so the same code runs on the
 * main thread and in workers.
 * @module
 */
import type { NanReason } from "../io/diversity_format.ts";
import { MetricUndefinedError } from "../metrics/errors.ts";
import { cosineMatrix } from "../metrics/cosine.ts";
import { cellSeed } from "../metrics/order_q.ts";
import type { MetricContext } from "../metrics/definition.ts";
import { metricByKey } from "../metrics/registry.ts";
import { SampleSet } from "../metrics/sample_set.ts";
import { truncateWords } from "../metrics/text.ts";
import { RandomState } from "../numeric/mt19937.ts";
import type { GzipLengthBackend } from "../metrics/gzip_length.ts";

/** A word limit: a positive integer, or `null` for no truncation. */
export type WordLimit = number | null;

/** Truncates every sample to `words` words (Python `" ".join(s.split()[:words])`); `null` keeps the text. */
export function truncateSamples(samples: readonly string[], words: WordLimit): string[] {
  return words === null ? [...samples] : samples.map((s) => truncateWords(s, words));
}

/** Where a cell sits, for seeds and error messages. */
export interface CellPosition {
  temperatureIndex: number;
  promptIndex: number;
}

/** One cell's outcome: a value per key (NaN where undefined) and the reason for each NaN. */
export interface CellOutcome {
  values: number[];
  reasons: (NanReason | null)[];
}

/** Raised for an unexpected failure inside a metric; names the metric and cell. */
export class CellError extends Error {
  constructor(key: string, pos: CellPosition, cause: unknown) {
    super(
      `metric ${key} failed on cell [t=${pos.temperatureIndex}, p=${pos.promptIndex}]: ${
        (cause as Error)?.message ?? cause
      }`,
      { cause },
    );
    this.name = "CellError";
  }
}

/** Options shared by all cells of a run. */
export interface CellOptions {
  /** Run seed from which each stochastic (metric, cell) draws its own seed. */
  seed: number;
  /** gzip backend for compression metrics (default: the process-wide one). */
  gzip?: GzipLengthBackend;
}

/**
 * Computes `keys` on already-truncated `samples`. `embeddings` (one vector per sample) is needed only when a key
 * uses them. Undefined values become NaN with a reason; any other exception is re-thrown as a {@link CellError}.
 */
export function evaluateCell(
  samples: readonly string[],
  keys: readonly string[],
  pos: CellPosition,
  options: CellOptions,
  embeddings?: readonly Float32Array[],
): CellOutcome {
  const set = new SampleSet(samples, { gzip: options.gzip });
  let cos: Float64Array | undefined;
  const values: number[] = [];
  const reasons: (NanReason | null)[] = [];
  for (const key of keys) {
    const ctx: MetricContext = {
      rng: () => new RandomState(cellSeed(options.seed, key, pos.temperatureIndex, pos.promptIndex)),
      cosineMatrix: () => {
        if (embeddings === undefined) throw new Error(`metric ${key} needs embeddings but none were given`);
        cos ??= cosineMatrix(embeddings);
        return cos;
      },
    };
    try {
      const v = metricByKey(key).compute(set, ctx);
      if (!Number.isFinite(v)) throw new Error(`non-finite value ${v} without a reason`);
      values.push(v);
      reasons.push(null);
    } catch (e) {
      if (!(e instanceof MetricUndefinedError)) throw new CellError(key, pos, e);
      values.push(NaN);
      reasons.push(e.reason);
    }
  }
  return { values, reasons };
}
