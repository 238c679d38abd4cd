/**
 * How far a fine-tuned model's next-token distribution moved from its base model's at the same position:
 * KL(base ‖ tuned), the Jensen–Shannon divergence (natural log, mixture m = (p + q)/2) and whether the argmax
 * changed. Both rows come from float32 logits through a float64 log-softmax, one exp per entry and distribution.
 *
 * KL = Σ eₚ·(dₚ − d_q) / Zₚ − ln Zₚ + ln Z_q from the shifted logits d and their exps e (no log per entry;
 * exactly 0 for equal rows).
 * JS is summed from non-negative terms, ¼·Σ (p + q)·g(u) with u = (q − p)/(q + p) and
 * g(u) = (1 + u)ln(1 + u) + (1 − u)ln(1 − u) (a series near u = 0), so it is ≥ 0, exactly 0 for equal rows and
 * accurate relative to its own size even when the two distributions are close (no H(m) − H/2 cancellation).
 *
 * Conventions: entries with p = 0 contribute 0 to KL (also when exp underflows); p > 0 where the tuned logit is
 * −Infinity gives KL = +Infinity. Rows with NaN or +Infinity logits, or all −Infinity, throw a RangeError.
 * @module
 */
import { expNonPositive } from "./exp_non_positive.ts";
import { checkRowBlock } from "./position_stats.ts";

/** Divergence of one position. */
export interface RowDivergence {
  /** KL(base ‖ tuned) in nats. */
  klNats: number;
  /** Jensen–Shannon divergence in nats (0 ≤ JS ≤ ln 2). */
  jsNats: number;
  /** The two argmaxes (first index of the max) differ. */
  argmaxChanged: boolean;
}

/** Per-position divergences of a block of rows, as parallel preallocated typed arrays. */
export interface DivergenceStats {
  /** Number of rows the arrays hold. */
  readonly capacity: number;
  /** KL(base ‖ tuned) in nats. */
  readonly klNats: Float64Array;
  /** Jensen–Shannon divergence in nats. */
  readonly jsNats: Float64Array;
  /** 1 where the argmax changed, else 0. */
  readonly argmaxChanged: Uint8Array;
}

/** Allocates a {@link DivergenceStats} for `capacity` rows. */
export function createDivergenceStats(capacity: number): DivergenceStats {
  if (!Number.isSafeInteger(capacity) || capacity < 0) {
    throw new RangeError(`capacity must be an integer ≥ 0, got ${capacity}`);
  }
  return {
    capacity,
    klNats: new Float64Array(capacity),
    jsNats: new Float64Array(capacity),
    argmaxChanged: new Uint8Array(capacity),
  };
}

const LN2 = Math.LN2;
const JS_SERIES_LIMIT = 0.1; // below it the series' 9th term is < 1e-18 of the first

/** g(u) = (1 + u)ln(1 + u) + (1 − u)ln(1 − u) for u in [−1, 1]; ≥ 0, g(0) = 0, g(±1) = 2 ln 2. */
export function jsKernel(u: number): number {
  if (u > -JS_SERIES_LIMIT && u < JS_SERIES_LIMIT) {
    // Σ_k u^(2k) / (k(2k − 1)): no cancellation near 0, where the log form loses every digit.
    const w = u * u;
    return w *
      (1 + w * (1 / 6 + w * (1 / 15 + w * (1 / 28 + w * (1 / 45 + w * (1 / 66 + w * (1 / 91 + w / 120)))))));
  }
  if (u === 1 || u === -1) return 2 * LN2; // (1 − |u|)·ln 0 is 0·(−∞) in floating point
  return (1 + u) * Math.log1p(u) + (1 - u) * Math.log1p(-u);
}

let expsBase = new Float64Array(0);
let expsTuned = new Float64Array(0);
// Results of the last divergeRow call (module state instead of an object per row).
let lastKl = 0;
let lastJs = 0;
let lastChanged = false;

