/**
 * What the sampler's two threads share (sampler_helper.ts and its worker, sampler_helper_worker.ts): the layout
 * of the control words, the buffers, and the claim word that hands out a step's rows.
 * @module
 */

/** Indices of the shared control words (Int32Array). */
export const CONTROL = {
  /** The step's sequence number (> 0); −1 tells the helper to stop. */
  step: 0,
  /** Rows at or above this index are in the shared buffer for this step. */
  copiedFrom: 1,
  /** 1 once the caller has copied all it will copy this step. */
  copyDone: 2,
  /** The k of top-k's kept set to find (0: none). */
  topK: 3,
  /** 1 once the helper's kernel is loaded; −1 when it cannot load. */
  ready: 4,
  /** Words in all. */
  length: 8,
} as const;

/** The shared buffers of a helper sized for `rows` rows of `vocab` logits (sampler_helper.ts). */
export interface SamplerHelperBuffers {
  /** Control words ({@link CONTROL}). */
  control: SharedArrayBuffer;
  /** One BigInt64 claim word: step << 32 | high end << 16 | next low row. */
  claim: SharedArrayBuffer;
  /** Logit rows, [rows, vocab] float32. */
  logits: SharedArrayBuffer;
  /** Per row: max and log Z (float64). */
  normalisers: SharedArrayBuffer;
  /** Per row: first argmax, kept count (−1: no distribution, the caller redoes the row), step done (int32). */
  rowInfo: SharedArrayBuffer;
  /** Per row: top-k's kept ids, [rows, keptCapacity] int32. */
  keptIds: SharedArrayBuffer;
  /** Rows and vocabulary the buffers hold. */
  rows: number;
  vocab: number;
  /** Kept ids a row holds; a larger kept set (ties at the k-th logit, a large k) is left to the caller. */
  keptCapacity: number;
}

/** The kept ids a helper holds per row for a vocabulary of `vocab`: room for k up to a few thousand. */
export function keptCapacityFor(vocab: number): number {
  return Math.min(vocab, 8192);
}

/** The claim word for `step` with rows [lo, hi) still unclaimed. */
export function packClaim(step: number, lo: number, hi: number): bigint {
  return (BigInt(step) << 32n) | (BigInt(hi) << 16n) | BigInt(lo);
}

/** The fields of a claim word. */
export function unpackClaim(word: bigint): { step: number; lo: number; hi: number } {
  return { step: Number(word >> 32n), lo: Number(word & 0xffffn), hi: Number((word >> 16n) & 0xffffn) };
}

/** Most rows a helper shares (the claim word's 16-bit fields). */
export const MAX_HELPER_ROWS = 0xffff;
