/**
 * A protobuf message's fields as a list (where each lies, for copying or editing), and the encoders for writing
 * fields back: what the ONNX graph edits (onnx_graph_outputs.ts, onnx_kv_buffer_graph.ts) build on.
 * @module
 */
import { Buffer } from "node:buffer";
import { bufferBytes, forEachField, type ProtobufBytes } from "./protobuf_fields.ts";

/** One field of a message: its number and wire type, where it lies (tag included) and its payload. */
export interface WireField {
  /** Field number. */
  field: number;
  /** Wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
  wire: number;
  /** Start of the tag. */
  start: number;
  /** Start of the value (a length-delimited field's payload, after its length). */
  from: number;
  /** End of the field. */
  end: number;
  /** A varint field's value (exact below 2^53). */
  varint: number;
}

/**
 * The fields of the message in [start, end) of `src` (default: all of it); malformed input throws a RangeError
 * prefixed with `what`.
 */
export function messageFields(
  src: ProtobufBytes | Uint8Array,
  what: string,
  start = 0,
  end?: number,
): WireField[] {
  const bytes = src instanceof Uint8Array ? bufferBytes(src) : src;
  const out: WireField[] = [];
  try {
    forEachField(bytes, start, end ?? bytes.size, (field, wire, from, to, varint, tagStart) => {
      out.push({ field, wire, start: tagStart, from, end: to, varint });
    });
  } catch (e) {
    throw e instanceof RangeError ? new RangeError(`${what}: ${e.message}`, { cause: e }) : e;
  }
  return out;
}

/** The UTF-8 strings of every length-delimited field `n` among `fields` (fields of the message `buf`). */
export function stringFields(buf: Uint8Array, fields: readonly WireField[], n: number): string[] {
  const text = new TextDecoder();
  return fields.filter((f) => f.field === n && f.wire === 2).map((f) =>
    text.decode(buf.subarray(f.from, f.end))
  );
}

/** The varint encoding of `value` (an integer; a negative int64 as ten bytes of two's complement). */
export function varintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value);
  while (v >= 128n) {
    out.push(Number(v & 127n) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** `parts` as one Uint8Array (one copy). */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const b = Buffer.concat(parts);
  return new Uint8Array(b.buffer, b.byteOffset, b.length); // a plain Uint8Array view, no copy
}

/** The tag and length of a length-delimited field `n` with `length` bytes of payload. */
export function lengthHeader(n: number, length: number): Uint8Array {
  return new Uint8Array([...varintBytes(n * 8 + 2), ...varintBytes(length)]);
}

/** A length-delimited field `n` holding `payload`. */
export function lengthField(n: number, payload: Uint8Array): Uint8Array {
  return joinBytes([lengthHeader(n, payload.length), payload]);
}

/** A string field `n` (UTF-8). */
export function stringField(n: number, value: string): Uint8Array {
  return lengthField(n, new TextEncoder().encode(value));
}

/** A varint field `n`. */
export function varintField(n: number, value: number): Uint8Array {
  return new Uint8Array([...varintBytes(n * 8), ...varintBytes(value)]);
}
