/**
 * Per-position statistics against a direct float64 log-softmax computed here (Math.exp / Math.log per entry),
 * on random peaked and flat rows, uniform and one-hot rows, ties, −Infinity logits and bad rows.
 */
import assert from "node:assert/strict";
import { RandomState } from "../../lib/numeric/mt19937.ts";
import { expNonPositive } from "../../lib/scoring/exp_non_positive.ts";
import { createPositionStats, scoreRows } from "../../lib/scoring/position_stats.ts";

interface Ref {
  logp: number[];
  p: number[];
  entropy: number;
  confidence: number;
  argmax: number;
}

/**
 * The obvious float64 implementation: log p = (x − m) − log1p(Σ_{i ≠ argmax} exp(x − m)), H = −Σ_{p>0} p log p
 * (log1p, and (x − m) first: otherwise the reference itself loses digits on peaked rows).
 */
function reference(row: ArrayLike<number>): Ref {
  let m = -Infinity;
  let argmax = -1;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > m) {
      m = row[i];
      argmax = i;
    }
  }
  let rest = 0;
  for (let i = 0; i < row.length; i++) if (i !== argmax) rest += Math.exp(row[i] - m);
  const logZ = Math.log1p(rest);
  const logp = Array.from(row, (x) => (x - m) - logZ);
  const p = logp.map((l) => Math.exp(l));
  let entropy = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) entropy -= p[i] * logp[i];
  return { logp, p, entropy, confidence: Math.max(...p), argmax };
}

function uniform01(rng: RandomState): number {
  return (rng.nextUint32() + 0.5) / 4294967296;
}

function normal(rng: RandomState): number {
  return Math.sqrt(-2 * Math.log(uniform01(rng))) * Math.cos(2 * Math.PI * uniform01(rng));
}

/** Rows of varied shape: flat (scale 0.1), LM-like (scale 3), peaked (one logit +30), very peaked (+800). */
function randomLogits(rng: RandomState, rows: number, vocab: number): Float32Array {
  const out = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const kind = r % 4;
    const scale = [0.1, 3, 3, 3][kind];
    for (let i = 0; i < vocab; i++) out[r * vocab + i] = scale * normal(rng);
    if (kind === 2) out[r * vocab + rng.randint(vocab)] += 30;
    if (kind === 3) out[r * vocab + rng.randint(vocab)] += 800;
  }
  return out;
}

