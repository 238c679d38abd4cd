/**
 * Worker thread for {@link computeDiversity}: evaluates text-only metrics on chunks of truncated cells.
 * @module
 */
import { type CellOutcome, evaluateCell } from "./cell.ts";
import { type GzipLengthBackend, openGzipLength } from "../metrics/gzip_length.ts";

/** Which gzip implementation a run asks for (see `openGzipLength`). */
export type GzipPreference = "auto" | "libz" | "pako";

/** A chunk of cells to evaluate. */
export interface WorkerTask {
  keys: string[];
  seed: number;
  gzip: GzipPreference;
  cells: { t: number; p: number; samples: string[] }[];
}

/** A task, or `{ warm }`: open that gzip backend ahead of the first task (no reply). */
export type WorkerMessage = WorkerTask | { warm: GzipPreference };

/** The outcomes of a chunk, in order, and the gzip backend's name; or the message of an unexpected failure. */
export type WorkerReply = { outcomes: CellOutcome[]; gzip: string } | { error: string };

// One backend per preference, opened once (the probe of "auto" costs tens of ms).
const backends = new Map<GzipPreference, GzipLengthBackend>();

function backend(preference: GzipPreference): GzipLengthBackend {
  let gzip = backends.get(preference);
  if (gzip === undefined) backends.set(preference, gzip = openGzipLength(preference));
  return gzip;
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
scope.onmessage = (ev: MessageEvent<WorkerMessage>) => {
  const message = ev.data;
  if ("warm" in message) {
    // A failure here (e.g. libz asked for but missing) is reported by the first task that needs the backend.
    try {
      backend(message.warm);
    } catch { /* see above */ }
    return;
  }
  try {
    const gzip = backend(message.gzip);
    const outcomes = message.cells.map((c) =>
      evaluateCell(c.samples, message.keys, { temperatureIndex: c.t, promptIndex: c.p }, {
        seed: message.seed,
        gzip,
      })
    );
    scope.postMessage({ outcomes, gzip: gzip.name } satisfies WorkerReply);
  } catch (e) {
    scope.postMessage({ error: (e as Error).message } satisfies WorkerReply);
  }
};
