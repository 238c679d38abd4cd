/**
 * `avg_compression_ratio_full` and `avg_compression_ratio_target`: how much worse a sample compresses once the
 * other samples are there. Ratios are gzip bytes / UTF-8 bytes (gzip's 18 framing bytes included, as in the
 * original). Higher means more diverse. The target variant is NaN whenever any sample is empty (zero bytes).
 * @module
 */
import { pythonSum } from "../numeric/numpy_sum.ts";
import { undefinedMetric } from "./errors.ts";
import { requireEncodable } from "./ncd.ts";
import { utf8Length } from "./text.ts";
import { asSampleSet, type Samples, type SampleSet } from "./sample_set.ts";

/** The other samples joined by single spaces, in order (Python `" ".join(X)`). */
function othersOf(set: SampleSet, i: number): string {
  const s = set.samples;
  const parts: string[] = [];
  for (let j = 0; j < s.length; j++) if (j !== i) parts.push(s[j]);
  return parts.join(" ");
}

/**
 * gzip lengths of the others and of the others with the target appended (`" ".join(X + [y])`), computed together
 * so the shared prefix is compressed once.
 */
function lengthsOfContexts(
  set: SampleSet,
  i: number,
): { others: string; withTarget: string; cOthers: number; cWith: number } {
  const target = set.samples[i];
  const others = othersOf(set, i);
  if (set.size === 1) {
    // " ".join([] + [y]) is y itself: no separator.
    return { others, withTarget: target, cOthers: set.gzipLength(others), cWith: set.gzipLength(target) };
  }
  const [cOthers, cWith] = set.gzipLengthsWithSuffix(others, " " + target);
  return { others, withTarget: others + " " + target, cOthers, cWith };
}

/** `avg_compression_ratio_full`: mean over i of ratio(others) − ratio(others + target). */
export function avgCompressionRatioFull(samples: Samples): number {
  const set = asSampleSet(samples);
  const n = set.size;
  if (n === 0) undefinedMetric("no_samples", "compression ratio of an empty set");
  requireEncodable(set);
  const diffs: number[] = [];
  for (let i = 0; i < n; i++) {
    if (n === 1) undefinedMetric("fewer_than_2_samples", 'the other samples of a single sample join to ""');
    const c = lengthsOfContexts(set, i);
    const othersBytes = utf8Length(c.others);
    if (othersBytes === 0) {
      undefinedMetric("all_others_empty", `the samples other than ${i} join to "" (ratio of zero bytes)`);
    }
    diffs.push(c.cOthers / othersBytes - c.cWith / utf8Length(c.withTarget));
  }
  return pythonSum(diffs) / n;
}

/** `avg_compression_ratio_target`: mean over i of ratio(target) − ratio(others + target). */
export function avgCompressionRatioTarget(samples: Samples): number {
  const set = asSampleSet(samples);
  const n = set.size;
  if (n === 0) undefinedMetric("no_samples", "compression ratio of an empty set");
  requireEncodable(set);
  const diffs: number[] = [];
  for (let i = 0; i < n; i++) {
    const target = set.samples[i];
    if (target.length === 0) {
      undefinedMetric("empty_sample", `sample ${i} is empty after truncation (ratio of zero bytes)`);
    }
    const c = lengthsOfContexts(set, i);
    diffs.push(set.gzipLength(target) / utf8Length(target) - c.cWith / utf8Length(c.withTarget));
  }
  return pythonSum(diffs) / n;
}
