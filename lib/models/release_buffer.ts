/**
 * Frees a large short-lived buffer now rather than at a later garbage collection. onnxruntime-node returns every
 * output in a fresh ArrayBuffer: a decoding step of 25 rows of the 70M architecture gets ≈ 30 MB of KV cache and
 * 5 MB of logits, and V8 frees them only when its collector runs, which this external memory drives (a
 * collection every few steps). Detaching a buffer the caller is done with (ES2024 `ArrayBuffer.transfer(0)`)
 * frees its memory at once: a decoding step of that sampling benchmark took ≈ 10 % less time (BENCHMARKS.md).
 * @module
 */

/**
 * Detaches the ArrayBuffer under `data` (a typed array) so that its memory is freed now; every view of it reads
 * as empty afterwards. Returns false, doing nothing, for anything else: not a view, a SharedArrayBuffer, a buffer
 * already detached, or a runtime without `ArrayBuffer.prototype.transfer`.
 */
export function releaseBuffer(data: unknown): boolean {
  if (!ArrayBuffer.isView(data)) return false;
  const buffer = data.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached === true || typeof buffer.transfer !== "function") {
    return false;
  }
  try {
    buffer.transfer(0);
    return true;
  } catch {
    return false; // a buffer that cannot be detached (e.g. one a native module pins) is left to the collector
  }
}
