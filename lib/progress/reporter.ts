/**
 * One progress reporter for commands and notebooks: a line per task that is updated as work proceeds
 * (throttled, the final text always shown), counted phases with rate and ETA, and messages in between. Where
 * the line goes is its sink: the terminal (./terminal_sink.ts), plain lines (./line_sink.ts) or a Jupyter
 * display (lib/jupyter/notebook_progress.ts).
 * @module
 */
import { countProgressText } from "./count_text.ts";
import type { ProgressSink } from "./sink.ts";

/** Options of {@link ProgressReporter}. */
export interface ProgressReporterOptions {
  /** Shown before every line and message (e.g. "sweep tiny-base creative"). */
  label?: string;
  /** Least time between two shown updates, ms (default: the sink's). */
  minIntervalMs?: number;
  /** Clock in ms (default `performance.now`), for tests. */
  now?: () => number;
}

/**
 * Reports progress to a sink. {@link update} shows a text unless the last one was shown less than
 * `minIntervalMs` ago; {@link done} shows the final text (never throttled) and ends the line: later updates are
 * ignored. {@link count} reports phases of counted work, each phase a line of its own that ends when done
 * reaches total. Await {@link done} (or {@link flush}) so that everything shown is delivered.
 */
export class ProgressReporter {
  /** Lines actually shown, in order (what a reader saw). */
  readonly history: string[] = [];
  /** Where the lines go. */
  readonly sink: ProgressSink;
  readonly #label: string;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #shown = false;
  #lastShownAt = -Infinity;
  #finished = false;
  #phase: string | undefined;
  #phaseStart = 0;

  /** A reporter writing to `sink`. */
  constructor(sink: ProgressSink, options: ProgressReporterOptions = {}) {
    this.sink = sink;
    this.#label = options.label ?? "";
    this.#minIntervalMs = options.minIntervalMs ?? sink.minIntervalMs;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Shows `text` (throttled; ignored once the line is done). */
  update(text: string): void {
    if (this.#finished) return;
    const t = this.#now();
    if (this.#shown && t - this.#lastShownAt < this.#minIntervalMs) return;
    this.#show(text, t, false);
  }

  /** Shows the final `text` (once, never throttled) and waits until everything shown was delivered. */
  async done(text: string): Promise<void> {
    if (!this.#finished) this.#show(text, this.#now(), true);
    await this.flush();
  }

  /**
   * Reports `done` of `total` `unit`s in `phase`: done/total, percentage, rate and ETA, and the time taken when
   * done reaches total. A new phase starts a new line (so does the same phase again after it finished).
   */
  count(phase: string, done: number, total: number, unit = "cells"): void {
    const t = this.#now();
    if (phase !== this.#phase) {
      this.#newLine();
      this.#phase = phase;
      this.#phaseStart = t;
    }
    const finished = done >= total;
    if (!finished && this.#shown && t - this.#lastShownAt < this.#minIntervalMs) return;
    const text = countProgressText({
      phase,
      done,
      total,
      unit,
      elapsedSeconds: (t - this.#phaseStart) / 1000,
    });
    this.#show(text, t, finished);
    if (finished) this.#phase = undefined;
  }

  /** Prints `text` as a message that stays, apart from the progress line. */
  message(text: string): void {
    this.sink.message(this.#line(text));
  }

  /** Leaves an unfinished line as it is (e.g. before other output follows). */
  close(): void {
    if (this.#shown && !this.#finished) this.sink.close();
  }

  /** Resolves once everything shown was delivered; rejects with the sink's first delivery error. */
  flush(): Promise<void> {
    return this.sink.flush();
  }

  #newLine(): void {
    this.close();
    this.#shown = false;
    this.#finished = false;
  }

  #line(text: string): string {
    return this.#label ? `${this.#label}: ${text}` : text;
  }

  #show(text: string, t: number, final: boolean): void {
    const line = this.#line(text);
    this.history.push(line);
    this.#shown = true;
    this.#lastShownAt = t;
    if (final) this.#finished = true;
    this.sink.show(line, final);
  }
}
