/**
 * Per-position next-token statistics from a block of float32 logits (row-major `[rows, vocab]`): a float64
 * log-softmax per row giving the target's log-probability, the entropy over the full vocabulary, the
 * max-probability confidence, the argmax and whether it is the target; optionally each row's probability vector is
 * added into a caller's Float64Array (for the mean next-token distribution).
 *
 * One exp per vocabulary entry and no log per entry: with d = x − max, e = exp(d), S = Σe·d and
 * Z = 1 + R, R = Σ e over the entries other than the argmax (whose e is exactly 1),
 *   ln Z = log1p(R),   log p(t) = d(t) − ln Z,   H = ln Z − S/Z (two non-negative terms),   max p = 1/Z;
 * log1p keeps full relative precision in peaked rows, where ln(1 + 1e-8) would lose half the digits.
 * Exact zeros of p (exp underflow, or a −Infinity logit) contribute 0 to the entropy; no epsilon patch (the
 * original replaced zeros by 1e-7; docs/PAPER_QUIRKS.md, Epsilon in the entropy).
 *
 * Logits of −Infinity are accepted (masked tokens, probability 0). A row with NaN or +Infinity logits, or with
 * every logit −Infinity, has no distribution: {@link scoreRows} throws a RangeError naming the row (rows before
 * it have then been written, and added to the sink).
 *
 * The sums run in WebAssembly SIMD by default (row_stats_wasm.ts), bit-identical to the JavaScript kernel here,
 * which stays as the reference and the fallback.
 * @module
 */
import { expNonPositive } from "./exp_non_positive.ts";
import { rowStatsWasm } from "./row_stats_wasm.ts";

/** Per-position statistics of scored rows, as parallel preallocated typed arrays. */
export interface PositionStats {
  /** Number of rows the arrays hold. */
  readonly capacity: number;
  /** ln p(target) in nats; NaN when no targets were given. */
  readonly logprobNats: Float64Array;
  /** −Σ p ln p over the whole vocabulary, in nats. */
  readonly entropyNats: Float64Array;
  /** The largest probability of the row. */
  readonly confidence: Float64Array;
  /** First index of the largest logit (ties: lowest index, as torch.argmax). */
  readonly argmax: Int32Array;
  /** 1 when argmax === target, else 0 (0 when no targets were given). */
  readonly correct: Uint8Array;
}

/** Options of {@link scoreRows}. */
export interface ScoreRowsOptions {
  /** Each row's probability vector is added into it (length = vocab); reuses the row's exps. */
  distributionSink?: Float64Array;
  /** Index in `out` where row `firstRow` is written (default 0). */
  outOffset?: number;
  /**
   * `wasm` (default): the WebAssembly SIMD kernel (row_stats_wasm.ts), 2–2.5× faster; `js`: the JavaScript
   * one. Both give bit-identical results (tested).
   */
  kernel?: RowKernel;
}

/** Allocates a {@link PositionStats} for `capacity` rows. */
export function createPositionStats(capacity: number): PositionStats {
  if (!Number.isSafeInteger(capacity) || capacity < 0) {
    throw new RangeError(`capacity must be an integer ≥ 0, got ${capacity}`);
  }
  return {
    capacity,
    logprobNats: new Float64Array(capacity),
    entropyNats: new Float64Array(capacity),
    confidence: new Float64Array(capacity),
    argmax: new Int32Array(capacity),
    correct: new Uint8Array(capacity),
  };
}

// One scratch buffer for the exps of a row, reused across calls (JS runs one call at a time).
let scratch = new Float64Array(0);

/** A Float64Array of at least `n` entries, reused across calls; contents unspecified. */
export function rowScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch;
}

/** Checks the block arguments shared by the row kernels; throws a RangeError naming the bad one. */
export function checkRowBlock(logitsLength: number, vocab: number, firstRow: number, rowCount: number): void {
  if (!Number.isSafeInteger(vocab) || vocab < 1) {
    throw new RangeError(`vocab must be an integer ≥ 1, got ${vocab}`);
  }
  if (!Number.isSafeInteger(firstRow) || firstRow < 0) {
    throw new RangeError(`firstRow must be an integer ≥ 0, got ${firstRow}`);
  }
  if (!Number.isSafeInteger(rowCount) || rowCount < 0) {
    throw new RangeError(`rowCount must be an integer ≥ 0, got ${rowCount}`);
  }
  if ((firstRow + rowCount) * vocab > logitsLength) {
    throw new RangeError(
      `rows ${firstRow}..${
        firstRow + rowCount - 1
      } of vocab ${vocab} exceed the logits (${logitsLength} values)`,
    );
  }
}

