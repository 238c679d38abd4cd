/** Registry entries for pairwise n-gram Jaccard. @module */
import type { MetricDefinition } from "../definition.ts";
import { averagePairwiseJaccard } from "../jaccard.ts";

/** `average_pairwise_jaccard_{2,3,4}`. */
export const definitions: readonly MetricDefinition[] = [2, 3, 4].map((n) => ({
  key: `average_pairwise_jaccard_${n}`,
  label: `Average pairwise Jaccard (${n}-grams)`,
  direction: "similarity",
  inPaper: true,
  needsEmbeddings: false,
  stochastic: false,
  description: `mean Jaccard similarity of lower-cased word ${n}-gram sets over unordered pairs`,
  compute: (set) => averagePairwiseJaccard(set, n),
}));
