/**
 * GloVe word vectors in memory: the vocabulary index, the float32 matrix, where they came from, and the bytes
 * their checksum covers (the matrix, then the vocabulary as UTF-8 lines, as the binary cache stores them).
 * @module
 */

/** The vectors in memory. */
export interface GloveTable {
  /** Word → row. */
  index: Map<string, number>;
  /** Row-major `rows × dims` matrix of the raw (not normalised) GloVe vectors. */
  vectors: Float32Array<ArrayBuffer>;
  /** Vector length (100). */
  dims: number;
  /** Number of words. */
  rows: number;
  /** The source file and package version. */
  source: GloveSource;
  /** SHA-256 of the cache payload (matrix + vocabulary), hex. */
  payloadSha256: string;
}

/** Where the vectors came from. */
export interface GloveSource {
  /** Absolute path of the JSON file. */
  path: string;
  /** Package name. */
  package: string;
  /** Package version (`"unknown"` for a custom `sourcePath` without package.json). */
  version: string;
  /** File size in bytes. */
  bytes: number;
}

/** The bytes a table's SHA-256 covers: the float32 matrix, then the vocabulary as UTF-8 lines. */
export function vocabularyPayload(
  vectors: Float32Array<ArrayBuffer>,
  words: string[],
): { matrix: Uint8Array<ArrayBuffer>; vocab: Uint8Array<ArrayBuffer> } {
  return {
    matrix: new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength),
    vocab: new TextEncoder().encode(words.join("\n")),
  };
}

/** Word → row (a plain loop: 4× faster than `new Map(words.map(...))` for 341k words). */
export function indexWords(words: string[]): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < words.length; i++) index.set(words[i], i);
  return index;
}
