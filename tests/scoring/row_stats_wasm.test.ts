/**
 * The WebAssembly row kernel against the JavaScript one: bit-identical statistics and sinks on random rows of
 * many shapes and sizes (every tail length, the argmax in every lane), on rows with −Infinity, underflowing and
 * huge logit gaps (the kernel's scalar lanes), and the same errors for rows without a distribution; and the
 * committed module built from the committed source.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RandomState } from "../../lib/numeric/mt19937.ts";
import { createPositionStats, type RowKernel, scoreRows } from "../../lib/scoring/position_stats.ts";
import { rowStatsWasm } from "../../lib/scoring/row_stats_wasm.ts";
import { ROW_STATS_SOURCE_SHA256 } from "../../lib/scoring/wasm/row_stats_module.ts";

function uniform01(rng: RandomState): number {
  return (rng.nextUint32() + 0.5) / 4294967296;
}

function normal(rng: RandomState): number {
  return Math.sqrt(-2 * Math.log(uniform01(rng))) * Math.cos(2 * Math.PI * uniform01(rng));
}

/**
 * Rows of many kinds: flat, LM-like, peaked, gaps past the vector limit and past underflow, −∞, ties, and gaps
 * just inside the vector limit.
 */
function rows(rng: RandomState, count: number, vocab: number): Float32Array {
  const out = new Float32Array(count * vocab);
  for (let r = 0; r < count; r++) {
    const kind = r % 9;
    const row = out.subarray(r * vocab, (r + 1) * vocab);
    const scale = [0.1, 3, 3, 3, 300, 3, 3, 0, 0][kind];
    for (let i = 0; i < vocab; i++) row[i] = scale * normal(rng);
    if (kind === 8) { for (let i = 0; i < vocab; i++) row[i] = -707.9 * uniform01(rng); // exps down to 2^-1021
     }
    const at = rng.randint(vocab);
    if (kind === 2) row[at] += 30;
    if (kind === 3) row[at] += 800; // every other entry underflows
    if (kind === 5) { for (let i = 0; i < vocab; i += 3) row[i] = -Infinity; }
    if (kind === 5 && row.every((x) => x === -Infinity)) row[at] = 1;
    if (kind === 6) row[at] -= 720; // one lane below the vector path's limit
    if (kind === 7) row[at] = 0.5; // ties at 0 everywhere else
  }
  return out;
}

function scoreWith(kernel: RowKernel, logits: Float32Array, vocab: number, count: number) {
  const targets = Array.from({ length: count }, (_, r) => (r * 7919) % vocab);
  const out = createPositionStats(count);
  const sink = new Float64Array(vocab);
  sink.fill(0.25); // a sink that already holds something
  scoreRows(logits, vocab, 0, count, targets, out, { distributionSink: sink, kernel });
  const bare = createPositionStats(count);
  scoreRows(logits, vocab, 0, count, null, bare, { kernel });
  return { out, sink, bare };
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Object.is(a[i], b[i]), `${what}[${i}]: wasm ${a[i]} vs js ${b[i]}`);
  }
}

Deno.test("row kernels: WebAssembly and JavaScript give bit-identical statistics and sinks", () => {
  assert.ok(rowStatsWasm(8) !== null, "WebAssembly SIMD is available in Deno");
  const rng = new RandomState(99);
  for (const vocab of [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64, 1001, 50304, 50277]) {
    const count = vocab > 10_000 ? 16 : 40;
    const logits = rows(rng, count, vocab);
    const w = scoreWith("wasm", logits, vocab, count);
    const j = scoreWith("js", logits, vocab, count);
    for (const k of ["logprobNats", "entropyNats", "confidence", "argmax", "correct"] as const) {
      sameBits(w.out[k], j.out[k], `V=${vocab} ${k}`);
      sameBits(w.bare[k], j.bare[k], `V=${vocab} no targets ${k}`);
    }
    sameBits(w.sink, j.sink, `V=${vocab} sink`);
  }
});

Deno.test("row kernels: the argmax in every lane and block, first index on ties", () => {
  const vocab = 23;
  for (let at = 0; at < vocab; at++) {
    const logits = new Float32Array(2 * vocab).map((_, i) => Math.sin(i) * 2);
    logits[at] = 9;
    logits[vocab + at] = 9;
    logits[vocab + vocab - 1 - (at % 3)] = 9; // a tie later in the row (or the same entry)
    const w = scoreWith("wasm", logits, vocab, 2);
    const j = scoreWith("js", logits, vocab, 2);
    assert.equal(w.out.argmax[0], at);
    sameBits(w.out.argmax, j.out.argmax, `argmax at ${at}`);
    sameBits(w.out.entropyNats, j.out.entropyNats, `entropy at ${at}`);
    sameBits(w.sink, j.sink, `sink at ${at}`);
  }
});

