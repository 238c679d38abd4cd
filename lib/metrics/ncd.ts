/**
 * `average_pairwise_ncd`: normalised compression distance with gzip lengths, averaged over ordered pairs.
 * A distance: higher means more diverse. NCD is not symmetric here, because the joint string is `x + " " + y`.
 * @module
 */
import { numpyMean, pythonSum } from "../numeric/numpy_sum.ts";
import { undefinedMetric } from "./errors.ts";
import { hasLoneSurrogate } from "./text.ts";
import { asSampleSet, type Samples, type SampleSet } from "./sample_set.ts";

/** Throws `lone_surrogate` if any sample cannot be UTF-8 encoded (Python's `str.encode()` would raise). */
export function requireEncodable(set: SampleSet): void {
  for (let i = 0; i < set.size; i++) {
    if (hasLoneSurrogate(set.samples[i])) {
      undefinedMetric(
        "lone_surrogate",
        `sample ${i} contains an unpaired UTF-16 surrogate and cannot be UTF-8 encoded`,
      );
    }
  }
}

/** NCD(x, y) = (C(x + " " + y) − min(C(x), C(y))) / max(C(x), C(y)), C = gzip length in bytes. */
export function ncd(set: SampleSet, x: string, y: string): number {
  const cx = set.gzipLength(x), cy = set.gzipLength(y);
  const cxy = set.gzipLength(x + " " + y);
  return (cxy - Math.min(cx, cy)) / Math.max(cx, cy);
}

/** For each sample, the mean NCD to every other sample (Python sum over j ≠ i in order, divided by n − 1). */
function pairwiseNcdPerSample(samples: Samples): number[] {
  const set = asSampleSet(samples);
  const n = set.size;
  if (n === 0) undefinedMetric("no_samples", "NCD of an empty set");
  if (n === 1) {
    undefinedMetric("fewer_than_2_samples", "NCD needs at least 2 samples (division by n − 1 = 0)");
  }
  requireEncodable(set);
  const s = set.samples;
  const uid = set.uniqueIds();
  const single = Array.from(s, (x, i) => (uid[i] === i ? set.gzipLength(x) : 0));
  const bytes = set.bytes();
  // Joint lengths per pair of distinct texts (duplicates are frequent at low temperature); −1 = not yet known.
  const joint = new Int32Array(n * n).fill(-1);
  const gz = set.gzipBackend;
  const perSample: number[] = [];
  const row: number[] = [];
  for (let i = 0; i < n; i++) {
    row.length = 0;
    const ui = uid[i];
    const ci = single[ui];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const uj = uid[j];
      let cij = joint[ui * n + uj];
      if (cij < 0) joint[ui * n + uj] = cij = gz.lengthOfJoined([bytes[ui], bytes[uj]]);
      const cj = single[uj];
      row.push((cij - Math.min(ci, cj)) / Math.max(ci, cj));
    }
    perSample.push(pythonSum(row) / (n - 1));
  }
  return perSample;
}

/** `average_pairwise_ncd`: numpy mean of the per-sample mean NCDs. */
export function averagePairwiseNcd(samples: Samples): number {
  return numpyMean(pairwiseNcdPerSample(samples));
}