function divergeRow(a: Float32Array, b: Float32Array, vocab: number, row: number): void {
  const base = row * vocab;
  if (expsBase.length < vocab) {
    expsBase = new Float64Array(vocab);
    expsTuned = new Float64Array(vocab);
  }
  const ea = expsBase;
  const eb = expsTuned;

  let ma = a[base];
  let mb = b[base];
  let ia = 0;
  let ib = 0;
  for (let i = 1; i < vocab; i++) {
    const xa = a[base + i];
    const xb = b[base + i];
    if (xa > ma) {
      ma = xa;
      ia = i;
    }
    if (xb > mb) {
      mb = xb;
      ib = i;
    }
  }

  if (!(ma > -Infinity && ma < Infinity)) {
    throw new RangeError(`row ${row}: base logits contain NaN or +Infinity, or are all -Infinity`);
  }
  if (!(mb > -Infinity && mb < Infinity)) {
    throw new RangeError(`row ${row}: tuned logits contain NaN or +Infinity, or are all -Infinity`);
  }

  let s = 0;
  for (let i = 0; i < vocab; i++) {
    const da = a[base + i] - ma;
    const db = b[base + i] - mb;
    const x = expNonPositive(da);
    ea[i] = x;
    eb[i] = expNonPositive(db);
    s += x * (da - db);
  }
  // Z = 1 + Σ over the other entries (the argmax's exp is exactly 1): ln Z = log1p(rest) keeps peaked rows exact.
  let restA = 0;
  let restB = 0;
  for (let i = 0; i < ia; i++) restA += ea[i];
  for (let i = ia + 1; i < vocab; i++) restA += ea[i];
  for (let i = 0; i < ib; i++) restB += eb[i];
  for (let i = ib + 1; i < vocab; i++) restB += eb[i];
  if (restA !== restA) throw new RangeError(`row ${row}: base logits contain NaN`);
  if (restB !== restB) throw new RangeError(`row ${row}: tuned logits contain NaN`);
  if (s !== s) {
    // 0·(±∞) from −Infinity logits: recompute with p = 0 contributing 0.
    s = 0;
    for (let i = 0; i < vocab; i++) {
      if (ea[i] > 0) s += ea[i] * ((a[base + i] - ma) - (b[base + i] - mb));
    }
  }
  const za = 1 + restA;
  const zb = 1 + restB;
  const logZa = Math.log1p(restA);
  const logZb = Math.log1p(restB);
  const kl = s / za - logZa + logZb;
  lastKl = kl > 0 ? kl : 0; // ≥ 0 mathematically; rounding may give −1e-17

  // JS: (p + q)·g(u) per entry. Near u = 0 the series; elsewhere the equal form 2[p ln(2p/(p+q)) + q ln(2q/(p+q))]
  // with ln p, ln q from the logits, which costs one log per entry instead of two log1p.
  const invA = 1 / za;
  const invB = 1 / zb;
  let acc = 0;
  for (let i = 0; i < vocab; i++) {
    const p = ea[i] * invA;
    const q = eb[i] * invB;
    const sum = p + q;
    if (!(sum > 0)) continue;
    const diff = q - p;
    if (diff < JS_SERIES_LIMIT * sum && diff > -JS_SERIES_LIMIT * sum) {
      acc += sum * jsKernel(diff / sum);
    } else if (p === 0 || q === 0) {
      acc += sum * (2 * LN2);
    } else {
      const lmHalf = Math.log(sum) - LN2;
      const lp = (a[base + i] - ma) - logZa;
      const lq = (b[base + i] - mb) - logZb;
      acc += 2 * (p * (lp - lmHalf) + q * (lq - lmHalf));
    }
  }
  const js = acc / 4;
  lastJs = js > 0 ? (js < LN2 ? js : LN2) : 0;
  lastChanged = ia !== ib;
}

function checkPair(
  base: Float32Array,
  tuned: Float32Array,
  vocab: number,
  firstRow: number,
  rowCount: number,
) {
  checkRowBlock(base.length, vocab, firstRow, rowCount);
  checkRowBlock(tuned.length, vocab, firstRow, rowCount);
}

/** KL(base ‖ tuned), Jensen–Shannon and argmax change at `row` of two `[rows, vocab]` float32 logit buffers. */
export function rowDivergence(
  logitsBase: Float32Array,
  logitsTuned: Float32Array,
  vocab: number,
  row: number,
): RowDivergence {
  checkPair(logitsBase, logitsTuned, vocab, row, 1);
  divergeRow(logitsBase, logitsTuned, vocab, row);
  return { klNats: lastKl, jsNats: lastJs, argmaxChanged: lastChanged };
}

/**
 * Divergences of rows `firstRow … firstRow + rowCount − 1` of two `[rows, vocab]` logit buffers into `out`,
 * starting at `outOffset`. No allocation per row.
 */
export function divergeRows(
  logitsBase: Float32Array,
  logitsTuned: Float32Array,
  vocab: number,
  firstRow: number,
  rowCount: number,
  out: DivergenceStats,
  outOffset = 0,
): void {
  checkPair(logitsBase, logitsTuned, vocab, firstRow, rowCount);
  if (!Number.isSafeInteger(outOffset) || outOffset < 0 || outOffset + rowCount > out.capacity) {
    throw new RangeError(`out holds ${out.capacity} rows; cannot write ${rowCount} at offset ${outOffset}`);
  }
  for (let r = 0; r < rowCount; r++) {
    divergeRow(logitsBase, logitsTuned, vocab, firstRow + r);
    const o = outOffset + r;
    out.klNats[o] = lastKl;
    out.jsNats[o] = lastJs;
    out.argmaxChanged[o] = lastChanged ? 1 : 0;
  }
}
