/**
 * A memo in front of any embedder: each distinct sentence is embedded once. Diversity metrics embed the same
 * samples over and over (every pair in order-q and Vendi, the same completions across truncation lengths), and
 * sampled sets repeat strings, so most calls hit.
 * @module
 */
import type { EmbedderInfo, SentenceEmbedder } from "./embedder.ts";

/** Options of {@link cachingEmbedder}. */
export interface CachingEmbedderOptions {
  /** Most vectors kept; the least recently used go first (default 100,000). */
  maxEntries?: number;
}

/** Counters for tests and progress lines. */
export interface EmbeddingCacheStats {
  /** Sentences answered from the memo, including repeats within one call. */
  hits: number;
  /** Distinct sentences passed to the wrapped embedder. */
  misses: number;
  /** Calls made to the wrapped embedder. */
  innerCalls: number;
  /** Vectors held now. */
  size: number;
}

/** A {@link SentenceEmbedder} with a memo; its vectors are shared between callers, so treat them as read-only. */
export interface CachingEmbedder extends SentenceEmbedder {
  /** The counters (a snapshot). */
  readonly stats: EmbeddingCacheStats;
  /** Forgets all vectors (counters are kept). */
  clear(): void;
}

const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * Wraps `inner` so that each distinct string (exact match, no normalisation) is embedded once; the misses of a call
 * go to `inner` in one call (which does its own batching), in first-seen order, and results keep input order.
 */
export function cachingEmbedder(
  inner: SentenceEmbedder,
  options: CachingEmbedderOptions = {},
): CachingEmbedder {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 0) {
    throw new Error("maxEntries must be a non-negative integer");
  }
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least recently used.
  const memo = new Map<string, Float32Array>();
  let hits = 0;
  let misses = 0;
  let innerCalls = 0;

  const remember = (sentence: string, vector: Float32Array) => {
    if (maxEntries === 0) return;
    memo.delete(sentence);
    memo.set(sentence, vector);
    while (memo.size > maxEntries) memo.delete(memo.keys().next().value!);
  };

  return {
    get info(): EmbedderInfo {
      return inner.info;
    },
    get stats(): EmbeddingCacheStats {
      return { hits, misses, innerCalls, size: memo.size };
    },
    clear(): void {
      memo.clear();
    },
    async embed(sentences: readonly string[]): Promise<Float32Array[]> {
      // This call's vectors, so a memo smaller than the call's distinct strings still answers every position.
      const local = new Map<string, Float32Array>();
      const pending = new Set<string>();
      for (const s of sentences) {
        if (local.has(s) || pending.has(s)) continue;
        const cached = memo.get(s);
        if (cached !== undefined) {
          local.set(s, cached);
          remember(s, cached);
        } else {
          pending.add(s);
        }
      }
      const missing = [...pending];
      if (missing.length > 0) {
        innerCalls++;
        const vectors = await inner.embed(missing);
        if (vectors.length !== missing.length) {
          throw new Error(`embedder returned ${vectors.length} vectors for ${missing.length} sentences`);
        }
        missing.forEach((s, i) => {
          local.set(s, vectors[i]);
          remember(s, vectors[i]);
        });
      }
      misses += missing.length;
      hits += sentences.length - missing.length;
      return sentences.map((s) => local.get(s)!);
    },
    async dispose(): Promise<void> {
      memo.clear();
      await inner.dispose();
    },
  };
}
