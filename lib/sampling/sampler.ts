/**
 * The per-step core of sampling: the exact next-token distribution after temperature, top-k and top-p, and one
 * draw from it with its log-probabilities and entropy.
 *
 * Semantics follow Hugging Face transformers' logits warpers, applied in its order — temperature, then top-k,
 * then top-p — with these rules:
 * - temperature T > 0 divides the logits; T = 0 is greedy: the argmax, first index on ties (torch.argmax).
 * - top-k (0 = off, as in HF; the paper's implicit default is 50) keeps every token whose logit is ≥ the k-th
 *   largest, so tokens tied with the k-th are all kept (HF compares with `torch.topk(...)[0][..., -1]`).
 *   k ≥ vocabulary size is off.
 * - top-p (1 = off) keeps the smallest prefix of the tokens sorted by probability (renormalised over what top-k
 *   kept) whose mass reaches p: token j is kept iff the mass ranked strictly above it is < p, which is HF's
 *   "remove where the ascending cumulative mass ≤ 1 − p". The most probable token is always kept
 *   (min_tokens_to_keep = 1), so p = 0 keeps exactly one. Among equal probabilities the lower token id ranks
 *   first (torch's sort leaves that order unspecified).
 * Arithmetic is float64 on float32 logits (HF divides in float32), so results can differ from HF only where a
 * boundary sits within rounding of a tie. Logits of −Infinity are masked tokens (probability 0); NaN is an error.
 * @module
 */

import { expNonPositive } from "../scoring/exp_non_positive.ts";
import { rowStatsWasm } from "../scoring/row_stats_wasm.ts";
import type { UniformSource } from "./rng.ts";

/** Sampling settings, recorded with every result. */
export interface SamplingSettings {
  /** Temperature; 0 = greedy. */
  temperature: number;
  /** Top-k; 0 = off (the paper's implicit default is 50). */
  topK: number;
  /** Top-p (nucleus); 1 = off. */
  topP: number;
}

/** A sparse distribution over token ids, sorted by probability (descending; ties by lower id). */
export interface TokenDistribution {
  /** Token ids with non-zero probability. */
  ids: Int32Array;
  /** Their probabilities; they sum to 1. */
  probs: Float64Array;
}

/** One drawn token and its scores. */
export interface SampledToken {
  /** The token id drawn. */
  tokenId: number;
  /** log p of the token under the distribution it was drawn from (after temperature, top-k, top-p). */
  logprobSampledNats: number;
  /** log p of the token under the unfiltered model distribution at temperature 1 (the scoring path's value). */
  logprobModelNats: number;
  /** Entropy (nats) of the distribution the token was drawn from; 0 for greedy. */
  entropyNats: number;
}

/** Throws a RangeError naming the first invalid setting. */
export function validateSamplingSettings(s: SamplingSettings): void {
  if (!Number.isFinite(s.temperature) || s.temperature < 0) {
    throw new RangeError(`temperature must be a finite number ≥ 0, got ${s.temperature}`);
  }
  if (!Number.isSafeInteger(s.topK) || s.topK < 0) {
    throw new RangeError(`topK must be an integer ≥ 0 (0 = off), got ${s.topK}`);
  }
  if (!(s.topP >= 0 && s.topP <= 1)) throw new RangeError(`topP must be in [0, 1] (1 = off), got ${s.topP}`);
}

// Scratch buffers reused across calls (JS runs one call at a time), so a step allocates nothing.
let heap = new Float64Array(0); // top-k min-heap of logits
let ids = new Int32Array(0); // kept candidates, sorted by logit when filtered
let weights = new Float64Array(0); // exp((x − max) / T) of the candidates
let exps = new Float64Array(0); // exp((x − max) / T) of the whole row, when filtering needs it

// Results of `prepare`, read by its callers.
let keptCount = 0; // candidates kept (ids/weights[0, keptCount)); the whole row when `fullRow`
let fullRow = false; // no filter active: the kept set is the row itself in id order, weights in `exps`
let rowMax = 0; // max logit of the row
let keptZ = 0; // Σ weights over the kept set
let keptS = 0; // Σ weight · d over the kept set (d = (x − max) / T), for the entropy

function rowMaxOf(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const x = row[i];
    if (x > max) max = x;
    else if (x !== x) throw new RangeError(`logit ${i} is NaN`);
  }
  if (max === -Infinity) throw new RangeError("every logit is -Infinity (or the row is empty)");
  if (max === Infinity) throw new RangeError("a logit is +Infinity");
  return max;
}

