/**
 * `avg_compression_ratio_full` and `avg_compression_ratio_target`: how much worse a sample compresses once the
 * other samples are there. Ratios are gzip bytes / UTF-8 bytes (gzip's 18 framing bytes included, as in the
 * original). Higher means the samples compress away against each other, i.e. repeat each other: the registry
 * reads both as similarities (docs/METRICS.md, compression ratios). The target variant is NaN whenever any sample
 * is empty (zero bytes).
 * @module
 */
import { pythonSum } from "../numeric/numpy_sum.ts";
import { undefinedMetric } from "./errors.ts";
import { requireEncodable } from "./ncd.ts";
import { joinedLength } from "./gzip_length.ts";
import { asSampleSet, type Samples, type SampleSet } from "./sample_set.ts";

/** Byte lengths and gzip lengths of sample i's context: the others joined, and the others plus sample i. */
interface Context {
  othersBytes: number;
  withBytes: number;
  cOthers: number;
  cWith: number;
}

/**
 * The contexts of every sample, computed once per set (both ratio metrics use them): `" ".join(X)` and
 * `" ".join(X + [y])` for X = the other samples in order, compressed together so the shared prefix is deflated once.
 */
function contexts(set: SampleSet): Context[] {
  return set.memo("compression_ratio.contexts", () => {
    const bytes = set.bytes();
    const n = bytes.length;
    const gz = set.gzipBackend;
    return bytes.map((target, i) => {
      if (n === 1) {
        // " ".join([] + [y]) is y itself, with no separator.
        const c = set.gzipLength(set.samples[0]);
        return { othersBytes: 0, withBytes: target.length, cOthers: gz.lengthOfJoined([]), cWith: c };
      }
      const others = bytes.filter((_, j) => j !== i);
      const [cOthers, cWith] = gz.lengthsOfJoinedWithTail(others, target);
      const othersBytes = joinedLength(others);
      return { othersBytes, withBytes: othersBytes + 1 + target.length, cOthers, cWith };
    });
  });
}

/** `sum(term(i) for i in range(n)) / n` over the samples' contexts, after the checks both ratios share. */
function meanOverContexts(samples: Samples, term: (set: SampleSet, c: Context, i: number) => number): number {
  const set = asSampleSet(samples);
  const n = set.size;
  if (n === 0) undefinedMetric("no_samples", "compression ratio of an empty set");
  requireEncodable(set);
  const all = contexts(set);
  return pythonSum(all.map((c, i) => term(set, c, i))) / n;
}

/** `avg_compression_ratio_full`: mean over i of ratio(others) − ratio(others + target). */
export function avgCompressionRatioFull(samples: Samples): number {
  return meanOverContexts(samples, (set, c, i) => {
    if (set.size === 1) {
      undefinedMetric("fewer_than_2_samples", 'the other samples of a single sample join to ""');
    }
    if (c.othersBytes === 0) {
      undefinedMetric("all_others_empty", `the samples other than ${i} join to "" (ratio of zero bytes)`);
    }
    return c.cOthers / c.othersBytes - c.cWith / c.withBytes;
  });
}

/** `avg_compression_ratio_target`: mean over i of ratio(target) − ratio(others + target). */
export function avgCompressionRatioTarget(samples: Samples): number {
  return meanOverContexts(samples, (set, c, i) => {
    const target = set.samples[i];
    if (target.length === 0) {
      undefinedMetric("empty_sample", `sample ${i} is empty after truncation (ratio of zero bytes)`);
    }
    return set.gzipLength(target) / set.bytes()[i].length - c.cWith / c.withBytes;
  });
}
