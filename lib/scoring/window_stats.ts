/**
 * The statistics of one window's rows, in two fixed halves so that a second core can take one of them. A window
 * of L rows (the first `nContext` only re-read context; the rest are scored) is cut at {@link windowSplitRow}(L):
 * the first part's probability vectors are added row by row into the caller's sinks, the second part's into
 * zeroed sinks of its own, which are then added entry by entry. The cut depends on L alone, so the sums — and
 * every result — are the same whether the second part ran on a {@link WindowStatsHelper} thread or on the
 * caller's (tested bit for bit). The helper reads its rows from a SharedArrayBuffer kept across windows (copying
 * half a 1,024-token window of a 50k vocabulary, 103 MB, takes ~5 ms; a fresh buffer would page-fault for ~30 ms).
 * @module
 */
import type { PositionStats, RowKernel } from "./position_stats.ts";
import {
  divergenceBytes,
  divergenceOver,
  scorePartOver,
  scoreWindowRange,
  targetBytes,
  targetOver,
  type WindowRowsReply,
  type WindowRowsTarget,
  type WindowTask,
} from "./window_rows.ts";
import { type DivergenceStats, divergeRows } from "./divergence.ts";

/** Windows with fewer rows are not cut: the second thread would cost more than it saves. */
export const MIN_SPLIT_ROWS = 64;

/** The first row of a window's second part ({@link MIN_SPLIT_ROWS}: `rows` itself, no second part). */
export function windowSplitRow(rows: number): number {
  return rows >= MIN_SPLIT_ROWS ? rows >> 1 : rows;
}

/** One window, as {@link scoreWindowStats} reads it. */
export interface WindowRows {
  /** The window's logits, `[L, vocab]` row-major. */
  logits: Float32Array;
  vocab: number;
  /** Rows that only re-read context (they come first). */
  nContext: number;
  /** Targets of the scored rows (L − nContext of them). */
  predict: Int32Array;
}

/**
 * Scores every row of a window into `target` (whose sinks must hold zeros, as a window's sinks do when it
 * starts), the second part on `helper` when one is given, else here; results are identical either way.
 */
export async function scoreWindowStats(
  window: WindowRows,
  target: WindowRowsTarget,
  helper: WindowStatsHelper | null,
  kernel?: RowKernel,
): Promise<void> {
  const { logits, vocab, nContext, predict } = window;
  const rows = nContext + predict.length;
  if (logits.length !== rows * vocab) {
    throw new RangeError(`logits hold ${logits.length} values, not ${rows} rows × ${vocab}`);
  }
  const cut = windowSplitRow(rows);
  if (cut === rows) {
    scoreWindowRange(logits, 0, vocab, 0, rows, nContext, predict, target, 0, kernel);
    return;
  }
  const part = await bothParts(
    helper?.start(logits, vocab, cut, rows, nContext, predict, kernel),
    () => scoreWindowRange(logits, 0, vocab, 0, cut, nContext, predict, target, 0, kernel),
    secondPartHere,
  );
  mergeSecondPart(part, target, cut, rows, nContext, vocab);

  function secondPartHere(): WindowRowsTarget {
    // One buffer reused across windows (merged before the next call): no garbage per window.
    if (scratch.byteLength < targetBytes(rows - cut, vocab)) {
      scratch = new ArrayBuffer(targetBytes(rows - cut, vocab));
    }
    return scorePartOver(scratch, logits, 0, vocab, cut, rows, nContext, predict, kernel);
  }
}

/**
 * Divergences of a window's scored rows (rows `[nContext, nContext + nScored)` of both logits) into `out` (index
 * 0: the first scored row), the second half of them on `helper` when one is given ({@link windowSplitRow} of
 * nScored). Each row's divergence is computed on its own, so the results are identical either way.
 */
