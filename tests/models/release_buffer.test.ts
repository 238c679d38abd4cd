/** releaseBuffer (lib/models/release_buffer.ts): detaches what it may, leaves everything else alone. */
import assert from "node:assert/strict";
import { releaseBuffer } from "../../lib/models/release_buffer.ts";

Deno.test("releaseBuffer detaches an ArrayBuffer under a view, and nothing else", () => {
  const data = new Float32Array(1 << 20).fill(1);
  const other = new Uint8Array(data.buffer, 8, 16); // a second view of the same memory
  assert.equal(releaseBuffer(data), true);
  assert.equal(data.buffer.detached, true);
  assert.equal(data.length, 0);
  assert.equal(other.length, 0, "every view of the buffer reads as empty");
  assert.equal(releaseBuffer(data), false, "already detached");
  const shared = new Float32Array(new SharedArrayBuffer(64)).fill(2);
  assert.equal(releaseBuffer(shared), false, "shared memory is never detached");
  assert.equal(shared[3], 2);
  assert.equal(releaseBuffer(new ArrayBuffer(8)), false, "not a view");
  assert.equal(releaseBuffer([1, 2, 3]), false);
  assert.equal(releaseBuffer(undefined), false);
  // Memory WebAssembly owns cannot be detached by a caller: left as it is.
  const memory = new WebAssembly.Memory({ initial: 1 });
  const view = new Uint8Array(memory.buffer);
  assert.equal(releaseBuffer(view), false);
  assert.equal(view.length, 65536);
});
