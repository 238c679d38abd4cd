import assert from "node:assert/strict";
import { fsum } from "../../lib/numeric/fsum.ts";
import { numpyMean, numpySum, pythonSum } from "../../lib/numeric/numpy_sum.ts";
import { symmetricEigenvalues } from "../../lib/numeric/eigh.ts";
import { RandomState } from "../../lib/numeric/mt19937.ts";

Deno.test("fsum is correctly rounded where a plain sum is not", () => {
  assert.equal(fsum([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]), 1);
  assert.notEqual(pythonSum(Array(10).fill(0.1)), 1);
  assert.equal(fsum([1e100, 1, -1e100, 1e-100]), 1);
  assert.equal(fsum([1e-16, 1, 1e16]), 10000000000000002); // half-even across partials, as CPython
  assert.equal(fsum([]), 0);
  assert.ok(Number.isNaN(fsum([1, NaN])));
  assert.equal(fsum([Infinity, 1]), Infinity);
});

Deno.test("numpy pairwise sum: blocks of 8 and recursive halving", () => {
  // For n < 8 a plain loop; the 8-accumulator scheme and the split change the rounding for larger n.
  const xs = Array.from({ length: 300 }, (_, i) => 1 / (i + 1) + (i % 7) * 1e-3);
  let manualBlocks = 0;
  const r = xs.slice(0, 8);
  for (let i = 8; i < 8 * Math.floor(9 / 8); i += 8) for (let j = 0; j < 8; j++) r[j] += xs[i + j];
  manualBlocks = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])) + xs[8];
  assert.equal(numpySum(xs.slice(0, 9)), manualBlocks);
  assert.equal(numpySum(xs.slice(0, 5)), pythonSum(xs.slice(0, 5)));
  const split = numpySum(xs.slice(0, 144)) + numpySum(xs.slice(144));
  assert.equal(numpySum(xs), split); // n = 300 > 128 splits at 144
  assert.ok(Number.isNaN(numpyMean([])));
});

Deno.test("symmetric eigenvalues of known matrices", () => {
  assert.deepEqual(Array.from(symmetricEigenvalues([2, 0, 0, 3], 2)), [2, 3]);
  const w = symmetricEigenvalues([2, 1, 1, 2], 2);
  assert.ok(Math.abs(w[0] - 1) < 1e-15 && Math.abs(w[1] - 3) < 1e-15);
  // All-ones n×n: eigenvalues 0 (n−1 times) and n.
  const n = 25, ones = new Float64Array(n * n).fill(1);
  const e = symmetricEigenvalues(ones, n);
  assert.ok(Math.abs(e[n - 1] - n) < 1e-12);
  for (let i = 0; i < n - 1; i++) assert.ok(Math.abs(e[i]) < 1e-12);
  // Trace is preserved.
  const m = Array.from(
    { length: 36 },
    (_, k) => Math.sin(Math.min(k % 6, Math.floor(k / 6)) + Math.max(k % 6, Math.floor(k / 6)) * 3),
  );
  const tr = [0, 7, 14, 21, 28, 35].reduce((a, i) => a + m[i], 0);
  assert.ok(Math.abs(symmetricEigenvalues(m, 6).reduce((a, b) => a + b, 0) - tr) < 1e-12);
});

Deno.test("RandomState: seeds, range checks, choice", () => {
  assert.throws(() => new RandomState(-1), RangeError);
  assert.throws(() => new RandomState(2 ** 32), RangeError);
  const a = new RandomState(7), b = new RandomState(7);
  assert.deepEqual(a.choiceIndices(25, 6), b.choiceIndices(25, 6));
  for (const v of new RandomState(1).choiceIndices(3, 1000)) assert.ok(v >= 0 && v < 3);
  assert.equal(new RandomState(1).randint(1), 0);
});
