/**
 * `deno task analyse generate` end to end on the tiny GPT-NeoX fixture: the paper's three prompt packs with
 * their template, output fed straight to `analyse diversity`, the paper `.npy` layout, ad-hoc prompts, a sweep
 * killed with SIGKILL and resumed to the same samples, and bad arguments.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { loadCompletions } from "../../lib/data/load_completions.ts";
import { parseCompletionsJson } from "../../lib/io/completions_json.ts";
import { journalPathFor } from "../../lib/io/completions_journal.ts";
import { applyTemplate, getTemplate, loadPromptPack, loadTemplates } from "../../lib/data/prompts.ts";
import { analyse, analyseCommand as command } from "../helpers/cli.ts";

const MODEL = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base");

const read = async (path: string) => parseCompletionsJson(await Deno.readTextFile(path), path);

Deno.test("generate: the three paper packs end to end, read by analyse diversity without conversion", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "{pack}.json");
    const r = await analyse(
      "generate",
      "--model",
      MODEL,
      "--prompts",
      "creative,factual,seen",
      "--temperatures",
      "0,1",
      "--samples",
      "3",
      "--max-new-tokens",
      "8",
      "--seed",
      "5",
      "--npy",
      join(dir, "{pack}.npy"),
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /template "plm"/);
    assert.match(r.stderr, /factual: factual accuracy T=0: \d+%, T=1: \d+%/);
    const templates = await loadTemplates();
    for (const pack of ["creative", "factual", "seen"]) {
      const doc = await read(join(dir, `${pack}.json`));
      const prompts = (await loadPromptPack(pack)).prompts;
      assert.equal(doc.prompt_set, pack);
      assert.equal(doc.model.id, "base");
      assert.equal(doc.template?.name, "plm");
      assert.equal(doc.prompts.length, prompts.length);
      assert.deepEqual(
        doc.provenance.template_inputs,
        prompts.map((p) => applyTemplate(getTemplate(templates, "plm"), p.text, p.guide ?? "")),
      );
      assert.equal(doc.cells.length, 2 * prompts.length);
      assert.ok(doc.cells.every((c) => c.samples.length === 3));
      assert.ok(doc.cells.every((c) => c.samples.every((s) => s.token_ids!.length <= 8)));
      if (pack === "factual") assert.ok(doc.cells.every((c) => typeof c.answer_accuracy === "number"));
      // The paper layout holds the same texts.
      const npy = await loadCompletions(join(dir, `${pack}.npy`));
      assert.deepEqual(npy.cells[1][4], doc.cells[prompts.length + 4].samples.map((s) => s.text));
      // analyse diversity reads the completions/1 file as it is.
      const d = await analyse(
        "diversity",
        "--completions",
        join(dir, `${pack}.json`),
        "--metrics",
        "deterministic",
        "--out",
        join(dir, `${pack}.div.json`),
      );
      assert.equal(d.code, 0, d.stderr);
      const div = JSON.parse(await Deno.readTextFile(join(dir, `${pack}.div.json`)));
      assert.deepEqual(div.temperatures, [0, 1]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate: ad-hoc prompts are used as they are; a killed sweep resumes to identical samples", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const adhoc = join(dir, "adhoc.json");
    const a = await analyse(
      "generate",
      "--model",
      MODEL,
      "--prompt",
      "tell me a random integer between 0 and 100",
      "--prompt",
      "The dice roll gives",
      "--temperatures",
      "0.7",
      "--samples",
      "2",
      "--max-new-tokens",
      "5",
      "--out",
      adhoc,
    );
    assert.equal(a.code, 0, a.stderr);
    const doc = await read(adhoc);
    assert.equal(doc.prompt_set, "adhoc");
    assert.equal(doc.template, undefined);
    assert.deepEqual(doc.provenance.template_inputs, [
      "tell me a random integer between 0 and 100",
      "The dice roll gives",
    ]);

    const args = (out: string) => [
      "generate",
      "--model",
      MODEL,
      "--prompts",
      "creative",
      "--temperatures",
      "0.5:1.5:0.5",
      "--samples",
      "5",
      "--max-new-tokens",
      "30",
      "--out",
      out,
    ];
    const full = join(dir, "full.json");
    assert.equal((await analyse(...args(full))).code, 0);

    const killed = join(dir, "killed.json");
    const journal = journalPathFor(killed);
    const child = command(args(killed)).spawn();
    // Kill it once a few cells are journaled.
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const lines = await Deno.readTextFile(journal).then((t) => t.split("\n").length - 2, () => 0);
      if (lines >= 4) break;
    }
    child.kill("SIGKILL");
    await child.output();
    await assert.rejects(Deno.stat(killed), Deno.errors.NotFound, "no output before the sweep ends");
    const done = (await Deno.readTextFile(journal)).split("\n").length - 2;
    assert.ok(done >= 4 && done < 60, `journaled ${done} cells`);
    const r = await analyse(...args(killed), "--resume");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resumed/);
    const [x, y] = [await read(full), await read(killed)];
    assert.deepEqual(y.cells, x.cells);
    assert.ok((y.provenance.cells_resumed as number) >= 4);
    await assert.rejects(Deno.stat(journal), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate: bad arguments are named", async () => {
  const r1 = await analyse(
    "generate",
    "--model",
    MODEL,
    "--prompts",
    "creative",
    "--temperatures",
    "1:0:1",
    "--out",
    "x.json",
  );
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /--temperatures "1:0:1"/);
  const r2 = await analyse("generate", "--model", MODEL, "--prompts", "creative,factual", "--out", "x.json");
  assert.match(r2.stderr, /--out must contain \{pack\}/);
  const r3 = await analyse("generate", "--model", MODEL, "--prompts", "no-such-pack", "--out", "x.json");
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /no-such-pack/);
  const r4 = await analyse("generate", "--model", MODEL, "--prompt", "x", "--top-p", "0", "--out", "x.json");
  assert.match(r4.stderr, /--top-p must be in \(0, 1\]/);
});