export async function divergeWindow(
  base: Float32Array,
  tuned: Float32Array,
  vocab: number,
  nContext: number,
  nScored: number,
  out: DivergenceStats,
  helper: WindowStatsHelper | null,
): Promise<void> {
  const cut = windowSplitRow(nScored);
  if (cut === nScored) {
    divergeRows(base, tuned, vocab, nContext, nScored, out);
    return;
  }
  const part = await bothParts(
    helper?.startDivergence(base, tuned, vocab, nContext + cut, nContext + nScored),
    () => divergeRows(base, tuned, vocab, nContext, cut, out),
    () => {
      divergeRows(base, tuned, vocab, nContext + cut, nScored - cut, out, cut);
      return null;
    },
  );
  if (part !== null) {
    out.klNats.set(part.klNats, cut);
    out.jsNats.set(part.jsNats, cut);
    out.argmaxChanged.set(part.argmaxChanged, cut);
  }
}

/**
 * A window's two parts: `second` (started on the helper thread, or undefined without one) runs beside `first`
 * here. Without a helper, or when it fails (a row it cannot score, or the thread itself), `secondHere` does the
 * part on this thread: the same results, or the same error with the window's own row numbers. When `first`
 * throws, the helper is waited for (so that it is free for the next window) and the error goes on.
 */
async function bothParts<T>(
  second: Promise<T> | undefined,
  first: () => void,
  secondHere: () => T,
): Promise<T> {
  try {
    first();
  } catch (e) {
    await second?.catch(() => undefined);
    throw e;
  }
  if (second === undefined) return secondHere();
  try {
    return await second;
  } catch {
    return secondHere();
  }
}

let scratch = new ArrayBuffer(0);

/** Copies the second part's statistics into `target` at the window's row positions and adds its sinks. */
function mergeSecondPart(
  part: WindowRowsTarget,
  target: WindowRowsTarget,
  cut: number,
  rows: number,
  nContext: number,
  vocab: number,
): void {
  const copy = (from: PositionStats, to: PositionStats, count: number, at: number) => {
    to.logprobNats.set(from.logprobNats.subarray(0, count), at);
    to.entropyNats.set(from.entropyNats.subarray(0, count), at);
    to.confidence.set(from.confidence.subarray(0, count), at);
    to.argmax.set(from.argmax.subarray(0, count), at);
    to.correct.set(from.correct.subarray(0, count), at);
  };
  if (cut < nContext) copy(part.context, target.context, Math.min(rows, nContext) - cut, cut);
  const scoredFrom = Math.max(cut, nContext);
  if (scoredFrom < rows) copy(part.scored, target.scored, rows - scoredFrom, scoredFrom - nContext);
  for (let v = 0; v < vocab; v++) {
    target.contextSink[v] += part.contextSink[v];
    target.scoredSink[v] += part.scoredSink[v];
  }
}

/**
 * A worker thread that scores the second part of windows ({@link scoreWindowStats}, {@link divergeWindow}),
 * started with the first window that has one. One part at a time; `close()` stops the thread (an idle worker
 * would keep the process alive).
 */
export class WindowStatsHelper {
  #worker: Worker | null = null;
  #inputs: [SharedArrayBuffer, SharedArrayBuffer] = [new SharedArrayBuffer(0), new SharedArrayBuffer(0)];
  #result = new SharedArrayBuffer(0);
  #unavailable: Error | undefined;
  #pending: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** Parts the thread scored, and parts it failed (those were scored on the caller's thread instead). */
  readonly stats = { parts: 0, failures: 0 };

  #spawn(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(new URL("./window_stats_worker.ts", import.meta.url).href, { type: "module" });
    worker.onmessage = (e: MessageEvent<WindowRowsReply>) => {
      const pending = this.#pending;
      this.#pending = null;
      if (pending === null) return;
      if ("error" in e.data) {
        this.stats.failures++;
        pending.reject(new Error(e.data.error));
      } else {
        this.stats.parts++;
        pending.resolve();
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const pending = this.#pending;
      this.#pending = null;
      if (pending !== null) this.stats.failures++;
      // A thread that never scored a part could not load (e.g. no permission to read its module): stop trying.
      if (this.stats.parts === 0) this.#unavailable = new Error(e.message);
      // A thread that died is not reused: the next window starts a fresh one.
      this.#worker?.terminate();
      this.#worker = null;
      pending?.reject(new Error(`window statistics thread failed: ${e.message}`));
    };
    return this.#worker = worker;
  }

