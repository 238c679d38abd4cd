/**
 * The WebAssembly SIMD row kernel of `scoreRows` (position_stats.ts; source: wasm/row_stats.c): per row of
 * float32 logits the max, its first index, Σ e and Σ e·d over the other entries, and the row's probabilities
 * added into a sink — bit-identical to the JavaScript kernel (same exp tables and constants, same operation
 * order, no fused multiply-add), 2–2.5× faster. One instance per thread, created on first use; its memory
 * grows with the largest vocabulary seen (≈ 20 bytes per entry).
 * @module
 */
import { EXP_CONSTANTS, EXP_POW2, EXP_TWO_J } from "./exp_non_positive.ts";
import { ROW_STATS_WASM_BASE64 } from "./wasm/row_stats_module.ts";

interface RowStatsExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  init(consts: number, twoJ: number, pow2: number): void;
  row_stats(x: number, vocab: number, exps: number, sink: number, out: number): void;
  top_k(x: number, vocab: number, k: number, heap: number, ids: number): number;
}

const PAGE_BYTES = 65536;
const RESULT_BYTES = 32; // { int best; int status; double max, rest, s; }

/** A loaded kernel with buffers for one vocabulary size at a time. */
export class RowStatsWasm {
  readonly #x: RowStatsExports;
  readonly #resultPtr: number;
  readonly #buffersPtr: number;
  #vocab = 0;
  #rowPtr = 0;
  #expsPtr = 0;
  #sinkPtr = 0;
  #heapPtr = 0;
  #idsPtr = 0;
  #f32 = new Float32Array(0);
  #f64 = new Float64Array(0);
  #i32 = new Int32Array(0);
  /** Results of the last {@link row} call. */
  best = 0;
  max = 0;
  rest = 0;
  s = 0;

  constructor(exports: RowStatsExports) {
    this.#x = exports;
    let p = align(exports.__heap_base.value as number, 16);
    const tables: [Float64Array, number][] = [];
    for (const t of [EXP_CONSTANTS, EXP_TWO_J, EXP_POW2]) {
      tables.push([t, p]);
      p = align(p + t.byteLength, 16);
    }
    this.#resultPtr = p;
    this.#buffersPtr = align(p + RESULT_BYTES, 16);
    this.#ensureBytes(this.#buffersPtr);
    for (const [t, at] of tables) this.#f64.set(t, at / 8);
    exports.init(tables[0][1], tables[1][1], tables[2][1]);
  }

  /** Sizes the row, exps and sink buffers for `vocab` entries. */
  reserve(vocab: number): void {
    if (vocab === this.#vocab) return;
    this.#rowPtr = this.#buffersPtr;
    this.#expsPtr = align(this.#rowPtr + 4 * vocab, 16);
    this.#sinkPtr = this.#expsPtr + 8 * vocab;
    this.#heapPtr = this.#sinkPtr + 8 * vocab;
    this.#idsPtr = this.#heapPtr + 4 * vocab;
    this.#ensureBytes(this.#idsPtr + 4 * vocab);
    this.#vocab = vocab;
  }

  /** Copies `sink` (vocab entries) into the kernel's sink. */
  loadSink(sink: Float64Array): void {
    this.#f64.set(sink, this.#sinkPtr / 8);
  }

  /** Copies the kernel's sink back into `sink`. */
  storeSink(sink: Float64Array): void {
    sink.set(this.#f64.subarray(this.#sinkPtr / 8, this.#sinkPtr / 8 + sink.length));
  }

  /**
   * Row `row` of `logits` ([rows, vocab]; vocab as reserved): true with {@link best}, {@link max},
   * {@link rest} and {@link s} set (and the probabilities added into the loaded sink when `withSink`); false for
   * a row with NaN, +Infinity or no finite logit (nothing added: the caller reruns it in JavaScript).
   */
  row(logits: Float32Array, row: number, vocab: number, withSink: boolean): boolean {
    this.#f32.set(logits.subarray(row * vocab, (row + 1) * vocab), this.#rowPtr / 4);
    const r = this.#resultPtr;
    this.#x.row_stats(this.#rowPtr, vocab, withSink ? this.#expsPtr : 0, withSink ? this.#sinkPtr : 0, r);
    if (this.#i32[r / 4 + 1] !== 0) return false;
    this.best = this.#i32[r / 4];
    this.max = this.#f64[r / 8 + 1];
    this.rest = this.#f64[r / 8 + 2];
    this.s = this.#f64[r / 8 + 3];
    return true;
  }

  /**
   * Top-k's kept set (1 ≤ k < vocab) of the row the last {@link row} call read (which must have returned true:
   * no NaN): every index whose logit is ≥ the k-th largest, in index order, copied into `ids` (room for the
   * vocabulary); returns how many. The same set as the sampler's JavaScript scan.
   */
  topK(k: number, ids: Int32Array): number {
    const m = this.#x.top_k(this.#rowPtr, this.#vocab, k, this.#heapPtr, this.#idsPtr);
    ids.set(this.#i32.subarray(this.#idsPtr / 4, this.#idsPtr / 4 + m));
    return m;
  }

  #ensureBytes(bytes: number): void {
    const memory = this.#x.memory;
    if (memory.buffer.byteLength < bytes) {
      memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    }
    if (this.#f64.buffer !== memory.buffer) {
      this.#f32 = new Float32Array(memory.buffer);
      this.#f64 = new Float64Array(memory.buffer);
      this.#i32 = new Int32Array(memory.buffer);
    }
  }
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

let instance: RowStatsWasm | null | undefined;

/**
 * This thread's kernel, reserved for `vocab` entries; null where WebAssembly SIMD is unavailable (then
 * `scoreRows` uses the JavaScript kernel).
 */
export function rowStatsWasm(vocab: number): RowStatsWasm | null {
  if (instance === undefined) {
    const bytes = Uint8Array.from(atob(ROW_STATS_WASM_BASE64), (c) => c.charCodeAt(0));
    instance = typeof WebAssembly === "object" && WebAssembly.validate(bytes)
      ? new RowStatsWasm(
        new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as RowStatsExports,
      )
      : null;
  }
  instance?.reserve(vocab);
  return instance;
}
