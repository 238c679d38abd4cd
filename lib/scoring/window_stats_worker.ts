/**
 * Worker thread of {@link WindowStatsHelper} (window_stats.ts): scores the second part of a window from the
 * shared buffer into the shared result buffer, and replies when done.
 * @module
 */
import { scoreWindowRange, targetOver, type WindowRowsReply, type WindowRowsTask } from "./window_rows.ts";

self.onmessage = (e: MessageEvent<WindowRowsTask>) => {
  const { logits, result, vocab, from, to, nContext, predict, kernel } = e.data;
  let reply: WindowRowsReply;
  try {
    const part = targetOver(result, to - from, vocab);
    part.contextSink.fill(0);
    part.scoredSink.fill(0);
    scoreWindowRange(
      new Float32Array(logits, 0, (to - from) * vocab),
      from,
      vocab,
      from,
      to,
      nContext,
      predict,
      part,
      from,
      kernel,
    );
    reply = { done: true };
  } catch (err) {
    reply = { error: (err as Error).message };
  }
  self.postMessage(reply);
};
