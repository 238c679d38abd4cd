/**
 * The sampler's helper thread (lib/sampling/sampler_helper.ts) on synthetic logit rows: every draw equals the
 * caller's thread alone (tokens, both log-probs, entropy, and the random streams left in the same state), under
 * every filter; rows with ties, masked (−Infinity) tokens and NaN; a helper not yet ready, closed, or too small.
 */
import assert from "node:assert/strict";
import { SamplerHelper, sampleRows, startSamplerHelper } from "../../lib/sampling/sampler_helper.ts";
import {
  keptCapacityFor,
  MAX_HELPER_ROWS,
  packClaim,
  unpackClaim,
} from "../../lib/sampling/sampler_helper_protocol.ts";
import { prepareRow, sampleToken, sampleTokenPrepared, topKToScan } from "../../lib/sampling/sampler.ts";
import { Xoshiro128StarStar } from "../../lib/sampling/rng.ts";

/** A helper is started only with two cores or more. */
const ONE_CORE = navigator.hardwareConcurrency < 2;
const VOCAB = 4099; // not a multiple of 4: the kernel's scalar tail is read too

/** `rows` rows of logits from a seeded stream, with ties, masked tokens and a peaked row among them. */
function logitRows(rows: number, seed: number): Float32Array {
  const rng = new Xoshiro128StarStar(seed);
  const out = new Float32Array(rows * VOCAB);
  for (let r = 0; r < rows; r++) {
    const row = out.subarray(r * VOCAB, (r + 1) * VOCAB);
    for (let i = 0; i < VOCAB; i++) row[i] = (rng.nextFloat64() - 0.5) * 8;
    if (r % 3 === 0) { for (let i = 0; i < VOCAB; i += 7) row[i] = 1.5; // many ties at one value
     }
    if (r % 4 === 1) { for (let i = 0; i < VOCAB; i += 5) row[i] = -Infinity; }
    if (r % 5 === 2) row[123] = 40; // nearly all the mass on one token
  }
  return out;
}

const SETTINGS = [
  { temperature: 1, topK: 50, topP: 1 },
  { temperature: 0.7, topK: 0, topP: 0.9 },
  { temperature: 1.3, topK: 20, topP: 0.8 },
  { temperature: 0, topK: 50, topP: 1 },
  { temperature: 1, topK: 0, topP: 1 },
  { temperature: 1, topK: VOCAB + 5, topP: 1 },
];

const streams = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => new Xoshiro128StarStar(seed + i));

/** Runs `body` with a helper for `rows` rows of `vocab` logits whose thread is ready, and closes it after. */
async function withReadyHelper(
  rows: number,
  vocab: number,
  body: (helper: SamplerHelper) => void | Promise<void>,
): Promise<void> {
  const helper = startSamplerHelper(rows, vocab);
  assert.ok(helper !== null, "a helper starts on this machine (two cores or more)");
  try {
    for (let i = 0; i < 500 && !helper.ready; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(helper.ready, "its thread loaded the kernel");
    await body(helper);
  } finally {
    helper.close();
  }
}

/** A test that needs a helper thread: ignored on one core, where none starts. */
function helperTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, ignore: ONE_CORE }, fn);
}

helperTest("every draw with a helper equals the caller's thread alone, under every filter", async () => {
  const rows = 11;
  await withReadyHelper(rows, VOCAB, (helper) => {
    for (const [si, settings] of SETTINGS.entries()) {
      const alone = streams(rows, 100 * si), shared = streams(rows, 100 * si);
      for (let step = 0; step < 12; step++) {
        const logits = logitRows(rows, 1000 * si + step);
        const n = rows - (step % 4); // the batch shrinks as samples end
        const a = sampleRows(logits, n, VOCAB, settings, alone);
        const b = sampleRows(logits, n, VOCAB, settings, shared, helper);
        assert.deepEqual(b, a, `settings ${si}, step ${step}`);
      }
      // The streams were advanced alike.
      assert.deepEqual(shared.map((r) => r.nextFloat64()), alone.map((r) => r.nextFloat64()));
    }
    assert.ok(helper.stats.helperRows > 0, `the helper prepared rows: ${JSON.stringify(helper.stats)}`);
    assert.equal(helper.stats.fallbacks, 0);
  });
});

helperTest("a row with NaN fails with the caller's error, whichever thread read it", async () => {
  const rows = 6;
  await withReadyHelper(rows, VOCAB, (helper) => {
    for (const bad of [0, rows - 1]) {
      const logits = logitRows(rows, 5);
      logits[bad * VOCAB + 17] = NaN;
      const settings = SETTINGS[0];
      assert.throws(() => sampleRows(logits, rows, VOCAB, settings, streams(rows, 1)), /logit 17 is NaN/);
      assert.throws(
        () => sampleRows(logits, rows, VOCAB, settings, streams(rows, 1), helper),
        /logit 17 is NaN/,
      );
    }
    // The helper goes on serving steps after a failed one.
    const logits = logitRows(rows, 6);
    assert.deepEqual(
      sampleRows(logits, rows, VOCAB, SETTINGS[0], streams(rows, 2), helper),
      sampleRows(logits, rows, VOCAB, SETTINGS[0], streams(rows, 2)),
    );
  });
});

