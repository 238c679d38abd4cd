/**
 * Worker thread of {@link WindowStatsHelper} (window_stats.ts): scores the second part of a window (its
 * statistics, or its divergences from a base model) from shared buffers into a shared result buffer, and replies
 * when done.
 * @module
 */
import { divergeRows } from "./divergence.ts";
import { divergenceOver, scorePartOver, type WindowRowsReply, type WindowTask } from "./window_rows.ts";

self.onmessage = (e: MessageEvent<WindowTask>) => {
  let reply: WindowRowsReply;
  try {
    if (e.data.kind === "divergence") {
      const { base, tuned, result, vocab, rows } = e.data;
      const values = rows * vocab;
      divergeRows(
        new Float32Array(base, 0, values),
        new Float32Array(tuned, 0, values),
        vocab,
        0,
        rows,
        divergenceOver(result, rows),
      );
    } else {
      const { logits, result, vocab, from, to, nContext, predict, kernel } = e.data;
      const rows = new Float32Array(logits, 0, (to - from) * vocab);
      scorePartOver(result, rows, from, vocab, from, to, nContext, predict, kernel);
    }
    reply = { done: true };
  } catch (err) {
    reply = { error: (err as Error).message };
  }
  self.postMessage(reply);
};
