/**
 * KL(base ‖ tuned), Jensen–Shannon and argmax change against direct float64 computations done here, plus the
 * cases the direct formulas get wrong (near-identical rows) checked against a second-order expansion.
 */
import assert from "node:assert/strict";
import { RandomState } from "../../lib/numeric/mt19937.ts";
import { createDivergenceStats, divergeRows, jsKernel, rowDivergence } from "../../lib/scoring/divergence.ts";

function uniform01(rng: RandomState): number {
  return (rng.nextUint32() + 0.5) / 4294967296;
}

function normal(rng: RandomState): number {
  return Math.sqrt(-2 * Math.log(uniform01(rng))) * Math.cos(2 * Math.PI * uniform01(rng));
}

/** log-softmax in float64 the obvious way (log1p of the non-max mass, as a careful reference must). */
function logSoftmax(row: ArrayLike<number>): number[] {
  let m = -Infinity;
  let am = -1;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > m) {
      m = row[i];
      am = i;
    }
  }
  let rest = 0;
  for (let i = 0; i < row.length; i++) if (i !== am) rest += Math.exp(row[i] - m);
  const logZ = Math.log1p(rest);
  return Array.from(row, (x) => (x - m) - logZ);
}

/** KL = Σ_{p>0} p (ln p − ln q); JS = ½ Σ p ln(p/m) + ½ Σ q ln(q/m), m = (p + q)/2. */
function reference(a: ArrayLike<number>, b: ArrayLike<number>) {
  const lp = logSoftmax(a);
  const lq = logSoftmax(b);
  let kl = 0;
  let js = 0;
  let quad = 0; // ¼ Σ (q − p)² / (p + q): JS to second order, accurate when p ≈ q
  for (let i = 0; i < lp.length; i++) {
    const p = Math.exp(lp[i]);
    const q = Math.exp(lq[i]);
    if (p > 0) kl += p * (lp[i] - lq[i]);
    const lm = Math.log((p + q) / 2);
    if (p > 0) js += 0.5 * p * (lp[i] - lm);
    if (q > 0) js += 0.5 * q * (lq[i] - lm);
    if (p + q > 0) quad += (q - p) ** 2 / (p + q) / 4;
  }
  return { kl, js, quad };
}