helperTest("a helper not ready yet, too small, or closed leaves the rows to the caller, same draws", () => {
  const rows = 8;
  const logits = logitRows(rows, 9);
  const expected = sampleRows(logits, rows, VOCAB, SETTINGS[0], streams(rows, 3));
  const helper = new SamplerHelper(rows, VOCAB); // its thread has not loaded yet: nothing shared
  try {
    assert.equal(helper.ready, false);
    assert.deepEqual(helper.sampleRows(logits, rows, VOCAB, SETTINGS[0], streams(rows, 3)), expected);
    assert.equal(helper.stats.helperRows, 0);
    assert.equal(helper.fits(rows + 1, VOCAB), false);
    assert.equal(helper.fits(rows, VOCAB + 1), false);
    assert.throws(
      () => helper.sampleRows(logits, rows, VOCAB + 1, SETTINGS[0], streams(rows, 3)),
      /takes ≤ 8 rows/,
    );
    // sampleRows itself skips a helper that does not fit.
    const wide = logitRows(rows + 2, 9);
    assert.deepEqual(
      sampleRows(wide, rows + 2, VOCAB, SETTINGS[0], streams(rows + 2, 3), helper),
      sampleRows(wide, rows + 2, VOCAB, SETTINGS[0], streams(rows + 2, 3)),
    );
  } finally {
    helper.close();
    helper.close(); // twice: no error
  }
  assert.equal(helper.ready, false);
  assert.deepEqual(helper.sampleRows(logits, rows, VOCAB, SETTINGS[0], streams(rows, 3)), expected);
});

helperTest(
  "a kept set larger than the helper's room (ties at a −Infinity k-th logit) is drawn by the caller",
  async () => {
    const vocab = keptCapacityFor(1e9) + 1000, rows = 6;
    const logits = new Float32Array(rows * vocab).fill(-Infinity);
    for (let r = 0; r < rows; r++) for (let i = 0; i < 10; i++) logits[r * vocab + 37 * i + r] = i / 3;
    await withReadyHelper(rows, vocab, (helper) => {
      const settings = { temperature: 1, topK: 50, topP: 1 }; // 10 finite logits: every −Infinity ties at the 50th
      for (let step = 0; step < 20; step++) {
        assert.deepEqual(
          sampleRows(logits, rows, vocab, settings, streams(rows, step), helper),
          sampleRows(logits, rows, vocab, settings, streams(rows, step)),
        );
      }
      assert.equal(helper.stats.helperRows, 0, "no row's kept set fitted");
      assert.ok(helper.stats.fallbacks > 0, `rows handed back: ${JSON.stringify(helper.stats)}`);
    });
  },
);

Deno.test("helper arguments, claim words, and prepared rows against sampleToken", () => {
  assert.throws(() => new SamplerHelper(0, VOCAB), /1 to 65535 rows, got 0/);
  assert.throws(() => new SamplerHelper(MAX_HELPER_ROWS + 1, VOCAB), /got 65536/);
  assert.throws(() => new SamplerHelper(4, 0), /vocab must be an integer ≥ 1/);
  assert.equal(startSamplerHelper(1, VOCAB), null, "one row has nothing to share");
  for (const [step, lo, hi] of [[1, 0, 25], [0x7fffffff, 65535, 65535], [12345, 7, 3]]) {
    assert.deepEqual(unpackClaim(packClaim(step, lo, hi)), { step, lo, hi });
  }
  // A prepared row draws exactly what sampleToken draws.
  const row = logitRows(1, 4);
  const kept = new Int32Array(VOCAB);
  for (const settings of SETTINGS) {
    const prepared = prepareRow(row, topKToScan(settings, VOCAB), kept);
    assert.ok(prepared !== null, "the WebAssembly kernel read the row");
    assert.deepEqual(
      sampleTokenPrepared(row, settings, new Xoshiro128StarStar(8), prepared),
      sampleToken(row, settings, new Xoshiro128StarStar(8)),
    );
  }
  assert.equal(topKToScan({ temperature: 0, topK: 50, topP: 1 }, VOCAB), 0, "greedy needs no kept set");
  assert.equal(topKToScan({ temperature: 1, topK: VOCAB, topP: 1 }, VOCAB), 0, "k ≥ vocabulary is off");
  assert.equal(topKToScan({ temperature: 1, topK: 50, topP: 1 }, VOCAB), 50);
});
