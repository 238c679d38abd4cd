/**
 * Worker thread for {@link computeDiversity}: evaluates text-only metrics on chunks of truncated cells.
 * @module
 */
import { type CellOutcome, evaluateCell } from "./cell.ts";
import { type GzipLengthBackend, openGzipLength } from "../metrics/gzip_length.ts";

/** A chunk of cells to evaluate. */
export interface WorkerTask {
  keys: string[];
  seed: number;
  gzip: "auto" | "libz" | "pako";
  cells: { t: number; p: number; samples: string[] }[];
}

/** The outcomes of a chunk, in order, or the message of an unexpected failure. */
export type WorkerReply = { outcomes: CellOutcome[] } | { error: string };

let gzip: GzipLengthBackend | undefined;

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
scope.onmessage = (ev: MessageEvent<WorkerTask>) => {
  const task = ev.data;
  try {
    gzip ??= openGzipLength(task.gzip);
    const outcomes = task.cells.map((c) =>
      evaluateCell(c.samples, task.keys, { temperatureIndex: c.t, promptIndex: c.p }, {
        seed: task.seed,
        gzip,
      })
    );
    scope.postMessage({ outcomes } satisfies WorkerReply);
  } catch (e) {
    scope.postMessage({ error: (e as Error).message } satisfies WorkerReply);
  }
};
