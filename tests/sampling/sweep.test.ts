/**
 * Completion sweeps on the tiny GPT-NeoX fixture: any cell regenerated alone equals the sweep's; a journal cut
 * off mid-line resumes to the same document; journals of other runs and damaged lines are refused by name.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { loadTokenizer } from "../../lib/models/tokenizer.ts";
import { cellSeeds, generateCell, runSweep, type SweepSpec } from "../../lib/sampling/sweep.ts";
import { journalPathFor, readJournal } from "../../lib/io/completions_journal.ts";
import { sampleSeed } from "../../lib/sampling/rng.ts";
import { parseCompletionsJson } from "../../lib/io/completions_json.ts";
import { parseTemperatures } from "../../cli/generate.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "tuned");

const spec: SweepSpec = {
  model: { id: "tiny-tuned" },
  promptSet: "factual",
  prompts: [
    { text: "What is the capital of France?", guide: " The", answers: ["paris", "the"] },
    { text: "How many days are in a year?", guide: " There", answers: ["365"] },
  ],
  inputs: ["What is the capital of France?  The", "How many days are in a year?  There"],
  temperatures: [0, 0.7, 1.3],
  samplesPerPrompt: 4,
  maxNewTokens: 12,
  topK: 50,
  topP: 0.9,
  seed: 42,
  stopTokenIds: [0],
};

Deno.test("sweep: cells in order, seeds derived per sample, any cell regenerated alone is identical", async () => {
  const model = await loadCausalLM(FIXTURE);
  const tok = await loadTokenizer(FIXTURE);
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "sweep.json");
    const progress: number[] = [];
    const doc = await runSweep(model, tok, spec, {
      outPath: out,
      onProgress: (p) => progress.push(p.cellsDone),
    });
    assert.equal(doc.cells.length, 6);
    assert.deepEqual(doc.cells.map((c) => [c.temperature_index, c.prompt_index]), [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
    assert.equal(progress.at(-1), 6);
    // The file on disk is the returned document, validated; the journal is gone.
    const onDisk = parseCompletionsJson(await Deno.readTextFile(out), out);
    assert.deepEqual(onDisk.cells, doc.cells);
    await assert.rejects(Deno.stat(journalPathFor(out)), Deno.errors.NotFound);
    assert.equal(doc.sampling.top_k, 50);
    assert.equal(doc.sampling.top_p, 0.9);
    assert.equal(doc.sampling.seed, 42);

    const cell = doc.cells[3];
    assert.deepEqual(
      cell.samples.map((s) => s.seed),
      [0, 1, 2, 3].map((k) =>
        sampleSeed({
          runSeed: 42,
          model: "tiny-tuned",
          promptIndex: 1,
          promptText: spec.inputs[1],
          temperature: 0.7,
          sampleIndex: k,
        })
      ),
    );
    assert.deepEqual(cellSeeds(spec, 1, 1), cell.samples.map((s) => s.seed));
    for (const s of cell.samples) {
      assert.equal(s.text, tok.decode(s.token_ids!, { skipSpecialTokens: true }));
      assert.equal(s.logprobs!.length, s.token_ids!.length);
      assert.ok(s.finish === "length" || s.token_ids!.at(-1) === 0);
    }
    // Greedy cells hold 4 identical samples.
    assert.equal(new Set(doc.cells[0].samples.map((s) => s.text)).size, 1);
    // Accuracy is the share of samples containing an answer.
    for (const c of doc.cells) {
      const answers = spec.prompts[c.prompt_index].answers!;
      const hits = c.samples.filter((s) => answers.some((a) => s.text.toLowerCase().includes(a))).length;
      assert.equal(c.answer_accuracy, hits / c.samples.length);
    }
    for (const [t, p] of [[2, 1], [1, 0]]) {
      const alone = await generateCell(model, tok, spec, t, p);
      assert.deepEqual(alone, doc.cells[t * 2 + p], `cell (${t}, ${p}) regenerated alone`);
    }

    // A journal cut in the middle of its last line: that cell is redone, the rest kept, the result identical.
    const out2 = join(dir, "resumed.json");
    const journal = journalPathFor(out2);
    const header = JSON.stringify({
      format: "completions-journal/1",
      run_key: doc.provenance.run_key,
      run_description: {},
      created: doc.created,
    });
    const lines = [header, ...doc.cells.slice(0, 3).map((c) => JSON.stringify(c))];
    await Deno.writeTextFile(journal, lines.join("\n") + "\n" + JSON.stringify(doc.cells[3]).slice(0, 50));
    const contents = await readJournal(journal, String(doc.provenance.run_key));
    assert.equal(contents?.cells.length, 3);
    assert.equal(contents?.truncatedTail, true);
    const resumed = await runSweep(model, tok, spec, { outPath: out2, resume: true });
    assert.deepEqual(resumed.cells, doc.cells);
    assert.equal(resumed.provenance.cells_resumed, 3);
    assert.equal(resumed.created, doc.created);

    // Another run's journal, and a damaged line in the middle, are refused with the file and line.
    await Deno.writeTextFile(journal, lines.join("\n") + "\n");
    await assert.rejects(readJournal(journal, "another-key"), /journal of another run/);
    await Deno.writeTextFile(journal, [header, "{not json", lines[2]].join("\n") + "\n");
    await assert.rejects(
      readJournal(journal, String(doc.provenance.run_key)),
      (e: Error) => e.message.includes(journal) && e.message.includes("line 2") && /not JSON/.test(e.message),
    );
  } finally {
    await model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("temperature grids: ranges are inclusive and exact, lists are kept, bad input is named", () => {
  assert.deepEqual(parseTemperatures("0.1:1.5:0.1"), Array.from({ length: 15 }, (_, t) => (t + 1) / 10));
  assert.deepEqual(parseTemperatures("0,0.7,1"), [0, 0.7, 1]);
  assert.deepEqual(parseTemperatures("1:1:0.5"), [1]);
  assert.throws(() => parseTemperatures("1:0:0.1"), /--temperatures "1:0:0.1": expected step > 0/);
  assert.throws(() => parseTemperatures("0.5,-1"), /-1 is not a temperature/);
  assert.throws(() => parseTemperatures("a:b"), /expected start:stop:step/);
});
