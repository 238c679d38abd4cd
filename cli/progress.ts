/**
 * Progress lines on stderr: done/total, rate, ETA. Rewrites one line on a terminal, prints a line every few
 * seconds otherwise (logs, CI).
 * @module
 */

/** A progress reporter for one phase at a time. */
export class ProgressPrinter {
  #phase = "";
  #start = 0;
  #last = 0;
  #tty = Deno.stderr.isTerminal();
  #encoder = new TextEncoder();

  /** Reports `done` of `total` units in `phase` ("cells", "sentences", …). */
  update(phase: string, done: number, total: number, unit = "cells"): void {
    const now = performance.now();
    if (phase !== this.#phase) {
      if (this.#phase !== "" && this.#tty) this.#write("\n");
      this.#phase = phase;
      this.#start = now;
      this.#last = 0;
    }
    const finished = done >= total;
    if (!finished && now - this.#last < (this.#tty ? 200 : 5000)) return;
    this.#last = now;
    const seconds = (now - this.#start) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 && !finished ? ` ETA ${formatSeconds((total - done) / rate)}` : "";
    const pct = total > 0 ? ((100 * done) / total).toFixed(0) : "100";
    const line = `${phase}: ${done}/${total} ${unit} (${pct}%) ${rate.toFixed(1)} ${unit}/s${eta}` +
      (finished ? ` in ${formatSeconds(seconds)}` : "");
    this.#write(this.#tty ? `\r\x1b[2K${line}${finished ? "\n" : ""}` : `${line}\n`);
    if (finished) this.#phase = "";
  }

  #write(s: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(s));
  }
}

/** `"1m05s"`, `"12.3s"`. */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, "0")}s`;
}
