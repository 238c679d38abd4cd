/**
 * Where progress lines go: the interface every sink (terminal, console lines, a Jupyter display) implements
 * for {@link ProgressReporter}.
 * @module
 */

/** An output for progress lines. */
export interface ProgressSink {
  /** Least time between two shown updates, ms (a reporter may override it). */
  readonly minIntervalMs: number;
  /** Shows the current progress line, replacing the previous one where the sink can; `final`: it is complete. */
  show(line: string, final: boolean): void;
  /** Leaves an unfinished line as it is, so that the next one starts afresh (a new phase). */
  close(): void;
  /** Prints a message that stays, apart from the progress line. */
  message(line: string): void;
  /** Resolves once everything shown was delivered; rejects with the first delivery error. */
  flush(): Promise<void>;
}
