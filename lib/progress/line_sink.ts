/**
 * The plainest progress sink: every shown update is a line of its own (logs, CI, `deno run` of a notebook).
 * @module
 */
import type { ProgressSink } from "./sink.ts";

/** Least time between two progress lines in a log (stderr that is not a terminal, a study's log), ms. */
export const LOG_INTERVAL_MS = 5000;

/** Progress as separate lines through `write` (one call per line, without its newline). */
export class LineSink implements ProgressSink {
  readonly minIntervalMs: number;
  readonly #write: (line: string) => void;

  /** `write` takes one line; `minIntervalMs` is the least time between two shown updates. */
  constructor(write: (line: string) => void, minIntervalMs: number) {
    this.#write = write;
    this.minIntervalMs = minIntervalMs;
  }

  /** Writes `line`. */
  show(line: string): void {
    this.#write(line);
  }

  /** Nothing to close: every line is complete. */
  close(): void {}

  /** Writes `line`. */
  message(line: string): void {
    this.#write(line);
  }

  /** Lines are written at once. */
  flush(): Promise<void> {
    return Promise.resolve();
  }
}
