/**
 * The one interface every sentence embedder implements. The cosine-family metrics only need unit vectors per
 * sentence; which model made them is recorded with every result.
 * @module
 */

/** What produced a set of embeddings; written into every result that used them. */
export interface EmbedderInfo {
  /** Registry name (`"minilm-l12"`, `"glove-6b-100d-mean"`) or the model folder / hub id it was opened from. */
  name: string;
  /** `"transformer"` (a neural sentence encoder), `"word-vectors"` (pooled pretrained word vectors) or `"lexical"`. */
  kind: "transformer" | "word-vectors" | "lexical";
  /** Where the weights came from (folder path, hub id, npm package@version). */
  source: string;
  /** Vector length. */
  dimensions: number;
  /** How token vectors become one sentence vector, e.g. `"mean over attention mask, L2-normalised"`. */
  pooling: string;
  /** Other facts worth recording (dtype, library versions, sha256 of weights). */
  details?: Record<string, string | number | boolean>;
}

/** Turns sentences into L2-normalised float32 vectors. */
export interface SentenceEmbedder {
  /** Provenance of the vectors. */
  readonly info: EmbedderInfo;
  /** One unit-length vector per sentence, in input order. */
  embed(sentences: readonly string[]): Promise<Float32Array[]>;
  /** Frees model sessions or large tables. */
  dispose(): Promise<void>;
}