function close(actual: number, expected: number, rel: number, abs: number, what: string): void {
  const tol = Math.max(abs, rel * Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

Deno.test("jsKernel: series and log form agree at the switch; limits", () => {
  const logForm = (u: number) => (1 + u) * Math.log1p(u) + (1 - u) * Math.log1p(-u);
  for (const u of [0.0999999, -0.0999999, 0.05, 0.3, -0.7]) {
    close(jsKernel(u), logForm(u), 1e-13, 0, `g(${u})`);
  }
  close(jsKernel(1e-5), 1e-10 + 1e-20 / 6, 1e-15, 0, "g(1e-5)");
  assert.equal(jsKernel(0), 0);
  assert.equal(jsKernel(1), 2 * Math.LN2);
  assert.equal(jsKernel(-1), 2 * Math.LN2);
});

Deno.test("rowDivergence: random rows match the direct float64 computation", () => {
  const rng = new RandomState(99);
  for (const vocab of [1, 2, 5, 300, 4000]) {
    for (let trial = 0; trial < 6; trial++) {
      const scale = [0.1, 1, 3, 3, 5, 8][trial];
      const a = Float32Array.from({ length: vocab }, () => scale * normal(rng));
      const b = Float32Array.from(a, (x) => x + scale * 0.7 * normal(rng));
      if (trial === 3) b[rng.randint(vocab)] += 25; // tuned model much more peaked
      const got = rowDivergence(a, b, vocab, 0);
      const ref = reference(a, b);
      const what = `V=${vocab} trial ${trial}`;
      close(got.klNats, ref.kl, 1e-11, 1e-15, `${what} KL`);
      close(got.jsNats, ref.js, 1e-11, 1e-15, `${what} JS`);
      const argmax = (r: Float32Array) => r.indexOf(Math.max(...r));
      assert.equal(got.argmaxChanged, argmax(a) !== argmax(b), `${what} argmax`);
    }
  }
});

Deno.test("rowDivergence: values computed by PyTorch in float64", () => {
  // Made with torch 2.13: p = softmax of [1.5, -0.25, 3, 0, 2.75], q = softmax of [0.5, 0.25, -1, 2, 2.5] (float32
  // tensors cast to double); kl = (p*(lp-lq)).sum(); js = ½(p*(lp-m.log())).sum() + ½(q*(lq-m.log())).sum().
  const a = new Float32Array([1.5, -0.25, 3.0, 0.0, 2.75]);
  const b = new Float32Array([0.5, 0.25, -1.0, 2.0, 2.5]);
  const got = rowDivergence(a, b, 5, 0);
  close(got.klNats, 1.4489124789755905, 1e-14, 0, "KL");
  close(got.jsNats, 0.22649098047596006, 1e-14, 0, "JS");
  assert.equal(got.argmaxChanged, true);
});

Deno.test("rowDivergence: identical rows give exactly 0; near-identical rows keep relative accuracy", () => {
  const rng = new RandomState(5);
  const V = 2000;
  const a = Float32Array.from({ length: V }, () => 3 * normal(rng));
  const same = rowDivergence(a, a.slice(), V, 0);
  assert.deepEqual(same, { klNats: 0, jsNats: 0, argmaxChanged: false });

  const b = Float32Array.from(a, (x) => x + 1e-5 * normal(rng));
  const got = rowDivergence(a, b, V, 0);
  const ref = reference(a, b);
  // JS ≈ 1e-11 here: the direct formula is dominated by rounding, the quadratic expansion is exact to ~1e-10.
  close(got.jsNats, ref.quad, 1e-6, 0, "JS near identity");
  assert.ok(got.jsNats > 0 && got.klNats > 0);
  close(got.klNats, 4 * ref.quad, 1e-3, 0, "KL ≈ 8·JS near identity"); // both ≈ ½ χ², JS ≈ ⅛ χ²
});

Deno.test("rowDivergence: disjoint supports, −Infinity logits, bad rows", () => {
  const a = new Float32Array([0, -Infinity, -Infinity]);
  const b = new Float32Array([-Infinity, 0, -Infinity]);
  assert.deepEqual(rowDivergence(a, b, 3, 0), { klNats: Infinity, jsNats: Math.LN2, argmaxChanged: true });
  // Tuned keeps base's support and more: KL finite, masked base entries contribute 0.
  const c = new Float32Array([0, Math.log(3), -Infinity]);
  const d = new Float32Array([0, 0, 0]);
  const got = rowDivergence(c, d, 3, 0);
  const p = [0.25, 0.75];
  close(got.klNats, p[0] * Math.log(p[0] * 3) + p[1] * Math.log(p[1] * 3), 1e-7, 0, "KL with masked entry");
  assert.throws(
    () => rowDivergence(new Float32Array([0, NaN]), d.subarray(0, 2), 2, 0),
    /row 0: base logits/,
  );
  assert.throws(() => rowDivergence(d.subarray(0, 2), new Float32Array([Infinity, 0]), 2, 0), /row 0: tuned/);
  assert.throws(() => rowDivergence(d, d, 3, 1), /exceed the logits/);
});

Deno.test("divergeRows: a block equals row-by-row results, at an offset", () => {
  const rng = new RandomState(8);
  const V = 64;
  const rows = 5;
  const a = Float32Array.from({ length: rows * V }, () => 2 * normal(rng));
  const b = Float32Array.from(a, (x) => x + normal(rng));
  const out = createDivergenceStats(rows + 2);
  divergeRows(a, b, V, 1, rows - 1, out, 3 - 1);
  for (let r = 1; r < rows; r++) {
    const one = rowDivergence(a, b, V, r);
    assert.equal(out.klNats[r + 1], one.klNats);
    assert.equal(out.jsNats[r + 1], one.jsNats);
    assert.equal(out.argmaxChanged[r + 1], one.argmaxChanged ? 1 : 0);
  }
  assert.throws(() => divergeRows(a, b, V, 0, rows, out, 3), /out holds 7 rows/);
});