Deno.test("row kernels: the first of two tied maxima, for every pair of places (either block chain, the tail)", () => {
  for (const vocab of [30, 33]) { // an even and an odd number of blocks of four, and a tail
    const kernel = rowStatsWasm(vocab)!;
    const row = new Float32Array(vocab);
    for (let a = 0; a < vocab; a++) {
      for (let b = a + 1; b < vocab; b++) {
        row.forEach((_, i) => row[i] = Math.cos(3 * i)); // below 9 everywhere
        row[a] = 9;
        row[b] = 9;
        assert.ok(kernel.row(row, 0, vocab, false));
        assert.equal(kernel.best, a, `V=${vocab} maxima at ${a} and ${b}`);
        assert.equal(kernel.max, 9);
      }
    }
    // Zeros of both signs: the first entry is the first maximum, and its value is returned as it is.
    row.fill(0);
    for (let i = 1; i < vocab; i += 2) row[i] = -0;
    row[0] = -0;
    assert.ok(kernel.row(row, 0, vocab, false));
    assert.equal(kernel.best, 0);
    assert.ok(Object.is(kernel.max, -0));
  }
});

Deno.test("row kernels: rows without a distribution throw the same errors; earlier rows stay in the sink", () => {
  const vocab = 9;
  for (
    const [bad, msg] of [
      [[0, 1, 2, 3, NaN, 5, 6, 7, 8], /row 1: logits contain NaN/],
      [[NaN, 1, 2, 3, 4, 5, 6, 7, 8], /row 1: logits contain NaN or \+Infinity/],
      [[0, 1, 2, 3, 4, 5, 6, 7, Infinity], /row 1: logits contain NaN or \+Infinity/],
      [Array(vocab).fill(-Infinity), /row 1: .*all -Infinity/],
    ] as const
  ) {
    const logits = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, ...bad]);
    const sinks = (["wasm", "js"] as const).map((kernel) => {
      const sink = new Float64Array(vocab);
      assert.throws(
        () =>
          scoreRows(logits, vocab, 0, 2, null, createPositionStats(2), { distributionSink: sink, kernel }),
        msg,
      );
      return sink;
    });
    sameBits(sinks[0], sinks[1], `sink after ${bad}`);
    assert.ok(Math.abs(sinks[0].reduce((a, b) => a + b, 0) - 1) < 1e-15, "the good row is in the sink");
  }
});

/** Every index whose value is ≥ the k-th largest, in index order, by sorting a copy (the definition). */
function keptByDefinition(row: Float32Array, k: number): number[] {
  const kth = Float64Array.from(row).sort().reverse()[k - 1];
  return Array.from(row.keys()).filter((i) => row[i] >= kth);
}

Deno.test("row kernel: top-k's kept set is every index at or above the k-th largest (ties and -Infinity kept)", () => {
  const rng = new RandomState(7);
  let checked = 0;
  for (const vocab of [2, 3, 5, 8, 9, 13, 64, 1001, 50304, 50277]) {
    const count = vocab > 10_000 ? 9 : 27;
    const logits = rows(rng, count, vocab);
    const kernel = rowStatsWasm(vocab)!;
    const ids = new Int32Array(vocab);
    for (let r = 0; r < count; r++) {
      const row = logits.subarray(r * vocab, (r + 1) * vocab);
      if (r % 9 === 7) row.fill(0.5, 0, vocab >> 1); // many ties, some at the threshold
      assert.ok(kernel.row(row, 0, vocab, false));
      for (
        const k of new Set([1, 2, 3, 4, 5, 50, vocab >> 1, vocab - 1].filter((k) => k >= 1 && k < vocab))
      ) {
        const m = kernel.topK(k, ids);
        assert.deepEqual(
          Array.from(ids.subarray(0, m)),
          keptByDefinition(row, k),
          `V=${vocab} row ${r} k=${k}`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked > 500);
});

Deno.test("row kernel: the committed module was built from the committed source", async () => {
  const source = await Deno.readFile(new URL("../../lib/scoring/wasm/row_stats.c", import.meta.url));
  const hash = createHash("sha256").update(source).digest("hex");
  assert.equal(hash, ROW_STATS_SOURCE_SHA256, "rebuild with tools/build_row_stats_wasm.sh");
});
