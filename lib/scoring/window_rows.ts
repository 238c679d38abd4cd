/**
 * Scores a range of one window's rows into a target of its own: context rows (the first `nContext`, which only
 * re-read context) without targets, scored rows against theirs, each kind with its sink of probability vectors.
 * Also the shared-buffer layouts of a part's results (statistics, or divergences from a base model). Shared by the
 * caller's thread and the helper thread of window_stats.ts.
 * @module
 */
import type { DivergenceStats } from "./divergence.ts";
import { type PositionStats, type RowKernel, scoreRows } from "./position_stats.ts";

/** Where a window's rows go: context rows `[0, nContext)`, scored rows `[nContext, L)` against `predict`. */
export interface WindowRowsTarget {
  /** Statistics of the context rows, row i at index i. */
  context: PositionStats;
  /** Statistics of the scored rows, row nContext + i at index i. */
  scored: PositionStats;
  /** Sums of the context rows' probability vectors (length vocab). */
  contextSink: Float64Array;
  /** Sums of the scored rows' probability vectors (length vocab). */
  scoredSink: Float64Array;
}

/**
 * Scores rows `[from, to)` of a window (`logits` holds rows `[logitsFirstRow, …)` of it) into `target`:
 * context rows without targets, scored rows against `predict` (the target of row nContext + i is predict[i]).
 * `target` belongs to the part that starts at row `partFrom`: its first context row and its first scored row
 * are at index 0 of `target.context` and `target.scored` (for a whole window, partFrom 0: row i of the context
 * at index i, row nContext + i at scored index i).
 */
export function scoreWindowRange(
  logits: Float32Array,
  logitsFirstRow: number,
  vocab: number,
  from: number,
  to: number,
  nContext: number,
  predict: Int32Array,
  target: WindowRowsTarget,
  partFrom: number,
  kernel?: RowKernel,
): void {
  const ctxEnd = Math.min(to, nContext);
  if (from < ctxEnd) {
    scoreRows(logits, vocab, from - logitsFirstRow, ctxEnd - from, null, target.context, {
      distributionSink: target.contextSink,
      outOffset: from - partFrom,
      kernel,
    });
  }
  const scoredFrom = Math.max(from, nContext);
  if (scoredFrom < to) {
    scoreRows(
      logits,
      vocab,
      scoredFrom - logitsFirstRow,
      to - scoredFrom,
      predict.subarray(scoredFrom - nContext, to - nContext),
      target.scored,
      { distributionSink: target.scoredSink, outOffset: scoredFrom - Math.max(partFrom, nContext), kernel },
    );
  }
}

/**
 * Scores the part `[from, to)` of a window (`logits` holds rows `[logitsFirstRow, …)` of it, as in
 * {@link scoreWindowRange}) into a target laid over `buffer` ({@link targetOver}), its sinks zeroed first;
 * returns the target. The same on the helper thread and, when the helper is missing or failed, on the caller's.
 */
export function scorePartOver(
  buffer: ArrayBufferLike,
  logits: Float32Array,
  logitsFirstRow: number,
  vocab: number,
  from: number,
  to: number,
  nContext: number,
  predict: Int32Array,
  kernel?: RowKernel,
): WindowRowsTarget {
  const part = targetOver(buffer, to - from, vocab);
  part.contextSink.fill(0);
  part.scoredSink.fill(0);
  scoreWindowRange(logits, logitsFirstRow, vocab, from, to, nContext, predict, part, from, kernel);
  return part;
}

/** Bytes of a {@link targetOver} buffer for `rows` rows and `vocab` entries. */
export function targetBytes(rows: number, vocab: number): number {
  // Two sinks and three float64 columns per kind, then int32 argmax and uint8 correct per kind.
  return (2 * vocab + 2 * 3 * rows) * 8 + 2 * rows * 4 + 2 * rows;
}

/**
 * A target whose arrays are views of `buffer` (at least {@link targetBytes}), so that a SharedArrayBuffer
 * carries a part's results between threads without a copy; the same layout on both sides.
 */
export function targetOver(buffer: ArrayBufferLike, rows: number, vocab: number): WindowRowsTarget {
  if (buffer.byteLength < targetBytes(rows, vocab)) {
    throw new RangeError(`a target of ${rows} rows × ${vocab} needs ${targetBytes(rows, vocab)} bytes`);
  }
  let at = 0;
  const f64 = (n: number) => {
    const a = new Float64Array(buffer, at, n);
    at += n * 8;
    return a;
  };
  const contextSink = f64(vocab), scoredSink = f64(vocab);
  const stats = (): PositionStats => ({
    capacity: rows,
    logprobNats: f64(rows),
    entropyNats: f64(rows),
    confidence: f64(rows),
    argmax: new Int32Array(0),
    correct: new Uint8Array(0),
  });
  const context = stats(), scored = stats();
  for (const s of [context, scored] as { argmax: Int32Array }[]) {
    s.argmax = new Int32Array(buffer, at, rows);
    at += rows * 4;
  }
  for (const s of [context, scored] as { correct: Uint8Array }[]) {
    s.correct = new Uint8Array(buffer, at, rows);
    at += rows;
  }
  return { context, scored, contextSink, scoredSink };
}

/**
 * Rows `[from, to)` of a window: their logits at the start of `logits`, their results to be written into
 * {@link targetOver}(`result`, to − from, vocab), whose sinks the worker zeroes first.
 */
export interface WindowRowsTask {
  kind: "stats";
  logits: SharedArrayBuffer;
  result: SharedArrayBuffer;
  vocab: number;
  from: number;
  to: number;
  nContext: number;
  /** Targets of the window's scored rows (all of them; the part reads its own). */
  predict: Int32Array;
  kernel?: RowKernel;
}

/**
 * Divergences of `rows` rows of a window: their base and tuned logits at the start of `base` and `tuned`, the
 * results to be written into {@link divergenceOver}(`result`, rows).
 */
export interface WindowDivergenceTask {
  kind: "divergence";
  base: SharedArrayBuffer;
  tuned: SharedArrayBuffer;
  result: SharedArrayBuffer;
  vocab: number;
  rows: number;
}

/** A task for the helper thread. */
export type WindowTask = WindowRowsTask | WindowDivergenceTask;

/** Done (the results are in the task's `result` buffer), or why it failed. */
export type WindowRowsReply = { done: true } | { error: string };

/** Bytes of a {@link divergenceOver} buffer for `rows` rows. */
export function divergenceBytes(rows: number): number {
  return rows * (8 + 8 + 1);
}

/** {@link DivergenceStats} whose arrays are views of `buffer` (at least {@link divergenceBytes}). */
export function divergenceOver(buffer: ArrayBufferLike, rows: number): DivergenceStats {
  if (buffer.byteLength < divergenceBytes(rows)) {
    throw new RangeError(`divergences of ${rows} rows need ${divergenceBytes(rows)} bytes`);
  }
  return {
    capacity: rows,
    klNats: new Float64Array(buffer, 0, rows),
    jsNats: new Float64Array(buffer, rows * 8, rows),
    argmaxChanged: new Uint8Array(buffer, rows * 16, rows),
  };
}
