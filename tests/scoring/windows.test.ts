import assert from "node:assert/strict";
import {
  countInputPositions,
  countWindows,
  rollingWindows,
  type TokenWindow,
} from "../../lib/scoring/windows.ts";
import { readSharedJson, sharedTest } from "../helpers/shared.ts";

interface WindowSummary {
  input_first: number;
  input_last: number;
  input_len: number;
  predict_first: number;
  predict_last: number;
  predict_len: number;
}

interface WindowCase {
  n_tokens: number;
  tokens: string;
  prefix_token: number;
  max_seq_len: number;
  context_len: number;
  windows?: { input: number[]; predict: number[] }[] | null;
  summary: WindowSummary[];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

sharedTest("rollingWindows: every case of rolling_windows.json", () => {
  const file = readSharedJson<{ cases: WindowCase[] }>("reference", "rolling_windows.json");
  assert.ok(file.cases.length >= 12);
  for (const c of file.cases) {
    const label = `n=${c.n_tokens} max=${c.max_seq_len} ctx=${c.context_len}`;
    assert.equal(c.tokens, "0..n-1", `${label}: unknown token spec`);
    const got = [...rollingWindows(range(c.n_tokens), {
      prefixToken: c.prefix_token,
      maxSeqLen: c.max_seq_len,
      contextLen: c.context_len,
    })];
    if (c.windows) {
      assert.deepEqual(
        got.map((w) => ({ input: [...w.input], predict: [...w.predict] })),
        c.windows,
        label,
      );
    }
    assert.equal(got.length, c.summary.length, `${label}: window count`);
    got.forEach((w, i) => {
      const s = c.summary[i];
      assert.deepEqual(
        {
          input_first: w.input[0],
          input_last: w.input[w.input.length - 1],
          input_len: w.input.length,
          predict_first: w.predict[0],
          predict_last: w.predict[w.predict.length - 1],
          predict_len: w.predict.length,
        },
        s,
        `${label}: window ${i}`,
      );
      assert.equal(w.predictStart, s.predict_first, `${label}: predictStart of window ${i}`); // tokens are 0..n-1
    });
    const opts = { maxSeqLen: c.max_seq_len, contextLen: c.context_len };
    assert.equal(countWindows(c.n_tokens, opts), got.length, `${label}: countWindows`);
    assert.equal(countInputPositions(c.n_tokens, opts), got.reduce((a, w) => a + w.input.length, 0), label);
  }
});

/** Checks the invariants of one document's windows against the stream `[prefix, ...tokens]`. */
function checkProperties(
  tokens: Int32Array,
  prefix: number,
  maxSeqLen: number,
  contextLen: number,
): TokenWindow[] {
  const stream = [prefix, ...tokens];
  const windows = [...rollingWindows(tokens, { prefixToken: prefix, maxSeqLen, contextLen })];
  const seen = new Uint8Array(tokens.length);
  let next = 0;
  for (const w of windows) {
    const L = w.input.length;
    const P = w.predict.length;
    assert.ok(L <= maxSeqLen && P >= 1 && P <= L, `lengths ${L}/${P} with maxSeqLen ${maxSeqLen}`);
    assert.equal(w.predictStart, next, "windows predict consecutive runs");
    // input is the contiguous slice of the stream that ends right before the last predicted token
    const inputStart = w.predictStart + P - L;
    assert.ok(inputStart >= 0);
    assert.deepEqual([...w.input], stream.slice(inputStart, inputStart + L));
    for (let i = 0; i < P; i++) {
      // the target of input position L-P+i is the token that follows it in the stream
      assert.equal(w.predict[i], stream[inputStart + (L - P + i) + 1]);
      assert.equal(w.predict[i], tokens[w.predictStart + i]);
      seen[w.predictStart + i]++;
    }
    if (w !== windows[0]) assert.ok(L - P >= contextLen - 1, "at least contextLen-1 carried tokens");
    next += P;
  }
  assert.equal(next, tokens.length);
  assert.ok(seen.every((v) => v === 1), "every token predicted exactly once");
  assert.equal(windows.length, countWindows(tokens.length, { maxSeqLen, contextLen }));
  return windows;
}

Deno.test("rollingWindows: properties over many shapes", () => {
  // deterministic pseudo-random token values so that alignment errors cannot hide behind 0..n-1
  let state = 12345;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648);
  for (let n = 0; n <= 40; n++) {
    const tokens = Int32Array.from({ length: n }, () => rand() % 50000);
    for (let maxSeqLen = 1; maxSeqLen <= 12; maxSeqLen++) {
      for (let contextLen = 1; contextLen <= maxSeqLen; contextLen++) {
        checkProperties(tokens, -7, maxSeqLen, contextLen);
      }
    }
  }
  const long = Int32Array.from({ length: 5000 }, () => rand() % 50304);
  const ws = checkProperties(long, 0, 1024, 1);
  assert.deepEqual(ws.map((w) => w.predict.length), [1024, 1024, 1024, 1024, 904]);
});

Deno.test("rollingWindows: paper defaults and views", () => {
  const tokens = Int32Array.from({ length: 2100 }, (_, i) => i + 1);
  const ws = [...rollingWindows(tokens, { prefixToken: 0 })];
  assert.deepEqual(ws.map((w) => w.input.length), [1024, 1024, 1024]);
  assert.deepEqual(ws.map((w) => w.predictStart), [0, 1024, 2048]);
  assert.equal(ws[0].input[0], 0);
  // later windows and all predict arrays share the caller's buffer (no copies)
  assert.equal(ws[1].input.buffer, tokens.buffer);
  assert.equal(ws[2].predict.buffer, tokens.buffer);
  assert.notEqual(ws[0].input.buffer, tokens.buffer);
  // plain arrays are accepted too
  assert.deepEqual([...rollingWindows([5, 6, 7], { prefixToken: 9 })].map((w) => [...w.input]), [[9, 5, 6]]);
  assert.equal(countInputPositions(2500, { maxSeqLen: 1024, contextLen: 1 }), 3072);
  assert.equal(countInputPositions(0), 0);
});

Deno.test("rollingWindows: bad arguments throw RangeError at call time", () => {
  const t = [1, 2, 3];
  assert.throws(() => rollingWindows(t, { prefixToken: 0, maxSeqLen: 0 }), RangeError);
  assert.throws(() => rollingWindows(t, { prefixToken: 0, maxSeqLen: 2.5 }), RangeError);
  assert.throws(() => rollingWindows(t, { prefixToken: 0, maxSeqLen: 4, contextLen: 0 }), RangeError);
  assert.throws(
    () => rollingWindows(t, { prefixToken: 0, maxSeqLen: 4, contextLen: 5 }),
    /contextLen ≤ maxSeqLen/,
  );
  assert.throws(() => rollingWindows(t, { prefixToken: 0.5 }), RangeError);
  assert.throws(() => rollingWindows([1, Number.NaN], { prefixToken: 0 }), /token 1/);
  assert.throws(() => rollingWindows([2 ** 31], { prefixToken: 0 }), RangeError);
  assert.throws(() => countWindows(-1), RangeError);
  assert.throws(() => countWindows(5, { maxSeqLen: 3, contextLen: 4 }), RangeError);
});
