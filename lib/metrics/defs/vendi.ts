/** Registry entries for the Vendi score. @module */
import type { MetricDefinition } from "../definition.ts";
import { vendiScoreOfKernel } from "../vendi.ts";

/** `vendi_jaccard_2`, `vendi_cosine`. */
export const definitions: readonly MetricDefinition[] = [
  {
    key: "vendi_jaccard_2",
    label: "Vendi score (Jaccard-2)",
    direction: "diversity",
    inPaper: true,
    needsEmbeddings: false,
    stochastic: false,
    description: "exp of the entropy of the eigenvalues of the Jaccard-2 kernel / n",
    compute: (set) => vendiScoreOfKernel(set.jaccardMatrix(2), set.size),
  },
  {
    key: "vendi_cosine",
    label: "Vendi score (cosine)",
    direction: "diversity",
    inPaper: true,
    needsEmbeddings: true,
    stochastic: false,
    description: "exp of the entropy of the eigenvalues of the embedding cosine kernel / n",
    compute: (set, ctx) => vendiScoreOfKernel(ctx.cosineMatrix(), set.size),
  },
];
