/**
 * A decoding step's draws on two threads: the caller's and one helper thread (sampler_helper_worker.ts). Most of
 * a row's sampling time is the model normaliser's exp pass over the whole vocabulary (≈ 0.1 ms a row at 50k
 * entries), and between two model steps the second core is idle; so half the rows' normalisers, argmaxes and
 * top-k sets are found there, by the same WebAssembly kernel, while the caller's thread samples the other half.
 * The caller then draws the helper's rows with their own random streams ({@link sampleTokenPrepared}), so every
 * token, log-probability and entropy is exactly what {@link sampleToken} gives, whichever thread read the row.
 *
 * The threads share buffers and atomics, not messages (the caller's thread stays in one synchronous call for the
 * whole step, so it could not receive a message before the step's end):
 * rows are claimed from a word holding (step, next low row, end of the high rows); the caller claims upwards
 * from row 0 and copies the high half into the shared buffer, the helper claims downwards from the top among the
 * copied rows. A helper that is not ready, slow, or failing is not waited for beyond a bound: its rows fall back
 * to the caller's thread.
 * @module
 */
import {
  type SampledToken,
  sampleToken,
  sampleTokenPrepared,
  type SamplingSettings,
  topKToScan,
  validateSamplingSettings,
} from "./sampler.ts";
import type { UniformSource } from "./rng.ts";
import {
  CONTROL,
  keptCapacityFor,
  MAX_HELPER_ROWS,
  packClaim,
  type SamplerHelperBuffers,
  unpackClaim,
} from "./sampler_helper_protocol.ts";

/** How long the caller waits for one of the helper's rows before drawing it itself. */
const ROW_WAIT_MS = 2000;

/**
 * Draws one token per row of `logits` ([rows, vocab]) with `rngs[i]` for row i: on the caller's thread alone
 * without a helper, else shared with it. Returns the tokens in row order.
 */
export function sampleRows(
  logits: Float32Array,
  rows: number,
  vocab: number,
  settings: SamplingSettings,
  rngs: readonly UniformSource[],
  helper: SamplerHelper | null = null,
): SampledToken[] {
  if (helper !== null && rows >= 2 && helper.fits(rows, vocab)) {
    return helper.sampleRows(logits, rows, vocab, settings, rngs);
  }
  const out: SampledToken[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(sampleToken(logits.subarray(r * vocab, (r + 1) * vocab), settings, rngs[r]));
  }
  return out;
}

/** The helper thread of {@link sampleRows}. `close()` stops it (an idle worker would keep the process alive). */
export class SamplerHelper {
  readonly #worker: Worker;
  readonly #buffers: SamplerHelperBuffers;
  readonly #control: Int32Array;
  readonly #claim: BigInt64Array;
  readonly #logits: Float32Array;
  readonly #normalisers: Float64Array;
  readonly #rowInfo: Int32Array;
  readonly #keptIds: Int32Array;
  #step = 0;
  #broken = false;
  #closed = false;
  /** Rows the helper prepared, rows the caller's thread sampled itself, and helper rows it had to redo. */
  readonly stats = { helperRows: 0, callerRows: 0, fallbacks: 0 };