function close(actual: number, expected: number, rel: number, abs: number, what: string): void {
  const tol = Math.max(abs, rel * Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

Deno.test("expNonPositive: within 1 ulp of Math.exp on [−750, 0]; exact at 0; −∞ → 0; NaN → NaN", () => {
  const rng = new RandomState(7);
  let worst = 0;
  for (let k = 0; k < 200_000; k++) {
    const d = k % 2 === 0 ? -750 * uniform01(rng) : -2 * uniform01(rng);
    const a = expNonPositive(d);
    const b = Math.exp(d);
    if (b > 1e-300) worst = Math.max(worst, Math.abs(a - b) / b);
    else assert.ok(Math.abs(a - b) <= 1e-300 * 1e-14 + Number.MIN_VALUE * 4, `subnormal exp(${d})`);
  }
  assert.ok(worst <= 2.3e-16, `max relative error ${worst}`);
  assert.equal(expNonPositive(0), 1);
  assert.equal(expNonPositive(-0), 1);
  assert.equal(expNonPositive(-Infinity), 0);
  assert.equal(expNonPositive(-746), 0);
  assert.ok(Number.isNaN(expNonPositive(NaN)));
});

Deno.test("scoreRows: random rows match the direct float64 computation", () => {
  const rng = new RandomState(1234);
  for (const vocab of [1, 2, 7, 50, 1000]) {
    const rows = 12;
    const logits = randomLogits(rng, rows, vocab);
    const targets = Array.from({ length: rows }, () => rng.randint(vocab));
    const out = createPositionStats(rows);
    const sink = new Float64Array(vocab);
    scoreRows(logits, vocab, 0, rows, targets, out, { distributionSink: sink });
    const sinkRef = new Float64Array(vocab);
    for (let r = 0; r < rows; r++) {
      const ref = reference(logits.subarray(r * vocab, (r + 1) * vocab));
      const what = `V=${vocab} row ${r}`;
      close(out.logprobNats[r], ref.logp[targets[r]], 1e-13, 1e-13, `${what} logprob`);
      close(out.entropyNats[r], ref.entropy, 1e-12, 1e-15, `${what} entropy`);
      close(out.confidence[r], ref.confidence, 1e-14, 0, `${what} confidence`);
      assert.equal(out.argmax[r], ref.argmax, `${what} argmax`);
      assert.equal(out.correct[r], ref.argmax === targets[r] ? 1 : 0, `${what} correct`);
      for (let i = 0; i < vocab; i++) sinkRef[i] += ref.p[i];
    }
    for (let i = 0; i < vocab; i++) close(sink[i], sinkRef[i], 1e-13, 1e-300, `V=${vocab} sink[${i}]`);
  }
});

Deno.test("scoreRows: values computed by PyTorch in float64", () => {
  // Made with torch 2.13: x = torch.tensor(<the rows below>, dtype=float32); ls = log_softmax(x.double(), -1);
  // p = ls.exp(); H = -(p*ls).sum(-1); p.max(-1); x.argmax(-1).
  const logits = new Float32Array([1.5, -0.25, 3.0, 0.0, 2.75, -1.0, 4.5, 4.5, -8.0, 0.5]);
  const out = createPositionStats(2);
  scoreRows(logits, 5, 0, 2, [2, 0], out);
  close(out.logprobNats[0], -0.7373995499321299, 1e-15, 0, "logprob 0");
  close(out.logprobNats[1], -6.204287959469541, 1e-15, 0, "logprob 1");
  close(out.entropyNats[0], 1.1223676493449508, 1e-15, 0, "entropy 0");
  close(out.entropyNats[1], 0.7516505440066689, 1e-15, 0, "entropy 1");
  close(out.confidence[0], 0.47835624103768426, 1e-15, 0, "confidence 0");
  close(out.confidence[1], 0.494460524874142, 1e-15, 0, "confidence 1");
  assert.deepEqual([...out.argmax], [2, 1]); // torch.argmax: first index of a tie
  assert.deepEqual([...out.correct], [1, 0]);
});

Deno.test("scoreRows: uniform rows have entropy ln V exactly; one-hot rows 0; ties take the first index", () => {
  const V = 50304;
  const logits = new Float32Array(3 * V);
  logits.fill(0.625, 0, V); // uniform
  logits.fill(-Infinity, V, 2 * V); // one-hot by −Infinity
  logits[V + 17] = 2;
  logits.fill(0, 2 * V, 3 * V); // one-hot by underflow: a gap of 1000 nats
  logits[2 * V + 5] = 1000;
  const out = createPositionStats(3);
  const sink = new Float64Array(V);
  scoreRows(logits, V, 0, 3, [3, 17, 4], out, { distributionSink: sink });
  assert.equal(out.entropyNats[0], Math.log(V));
  assert.equal(out.confidence[0], 1 / V);
  assert.equal(out.logprobNats[0], -Math.log(V));
  assert.equal(out.argmax[0], 0);
  assert.equal(out.entropyNats[1], 0);
  assert.equal(out.confidence[1], 1);
  assert.equal(out.logprobNats[1], 0);
  assert.equal(out.correct[1], 1);
  assert.equal(out.entropyNats[2], 0);
  assert.equal(out.confidence[2], 1);
  assert.equal(out.logprobNats[2], -1000);
  assert.equal(out.argmax[2], 5);
  assert.equal(sink[17], 1 + 1 / V);
  assert.equal(sink[5], 1 + 1 / V);
  assert.equal(sink[0], 1 / V);

  const ties = new Float32Array([1, 3, 3, 2, 3, -Infinity]);
  const t = createPositionStats(1);
  scoreRows(ties, 6, 0, 1, [2], t);
  assert.equal(t.argmax[0], 1);
  assert.equal(t.correct[0], 0);
  close(t.confidence[0], 1 / (3 + Math.exp(-1) + Math.exp(-2)), 1e-15, 0, "tie confidence");
});

Deno.test("scoreRows: −Infinity logits are probability 0; a −Infinity target gives −Infinity log-prob", () => {
  const logits = new Float32Array([0, -Infinity, Math.log(3), -Infinity]);
  const out = createPositionStats(2);
  scoreRows(logits, 4, 0, 1, [1], out);
  assert.equal(out.logprobNats[0], -Infinity);
  const ref = reference([0, Math.fround(Math.log(3))]);
  close(out.entropyNats[0], ref.entropy, 1e-15, 0, "entropy with −Infinity entries");
  close(out.confidence[0], 0.75, 1e-7, 0, "confidence");
});

Deno.test("scoreRows: offsets, blocks, no targets, and bad input", () => {
  const rng = new RandomState(3);
  const V = 11;
  const logits = randomLogits(rng, 6, V);
  const all = createPositionStats(6);
  scoreRows(logits, V, 0, 6, [0, 1, 2, 3, 4, 5], all);
  const part = createPositionStats(5);
  scoreRows(logits, V, 2, 3, [2, 3, 4], part, { outOffset: 2 });
  for (let r = 2; r < 5; r++) {
    assert.equal(part.logprobNats[r], all.logprobNats[r]);
    assert.equal(part.entropyNats[r], all.entropyNats[r]);
  }
  scoreRows(logits, V, 0, 2, null, part);
  assert.ok(Number.isNaN(part.logprobNats[0]));
  assert.equal(part.entropyNats[1], all.entropyNats[1]);
  assert.equal(part.correct[0], 0);

  const bad = (row: number[], msg: RegExp) =>
    assert.throws(
      () => scoreRows(new Float32Array(row), row.length, 0, 1, null, createPositionStats(1)),
      msg,
    );
  bad([0, NaN, 1], /row 0: logits contain NaN/);
  bad([NaN, 0, 1], /row 0: logits contain NaN/);
  bad([0, Infinity, 1], /row 0: logits contain NaN or \+Infinity/);
  bad([-Infinity, -Infinity], /all -Infinity/);
  assert.throws(() => scoreRows(logits, V, 0, 1, [V], all), /row 0: target 11 is not a token id/);
  assert.throws(() => scoreRows(logits, V, 5, 2, null, all), /exceed the logits/);
  assert.throws(() => scoreRows(logits, V, 0, 2, null, createPositionStats(1)), /out holds 1 rows/);
  assert.throws(
    () => scoreRows(logits, V, 0, 1, null, all, { distributionSink: new Float64Array(3) }),
    /distributionSink has 3 entries/,
  );
});
