/**
 * The helper thread of sampler_helper.ts: waits for a step, claims rows from the top among those the caller has
 * copied, and writes each row's model normaliser, first argmax and top-k kept set ({@link prepareRow}) into the
 * shared buffers, then marks the row done for that step.
 * @module
 */
import { CONTROL, packClaim, type SamplerHelperBuffers, unpackClaim } from "./sampler_helper_protocol.ts";
import { type PreparedRow, prepareRow } from "./sampler.ts";
import { rowStatsWasm } from "../scoring/row_stats_wasm.ts";

self.onmessage = (e: MessageEvent<SamplerHelperBuffers>) => {
  const b = e.data;
  const control = new Int32Array(b.control);
  const claim = new BigInt64Array(b.claim);
  const logits = new Float32Array(b.logits);
  const normalisers = new Float64Array(b.normalisers);
  const rowInfo = new Int32Array(b.rowInfo);
  const keptIds = new Int32Array(b.keptIds);
  const vocab = b.vocab;
  if (rowStatsWasm(vocab) === null) {
    // Without WebAssembly SIMD the caller's own JavaScript path is as fast: leave every row to it.
    Atomics.store(control, CONTROL.ready, -1);
    return;
  }
  Atomics.store(control, CONTROL.ready, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(control, CONTROL.step, seen);
    const step = Atomics.load(control, CONTROL.step);
    if (step < 0) break;
    if (step === seen) continue;
    seen = step;
    const k = control[CONTROL.topK];
    for (;;) {
      const word = Atomics.load(claim, 0);
      const { step: claimStep, lo, hi } = unpackClaim(word);
      if (claimStep !== step || lo >= hi) break;
      const r = hi - 1;
      // Read first: once the caller has marked its copying done, the copied range is final.
      const copyDone = Atomics.load(control, CONTROL.copyDone) === 1;
      if (r < Atomics.load(control, CONTROL.copiedFrom)) {
        if (copyDone) break; // the rest are the caller's
        continue; // the caller is still copying this row
      }
      if (Atomics.compareExchange(claim, 0, word, packClaim(step, lo, r)) !== word) continue;
      const prepared = tryPrepareRow(
        logits.subarray(r * vocab, (r + 1) * vocab),
        k,
        keptIds.subarray(r * b.keptCapacity, (r + 1) * b.keptCapacity),
      );
      if (prepared === null) {
        rowInfo[3 * r + 1] = -1;
      } else {
        normalisers[2 * r] = prepared.max;
        normalisers[2 * r + 1] = prepared.logZ;
        rowInfo[3 * r] = prepared.best;
        rowInfo[3 * r + 1] = prepared.keptIds?.length ?? 0;
      }
      Atomics.store(rowInfo, 3 * r + 2, step);
      Atomics.notify(rowInfo, 3 * r + 2);
    }
  }
};

/**
 * {@link prepareRow}, or null where it cannot prepare the row or throws (a kept set larger than the row's room
 * is a RangeError): the caller then redoes the row, and reports whatever is wrong with it.
 */
function tryPrepareRow(row: Float32Array, k: number, room: Int32Array): PreparedRow | null {
  try {
    return prepareRow(row, k, room);
  } catch {
    return null;
  }
}
