/**
 * Why a metric has no value for a set of samples. The original turned every exception into NaN with a bare
 * `except:`; here each undefined case is detected on purpose and named, and any other error stays an error.
 * @module
 */

/** Machine-readable reasons a metric value is NaN. */
export type NanReason =
  | "no_samples" // an empty set of samples
  | "fewer_than_2_samples" // pairwise means over no pairs (the original: ZeroDivisionError or np.mean([]))
  | "empty_sample" // a sample is "" after truncation: compression ratio of zero bytes (ZeroDivisionError)
  | "all_others_empty" // the other samples join to "": compression ratio of zero bytes
  | "zero_mean_similarity" // order-q: no sampled group had non-zero similarity, 0 ** (1/(1-q)) (ValueError)
  | "negative_mean_similarity" // order-q, q ≥ 3: a negative mean to a fractional power (ValueError)
  | "no_nonzero_similarity" // cosine mean: every lower-triangle cosine is exactly 0 (0/0)
  | "too_few_samples_for_order" // order-q: the original asserts len(samples) > q
  | "lone_surrogate" // a sample cannot be UTF-8 encoded, as Python's str.encode() refuses
  | "no_ngrams"; // distinct-n: no sample has n tokens

/** Thrown by a metric function where the original produced NaN; the runner records the reason. */
export class MetricUndefinedError extends Error {
  /** The reason code. */
  readonly reason: NanReason;
  constructor(reason: NanReason, detail: string) {
    super(detail);
    this.name = "MetricUndefinedError";
    this.reason = reason;
  }
}

/** Shorthand for throwing a {@link MetricUndefinedError}. */
export function undefinedMetric(reason: NanReason, detail: string): never {
  throw new MetricUndefinedError(reason, detail);
}
