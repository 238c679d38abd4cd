/** Registry entry for self-BLEU. @module */
import type { MetricDefinition } from "../definition.ts";
import { selfBleuSmoothed } from "../self_bleu.ts";

/** `selfBleuSmoothed`. */
export const definitions: readonly MetricDefinition[] = [{
  key: "selfBleuSmoothed",
  label: "Self-BLEU (smoothed)",
  direction: "similarity",
  inPaper: true,
  needsEmbeddings: false,
  stochastic: false,
  description: "mean NLTK sentence BLEU (4-gram, method 1) of each sample against the others",
  compute: (set) => selfBleuSmoothed(set),
}];