function argmaxOf(row: Float32Array): number {
  let best = 0;
  let bestX = row[0];
  for (let i = 1; i < row.length; i++) {
    if (row[i] > bestX) {
      bestX = row[i];
      best = i;
    }
  }
  return best;
}

/**
 * Top-k's kept set, in id order, into ids[0, returned count): every id whose logit is ≥ the k-th largest. One
 * pass with a size-k min-heap of logits, which also records each id that reached the heap's minimum when read
 * (a superset of the kept set: the minimum only rises, so an id below it then is below the final k-th largest);
 * the few recorded ids (≈ k·ln(n/k) on unordered logits) are then filtered by the final threshold.
 */
function topKCandidates(row: Float32Array, k: number): number {
  const n = row.length;
  if (heap.length < k) heap = new Float64Array(k);
  ensureCandidates(n);
  const h = heap;
  for (let i = 0; i < k; i++) {
    h[i] = row[i];
    ids[i] = i;
  }
  let recorded = k;
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(h, k, i);
  for (let i = k; i < n; i++) {
    const x = row[i];
    if (x >= h[0]) {
      ids[recorded++] = i;
      if (x > h[0]) {
        h[0] = x;
        siftDown(h, k, 0);
      }
    }
  }
  const threshold = h[0];
  let m = 0;
  for (let j = 0; j < recorded; j++) if (row[ids[j]] >= threshold) ids[m++] = ids[j];
  return m;
}

function siftDown(h: Float64Array, n: number, i: number): void {
  const x = h[i];
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && h[c + 1] < h[c]) c++;
    if (h[c] >= x) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = x;
}

function ensureCandidates(n: number): void {
  if (ids.length < n) {
    ids = new Int32Array(n);
    weights = new Float64Array(n);
  }
}

let sortKeys = new Float64Array(0);
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
const ID_BITS = 2 ** 20; // ids below this pack beside a 32-bit logit key into one exact float64 (< 2^52)

/** Sorts ids[0, m) by logit, descending, lower id first on ties. */
function sortCandidates(row: Float32Array, m: number): void {
  if (row.length > ID_BITS) {
    // −Infinity − −Infinity is NaN, which falls through to the id order.
    ids.subarray(0, m).sort((a, b) => (row[b] - row[a]) || (a - b));
    return;
  }
  // A native numeric sort of packed keys is several times faster than a comparator sort: the float32's bits,
  // mapped to an order-preserving uint32 u, give key = (2^32 − 1 − u)·2^20 + id, ascending = (x desc, id asc).
  if (sortKeys.length < m) sortKeys = new Float64Array(ids.length);
  for (let j = 0; j < m; j++) {
    f32[0] = row[ids[j]] + 0; // + 0 turns −0 into +0, which torch treats as equal
    const bits = f32Bits[0];
    const u = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
    sortKeys[j] = (0xffffffff - u) * ID_BITS + ids[j];
  }
  const keys = sortKeys.subarray(0, m).sort();
  for (let j = 0; j < m; j++) ids[j] = keys[j] % ID_BITS;
}

/**
 * Fills the module's result variables with the kept set of `row` under `s` (T > 0); `max` is the row's maximum
 * ({@link rowMaxOf}, or the model log-normaliser's, which is the same number). `keptIds`: top-k's kept set
 * already found (in id order, by the WebAssembly kernel: the same set, a few times faster), used instead of the
 * JavaScript scan.
 */
