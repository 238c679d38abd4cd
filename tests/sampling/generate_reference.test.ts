/**
 * The generation engine against Hugging Face transformers (PyTorch), on the tiny GPT-NeoX fixture: greedy
 * continuations token for token, per-token log-probs (float64 reference), decoded text, and one next-token
 * distribution after temperature / top-k / top-p as HF's logits warpers compute it. Reference:
 * tests/fixtures/tiny-gptneox/generate_reference.json (tools/reference_generate.py).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import type { CausalLM } from "../../lib/models/causal_lm.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { loadTokenizer } from "../../lib/models/tokenizer.ts";
import { generate } from "../../lib/sampling/generate.ts";
import { nextTokenDistribution } from "../../lib/sampling/sampler.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");

interface RefCase {
  id: string;
  model: "base" | "tuned";
  prompt_text: string;
  prompt_ids: number[];
  max_new_tokens: number;
  generated_ids: number[];
  eos: boolean;
  generated_text: string;
  token_logprob: number[];
  top1_top2_logit_gap: number[];
}
interface Ref {
  format: string;
  settings: { eos_token_id: number };
  cases: RefCase[];
  sampled_distribution: {
    case_id: string;
    settings: { temperature: number; top_k: number; top_p: number };
    processed_ids: number[];
    processed_probs: number[];
  };
}
const ref: Ref = JSON.parse(Deno.readTextFileSync(join(FIXTURE, "generate_reference.json")));

Deno.test("greedy generation equals transformers' generate(do_sample=False) token for token (22 cases)", async () => {
  assert.equal(ref.format, "generate-reference/1");
  const models: Record<string, CausalLM> = {};
  try {
    for (const name of ["base", "tuned"]) models[name] = await loadCausalLM(join(FIXTURE, name));
    const tok = await loadTokenizer(join(FIXTURE, "base"));
    let worstLogprob = 0;
    for (const c of ref.cases) {
      const ids = tok.encode(c.prompt_text);
      assert.deepEqual(ids, c.prompt_ids, `${c.id}: prompt tokens`);
      const [g] = await generate(models[c.model], ids, [0], {
        settings: { temperature: 0, topK: 0, topP: 1 },
        maxNewTokens: c.max_new_tokens,
        stopTokenIds: [ref.settings.eos_token_id],
      });
      assert.deepEqual(g.tokenIds, c.generated_ids, `${c.id}: generated ids`);
      assert.equal(g.finish === "stop_token", c.eos, `${c.id}: EOS`);
      assert.equal(tok.decode(g.tokenIds, { skipSpecialTokens: true }), c.generated_text, `${c.id}: text`);
      for (let i = 0; i < g.tokenIds.length; i++) {
        const d = Math.abs(g.logprobsModelNats[i] - c.token_logprob[i]);
        worstLogprob = Math.max(worstLogprob, d);
        assert.ok(
          d < 1e-4,
          `${c.id} token ${i}: log-prob ${g.logprobsModelNats[i]} vs ${c.token_logprob[i]}`,
        );
      }
    }
    // float32 ONNX logits against a float64 PyTorch reference: agreement to a few 1e-6.
    assert.ok(worstLogprob < 1e-4);
  } finally {
    for (const m of Object.values(models)) await m.dispose();
  }
});

Deno.test("next-token distribution after temperature 0.7 / top-k 50 / top-p 0.9 equals HF's warpers", async () => {
  const sd = ref.sampled_distribution;
  const c = ref.cases.find((x) => x.id === sd.case_id)!;
  const model = await loadCausalLM(join(FIXTURE, c.model));
  try {
    const { logits } = await model.step([Int32Array.from(c.prompt_ids)]);
    const dist = nextTokenDistribution(logits, {
      temperature: sd.settings.temperature,
      topK: sd.settings.top_k,
      topP: sd.settings.top_p,
    });
    assert.deepEqual([...dist.ids].sort((a, b) => a - b), [...sd.processed_ids].sort((a, b) => a - b));
    const byId = new Map(sd.processed_ids.map((id, i) => [id, sd.processed_probs[i]]));
    dist.ids.forEach((id, i) => {
      assert.ok(
        Math.abs(dist.probs[i] - byId.get(id)!) < 1e-5,
        `token ${id}: ${dist.probs[i]} vs ${byId.get(id)}`,
      );
    });
  } finally {
    await model.dispose();
  }
});
