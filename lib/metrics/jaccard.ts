/**
 * `average_pairwise_jaccard_{n}`: mean over unordered pairs of the Jaccard similarity of the two samples' sets of
 * lower-cased word n-grams. A similarity: higher means less diverse.
 * @module
 */
import { numpyMean } from "../numeric/numpy_sum.ts";
import { undefinedMetric } from "./errors.ts";
import { asSampleSet, type Samples } from "./sample_set.ts";

/** `average_pairwise_jaccard_{n}`: numpy mean over `itertools.combinations` order (a < b). */
export function averagePairwiseJaccard(samples: Samples, n: number): number {
  const set = asSampleSet(samples);
  const k = set.size;
  if (k === 0) undefinedMetric("no_samples", "Jaccard of an empty set");
  if (k === 1) {
    undefinedMetric("fewer_than_2_samples", "pairwise Jaccard needs 2 samples (np.mean of no pairs)");
  }
  const m = set.jaccardMatrix(n);
  const values = new Float64Array((k * (k - 1)) / 2);
  let t = 0;
  for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) values[t++] = m[a * k + b];
  return numpyMean(values);
}
