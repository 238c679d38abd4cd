/**
 * Bit-exact text encodings of float64 values: 16 hex digits of one value's bits, and base64 of an array's
 * little-endian bytes. Both round-trip every value incl. −0, NaN payloads and ±∞ (JSON numbers do not).
 * @module
 */
import { Buffer } from "node:buffer";

const f64View = new DataView(new ArrayBuffer(8));

/** The 16 hex digits of a float64's bits (big-endian), which round-trip every value incl. −0, NaN and ±∞. */
export function f64ToHex(x: number): string {
  f64View.setFloat64(0, x);
  return f64View.getUint32(0).toString(16).padStart(8, "0") +
    f64View.getUint32(4).toString(16).padStart(8, "0");
}

/** Inverse of {@link f64ToHex}; undefined when `s` is not 16 hex digits. */
export function hexToF64(s: unknown): number | undefined {
  if (typeof s !== "string" || !/^[0-9a-f]{16}$/.test(s)) return undefined;
  f64View.setUint32(0, parseInt(s.slice(0, 8), 16));
  f64View.setUint32(4, parseInt(s.slice(8), 16));
  return f64View.getFloat64(0);
}

/** Base64 of a Float64Array's values as little-endian bytes. */
export function f64ArrayToBase64(values: Float64Array): string {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
  return Buffer.from(bytes).toString("base64");
}

/** Inverse of {@link f64ArrayToBase64}; undefined when `s` is not canonical base64 of a multiple of 8 bytes. */
export function base64ToF64Array(s: unknown): Float64Array | undefined {
  // Buffer's decoder skips invalid characters, so the alphabet and padding are checked first.
  if (typeof s !== "string" || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const bytes = Buffer.from(s, "base64");
  if (bytes.length % 8 !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}
