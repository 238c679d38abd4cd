/**
 * What one output-diversity metric is: its key, how to read it, what it needs (embeddings, a random state) and
 * the function computing it. The definitions in ./defs/ implement it; ./registry.ts lists them.
 * @module
 */
import type { RandomState } from "../numeric/mt19937.ts";
import type { SampleSet } from "./sample_set.ts";

/** What a metric may use besides the samples. */
export interface MetricContext {
  /** A fresh random state for this (metric, cell); only stochastic metrics call it. */
  rng(): RandomState;
  /** Cosine matrix of the samples' embeddings (n×n row-major); only embedding metrics call it. */
  cosineMatrix(): Float64Array;
}

/** How a metric reads: `"similarity"`: higher = less diverse; `"diversity"`: higher = more diverse. */
export type MetricDirection = "similarity" | "diversity";

/** One metric key. */
export interface MetricDefinition {
  /** The result key, e.g. `"average_pairwise_ncd"` (the paper's names for the paper's metrics). */
  readonly key: string;
  /** Axis label for figures. */
  readonly label: string;
  /** `"similarity"`: higher = less diverse; `"diversity"`: higher = more diverse. */
  readonly direction: MetricDirection;
  /** Whether the paper computed this key. */
  readonly inPaper: boolean;
  /** Whether it needs sentence embeddings. */
  readonly needsEmbeddings: boolean;
  /** Whether it draws random numbers (seeded). */
  readonly stochastic: boolean;
  /** One line on what it measures. */
  readonly description: string;
  /** Computes the value; throws `MetricUndefinedError` where the value is undefined (recorded as NaN + reason). */
  compute(set: SampleSet, ctx: MetricContext): number;
}
