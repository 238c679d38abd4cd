/**
 * Progress on stderr for commands: on a terminal one line rewritten in place (5 updates a second at most);
 * otherwise (logs, CI) a line every few seconds.
 * @module
 */
import { LineSink, LOG_INTERVAL_MS } from "./line_sink.ts";
import { ProgressReporter } from "./reporter.ts";
import type { ProgressSink } from "./sink.ts";

/** Least time between two rewrites of the line on a terminal, ms. */
const TTY_INTERVAL_MS = 200;

const encoder = new TextEncoder();

/** Erases the terminal line the cursor is on and returns to its start. */
const CLEAR_LINE = "\r\x1b[2K";

/** One progress line rewritten in place on a terminal; messages are printed above it. */
export class TtySink implements ProgressSink {
  readonly minIntervalMs = TTY_INTERVAL_MS;
  readonly #write: (text: string) => void;
  /** The unfinished line on screen, if any. */
  #open: string | undefined;

  /** `write` takes raw text (default: stderr). */
  constructor(write: (text: string) => void = writeStderr) {
    this.#write = write;
  }

  /** Replaces the line on screen with `line`; a final line ends with a newline. */
  show(line: string, final: boolean): void {
    this.#write(`${CLEAR_LINE}${line}${final ? "\n" : ""}`);
    this.#open = final ? undefined : line;
  }

  /** Keeps the unfinished line and moves below it. */
  close(): void {
    if (this.#open !== undefined) this.#write("\n");
    this.#open = undefined;
  }

  /** Prints `line` in place of the progress line, then draws the progress line again below it. */
  message(line: string): void {
    this.#write(`${CLEAR_LINE}${line}\n${this.#open ?? ""}`);
  }

  /** Written at once. */
  flush(): Promise<void> {
    return Promise.resolve();
  }
}

function writeStderr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** The sink for stderr: a {@link TtySink} on a terminal, else a line every {@link LOG_INTERVAL_MS}. */
function terminalSink(): ProgressSink {
  return Deno.stderr.isTerminal()
    ? new TtySink()
    : new LineSink((line) => writeStderr(`${line}\n`), LOG_INTERVAL_MS);
}

/** A reporter on stderr; `label` (e.g. "score") is shown before every line. */
export function terminalProgress(label?: string): ProgressReporter {
  return new ProgressReporter(terminalSink(), { label });
}
