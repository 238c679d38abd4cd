/**
 * The paper's published diversity numbers, as data: what its figure F1 shows for Pythia-2.8B (PLM, SFT, DPO),
 * against which the toolkit checks its redrawing of the paper's stored results.
 * @module
 */

/**
 * Published values of the paper's Pythia-2.8B results at 20 words (nanmean over prompts, 3 decimals) at
 * T = 0.1 / 0.5 / 1.0 / 1.5, keyed by the ACTUAL prompt set (correct labels): what the redrawn F1 must show.
 */
export const PUBLISHED_F1_20_WORDS: Readonly<Record<string, Record<string, Record<string, number[]>>>> = {
  creative: {
    "pythia-2.8b": {
      selfBleuSmoothed: [0.909, 0.323, 0.070, 0.030],
      average_pairwise_ncd: [0.325, 0.537, 0.594, 0.619],
      average_pairwise_jaccard_2: [0.447, 0.067, 0.010, 0.003],
      avg_compression_ratio_target: [0.684, 0.554, 0.509, 0.468],
      cosine_similarity: [0.777, 0.496, 0.342, 0.268],
    },
    "pythia-2.8b-sft": {
      selfBleuSmoothed: [0.900, 0.343, 0.090, 0.041],
      average_pairwise_ncd: [0.333, 0.537, 0.586, 0.613],
      average_pairwise_jaccard_2: [0.397, 0.066, 0.015, 0.005],
      avg_compression_ratio_target: [0.757, 0.588, 0.527, 0.480],
      cosine_similarity: [0.745, 0.496, 0.385, 0.308],
    },
    "pythia-2.8b-dpo": {
      selfBleuSmoothed: [0.888, 0.393, 0.124, 0.049],
      average_pairwise_ncd: [0.286, 0.512, 0.580, 0.610],
      average_pairwise_jaccard_2: [0.488, 0.089, 0.020, 0.005],
      avg_compression_ratio_target: [0.773, 0.610, 0.537, 0.481],
      cosine_similarity: [0.793, 0.541, 0.424, 0.344],
    },
  },
  factual: {
    "pythia-2.8b": {
      selfBleuSmoothed: [0.957, 0.534, 0.161, 0.051],
      average_pairwise_ncd: [0.212, 0.449, 0.565, 0.603],
      average_pairwise_jaccard_2: [0.638, 0.171, 0.036, 0.006],
      avg_compression_ratio_target: [0.848, 0.710, 0.586, 0.526],
      cosine_similarity: [0.902, 0.709, 0.491, 0.359],
    },
    "pythia-2.8b-sft": {
      selfBleuSmoothed: [0.959, 0.629, 0.266, 0.101],
      average_pairwise_ncd: [0.214, 0.417, 0.524, 0.593],
      average_pairwise_jaccard_2: [0.589, 0.202, 0.066, 0.017],
      avg_compression_ratio_target: [0.905, 0.770, 0.646, 0.551],
      cosine_similarity: [0.901, 0.762, 0.633, 0.476],
    },
    "pythia-2.8b-dpo": {
      selfBleuSmoothed: [0.960, 0.657, 0.351, 0.157],
      average_pairwise_ncd: [0.188, 0.408, 0.503, 0.572],
      average_pairwise_jaccard_2: [0.671, 0.222, 0.101, 0.034],
      avg_compression_ratio_target: [0.957, 0.797, 0.676, 0.580],
      cosine_similarity: [0.921, 0.793, 0.688, 0.564],
    },
  },
};