/** How {@link scoreRows} computes the per-row sums; both give bit-identical results. */
export type RowKernel = "wasm" | "js";

// Sums of the last row kernel call (module state: numbers returned without an allocation).
let rowBest = 0;
let rowMax = 0;
let rowRest = 0;
let rowS = 0;

/**
 * The JavaScript row kernel: max, first argmax, rest = Σ e and s = Σ e·d over the entries other than the argmax
 * (d = x − max, e = exp d), each sum kept in four running sums by entry index mod 4 and combined as
 * (z0 + z1) + (z2 + z3) — the order of the WebAssembly kernel's two f64x2 lanes. With `sink`, the row's
 * probabilities e / (1 + rest) are added into it. Throws a RangeError for a row without a distribution.
 */
function rowSumsJs(
  logits: Float32Array,
  row: number,
  vocab: number,
  exps: Float64Array | null,
  sink: Float64Array | undefined,
): void {
  const base = row * vocab;
  // Pass 1: max and first argmax (strict > keeps the lowest index on ties; NaN never compares greater).
  let max = logits[base];
  let best = 0;
  for (let i = 1; i < vocab; i++) {
    const x = logits[base + i];
    if (x > max) {
      max = x;
      best = i;
    }
  }
  if (!(max > -Infinity && max < Infinity)) {
    throw new RangeError(`row ${row}: logits contain NaN or +Infinity, or are all -Infinity`);
  }

  // Pass 2: the only exps, over every entry but the argmax (whose exp is exactly 1), so that Z = 1 + rest and
  // ln Z = log1p(rest) keep full relative precision in peaked rows (ln(1 + 1e-8) would lose half its digits).
  let z0 = 0, z1 = 0, z2 = 0, z3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const blocks = vocab >> 2;
  const bestBlock = best >> 2;
  for (let b = 0; b < blocks; b++) {
    const i = base + 4 * b;
    const d0 = logits[i] - max, d1 = logits[i + 1] - max, d2 = logits[i + 2] - max, d3 = logits[i + 3] - max;
    let e0 = expNonPositive(d0), e1 = expNonPositive(d1), e2 = expNonPositive(d2), e3 = expNonPositive(d3);
    if (exps !== null) {
      exps[4 * b] = e0;
      exps[4 * b + 1] = e1;
      exps[4 * b + 2] = e2;
      exps[4 * b + 3] = e3;
    }
    if (b === bestBlock) {
      // The argmax's lane adds 0 (its d is 0 too): the same as leaving it out.
      const lane = best & 3;
      if (lane === 0) e0 = 0;
      else if (lane === 1) e1 = 0;
      else if (lane === 2) e2 = 0;
      else e3 = 0;
    }
    z0 += e0;
    z1 += e1;
    z2 += e2;
    z3 += e3;
    s0 += e0 * d0;
    s1 += e1 * d1;
    s2 += e2 * d2;
    s3 += e3 * d3;
  }
  for (let i = 4 * blocks; i < vocab; i++) {
    const d = logits[base + i] - max;
    const e = expNonPositive(d);
    if (exps !== null) exps[i] = e;
    if (i === best) continue;
    const lane = i & 3;
    if (lane === 0) (z0 += e), (s0 += e * d);
    else if (lane === 1) (z1 += e), (s1 += e * d);
    else (z2 += e), (s2 += e * d); // a tail has at most 3 entries: lanes 0–2
  }
  const rest = (z0 + z1) + (z2 + z3);
  if (rest !== rest) throw new RangeError(`row ${row}: logits contain NaN`);
  rowBest = best;
  rowMax = max;
  rowRest = rest;
  rowS = (s0 + s1) + (s2 + s3);
  if (sink !== undefined) {
    const invZ = 1 / (1 + rest);
    for (let i = 0; i < vocab; i++) sink[i] += exps![i] * invZ;
  }
}

