/** Registry entries for order-q diversity: the paper's seeded Monte-Carlo keys and the exact plug-in keys. @module */
import type { MetricContext, MetricDefinition } from "../definition.ts";
import type { SampleSet } from "../sample_set.ts";
import { matrixSimilarity, orderQExact, orderQMonteCarlo } from "../order_q.ts";

type Kernel = "jaccard_2" | "cosine";

function kernelMatrix(kernel: Kernel, set: SampleSet, ctx: MetricContext): Float64Array {
  return kernel === "jaccard_2" ? set.jaccardMatrix(2) : ctx.cosineMatrix();
}

/** The cosine kernel of the original is NaN for a pair whose cosine is exactly 0 (0/0 in its mean). */
function pairSimilarity(kernel: Kernel, m: Float64Array, n: number) {
  const base = matrixSimilarity(m, n);
  return kernel === "cosine" ? (i: number, j: number) => (base(i, j) === 0 ? NaN : base(i, j)) : base;
}

/** `order_{q}_{jaccard_2|cosine}` (seeded Monte Carlo) and `order_{q}_{…}_exact`, q = 2..6. */
export const definitions: readonly MetricDefinition[] = [2, 3, 4, 5, 6].flatMap((q) =>
  (["jaccard_2", "cosine"] as const).flatMap((kernel): MetricDefinition[] => [
    {
      key: `order_${q}_${kernel}`,
      label: `Order-${q} diversity (${kernel === "cosine" ? "cosine" : "Jaccard-2"}, 50 draws)`,
      direction: "diversity",
      inPaper: true,
      needsEmbeddings: kernel === "cosine",
      stochastic: true,
      description: `Leinster–Cobbold order-${q} diversity, the paper's 50-group Monte-Carlo estimate, seeded`,
      compute: (set, ctx) => {
        const n = set.size;
        return orderQMonteCarlo(n, q, pairSimilarity(kernel, kernelMatrix(kernel, set, ctx), n), ctx.rng());
      },
    },
    {
      key: `order_${q}_${kernel}_exact`,
      label: `Order-${q} diversity (${kernel === "cosine" ? "cosine" : "Jaccard-2"}, exact)`,
      direction: "diversity",
      inPaper: false,
      needsEmbeddings: kernel === "cosine",
      stochastic: false,
      description: `Leinster–Cobbold order-${q} diversity from the full similarity matrix (no sampling)`,
      compute: (set, ctx) => orderQExact(kernelMatrix(kernel, set, ctx), set.size, q),
    },
  ])
);
