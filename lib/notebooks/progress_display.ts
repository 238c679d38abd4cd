/**
 * Live progress in a notebook cell: one output line that is replaced in place as work proceeds
 * (`Deno.jupyter.display` with a `display_id`, then `update_display_data` broadcasts, TOOLCHAIN.md "Jupyter and
 * the Deno kernel"), and plain `console.log` lines, throttled, where there is no Jupyter kernel (`deno run`,
 * tests). Also the one-line texts of the scoring and sweep progress events.
 * @module
 */
import type { ScoreJobProgress } from "../scoring/score_job.ts";
import type { SweepProgress } from "../sampling/sweep.ts";
import { escapeMarkup } from "../figures/escape.ts";

/** The part of `Deno.jupyter` used here (present only inside the Deno Jupyter kernel). */
export interface JupyterProgressApi {
  display(obj: unknown, options?: { raw?: boolean; display_id?: string }): Promise<void>;
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void>;
}

/** Options of {@link ProgressDisplay}. */
export interface ProgressDisplayOptions {
  /** Shown before every text (e.g. "sweep tiny-base creative"). */
  label?: string;
  /** Least time between two shown updates, ms (default 250; `done` is always shown). */
  minIntervalMs?: number;
  /** The Jupyter API (default `Deno.jupyter` when present); `null` forces the console fallback. */
  jupyter?: JupyterProgressApi | null;
  /** The console fallback's line sink (default `console.log`). */
  log?: (line: string) => void;
  /** Clock in ms (default `performance.now`), for tests. */
  now?: () => number;
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

/**
 * One live progress line. In a notebook, the first `update` displays it and later ones replace it in place;
 * elsewhere each shown update is a `console.log` line. Updates closer together than `minIntervalMs` are
 * skipped (the last text is still shown by `done`). Await {@link ProgressDisplay.done} before the cell ends so
 * the final text is sent while the cell is still running.
 */
export class ProgressDisplay {
  /** The Jupyter display id (unique per instance). */
  readonly displayId: string;
  readonly #label: string;
  readonly #minIntervalMs: number;
  readonly #jupyter: JupyterProgressApi | undefined;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  #shown = false;
  #lastShownAt = -Infinity;
  #finished = false;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown = undefined;
  /** Texts actually shown, in order (what a reader saw). */
  readonly history: string[] = [];

  constructor(options: ProgressDisplayOptions = {}) {
    this.#label = options.label ?? "";
    this.#minIntervalMs = options.minIntervalMs ?? 250;
    this.#jupyter = options.jupyter === null ? undefined : (options.jupyter ?? kernelJupyter());
    this.#log = options.log ?? ((line) => console.log(line));
    this.#now = options.now ?? (() => performance.now());
    this.displayId = `progress-${Date.now().toString(36)}-${++displayCounter}`;
  }

  /** True when the progress goes to a Jupyter display (not the console). */
  get live(): boolean {
    return this.#jupyter !== undefined;
  }

  /** Shows `text` (throttled). */
  update(text: string): void {
    if (this.#finished) return;
    const t = this.#now();
    if (this.#shown && t - this.#lastShownAt < this.#minIntervalMs) {
      return;
    }
    this.#show(text, t);
  }

  /** Shows the final `text` (never throttled) and waits until every message was handed to the kernel. */
  async done(text: string): Promise<void> {
    if (!this.#finished) {
      this.#finished = true;
      this.#show(text, this.#now(), true);
    }
    await this.#chain;
    if (this.#error !== undefined) throw this.#error;
  }

  #line(text: string): string {
    return this.#label ? `${this.#label}: ${text}` : text;
  }

  #show(text: string, t: number, final = false): void {
    const line = this.#line(text);
    this.history.push(line);
    this.#lastShownAt = t;
    const j = this.#jupyter;
    if (j === undefined) {
      this.#log(line);
      this.#shown = true;
      return;
    }
    const data = {
      "text/plain": line,
      "text/html": `<pre class="progress"${final ? ' data-done="true"' : ""} style="margin:0">${
        escapeMarkup(line)
      }</pre>`,
    };
    const first = !this.#shown;
    this.#shown = true;
    const send = first
      ? () => j.display(data, { raw: true, display_id: this.displayId })
      : () =>
        j.broadcast("update_display_data", {
          data,
          metadata: {},
          transient: { display_id: this.displayId },
        });
    this.#chain = this.#chain.then(send).catch((e) => {
      this.#error ??= e;
    });
  }
}

function seconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

/** One line for a sweep progress event: cells done of total, tokens, elapsed and estimated time left. */
export function sweepProgressText(p: SweepProgress): string {
  const pct = p.cellsTotal > 0 ? Math.floor((100 * p.cellsDone) / p.cellsTotal) : 100;
  const parts = [
    `${p.cellsDone}/${p.cellsTotal} cells (${pct}%)`,
    `${p.tokens.toLocaleString("en-US")} tokens`,
    `${seconds(p.elapsedMs / 1000)} elapsed`,
  ];
  if (p.cellsResumed > 0) parts.push(`${p.cellsResumed} resumed`);
  if (p.etaMs !== undefined && p.cellsDone < p.cellsTotal) parts.push(`~${seconds(p.etaMs / 1000)} left`);
  return parts.join(", ");
}

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
  if (p.etaSeconds !== undefined) parts.push(`~${seconds(p.etaSeconds)} left`);
  return parts.join(", ");
}
