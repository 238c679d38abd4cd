/**
 * The protobuf wire format as the ONNX readers need it: varints and the fields of a message, read from any
 * random-access source of bytes (a file read by seeking, or a buffer in memory). Values are not decoded beyond
 * what the wire format says; callers interpret field numbers (onnx.proto3).
 * @module
 */

/** Random access to a message's bytes. */
export interface ProtobufBytes {
  /** Bytes in all. */
  readonly size: number;
  /** `n` bytes at `pos` (throws a RangeError past the end). */
  bytes(pos: number, n: number): Uint8Array;
}

/** A buffer in memory as a {@link ProtobufBytes}. */
export function bufferBytes(buf: Uint8Array): ProtobufBytes {
  return {
    size: buf.length,
    bytes(pos, n) {
      if (pos + n > buf.length) throw new RangeError(`unexpected end of data at byte ${pos + n}`);
      return buf.subarray(pos, pos + n);
    },
  };
}

/**
 * Positional reads over an open file, with a small read-ahead buffer: a {@link ProtobufBytes} that reads only what
 * is asked for (large fields are skipped by seeking). A returned view is valid until the next call.
 */
export class FileBytes implements ProtobufBytes {
  #buf = new Uint8Array(0);
  #bufStart = 0;
  constructor(private readonly file: Deno.FsFile, readonly size: number) {}

  /** `n` bytes at `pos` (a view of the read-ahead buffer, replaced by the next read that misses it). */
  bytes(pos: number, n: number): Uint8Array {
    if (pos < this.#bufStart || pos + n > this.#bufStart + this.#buf.length) {
      const want = Math.min(Math.max(n, 1 << 16), this.size - pos);
      if (want < n) throw new RangeError(`unexpected end of file at byte ${pos}`);
      const buf = new Uint8Array(want);
      this.file.seekSync(pos, Deno.SeekMode.Start);
      let got = 0;
      while (got < want) {
        const r = this.file.readSync(buf.subarray(got));
        if (r === null) throw new RangeError(`unexpected end of file at byte ${pos + got}`);
        got += r;
      }
      this.#buf = buf;
      this.#bufStart = pos;
    }
    return this.#buf.subarray(pos - this.#bufStart, pos - this.#bufStart + n);
  }
}

/** A varint at `pos`: its value (exact below 2^53) and the position after it. */
export function readVarint(src: ProtobufBytes, pos: number): [number, number] {
  let value = 0, scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = src.bytes(pos + i, 1)[0];
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return [value, pos + i + 1];
  }
  throw new RangeError(`malformed varint at byte ${pos}`);
}

/**
 * Calls `visit(field, wireType, valueStart, valueEnd, varint, tagStart)` for each field of the message in
 * [start, end): for a length-delimited field the value range is its payload, for a varint `varint` is its value.
 */
export function forEachField(
  src: ProtobufBytes,
  start: number,
  end: number,
  visit: (field: number, wire: number, from: number, to: number, varint: number, tagStart: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = readVarint(src, pos);
    const field = Math.floor(tag / 8), wire = tag % 8;
    let from = afterTag, to: number, v = 0;
    switch (wire) {
      case 0:
        [v, to] = readVarint(src, afterTag);
        break;
      case 1:
        to = afterTag + 8;
        break;
      case 2: {
        const [len, afterLen] = readVarint(src, afterTag);
        from = afterLen;
        to = afterLen + len;
        break;
      }
      case 5:
        to = afterTag + 4;
        break;
      default:
        throw new RangeError(`unsupported protobuf wire type ${wire} at byte ${pos}`);
    }
    if (to > end) {
      throw new RangeError(`field ${field} at byte ${pos} runs past the end of its message (byte ${end})`);
    }
    visit(field, wire, from, to, v, pos);
    pos = to;
  }
}
