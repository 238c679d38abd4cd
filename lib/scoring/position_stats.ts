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
 * @module
 */

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

// ---- exp(d) for d ≤ 0 -------------------------------------------------------------------------------------
// Math.exp is a call into fdlibm per entry and dominates the cost (≈ 600–900 ms per 1024 × 50,304 window here);
// this table-driven version is inlined by the JIT and about 2–3× faster, within 1 ulp of Math.exp (tested).
// exp(d) = 2^q · 2^(j/64) · exp(r), k = round(d·64/ln2) = 64q + j, r = d − k·ln2/64 (Cody–Waite, |r| ≤ ln2/128),
// exp(r) − 1 by a degree-6 Taylor polynomial (truncation < 4e-17 relative).

const EXP_TABLE_BITS = 6;
const EXP_TABLE_SIZE = 1 << EXP_TABLE_BITS;
const EXP_TWO_J = new Float64Array(EXP_TABLE_SIZE); // 2^(j/64)
for (let j = 0; j < EXP_TABLE_SIZE; j++) EXP_TWO_J[j] = Math.pow(2, j / EXP_TABLE_SIZE);
const EXP_POW2_OFFSET = 1100;
const EXP_POW2 = new Float64Array(EXP_POW2_OFFSET + 1); // 2^q for q in [−1100, 0]; exact (subnormals included)
for (let q = -EXP_POW2_OFFSET; q <= 0; q++) EXP_POW2[q + EXP_POW2_OFFSET] = Math.pow(2, q);
const EXP_INV_STEP = EXP_TABLE_SIZE / Math.LN2;
const ROUND_SHIFTER = 6755399441055744; // 1.5·2^52: (x + s) − s rounds x to an integer (ties to even)
const LN2_HI_STEP = 6.93147180369123816490e-01 / EXP_TABLE_SIZE; // fdlibm's ln2_hi (32 bits): k·LN2_HI exact
const LN2_LO_STEP = 1.90821492927058770002e-10 / EXP_TABLE_SIZE;
const EXP_UNDERFLOW = -745.2; // exp(d) rounds to 0 below this
const C3 = 1 / 6, C4 = 1 / 24, C5 = 1 / 120, C6 = 1 / 720;

/** exp(d) for d ≤ 0 (and NaN → NaN), within 1 ulp of Math.exp; exp(0) is exactly 1, exp(−Infinity) is 0. */
export function expNonPositive(d: number): number {
  if (d < EXP_UNDERFLOW) return 0;
  const kf = (d * EXP_INV_STEP + ROUND_SHIFTER) - ROUND_SHIFTER;
  const r = (d - kf * LN2_HI_STEP) - kf * LN2_LO_STEP;
  const k = kf | 0; // |k| < 2^17 here; NaN d gives k = 0 and r = NaN, so NaN propagates
  const t = EXP_TWO_J[k & (EXP_TABLE_SIZE - 1)] * EXP_POW2[(k >> EXP_TABLE_BITS) + EXP_POW2_OFFSET];
  return t + t * (r + r * r * (0.5 + r * (C3 + r * (C4 + r * (C5 + r * C6)))));
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

// Sums of the last expRange calls (module state: two numbers returned without an allocation).
let restZ = 0;
let restS = 0;

/** Adds Σ e and Σ e·d over entries [from, to) of a row (d = x − max, e = exp d) into restZ / restS. */
function expRange(
  logits: Float32Array,
  base: number,
  from: number,
  to: number,
  max: number,
  exps: Float64Array | null,
): void {
  let z = restZ;
  let s = restS;
  if (exps === null) {
    for (let i = from; i < to; i++) {
      const d = logits[base + i] - max;
      const e = expNonPositive(d);
      z += e;
      s += e * d;
    }
  } else {
    for (let i = from; i < to; i++) {
      const d = logits[base + i] - max;
      const e = expNonPositive(d);
      exps[i] = e;
      z += e;
      s += e * d;
    }
  }
  restZ = z;
  restS = s;
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
  const exps = sink === undefined ? null : rowScratch(vocab);
  const { logprobNats, entropyNats, confidence, argmax, correct } = out;

  for (let r = 0; r < rowCount; r++) {
    const row = firstRow + r;
    const base = row * vocab;
    const o = outOffset + r;
    const target = targets === null ? -1 : targets[r];

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
    restZ = 0;
    restS = 0;
    expRange(logits, base, 0, best, max, exps);
    expRange(logits, base, best + 1, vocab, max, exps);
    if (exps !== null) exps[best] = 1;
    const rest = restZ;
    let s = restS;
    if (rest !== rest) throw new RangeError(`row ${row}: logits contain NaN`);
    // 0 · (−Infinity) = NaN: only rows with −Infinity logits take this slower pass, where p = 0 contributes 0.
    if (s !== s) {
      s = 0;
      for (let i = 0; i < vocab; i++) {
        const d = logits[base + i] - max;
        if (d > -Infinity) s += expNonPositive(d) * d;
      }
    }
    const z = 1 + rest;

    const logZ = Math.log1p(rest);
    entropyNats[o] = logZ - s / z;
    confidence[o] = 1 / z;
    argmax[o] = best;
    if (target >= 0) {
      logprobNats[o] = (logits[base + target] - max) - logZ;
      correct[o] = best === target ? 1 : 0;
    } else {
      logprobNats[o] = NaN;
      correct[o] = 0;
    }

    if (sink !== undefined) {
      const invZ = 1 / z;
      for (let i = 0; i < vocab; i++) sink[i] += exps![i] * invZ;
    }
  }
}
