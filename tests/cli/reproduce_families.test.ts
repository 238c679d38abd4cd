/**
 * A study of today's model families end to end: the Llama-3.1 base fixture against its "instruct" fixture,
 * the instruct model prompted through its own chat template (`"template": "model"`), run by
 * `deno task reproduce --study` with every notebook executed. The completions record the exact ids each prompt
 * gave the model (`completions/2`) and the generation settings the model ships; the instruct samples stop on
 * the EOS ids of its generation_config.json.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { loadTokenizer } from "../../lib/models/tokenizer.ts";
import { renderUserTurn } from "../../lib/models/chat_template.ts";
import { analyse } from "../helpers/cli.ts";
import { NOTEBOOK_SKIP_NOTE } from "../notebooks/tools.ts";

const LLAMA3 = join(PROJECT_ROOT, "tests", "fixtures", "tiny-llama3");
const skip = !existsSync(join(LLAMA3, "instruct", "tokenizer.json"))
  ? " [skipped: the Llama-3.1 tokenizer is not installed (run `deno task setup`)]"
  : NOTEBOOK_SKIP_NOTE;

Deno.test({
  name: `reproduce --study: Llama-3.1 base vs instruct through its chat template, notebooks included${skip}`,
  ignore: skip !== "",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const studyPath = join(dir, "llama3-study.json");
      const study = {
        format: "study/1",
        name: "tiny Llama-3.1: base vs instruct",
        resultsDir: "results",
        models: [
          { name: "llama3-base", role: "base", source: join(LLAMA3, "base"), template: "plm" },
          {
            name: "llama3-instruct",
            role: "chat",
            source: join(LLAMA3, "instruct"),
            base: "llama3-base",
            template: "model",
          },
        ],
        corpus: { maxDocs: 2, maxSeqLen: 64, contextLen: 1 },
        sweep: {
          packs: ["creative", "factual"],
          promptsPerPack: 3,
          temperatures: [0, 1.0],
          samples: 3,
          maxNewTokens: 12,
        },
        diversity: { words: [20], metrics: "deterministic" },
      };
      await Deno.writeTextFile(studyPath, JSON.stringify(study, null, 2));
      const r = await analyse("reproduce", "--study", studyPath);
      assert.equal(r.code, 0, r.stderr.slice(-4000));
      const results = join(dir, "results");
      for (const name of ["01", "02", "03", "04", "05", "06"]) {
        const executed = [...Deno.readDirSync(join(results, "notebooks"))].map((e) => e.name);
        assert.ok(
          executed.some((f) => f.startsWith(name) && f.endsWith(".ipynb")),
          `notebook ${name} executed`,
        );
      }
      assert.ok(existsSync(join(results, "report.html")));
      const summary = JSON.parse(await Deno.readTextFile(join(results, "summary.json")));
      assert.ok(summary.scores["llama3-instruct"].kl_from_base > 0);

      const doc = JSON.parse(
        await Deno.readTextFile(join(results, "completions", "llama3-instruct", "creative.json")),
      );
      assert.equal(doc.format, "completions/2");
      assert.equal(doc.template.name, "model");
      const tok = await loadTokenizer(join(LLAMA3, "instruct"));
      doc.prompts.forEach((p: { text: string; guide: string; input_ids: number[] }) => {
        const chat = renderUserTurn(tok, p.text);
        const guideIds = tok.encode(p.guide.trimStart(), { addSpecialTokens: false });
        assert.deepEqual(p.input_ids, [...chat.ids, ...guideIds], `ids of ${JSON.stringify(p.text)}`);
      });
      assert.deepEqual(doc.sampling.stop_token_ids, [128001, 128008, 128009]);
      assert.equal(doc.sampling.stop_token_ids_source, "generation_config.json");
      assert.equal(doc.sampling.model_defaults.temperature, 0.6);
      assert.equal(doc.sampling.model_defaults.top_p, 0.9);
      assert.equal(doc.sampling.settings_source.top_p, "study sweep.topP");
      for (const cell of doc.cells) {
        for (const s of cell.samples) {
          if (s.finish === "stop_token") assert.ok([128001, 128008, 128009].includes(s.token_ids.at(-1)));
          else assert.equal(s.token_ids.length, 12);
        }
      }
      const base = JSON.parse(
        await Deno.readTextFile(join(results, "completions", "llama3-base", "creative.json")),
      );
      assert.equal(base.template.name, "plm");
      assert.equal(base.prompts[0].input_ids[0], 128000, "the base model's prompts start with its BOS");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
