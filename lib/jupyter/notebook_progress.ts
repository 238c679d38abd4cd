/**
 * Live progress in a notebook cell: a {@link ProgressReporter} whose line is one output replaced in place as
 * work proceeds (`Deno.jupyter.display` with a `display_id`, then `update_display_data` broadcasts, which the
 * Deno kernel forwards to the front end), and plain `console.log` lines, throttled, where there is no Jupyter
 * kernel (`deno run`, tests).
 *
 * ```ts
 * const progress = notebookProgress({ label: `score ${m.name}` });
 * const r = await ensureScore(S, m.name, { onProgress: (p) => progress.update(scoreProgressText(p)) });
 * await progress.done(r.note); // before the cell ends, so the final text is sent while it still runs
 * ```
 * @module
 */
import { escapeMarkup } from "../figures/escape.ts";
import { LineSink } from "../progress/line_sink.ts";
import { ProgressReporter, type ProgressReporterOptions } from "../progress/reporter.ts";
import type { ProgressSink } from "../progress/sink.ts";

/** Least time between two shown updates in a notebook, ms. */
const NOTEBOOK_INTERVAL_MS = 250;

/** The part of `Deno.jupyter` used here (present only inside the Deno Jupyter kernel). */
export interface JupyterProgressApi {
  display(obj: unknown, options?: { raw?: boolean; display_id?: string }): Promise<void>;
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void>;
}

/** `Deno.jupyter` when running inside the Deno Jupyter kernel, else undefined (elsewhere reading it throws). */
export function kernelJupyter(): JupyterProgressApi | undefined {
  let j: Partial<JupyterProgressApi> | undefined;
  try {
    j = (Deno as unknown as { jupyter?: Partial<JupyterProgressApi> }).jupyter;
  } catch {
    return undefined; // outside `deno jupyter` the getter throws
  }
  return j && typeof j.display === "function" && typeof j.broadcast === "function"
    ? j as JupyterProgressApi
    : undefined;
}

let displayCounter = 0;

/** A unique display id. */
function newDisplayId(): string {
  return `progress-${Date.now().toString(36)}-${++displayCounter}`;
}

/**
 * Progress as a Jupyter display: the first line of a task is displayed with a `display_id`, later ones replace
 * it in place; a closed line stays and the next one gets a display of its own. Messages are `console.log` lines.
 */
export class JupyterSink implements ProgressSink {
  readonly minIntervalMs = NOTEBOOK_INTERVAL_MS;
  readonly #jupyter: JupyterProgressApi;
  /** The display id of the current line (a new one after {@link close}). */
  displayId: string = newDisplayId();
  #displayed = false;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown = undefined;

  /** A sink on the kernel API `jupyter`. */
  constructor(jupyter: JupyterProgressApi) {
    this.#jupyter = jupyter;
  }

  /** Displays `line` (first time) or updates the display in place; a final line is marked `data-done`. */
  show(line: string, final: boolean): void {
    const data = {
      "text/plain": line,
      "text/html": `<pre class="progress"${final ? ' data-done="true"' : ""} style="margin:0">${
        escapeMarkup(line)
      }</pre>`,
    };
    const j = this.#jupyter;
    const id = this.displayId;
    const send = this.#displayed
      ? () => j.broadcast("update_display_data", { data, metadata: {}, transient: { display_id: id } })
      : () => j.display(data, { raw: true, display_id: id });
    this.#displayed = true;
    this.#chain = this.#chain.then(send).catch((e) => {
      this.#error ??= e;
    });
  }

  /** The next line gets a display of its own. */
  close(): void {
    if (!this.#displayed) return;
    this.displayId = newDisplayId();
    this.#displayed = false;
  }

  /** A `console.log` line (the cell's output stream). */
  message(line: string): void {
    console.log(line);
  }

  /** Waits until every message was handed to the kernel; rejects with the first kernel error. */
  async flush(): Promise<void> {
    await this.#chain;
    if (this.#error !== undefined) throw this.#error;
  }
}

/** Options of {@link notebookProgress}. */
export interface NotebookProgressOptions extends ProgressReporterOptions {
  /** The Jupyter API (default `Deno.jupyter` when present); `null` forces the console fallback. */
  jupyter?: JupyterProgressApi | null;
  /** The console fallback's line sink (default `console.log`). */
  log?: (line: string) => void;
}

/** A reporter for a notebook cell: a live Jupyter display in the kernel, else throttled `console.log` lines. */
export function notebookProgress(options: NotebookProgressOptions = {}): ProgressReporter {
  const jupyter = options.jupyter === null ? undefined : (options.jupyter ?? kernelJupyter());
  const sink = jupyter !== undefined
    ? new JupyterSink(jupyter)
    : new LineSink(options.log ?? ((line) => console.log(line)), NOTEBOOK_INTERVAL_MS);
  return new ProgressReporter(sink, options);
}
