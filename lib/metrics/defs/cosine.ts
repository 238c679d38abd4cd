/** Registry entry for the mean embedding cosine. @module */
import type { MetricDefinition } from "../definition.ts";
import { cosineSimilarityOfMatrix } from "../cosine.ts";

/** `cosine_similarity`. */
export const definitions: readonly MetricDefinition[] = [{
  key: "cosine_similarity",
  label: "Cosine similarity",
  direction: "similarity",
  inPaper: true,
  needsEmbeddings: true,
  stochastic: false,
  description: "mean cosine of sentence embeddings over unordered pairs (exact zeros left out of the count)",
  compute: (set, ctx) => cosineSimilarityOfMatrix(ctx.cosineMatrix(), set.size),
}];
