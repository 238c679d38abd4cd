/** Registry entries for the gzip-based metrics. @module */
import type { MetricDefinition } from "../definition.ts";
import { averagePairwiseNcd } from "../ncd.ts";
import { avgCompressionRatioFull, avgCompressionRatioTarget } from "../compression_ratio.ts";

const common = { inPaper: true, needsEmbeddings: false, stochastic: false } as const;

/** `average_pairwise_ncd`, `avg_compression_ratio_full`, `avg_compression_ratio_target`. */
export const definitions: readonly MetricDefinition[] = [
  {
    ...common,
    key: "average_pairwise_ncd",
    direction: "diversity", // a distance
    label: "Average pairwise NCD",
    description: "mean normalised compression distance (gzip) over ordered pairs",
    compute: (set) => averagePairwiseNcd(set),
  },
  {
    ...common,
    key: "avg_compression_ratio_full",
    // Higher = the appended sample compresses away against the others = redundant: a similarity, whatever
    // its name suggests ("higher = more diverse"); docs/METRICS.md, compression ratios.
    direction: "similarity",
    label: "Average compression ratio (full)",
    description: "mean drop in the others' compression ratio when a sample is appended",
    compute: (set) => avgCompressionRatioFull(set),
  },
  {
    ...common,
    key: "avg_compression_ratio_target",
    // Higher = the samples together compress far better than one alone = redundant: a similarity. The paper's
    // stored values fall with temperature in all 12 Pythia series (Spearman ρ −0.85 to −1).
    direction: "similarity",
    label: "Average compression ratio (target)",
    description: "mean of a sample's own compression ratio minus the ratio with the others before it",
    compute: (set) => avgCompressionRatioTarget(set),
  },
];