/** Σ e·d of a row sequentially over the entries with d > −Infinity (p = 0 contributes 0, not 0 · −∞ = NaN). */
function sumEDFinite(logits: Float32Array, row: number, vocab: number, max: number): number {
  let s = 0;
  const base = row * vocab;
  for (let i = 0; i < vocab; i++) {
    const d = logits[base + i] - max;
    if (d > -Infinity) s += expNonPositive(d) * d;
  }
  return s;
}

/**
 * Scores `rowCount` rows starting at `firstRow` of `logits` ([rows, vocab], row-major) into `out` (at
 * `options.outOffset`, default 0). `targets[i]` is the target id of row `firstRow + i`; with `targets` null only
 * entropy, confidence and argmax are meaningful (logprob NaN, correct 0). No allocation per row.
 */
export function scoreRows(
  logits: Float32Array,
  vocab: number,
  firstRow: number,
  rowCount: number,
  targets: ArrayLike<number> | null,
  out: PositionStats,
  options: ScoreRowsOptions = {},
): void {
  checkRowBlock(logits.length, vocab, firstRow, rowCount);
  const outOffset = options.outOffset ?? 0;
  if (!Number.isSafeInteger(outOffset) || outOffset < 0 || outOffset + rowCount > out.capacity) {
    throw new RangeError(`out holds ${out.capacity} rows; cannot write ${rowCount} at offset ${outOffset}`);
  }
  if (targets !== null && targets.length < rowCount) {
    throw new RangeError(`${targets.length} targets for ${rowCount} rows`);
  }
  const sink = options.distributionSink;
  if (sink !== undefined && sink.length !== vocab) {
    throw new RangeError(`distributionSink has ${sink.length} entries, vocab is ${vocab}`);
  }
  if (targets !== null) {
    // Checked up front so a bad id leaves `out` and the sink untouched.
    for (let r = 0; r < rowCount; r++) {
      const t = targets[r];
      if (!Number.isInteger(t) || t < 0 || t >= vocab) {
        throw new RangeError(`row ${firstRow + r}: target ${t} is not a token id in [0, ${vocab})`);
      }
    }
  }
  const wasm = (options.kernel ?? "wasm") === "wasm" && rowCount > 0 ? rowStatsWasm(vocab) : null;
  const exps = sink === undefined || wasm !== null ? null : rowScratch(vocab);
  const { logprobNats, entropyNats, confidence, argmax, correct } = out;
  if (wasm !== null && sink !== undefined) wasm.loadSink(sink);

  try {
    for (let r = 0; r < rowCount; r++) {
      const row = firstRow + r;
      const o = outOffset + r;
      const target = targets === null ? -1 : targets[r];

      if (wasm !== null && wasm.row(logits, row, vocab, sink !== undefined)) {
        rowBest = wasm.best;
        rowMax = wasm.max;
        rowRest = wasm.rest;
        rowS = wasm.s;
      } else if (wasm !== null) {
        // NaN or ±Infinity where no distribution exists: the JavaScript kernel throws its error for the row.
        if (sink !== undefined) wasm.storeSink(sink);
        rowSumsJs(logits, row, vocab, sink === undefined ? null : rowScratch(vocab), sink);
        if (sink !== undefined) wasm.loadSink(sink);
      } else {
        rowSumsJs(logits, row, vocab, exps, sink);
      }
      const best = rowBest, max = rowMax, rest = rowRest;
      let s = rowS;
      // 0 · (−Infinity) = NaN: only rows with −Infinity logits take this slower pass, where p = 0 contributes 0.
      if (s !== s) s = sumEDFinite(logits, row, vocab, max);
      const z = 1 + rest;
      const logZ = Math.log1p(rest);
      entropyNats[o] = logZ - s / z;
      confidence[o] = 1 / z;
      argmax[o] = best;
      if (target >= 0) {
        logprobNats[o] = (logits[row * vocab + target] - max) - logZ;
        correct[o] = best === target ? 1 : 0;
      } else {
        logprobNats[o] = NaN;
        correct[o] = 0;
      }
    }
  } finally {
    // Rows scored before an error stay added, as with the JavaScript kernel.
    if (wasm !== null && sink !== undefined) wasm.storeSink(sink);
  }
}