function prepare(
  row: Float32Array,
  s: SamplingSettings,
  max: number,
  keptIds: Int32Array | null = null,
): void {
  const n = row.length;
  const invT = 1 / s.temperature;
  rowMax = max;
  const topKOn = s.topK > 0 && s.topK < n;
  const topPOn = s.topP < 1;
  let m: number;
  let z = 0; // the mass top-p is measured against: over top-k's set, or the whole row
  if (topKOn) {
    if (keptIds !== null) {
      ensureCandidates(n);
      if (keptIds.buffer !== ids.buffer) ids.set(keptIds); // sampleToken's kept set is in `ids` already
      m = keptIds.length;
    } else {
      m = topKCandidates(row, s.topK);
    }
    sortCandidates(row, m);
    for (let j = 0; j < m; j++) {
      const w = expNonPositive((row[ids[j]] - max) * invT);
      weights[j] = w;
      z += w;
    }
  } else {
    if (exps.length < n) exps = new Float64Array(n);
    let sd = 0;
    for (let i = 0; i < n; i++) {
      const d = (row[i] - max) * invT;
      const w = expNonPositive(d);
      exps[i] = w;
      z += w;
      if (w > 0) sd += w * d;
    }
    if (!topPOn) {
      fullRow = true;
      keptCount = n;
      keptZ = z;
      keptS = sd;
      return;
    }
    // Top-p keeps a prefix of the sorted row; find a logit cut {d ≥ −c} holding ≥ p of the mass (a superset
    // of that prefix) by doubling c, so only the cut is sorted, not the whole row.
    const target = s.topP * z;
    let c = 1; // small first: a peaked row then needs a tiny cut; each try is one cheap pass
    for (;;) {
      let mass = 0;
      for (let i = 0; i < n; i++) if ((row[i] - max) * invT >= -c) mass += exps[i];
      if (mass >= target || c > 1e300) break;
      c *= 2;
    }
    ensureCandidates(n);
    m = 0;
    for (let i = 0; i < n; i++) if ((row[i] - max) * invT >= -c) ids[m++] = i;
    sortCandidates(row, m);
    for (let j = 0; j < m; j++) weights[j] = exps[ids[j]];
  }
  if (topPOn) {
    const target = s.topP * z;
    let kept = 1;
    let prefix = weights[0];
    while (kept < m && prefix < target) prefix += weights[kept++];
    m = kept;
  }
  while (m > 1 && weights[m - 1] === 0) m--; // masked tokens top-k had to include
  let zk = 0;
  let sk = 0;
  for (let j = 0; j < m; j++) {
    const w = weights[j];
    zk += w;
    if (w > 0) sk += w * (row[ids[j]] - max) * invT;
  }
  fullRow = false;
  keptCount = m;
  keptZ = zk;
  keptS = sk;
}

/**
 * The exact distribution `sampleToken` draws from for `logitsRow` (one vocabulary row of float32 logits, e.g. a
 * subarray of the model's output), sorted by probability. Allocates its result; with no filter active it sorts
 * the whole row (≈ tens of ms at 50k entries) — meant for inspection and tests, not the generation loop.
 */
export function nextTokenDistribution(
  logitsRow: Float32Array,
  settings: SamplingSettings,
): TokenDistribution {
  validateSamplingSettings(settings);
  if (settings.temperature === 0) {
    rowMaxOf(logitsRow);
    return { ids: Int32Array.of(argmaxOf(logitsRow)), probs: Float64Array.of(1) };
  }
  prepare(logitsRow, settings, rowMaxOf(logitsRow));
  if (fullRow) {
    const n = logitsRow.length;
    ensureCandidates(n);
    let m = 0;
    for (let i = 0; i < n; i++) if (exps[i] > 0) ids[m++] = i;
    sortCandidates(logitsRow, m);
    const probs = new Float64Array(m);
    for (let j = 0; j < m; j++) probs[j] = exps[ids[j]] / keptZ;
    return { ids: ids.slice(0, m), probs };
  }
  const probs = new Float64Array(keptCount);
  for (let j = 0; j < keptCount; j++) probs[j] = weights[j] / keptZ;
  return { ids: ids.slice(0, keptCount), probs };
}

/**
 * What a draw needs of a row besides the row itself: the model normaliser, the first argmax and, with top-k on,
 * its kept set. {@link sampleToken} finds it with {@link prepareRow}; another thread may find it beforehand with
 * the same kernel (sampler_helper.ts), and {@link sampleTokenPrepared} with it returns what sampleToken returns.
 */
export interface PreparedRow {
  /** The row's largest logit. */
  max: number;
  /** log Σ exp(x − max) over the row (temperature 1, no filter). */
  logZ: number;
  /** The first index of the largest logit; −1 when not found yet (the draw then finds it if it needs it). */
  best: number;
  /** Top-k's kept set in id order (every id whose logit is ≥ the k-th largest), or null: none found yet. */
  keptIds: Int32Array | null;
}

/** The k whose kept set a draw under `settings` needs from a row of `vocab` logits; 0 when top-k is off. */
export function topKToScan(settings: SamplingSettings, vocab: number): number {
  return settings.temperature > 0 && settings.topK > 0 && settings.topK < vocab ? settings.topK : 0;
}