  /** Starts the thread for steps of at most `rows` rows of `vocab` logits (its kernel loads in the background). */
  constructor(rows: number, vocab: number) {
    if (!Number.isSafeInteger(rows) || rows < 1 || rows > MAX_HELPER_ROWS) {
      throw new RangeError(`a sampler helper takes 1 to ${MAX_HELPER_ROWS} rows, got ${rows}`);
    }
    if (!Number.isSafeInteger(vocab) || vocab < 1) {
      throw new RangeError(`vocab must be an integer ≥ 1, got ${vocab}`);
    }
    const b: SamplerHelperBuffers = {
      control: new SharedArrayBuffer(CONTROL.length * 4),
      claim: new SharedArrayBuffer(8),
      logits: new SharedArrayBuffer(rows * vocab * 4),
      normalisers: new SharedArrayBuffer(rows * 2 * 8),
      rowInfo: new SharedArrayBuffer(rows * 3 * 4),
      keptIds: new SharedArrayBuffer(rows * keptCapacityFor(vocab) * 4),
      rows,
      vocab,
      keptCapacity: keptCapacityFor(vocab),
    };
    this.#buffers = b;
    this.#control = new Int32Array(b.control);
    this.#claim = new BigInt64Array(b.claim);
    this.#logits = new Float32Array(b.logits);
    this.#normalisers = new Float64Array(b.normalisers);
    this.#rowInfo = new Int32Array(b.rowInfo);
    this.#keptIds = new Int32Array(b.keptIds);
    this.#worker = new Worker(new URL("./sampler_helper_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // a helper that cannot run only costs its rows' speed-up
      this.#broken = true;
    };
    this.#worker.postMessage(b);
  }

  /** Whether the helper's kernel is loaded and it takes rows. */
  get ready(): boolean {
    return !this.#broken && !this.#closed && Atomics.load(this.#control, CONTROL.ready) === 1;
  }

  /** Whether a step of `rows` rows of `vocab` logits fits the buffers it was started with. */
  fits(rows: number, vocab: number): boolean {
    return vocab === this.#buffers.vocab && rows <= this.#buffers.rows;
  }

  /** {@link sampleRows} with this helper (rows and vocabulary within what it was started for). */
  sampleRows(
    logits: Float32Array,
    rows: number,
    vocab: number,
    settings: SamplingSettings,
    rngs: readonly UniformSource[],
  ): SampledToken[] {
    validateSamplingSettings(settings);
    if (!this.fits(rows, vocab)) {
      throw new RangeError(
        `this helper takes ≤ ${this.#buffers.rows} rows of ${this.#buffers.vocab} logits, got ${rows} of ${vocab}`,
      );
    }
    const share = this.ready ? rows >> 1 : 0;
    if (share === 0) return sampleRows(logits, rows, vocab, settings, rngs);
    const c = this.#control;
    const step = this.#step = (this.#step % 0x7fffffff) + 1;
    const k = topKToScan(settings, vocab);
    c[CONTROL.topK] = k;
    Atomics.store(c, CONTROL.copyDone, 0);
    Atomics.store(c, CONTROL.copiedFrom, rows);
    Atomics.store(this.#claim, 0, packClaim(step, 0, rows));
    Atomics.store(c, CONTROL.step, step);
    Atomics.notify(c, CONTROL.step);
    // The helper's half, from the top row down, published row by row so that it can start on the first.
    for (let r = rows - 1; r >= rows - share; r--) {
      this.#logits.set(logits.subarray(r * vocab, (r + 1) * vocab), r * vocab);
      Atomics.store(c, CONTROL.copiedFrom, r);
    }
    Atomics.store(c, CONTROL.copyDone, 1);
    const out: SampledToken[] = new Array(rows);
    let highStart = rows;
    for (;;) {
      const word = Atomics.load(this.#claim, 0);
      const { lo, hi } = unpackClaim(word);
      if (lo >= hi) {
        highStart = hi;
        break;
      }
      if (Atomics.compareExchange(this.#claim, 0, word, packClaim(step, lo + 1, hi)) !== word) continue;
      out[lo] = sampleToken(logits.subarray(lo * vocab, (lo + 1) * vocab), settings, rngs[lo]);
      this.stats.callerRows++;
    }
    const capacity = this.#buffers.keptCapacity;
    for (let r = highStart; r < rows; r++) {
      const row = logits.subarray(r * vocab, (r + 1) * vocab);
      if (!this.#waitForRow(r, step) || this.#rowInfo[3 * r + 1] < 0) {
        this.stats.fallbacks++;
        out[r] = sampleToken(row, settings, rngs[r]);
        continue;
      }
      const kept = this.#rowInfo[3 * r + 1];
      out[r] = sampleTokenPrepared(row, settings, rngs[r], {
        max: this.#normalisers[2 * r],
        logZ: this.#normalisers[2 * r + 1],
        best: this.#rowInfo[3 * r],
        keptIds: k > 0 ? this.#keptIds.subarray(r * capacity, r * capacity + kept) : null,
      });
      this.stats.helperRows++;
    }
    return out;
  }

  /** Waits until the helper has finished row `r` of `step`; false (and the helper is no longer used) on timeout. */
  #waitForRow(r: number, step: number): boolean {
    const info = this.#rowInfo;
    const at = 3 * r + 2;
    const deadline = performance.now() + ROW_WAIT_MS;
    for (let v = Atomics.load(info, at); v !== step; v = Atomics.load(info, at)) {
      if (performance.now() > deadline) {
        this.#broken = true;
        return false;
      }
      Atomics.wait(info, at, v, 1);
    }
    return true;
  }

  /** Stops the helper thread. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#control, CONTROL.step, -1);
    Atomics.notify(this.#control, CONTROL.step);
    this.#worker.terminate();
  }
}

/**
 * A helper for steps of `rows` rows of `vocab` logits, or null where one cannot help (one row, one core) or
 * cannot run (no Worker or SharedArrayBuffer). The caller closes it: a running helper keeps the process alive.
 */
export function startSamplerHelper(rows: number, vocab: number): SamplerHelper | null {
  if (rows < 2 || rows > MAX_HELPER_ROWS || navigator.hardwareConcurrency < 2) return null;
  if (typeof Worker !== "function" || typeof SharedArrayBuffer !== "function") return null;
  try {
    return new SamplerHelper(rows, vocab);
  } catch {
    return null;
  }
}
