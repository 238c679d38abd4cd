/**
 * Why a metric has no value for a set of samples. The original turned every exception into NaN with a bare
 * `except:`; here each undefined case is detected on purpose and named, and any other error stays an error.
 * The reasons themselves are defined with the results file that records them (lib/io/diversity_format.ts).
 * @module
 */
import type { NanReason } from "../io/diversity_format.ts";

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