/**
 * The WebAssembly kernel's {@link PreparedRow} of `row`, with top-k's kept set for `k` ({@link topKToScan}; 0:
 * none) written into `keptOut` (room for the kept set); null where the kernel is missing or the row has no
 * distribution (NaN or +Infinity: {@link sampleToken} then throws on its own). The kernel's normaliser is
 * log1p of the sum over every entry but the argmax, whose exp is exactly 1: the number scoring gives, to its
 * rounding. Its full-vocabulary exp pass is most of a sampling step's CPU time.
 */
export function prepareRow(row: Float32Array, k: number, keptOut: Int32Array): PreparedRow | null {
  const kernel = rowStatsWasm(row.length);
  if (kernel === null || !kernel.row(row, 0, row.length, false)) return null;
  const m = k > 0 ? kernel.topK(k, keptOut) : 0;
  return {
    max: kernel.max,
    logZ: Math.log1p(kernel.rest),
    best: kernel.best,
    keptIds: k > 0 ? keptOut.subarray(0, m) : null,
  };
}

/** {@link prepareRow} in JavaScript, without the argmax or a kept set; throws for a row without a distribution. */
function prepareRowJs(row: Float32Array): PreparedRow {
  const max = rowMaxOf(row);
  let z = 0;
  for (let i = 0; i < row.length; i++) z += expNonPositive(row[i] - max);
  return { max, logZ: Math.log(z), best: -1, keptIds: null };
}

/**
 * Draws one token from `nextTokenDistribution(logitsRow, settings)` with one `rng.nextFloat64()` (none when
 * greedy): u·Z is located on the cumulative weights, walked in the kept set's order — by probability when a
 * filter is active, by token id when none is (which spares a sort of the whole row).
 */
export function sampleToken(
  logitsRow: Float32Array,
  settings: SamplingSettings,
  rng: UniformSource,
): SampledToken {
  validateSamplingSettings(settings);
  ensureCandidates(logitsRow.length); // top-k's kept set is written straight into the draw's candidates
  const prepared = prepareRow(logitsRow, topKToScan(settings, logitsRow.length), ids) ??
    prepareRowJs(logitsRow);
  return draw(logitsRow, settings, rng, prepared);
}

/**
 * {@link sampleToken} for a row whose {@link PreparedRow} is already known (from {@link prepareRow} on this row
 * with {@link topKToScan} of these settings): the same token, log-probabilities and entropy.
 */
export function sampleTokenPrepared(
  logitsRow: Float32Array,
  settings: SamplingSettings,
  rng: UniformSource,
  prepared: PreparedRow,
): SampledToken {
  validateSamplingSettings(settings);
  return draw(logitsRow, settings, rng, prepared);
}

/** The draw of {@link sampleToken} from a prepared row. */
function draw(
  logitsRow: Float32Array,
  settings: SamplingSettings,
  rng: UniformSource,
  prepared: PreparedRow,
): SampledToken {
  const { max: modelMax, logZ: modelLogZ } = prepared;
  if (settings.temperature === 0) {
    const tokenId = prepared.best >= 0 ? prepared.best : argmaxOf(logitsRow);
    return {
      tokenId,
      logprobSampledNats: 0,
      logprobModelNats: (logitsRow[tokenId] - modelMax) - modelLogZ,
      entropyNats: 0,
    };
  }
  prepare(logitsRow, settings, modelMax, prepared.keptIds);
  const u = rng.nextFloat64() * keptZ;
  let tokenId = -1;
  let cum = 0;
  if (fullRow) {
    for (let i = 0; i < keptCount; i++) {
      const e = exps[i];
      if (e > 0) {
        tokenId = i;
        cum += e;
        if (cum > u) break; // rounding can leave u ≥ the final sum: then the last positive weight wins
      }
    }
  } else {
    for (let j = 0; j < keptCount; j++) {
      const e = weights[j];
      if (e > 0) {
        tokenId = ids[j];
        cum += e;
        if (cum > u) break;
      }
    }
  }
  const logZ = Math.log(keptZ);
  const max = rowMax;
  return {
    tokenId,
    logprobSampledNats: (logitsRow[tokenId] - max) / settings.temperature - logZ,
    logprobModelNats: (logitsRow[tokenId] - max) - modelLogZ,
    entropyNats: Math.max(0, logZ - keptS / keptZ),
  };
}
