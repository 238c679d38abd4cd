/**
 * The next-token mass over the integers: the summary's definitions on given probabilities, and on a real model
 * (the embedded base) the probabilities read are the model's own next-token probabilities of " 0" … " 100".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { integerMass, integerShare, summariseIntegerMass } from "../../lib/sampling/integer_mass.ts";
import { topKNextTokens } from "../../lib/sampling/next_token.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { loadTokenizer } from "../../lib/models/tokenizer.ts";
import { EMBEDDED_MODELS_DIR, MICRO_FAMILY } from "../../lib/study/config.ts";

Deno.test("integer mass: total, effective count, top, shares", () => {
  const uniform = summariseIntegerMass([1, 2, 3, 4], [0.1, 0.1, 0.1, 0.1]);
  assert.ok(Math.abs(uniform.total - 0.4) < 1e-15);
  assert.ok(Math.abs(uniform.effectiveCount - 4) < 1e-12);
  assert.equal(uniform.top, 1, "a tie goes to the smaller integer");
  const one = summariseIntegerMass([5, 6, 7], [0, 0.3, 0]);
  assert.equal(one.effectiveCount, 1);
  assert.equal(one.top, 6);
  assert.equal(one.topShare, 1);
  const m = summariseIntegerMass([0, 1, 2], [0.2, 0.1, 0.1]);
  // Renormalised: 0.5, 0.25, 0.25 → H = 1.5 ln 2.
  assert.ok(Math.abs(m.effectiveCount - Math.exp(1.5 * Math.LN2)) < 1e-12);
  assert.ok(Math.abs(integerShare(m, [1, 2, 2, 99]) - 0.5) < 1e-12, "duplicates and absent integers ignored");
  assert.equal(integerShare(summariseIntegerMass([0], [0]), [0]), 0);
  assert.throws(() => summariseIntegerMass([0, 1], [0.5]), /one probability per integer/);
});

Deno.test({
  name: "integer mass: a real model's next-token probabilities of ' 0' … ' 100'",
  sanitizeResources: false,
  async fn() {
    const dir = join(EMBEDDED_MODELS_DIR, "base");
    const tokenizer = await loadTokenizer(dir);
    const model = await loadCausalLM(dir);
    try {
      const m = await integerMass(model, tokenizer, MICRO_FAMILY.integerPrompt);
      const all = await topKNextTokens(model, tokenizer, MICRO_FAMILY.integerPrompt, model.info.vocabSize);
      const prob = new Map(all.map((t) => [t.text, t.prob]));
      assert.equal(m.integers.length, 101);
      for (const n of [0, 7, 42, 100]) assert.equal(m.probs[n], prob.get(` ${n}`), `" ${n}"`);
      assert.ok(m.total > 0 && m.total < 1);
      assert.ok(m.effectiveCount > 1 && m.effectiveCount <= 101);
      await assert.rejects(
        integerMass(model, tokenizer, MICRO_FAMILY.integerPrompt, { from: 0, to: 12345 }),
        /" 101" is \d tokens in this tokenizer, not one/,
      );
    } finally {
      await model.dispose();
    }
  },
});
