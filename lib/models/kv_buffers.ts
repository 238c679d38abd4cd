/**
 * The KV cache of a batch of rows kept in JavaScript buffers with room for more positions, for a decoder graph
 * edited by {@link kvBufferGraph}: one buffer per cached tensor, [batch, heads, capacity, headSize] row-major,
 * of which the first `length` positions of each head hold the cache. A decoding step writes only its new
 * entries after them, so successive states of one decoding line share the buffers; `written` says how far the
 * newest of them reaches, so that a step from an older state copies first instead of overwriting.
 * @module
 */
import type { KvBufferEntry } from "./onnx_kv_buffer_graph.ts";
import { releaseBuffer } from "./release_buffer.ts";
import { float16Bits } from "./ort_tensor.ts";

/** A cache buffer's elements: float32, or float16 as raw bits. */
export type KvArray = Float32Array | Uint16Array;

/** The buffers of one batch of rows. */
export interface KvBuffers {
  /** Rows. */
  readonly batch: number;
  /** Positions each head has room for. */
  readonly capacity: number;
  /** Positions written: the length of the newest state on these buffers. */
  written: number;
  /** Freed by a release: no state on them can step or be selected from again. */
  released: boolean;
  /** One buffer per cached tensor, in the entries' order. */
  readonly data: KvArray[];
}

/**
 * Positions of room for `needed`: what is there if enough; else `reserve` (the expected final length, when it
 * covers the need); else double, with at least 64 spare. Never more than `maxPositions` when that covers the
 * need (a longer input is the caller's error to report).
 */
export function kvCapacityFor(
  needed: number,
  current: number,
  maxPositions?: number,
  reserve?: number,
): number {
  if (needed <= current) return current;
  const grown = reserve !== undefined && reserve >= needed ? reserve : Math.max(2 * current, needed + 64);
  return maxPositions !== undefined && maxPositions >= needed ? Math.min(grown, maxPositions) : grown;
}

/**
 * A session output's entries as a {@link KvArray}: float16 as bits over the same memory (onnxruntime-common hands
 * float16 out as a Float16Array, whose values a copy into bits would convert instead of copying).
 */
export function kvArrayOf(entry: KvBufferEntry, data: ArrayBufferView): KvArray {
  if (entry.type === "float16") return float16Bits(data);
  if (!(data instanceof Float32Array)) throw new TypeError(`${entry.output} is not float32 data`);
  return data;
}

function arrayFor(entry: KvBufferEntry, size: number): KvArray {
  return entry.type === "float32" ? new Float32Array(size) : new Uint16Array(size);
}

/** Empty buffers for `batch` rows with room for `capacity` positions. */
export function allocateKvBuffers(
  entries: readonly KvBufferEntry[],
  batch: number,
  capacity: number,
): KvBuffers {
  return {
    batch,
    capacity,
    written: 0,
    released: false,
    data: entries.map((e) => arrayFor(e, batch * e.heads * capacity * e.headSize)),
  };
}

/**
 * New buffers holding rows `rows` of `from` (in that order; a row may repeat), their first `length` positions,
 * with room for `capacity` positions.
 */
export function copyKvRows(
  from: KvBuffers,
  entries: readonly KvBufferEntry[],
  rows: readonly number[],
  length: number,
  capacity: number,
): KvBuffers {
  if (from.released) throw new Error("this decoding state's KV cache was released");
  if (length > from.written || length > capacity) {
    throw new RangeError(`cannot copy ${length} positions (written ${from.written}, room for ${capacity})`);
  }
  const to = allocateKvBuffers(entries, rows.length, capacity);
  entries.forEach((e, k) => {
    const src = from.data[k], dst = to.data[k];
    const span = length * e.headSize;
    rows.forEach((r, i) => {
      for (let h = 0; h < e.heads; h++) {
        const s = ((r * e.heads + h) * from.capacity) * e.headSize;
        dst.set(src.subarray(s, s + span), ((i * e.heads + h) * capacity) * e.headSize);
      }
    });
  });
  to.written = length;
  return to;
}

/**
 * Writes a step's new entries (`news[k]`: [batch, heads, n, headSize] for entry k) at positions [at, at + n) of
 * every head, and marks the buffers written up to at + n.
 */
export function writeKvEntries(
  buffers: KvBuffers,
  entries: readonly KvBufferEntry[],
  news: readonly KvArray[],
  at: number,
  n: number,
): void {
  if (at + n > buffers.capacity) {
    throw new RangeError(`positions ${at}..${at + n} exceed room for ${buffers.capacity}`);
  }
  entries.forEach((e, k) => {
    const src = news[k], dst = buffers.data[k];
    const span = n * e.headSize;
    if (src.length !== buffers.batch * e.heads * span) {
      throw new RangeError(
        `${e.output} has ${src.length} entries, expected ${buffers.batch * e.heads * span}`,
      );
    }
    for (let bh = 0; bh < buffers.batch * e.heads; bh++) {
      dst.set(src.subarray(bh * span, (bh + 1) * span), (bh * buffers.capacity + at) * e.headSize);
    }
  });
  buffers.written = at + n;
}

/** Frees the buffers' memory now (release_buffer.ts); every state on them is then spent. */
export function releaseKvBuffers(buffers: KvBuffers): void {
  if (buffers.released) return;
  buffers.released = true;
  for (const d of buffers.data) releaseBuffer(d);
}
