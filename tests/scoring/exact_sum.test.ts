/**
 * ExactSum / ExactVector: exact in any order and across a JSON round trip, even for adversarial addends.
 */
import assert from "node:assert/strict";
import { fsum } from "../../lib/numeric/fsum.ts";
import { RandomState } from "../../lib/numeric/mt19937.ts";
import { ExactSum, ExactVector } from "../../lib/scoring/exact_sum.ts";

function uniform01(rng: RandomState): number {
  return (rng.nextUint32() + 0.5) / 4294967296;
}

Deno.test("ExactSum / ExactVector: exact in any order, even when addends span 2^±60", () => {
  const rng = new RandomState(11);
  const n = 8;
  const addends: Float64Array[] = [];
  for (let k = 0; k < 60; k++) {
    addends.push(Float64Array.from({ length: n }, () => uniform01(rng) * Math.pow(2, 60 - rng.randint(120))));
  }
  const expected = Array.from({ length: n }, (_, i) => fsum(addends.map((a) => a[i])));
  let sawOverflow = false;
  for (let trial = 0; trial < 5; trial++) {
    const order = addends.map((_, i) => i).sort(() => uniform01(rng) - 0.5);
    const half = new ExactVector(n);
    const rest = new ExactVector(n);
    order.forEach((k, j) => (j % 3 === 0 ? half : rest).addVector(addends[k]));
    sawOverflow ||= half.overflow.size + rest.overflow.size > 0;
    const restored = ExactVector.fromJSON(JSON.parse(JSON.stringify(rest)), "v", n);
    half.addExact(restored);
    assert.deepEqual([...half.values()], expected, `trial ${trial}`);

    const s = new ExactSum();
    for (const k of order) s.add(addends[k][0]);
    assert.equal(s.value(), expected[0]);
    assert.equal(ExactSum.fromJSON(JSON.parse(JSON.stringify(s)), "s").value(), expected[0]);
  }
  assert.ok(sawOverflow, "the adversarial addends should need the overflow partials");
  const big = new ExactSum();
  for (const x of [1e300, 1, -1e300, 1e-300, -Infinity]) big.add(x);
  assert.equal(big.value(), -Infinity);
  const cancel = new ExactSum();
  for (const x of [1e20, 1, -1e20, 1e-20]) cancel.add(x);
  assert.equal(cancel.value(), 1 + 1e-20);
});
