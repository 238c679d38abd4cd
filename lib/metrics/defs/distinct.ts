/** Registry entries for distinct-n. @module */
import type { MetricDefinition } from "../definition.ts";
import { distinctN } from "../distinct.ts";

/** `distinct_{1,2,3}`. */
export const definitions: readonly MetricDefinition[] = [1, 2, 3].map((n) => ({
  key: `distinct_${n}`,
  label: `Distinct-${n}`,
  direction: "diversity",
  inPaper: false,
  needsEmbeddings: false,
  stochastic: false,
  description: `distinct word ${n}-grams over all word ${n}-grams of the set`,
  compute: (set) => distinctN(set, n),
}));
