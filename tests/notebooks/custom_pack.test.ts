/**
 * Class "custom packs work end to end, notebooks included": a study whose only pack is a custom prompt-pack/1
 * file (3 prompts, named "poems") runs `reproduce --study` with every notebook, without error; its results are
 * stored under the pack's name; and the study file, kept in the results folder itself, is not overwritten.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { analyse } from "../helpers/cli.ts";
import { notebookTest } from "./tools.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");

notebookTest(
  "reproduce --study with a custom 'poems' pack runs every notebook; results under the pack's name",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "custom-pack-" });
    try {
      const results = join(dir, "results");
      await Deno.mkdir(results);
      await Deno.writeTextFile(
        join(results, "poems.json"),
        JSON.stringify({
          format: "prompt-pack/1",
          name: "poems",
          max_new_tokens: 8,
          prompts: [
            { id: "sea", text: "Write a poem about the sea." },
            { id: "cat", text: "Write a poem about a cat." },
            { id: "rain", text: "Write a poem about rain." },
          ],
        }),
      );
      // The study file lives in its own results folder, where the main job writes study.json.
      const studyFile = join(results, "study.json");
      const study = {
        format: "study/1",
        name: "custom poems",
        resultsDir: ".",
        models: [
          { name: "tiny-base", role: "base", source: join(FIXTURE, "base"), template: "plm" },
          {
            name: "tiny-tuned",
            role: "sft",
            source: join(FIXTURE, "tuned"),
            base: "tiny-base",
            template: "plm",
          },
        ],
        corpus: { maxDocs: 1, maxSeqLen: 64, contextLen: 1 },
        sweep: { packs: ["poems.json"], temperatures: [0.5, 1.5], samples: 3, maxNewTokens: 8 },
        diversity: { words: [20], metrics: "deterministic" },
      };
      await Deno.writeTextFile(studyFile, JSON.stringify(study, null, 1));
      const before = await Deno.readTextFile(studyFile);
      const r = await analyse("reproduce", "--study", studyFile);
      assert.equal(
        r.code,
        0,
        r.stderr.split("\n").filter((l) => /FAILED|error|Error/.test(l)).join("\n") || r.stderr,
      );
      assert.match(r.stderr, new RegExp(`custom poems: writes ${results.replaceAll("/", "\\/")}`));
      assert.equal(await Deno.readTextFile(studyFile), before, "the user's study file is untouched");
      assert.ok(existsSync(join(results, "study.resolved.json")));
      for (const m of ["tiny-base", "tiny-tuned"]) {
        assert.ok(existsSync(join(results, "completions", m, "poems.json")), `completions of ${m}`);
        assert.ok(existsSync(join(results, "diversity", m, "poems.json")), `diversity of ${m}`);
      }
      for (
        const nb of ["01_next_token_diversity", "02_completions", "03_output_diversity", "04_seen_prompts"]
      ) {
        assert.ok(existsSync(join(results, "notebooks", `${nb}.html`)), `${nb} executed`);
      }
      assert.ok(existsSync(join(results, "figures", "03_heatmap_poems.svg")), "the custom pack's heatmap");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
