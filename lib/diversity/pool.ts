/**
 * A reusable pool of diversity worker threads. Workers are started on first use (or by `start()`, so that they
 * load their code while the caller does other work) and kept warm (their JIT-compiled code and open zlib stream)
 * across runs until `close()`; analysing many files through one pool avoids paying the start-up and warm-up for
 * each.
 * @module
 */
import type { CellOutcome } from "./cell.ts";
import type { GzipPreference, WorkerMessage, WorkerReply, WorkerTask } from "./worker.ts";

/** Cores to use by default: all of them, up to 8. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(8, navigator.hardwareConcurrency ?? 1));
}

/** A fixed number of worker threads evaluating text metrics. */
export class DiversityWorkerPool {
  #size: number;
  #workers: Worker[] = [];
  #busy = false;

  constructor(size: number = defaultWorkerCount()) {
    checkSize(size);
    this.#size = size;
  }

  /** Number of workers. */
  get size(): number {
    return this.#size;
  }

  /**
   * Starts the workers now; each loads its code and, with `gzip`, opens that gzip backend (the exactness probe
   * included) before its first task, while the caller goes on. Returns the pool.
   */
  start(gzip?: GzipPreference): this {
    this.#spawn();
    if (gzip !== undefined) {
      for (const w of this.#workers) w.postMessage({ warm: gzip } satisfies WorkerMessage);
    }
    return this;
  }

  /** Keeps only `size` workers (fewer than now): the others stop. For when the work turns out smaller. */
  shrink(size: number): void {
    checkSize(size);
    if (this.#busy) throw new Error("DiversityWorkerPool.shrink while running");
    if (size >= this.#size) return;
    for (const w of this.#workers.splice(size)) w.terminate();
    this.#size = size;
  }

  #spawn(): void {
    while (this.#workers.length < this.#size) {
      this.#workers.push(new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" }));
    }
  }

  /**
   * Evaluates `tasks` (each a chunk of cells) on the workers, a task at a time per worker, in the given order;
   * `onDone(taskIndex, outcomes, gzipBackend)` is called as each finishes (`gzipBackend`: the name of the gzip
   * implementation the worker used). Rejects on the first failure.
   */
  async run(
    tasks: readonly WorkerTask[],
    onDone: (taskIndex: number, outcomes: CellOutcome[], gzipBackend: string) => void,
  ): Promise<void> {
    if (this.#busy) throw new Error("DiversityWorkerPool.run is already running");
    this.#busy = true;
    this.#spawn();
    let next = 0;
    try {
      await Promise.all(this.#workers.map((worker) =>
        new Promise<void>((resolve, reject) => {
          let current = -1;
          const send = () => {
            if (next >= tasks.length) return resolve();
            current = next++;
            worker.postMessage(tasks[current]);
          };
          worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
            const reply = ev.data;
            if ("error" in reply) return reject(new Error(reply.error));
            try {
              onDone(current, reply.outcomes, reply.gzip);
            } catch (e) {
              return reject(e);
            }
            send();
          };
          worker.onerror = (ev) => {
            ev.preventDefault();
            reject(new Error(`diversity worker failed: ${ev.message}`));
          };
          send();
        })
      ));
    } catch (e) {
      // A worker in an unknown state is not reused.
      this.close();
      throw e;
    } finally {
      for (const w of this.#workers) {
        w.onmessage = null;
        w.onerror = null;
      }
      this.#busy = false;
    }
  }

  /** Stops the workers; the pool starts new ones if used again. */
  close(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`pool size must be a positive integer, got ${size}`);
  }
}
