/**
 * Exact running sums of float64 values: {@link ExactSum} for scalars (Shewchuk partials, as lib/numeric/fsum.ts)
 * and {@link ExactVector} for per-entry sums of vectors. The state always represents the exact sum, so sums added in
 * any order or split and merged give bit-identical results; each serialises bit-exactly.
 * @module
 */
import { fsum, growPartials } from "../numeric/fsum.ts";
import { f64ArrayToBase64, f64ToHex } from "../numeric/float64_codec.ts";
import {
  AccumulatorFormatError,
  readCount,
  readF64Array,
  readFinitePartial,
  readHex,
  readObject,
} from "./accumulator_fields.ts";

/** Serialised {@link ExactSum}: hex float64 partials and the sum of non-finite addends. */
export interface ExactSumJson {
  partials: string[];
  special: string;
}

/** An exact running sum of float64 values (Shewchuk partials); {@link value} is the correctly rounded sum. */
export class ExactSum {
  #partials: number[] = [];
  #special = 0; // non-finite addends (±∞, NaN) summed apart, as math.fsum does; their sum is order independent

  /** Adds `x` exactly. */
  add(x: number): void {
    if (Number.isFinite(x)) growPartials(this.#partials, x);
    else this.#special += x;
  }

  /** Adds another exact sum exactly. */
  addSum(other: ExactSum): void {
    for (const p of other.#partials) growPartials(this.#partials, p);
    this.#special += other.#special;
  }

  /** The correctly rounded sum (or the non-finite result when a non-finite value was added). */
  value(): number {
    return this.#special !== 0 ? this.#special : fsum(this.#partials);
  }

  /** Bit-exact serialisation. */
  toJSON(): ExactSumJson {
    return { partials: this.#partials.map(f64ToHex), special: f64ToHex(this.#special) };
  }

  /** Reads {@link toJSON}'s output; throws an {@link AccumulatorFormatError} naming `path` when malformed. */
  static fromJSON(json: unknown, path: string): ExactSum {
    const o = readObject(json, path, ["partials", "special"]);
    if (!Array.isArray(o.partials)) throw new AccumulatorFormatError(`${path}.partials`, "expected an array");
    const sum = new ExactSum();
    // Kept as stored, so a round trip is bit-exact. Each grow step is an error-free transformation whatever the
    // list, and value() re-sums the list with fsum, so a list not in Shewchuk's canonical form still sums exactly:
    // only finiteness needs checking.
    sum.#partials = o.partials.map((h, i) => readFinitePartial(h, `${path}.partials[${i}]`));
    const special = readHex(o.special, `${path}.special`);
    if (Number.isFinite(special) && special !== 0) {
      throw new AccumulatorFormatError(`${path}.special`, "must be 0, ±Infinity or NaN");
    }
    sum.#special = special;
    return sum;
  }
}

/** Serialised {@link ExactVector}. */
export interface ExactVectorJson {
  /** Base64 of the little-endian float64 high parts. */
  hi: string;
  /** Base64 of the little-endian float64 low parts. */
  lo: string;
  /** Entries whose sum needed more than hi + lo: [index, hex partials]. */
  overflow: [number, string[]][];
}

/**
 * Per-entry exact sums of finite float64 vectors (here: the per-document summed next-token distributions).
 *
 * Why this scheme: a plain double-double (TwoSum into hi, errors added into lo) is exact only while the lo
 * additions are; it is not when one entry receives addends whose magnitudes span more than ~2^53 (rare tokens
 * with per-document partials from 1e-25 to 1e-5), and then merge orders could differ in the last bit. Here the
 * lo addition is itself a TwoSum and its (rare) rounding error goes to a per-entry list of Shewchuk partials, so
 * hi + lo + Σ overflow is always the exact sum, at the cost of two TwoSums per entry per document (≈ 0.15 ms
 * per vector of V = 50,304 entries); an entry's overflow list is bounded by the float64 exponent range
 * (non-overlapping partials: at most ~40), never by the number of documents, and is empty for typical entries.
 * A fixed-size superaccumulator (~67 words per entry) would be exact too, but ~30× larger in memory and in every
 * checkpoint.
 */
export class ExactVector {
  /** High parts. */
  readonly hi: Float64Array;
  /** Low parts. */
  readonly lo: Float64Array;
  /** Shewchuk partials of the entries that needed them. */
  readonly overflow: Map<number, number[]> = new Map();

  constructor(length: number) {
    this.hi = new Float64Array(length);
    this.lo = new Float64Array(length);
  }

  /** Adds `x` to entry `i` exactly. */
  addAt(i: number, x: number): void {
    const a = this.hi[i];
    const s = a + x;
    const bv = s - a;
    const e = (a - (s - bv)) + (x - bv); // TwoSum: a + x = s + e exactly
    this.hi[i] = s;
    if (e !== 0) {
      const l = this.lo[i];
      const t = l + e;
      const bl = t - l;
      const e2 = (l - (t - bl)) + (e - bl);
      this.lo[i] = t;
      if (e2 !== 0) this.#spill(i, e2);
    }
  }

  #spill(i: number, x: number): void {
    let list = this.overflow.get(i);
    if (list === undefined) this.overflow.set(i, list = []);
    growPartials(list, x);
    if (list.length === 0) this.overflow.delete(i);
  }

  /** Adds `values` (same length) entry by entry, exactly. */
  addVector(values: Float64Array): void {
    const hi = this.hi;
    const lo = this.lo;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      const a = hi[i];
      const s = a + x;
      const bv = s - a;
      const e = (a - (s - bv)) + (x - bv);
      hi[i] = s;
      if (e !== 0) {
        const l = lo[i];
        const t = l + e;
        const bl = t - l;
        const e2 = (l - (t - bl)) + (e - bl);
        lo[i] = t;
        if (e2 !== 0) this.#spill(i, e2);
      }
    }
  }

  /** Adds another exact vector exactly. */
  addExact(other: ExactVector): void {
    this.addVector(other.hi);
    this.addVector(other.lo);
    for (const [i, list] of other.overflow) for (const p of list) this.addAt(i, p);
  }

  /** The correctly rounded sums. */
  values(): Float64Array {
    const out = new Float64Array(this.hi.length);
    for (let i = 0; i < out.length; i++) out[i] = this.hi[i] + this.lo[i]; // exact sum hi + lo, rounded once
    for (const [i, list] of this.overflow) out[i] = fsum([this.hi[i], this.lo[i], ...list]);
    return out;
  }

  /** Bit-exact serialisation. */
  toJSON(): ExactVectorJson {
    const overflow: [number, string[]][] = [...this.overflow.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([i, list]) => [i, list.map(f64ToHex)]);
    return { hi: f64ArrayToBase64(this.hi), lo: f64ArrayToBase64(this.lo), overflow };
  }

  /** Reads {@link toJSON}'s output for vectors of `length` entries; throws naming `path` when malformed. */
  static fromJSON(json: unknown, path: string, length: number): ExactVector {
    const o = readObject(json, path, ["hi", "lo", "overflow"]);
    const v = new ExactVector(length);
    v.hi.set(readF64Array(o.hi, `${path}.hi`, length, true));
    v.lo.set(readF64Array(o.lo, `${path}.lo`, length, true));
    if (!Array.isArray(o.overflow)) throw new AccumulatorFormatError(`${path}.overflow`, "expected an array");
    for (let k = 0; k < o.overflow.length; k++) {
      const p = `${path}.overflow[${k}]`;
      const item = o.overflow[k];
      if (!Array.isArray(item) || item.length !== 2 || !Array.isArray(item[1])) {
        throw new AccumulatorFormatError(p, "expected [index, [hex partials]]");
      }
      const i = readCount(item[0], `${p}[0]`);
      if (i >= length) throw new AccumulatorFormatError(`${p}[0]`, `index ${i} ≥ vocab ${length}`);
      if (v.overflow.has(i)) throw new AccumulatorFormatError(`${p}[0]`, `index ${i} listed twice`);
      const list = item[1].map((h: unknown, j: number) => readFinitePartial(h, `${p}[1][${j}]`)); // as stored
      if (list.length > 0) v.overflow.set(i, list);
    }
    return v;
  }
}
