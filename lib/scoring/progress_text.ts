/**
 * The one-line text of a scoring progress event, shown by `analyse score` and the next-token notebook.
 * @module
 */
import { formatDuration } from "../progress/duration.ts";
import type { ScoreJobProgress } from "./score_job.ts";

/** One line for a scoring progress event: documents read (of total), tokens, tokens/s and time left. */
export function scoreProgressText(p: ScoreJobProgress): string {
  const docs = p.documentsTotal !== undefined
    ? `${p.documentsRead}/${p.documentsTotal} documents`
    : `${p.documentsRead} documents`;
  const parts = [
    docs,
    `${p.tokens.toLocaleString("en-US")} tokens`,
    `${Math.round(p.tokensPerSecond).toLocaleString("en-US")} tokens/s`,
  ];
  if (p.etaSeconds !== undefined) parts.push(`~${formatDuration(p.etaSeconds)} left`);
  return parts.join(", ");
}
