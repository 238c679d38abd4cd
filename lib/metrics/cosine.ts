/**
 * Cosine similarities of sentence embeddings, and `cosine_similarity`: the mean cosine over unordered pairs.
 * A similarity: higher means less diverse. Which embedder made the vectors is recorded by the caller.
 * @module
 */
import { undefinedMetric } from "./errors.ts";

/** Cosine of two vectors, computed in float64; 0 when either vector is zero (an embedder's "no information"). */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} vs ${b.length}`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const denom = Math.sqrt(na) * Math.sqrt(nb);
  return denom === 0 ? 0 : dot / denom;
}

/** The full n×n cosine matrix (row-major, diagonal included). */
export function cosineMatrix(embeddings: readonly Float32Array[]): Float64Array {
  const n = embeddings.length;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    m[i * n + i] = cosine(embeddings[i], embeddings[i]);
    for (let j = i + 1; j < n; j++) {
      const c = cosine(embeddings[i], embeddings[j]);
      m[i * n + j] = c;
      m[j * n + i] = c;
    }
  }
  return m;
}

/**
 * `cosine_similarity`: sum of the strictly lower triangle of the cosine matrix divided by the number of its
 * entries that are not exactly 0 — the original's `L.sum() / (L != 0).sum()`, kept for comparability.
 */
export function cosineSimilarityOfMatrix(matrix: ArrayLike<number>, n: number): number {
  if (n === 0) undefinedMetric("no_samples", "cosine similarity of an empty set");
  if (n === 1) undefinedMetric("fewer_than_2_samples", "cosine similarity needs 2 samples (0/0)");
  let sum = 0, count = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = matrix[i * n + j];
      sum += v;
      if (v !== 0) count++;
    }
  }
  if (count === 0) undefinedMetric("no_nonzero_similarity", "every pairwise cosine is exactly 0 (0/0)");
  return sum / count;
}

/** `cosine_similarity` of a set of embeddings. */
export function cosineSimilarity(embeddings: readonly Float32Array[]): number {
  return cosineSimilarityOfMatrix(cosineMatrix(embeddings), embeddings.length);
}