  /**
   * Copies rows `[from, to)` of `logits` into the shared buffer and starts scoring them; resolves with the part
   * (its statistics from index 0, and its own sinks), a view of a buffer the next call overwrites.
   */
  start(
    logits: Float32Array,
    vocab: number,
    from: number,
    to: number,
    nContext: number,
    predict: Int32Array,
    kernel?: RowKernel,
  ): Promise<WindowRowsTarget> {
    const values = (to - from) * vocab;
    return this.#run(targetBytes(to - from, vocab), (result) => {
      const shared = this.#copy(0, logits, from * vocab, values);
      return { kind: "stats", logits: shared, result, vocab, from, to, nContext, predict, kernel };
    }, (result) => targetOver(result, to - from, vocab));
  }

  /**
   * Copies rows `[from, to)` of both windows' logits into shared buffers and starts their divergences; resolves
   * with them (index 0: row `from`), a view of a buffer the next call overwrites.
   */
  startDivergence(
    base: Float32Array,
    tuned: Float32Array,
    vocab: number,
    from: number,
    to: number,
  ): Promise<DivergenceStats> {
    const values = (to - from) * vocab, rows = to - from;
    return this.#run(divergenceBytes(rows), (result) => ({
      kind: "divergence",
      base: this.#copy(1, base, from * vocab, values),
      tuned: this.#copy(0, tuned, from * vocab, values),
      result,
      vocab,
      rows,
    }), (result) => divergenceOver(result, rows));
  }

  /** Copies `values` logits from `at` into shared input buffer `slot` (kept, and grown, across windows). */
  #copy(slot: 0 | 1, logits: Float32Array, at: number, values: number): SharedArrayBuffer {
    // Kept across windows: fresh buffers would page-fault on every window.
    if (this.#inputs[slot].byteLength < values * 4) this.#inputs[slot] = new SharedArrayBuffer(values * 4);
    new Float32Array(this.#inputs[slot], 0, values).set(logits.subarray(at, at + values));
    return this.#inputs[slot];
  }

  /** Starts a task on the thread (or fails at once when there is none); resolves with `read(result)`. */
  #run<T>(
    resultBytes: number,
    task: (result: SharedArrayBuffer) => WindowTask,
    read: (result: SharedArrayBuffer) => T,
  ): Promise<T> {
    if (this.#pending !== null) throw new Error("WindowStatsHelper: one part at a time");
    let worker: Worker;
    try {
      if (this.#unavailable !== undefined) throw this.#unavailable;
      worker = this.#spawn();
    } catch (e) {
      // No thread (e.g. no permission to read its module): every window is scored on the caller's thread.
      this.#unavailable = e as Error;
      this.stats.failures++;
      const failed = Promise.reject(new Error(`no window statistics thread: ${(e as Error).message}`));
      failed.catch(() => undefined);
      return failed;
    }
    if (this.#result.byteLength < resultBytes) this.#result = new SharedArrayBuffer(resultBytes);
    const result = this.#result;
    const message = task(result);
    const done = new Promise<T>((resolve, reject) => {
      this.#pending = { resolve: () => resolve(read(result)), reject };
      worker.postMessage(message);
    });
    // A part nobody waits for any more (its caller failed first) must not surface as an unhandled rejection.
    done.catch(() => undefined);
    return done;
  }

  /** Stops the thread. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = null;
    this.#pending?.reject(new Error("WindowStatsHelper closed"));
    this.#pending = null;
  }
}
