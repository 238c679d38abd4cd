/**
 * The progress line of a counted phase: done of total, percentage, rate and time left, or the time taken.
 * @module
 */
import { formatDuration } from "./duration.ts";

/** Where a counted phase stands. */
export interface CountProgress {
  /** What is being done ("embedding", "vendi_cosine", …). */
  phase: string;
  /** Units done. */
  done: number;
  /** Units in the phase. */
  total: number;
  /** Unit name, plural ("cells", "sentences"). */
  unit: string;
  /** Seconds since the phase began. */
  elapsedSeconds: number;
}

/** `"embedding: 120/400 sentences (30%) 40.0 sentences/s ETA 7.0 s"`; when done, `… in 10 s` instead of the ETA. */
export function countProgressText(p: CountProgress): string {
  const finished = p.done >= p.total;
  const rate = p.elapsedSeconds > 0 ? p.done / p.elapsedSeconds : 0;
  const eta = rate > 0 && !finished ? ` ETA ${formatDuration((p.total - p.done) / rate)}` : "";
  const pct = p.total > 0 ? ((100 * p.done) / p.total).toFixed(0) : "100";
  return `${p.phase}: ${p.done}/${p.total} ${p.unit} (${pct}%) ${rate.toFixed(1)} ${p.unit}/s${eta}` +
    (finished ? ` in ${formatDuration(p.elapsedSeconds)}` : "");
}
