/**
 * The one-line text of a sweep progress event, shown by `analyse generate` and the completions notebook.
 * @module
 */
import { formatDuration } from "../progress/duration.ts";
import type { SweepProgress } from "./sweep.ts";

/**
 * One line for a sweep progress event: cells done of total, tokens generated here and their rate (once 10 ms
 * have passed), elapsed and estimated time left.
 */
export function sweepProgressText(p: SweepProgress): string {
  const pct = p.cellsTotal > 0 ? Math.floor((100 * p.cellsDone) / p.cellsTotal) : 100;
  const rate = p.elapsedMs >= 10 && p.tokens > 0
    ? ` (${Math.round(p.tokens / (p.elapsedMs / 1000)).toLocaleString("en-US")} tokens/s)`
    : "";
  const parts = [
    `${p.cellsDone}/${p.cellsTotal} cells (${pct}%)`,
    `${p.tokens.toLocaleString("en-US")} tokens${rate}`,
    `${formatDuration(p.elapsedMs / 1000)} elapsed`,
  ];
  if (p.cellsResumed > 0) parts.push(`${p.cellsResumed} resumed`);
  if (p.etaMs !== undefined && p.cellsDone < p.cellsTotal) {
    parts.push(`~${formatDuration(p.etaMs / 1000)} left`);
  }
  return parts.join(", ");
}
