/**
 * `distinct_{n}` (Li et al., 2016): distinct word n-grams across all samples divided by all n-grams produced.
 * A diversity: higher means more diverse. Tokens are the Python whitespace tokens, case kept (not in the paper).
 * @module
 */
import { undefinedMetric } from "./errors.ts";
import { asSampleSet, type Samples } from "./sample_set.ts";

/** Share of distinct word n-grams among all word n-grams of the samples, in [0, 1]. */
export function distinctN(samples: Samples, n: number): number {
  const set = asSampleSet(samples);
  if (set.size === 0) undefinedMetric("no_samples", "distinct-n of an empty set");
  const seen = new Set<string>();
  let total = 0;
  for (const toks of set.tokens()) {
    for (let i = 0; i + n <= toks.length; i++) {
      seen.add(n === 1 ? toks[i] : toks.slice(i, i + n).join(" "));
      total++;
    }
  }
  if (total === 0) undefinedMetric("no_ngrams", `no sample has ${n} words`);
  return seen.size / total;
}
