/**
 * The `accumulator/1` format tag, its error, and the field readers of its JSON: each checks one value and throws an
 * {@link AccumulatorFormatError} naming the field's path.
 * @module
 */
import { base64ToF64Array, hexToF64 } from "../numeric/float64_codec.ts";

/** The format tag of serialised accumulators. */
export const ACCUMULATOR_FORMAT = "accumulator/1";

/** Thrown for a malformed or inconsistent accumulator serialisation; the message names the field. */
export class AccumulatorFormatError extends Error {
  constructor(path: string, detail: string) {
    super(`${ACCUMULATOR_FORMAT}: ${path}: ${detail}`);
    this.name = "AccumulatorFormatError";
  }
}

/** An object with exactly the fields `keys` (none missing, none unknown). */
export function readObject<K extends string>(
  x: unknown,
  path: string,
  keys: readonly K[],
): Record<K, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) {
    throw new AccumulatorFormatError(path, `expected an object, got ${x === null ? "null" : typeof x}`);
  }
  const o = x as Record<string, unknown>;
  const prefix = path === "(root)" ? "" : `${path}.`;
  for (const k of keys) if (!(k in o)) throw new AccumulatorFormatError(`${prefix}${k}`, "missing");
  for (const k of Object.keys(o)) {
    if (!(keys as readonly string[]).includes(k)) {
      throw new AccumulatorFormatError(`${prefix}${k}`, "unknown field");
    }
  }
  return o as Record<K, unknown>;
}

/** An integer ≥ 0. */
export function readCount(x: unknown, path: string): number {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) {
    throw new AccumulatorFormatError(path, `expected an integer ≥ 0, got ${JSON.stringify(x)}`);
  }
  return x;
}

/** An array of `length` integers ≥ 0. */
export function readCountArray(x: unknown, path: string, length: number): number[] {
  if (!Array.isArray(x)) throw new AccumulatorFormatError(path, "expected an array");
  if (x.length !== length) {
    throw new AccumulatorFormatError(path, `expected ${length} entries, got ${x.length}`);
  }
  return x.map((v, i) => readCount(v, `${path}[${i}]`));
}

/** A float64 written as the 16 hex digits of its bits. */
export function readHex(x: unknown, path: string): number {
  const v = hexToF64(x);
  if (v === undefined) {
    throw new AccumulatorFormatError(
      path,
      `expected 16 lowercase hex digits (float64 bits), got ${JSON.stringify(x)}`,
    );
  }
  return v;
}

/** A finite Shewchuk partial, as hex float64 bits. */
export function readFinitePartial(x: unknown, path: string): number {
  const v = readHex(x, path);
  if (!Number.isFinite(v)) throw new AccumulatorFormatError(path, `partial is not finite (${v})`);
  return v;
}

/** `length` float64 values as base64 of their little-endian bytes; all finite when `finite` is set. */
export function readF64Array(x: unknown, path: string, length: number, finite: boolean): Float64Array {
  const v = base64ToF64Array(x);
  if (v === undefined) {
    throw new AccumulatorFormatError(path, "expected base64 of little-endian float64 values");
  }
  if (v.length !== length) {
    throw new AccumulatorFormatError(
      path,
      `expected ${length} float64 values (${length * 8} bytes), got ${v.length}`,
    );
  }
  if (finite) {
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new AccumulatorFormatError(`${path}[${i}]`, `not finite (${v[i]})`);
    }
  }
  return v;
}
