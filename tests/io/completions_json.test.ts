/**
 * The completions JSON format (`completions/2`, and `/1` still read): validation with JSON-path errors, atomic
 * writing, parsing back, and `loadCompletions` over both versions.
 */
import { sha256Hex } from "../../lib/io/sha256.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCompletions } from "../../lib/data/load_completions.ts";
import { completionsFromPaperNpy, toPaperCells } from "../../lib/data/paper_completions.ts";
import { COMPLETIONS_FORMAT } from "../../lib/io/completions_doc.ts";
import { parseCompletionsJson, writeCompletionsJson } from "../../lib/io/completions_json.ts";
import { CompletionsFormatError, validateCompletionsDoc } from "../../lib/io/completions_schema.ts";

const FILE = "doc.json";

const cellsOf = (T: number, P: number, n: number) =>
  Array.from(
    { length: T },
    (_, t) => Array.from({ length: P }, (_, p) => Array.from({ length: n }, (_, k) => `t${t}p${p}s${k} ✓`)),
  );

function sampleDoc() {
  const doc = completionsFromPaperNpy(cellsOf(2, 3, 4), {
    promptSet: "creative",
    modelId: "EleutherAI/pythia-70m",
    family: "pythia",
    temperatures: [0.5, 1],
    prompts: ["Write a poem.", { text: "Tell a story.", guide: "Once" }, "Name a colour."],
    created: "2024-05-01T12:00:00.000Z",
  });
  doc.template = { name: "plm", text: "{prompt}" };
  doc.cells[0].samples[0] = {
    text: "hi",
    token_ids: [5, 6],
    logprobs: [-0.5, -1],
    entropies_nats: [1.2, 0],
    seed: "0:0",
  };
  return doc;
}

/** Asserts `text` is rejected with an error naming the file and the JSON path. */
function rejects(text: string, jsonPath: string, what: string): void {
  let caught: unknown;
  try {
    parseCompletionsJson(text, FILE);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CompletionsFormatError, `expected a CompletionsFormatError, got ${caught}`);
  assert.equal(caught.jsonPath, jsonPath, caught.message);
  const prefix = jsonPath ? `${FILE}: ${jsonPath}: ` : `${FILE}: `;
  assert.ok(caught.message.startsWith(prefix), caught.message);
  assert.ok(caught.message.includes(what), `"${caught.message}" lacks "${what}"`);
}

/** A valid document with one change applied, as JSON text. */
// deno-lint-ignore no-explicit-any -- the changes reach into untyped JSON at any depth, on purpose
function mutated(change: (doc: Record<string, any>) => void): string {
  const doc = JSON.parse(JSON.stringify(sampleDoc()));
  change(doc);
  return JSON.stringify(doc);
}

Deno.test("completions/1: a document validates, writes atomically and parses back equal", async () => {
  const doc = sampleDoc();
  assert.equal(
    doc.format,
    "completions/1",
    "the paper's files keep no token ids: converted as completions/1",
  );
  assert.equal(doc.cells.length, 6);
  assert.deepEqual([doc.cells[4].temperature_index, doc.cells[4].prompt_index, doc.cells[4].temperature], [
    1,
    1,
    1,
  ]);
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "c.json");
    await writeCompletionsJson(path, doc);
    const back = parseCompletionsJson(Deno.readTextFileSync(path), path);
    assert.deepEqual(back, doc);
    const loaded = await loadCompletions(path);
    assert.deepEqual(loaded.temperatures, [0.5, 1]);
    assert.deepEqual(loaded.prompts, ["Write a poem.", "Tell a story.", "Name a colour."]);
    assert.deepEqual(loaded.cells, toPaperCells(doc));
    assert.equal(loaded.cells[0][0][0], "hi");
    assert.equal(loaded.source.format, "completions/1");
    assert.equal(loaded.source.sha256, await sha256Hex(Deno.readFileSync(path)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("completions/1: a wrong type deep inside names the JSON path and the file", () => {
  rejects(
    mutated((d) => (d.cells[4].samples[3].text = 5)),
    "cells[4].samples[3].text",
    "expected string, got integer",
  );
  rejects(
    mutated((d) => (d.cells[0].samples[0].token_ids[1] = "6")),
    "cells[0].samples[0].token_ids[1]",
    "expected integer",
  );
  rejects(
    mutated((d) => (d.cells[0].samples[0].logprobs = [-1])),
    "cells[0].samples[0].logprobs",
    "has 1 entries",
  );
  rejects(
    mutated((d) => (d.cells[0].samples[0].logprobs[0] = 0.5)),
    "cells[0].samples[0].logprobs[0]",
    "≤ 0",
  );
  rejects(mutated((d) => (d.cells[1].samples[0].extra = 1)), "cells[1].samples[0].extra", "unknown field");
  rejects(mutated((d) => (d.cells[2].samples = {})), "cells[2].samples", "expected array, got object");
  rejects(mutated((d) => (d.prompts[1].answers = ["a", 3])), "prompts[1].answers[1]", "expected string");
  rejects(
    mutated((d) => (d.sampling.temperatures[1] = "1.0")),
    "sampling.temperatures[1]",
    "expected number",
  );
  rejects(mutated((d) => (d.model.id = "")), "model.id", "non-empty");
});

Deno.test("completions/1: structural problems are rejected", () => {
  rejects("{not json", "", "invalid JSON");
  rejects("[]", "", "expected object, got array");
  rejects(
    mutated((d) => (d.format = "completions/3")),
    "format",
    'expected "completions/1" or "completions/2"',
  );
  rejects(mutated((d) => (d.prompts[0].input_ids = [1])), "prompts[0].input_ids", "unknown field");
  rejects(mutated((d) => delete d.sampling), "sampling", "missing required field");
  rejects(mutated((d) => delete d.sampling.top_k), "sampling.top_k", "missing required field");
  rejects(mutated((d) => (d.created = "yesterday")), "created", "ISO 8601");
  rejects(mutated((d) => (d.surprise = true)), "surprise", "unknown field");
  rejects(mutated((d) => d.cells.pop()), "cells", "expected 6 cells (2 temperatures × 3 prompts), got 5");
  rejects(
    mutated((d) => d.cells.reverse()),
    "cells[0].temperature_index",
    "ordered by temperature, then prompt",
  );
  rejects(
    mutated((d) => (d.cells[3].temperature = 0.7)),
    "cells[3].temperature",
    "sampling.temperatures[1] = 1",
  );
  rejects(
    mutated((d) => d.cells[0].samples.push({ text: "x" })),
    "cells[0].samples",
    "more than samples_per_prompt",
  );
  rejects(mutated((d) => (d.sampling.top_p = 0)), "sampling.top_p", "(0, 1]");
  // fewer samples than requested and unknown prompt texts are allowed
  const ok = JSON.parse(mutated((d) => {
    d.cells[0].samples = [];
    d.prompts[0].text = null;
  }));
  assert.equal(validateCompletionsDoc(ok, FILE).cells[0].samples.length, 0);
});

Deno.test("sha256Hex: known vector", async () => {
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("completions/2: every prompt records the ids the model read; /1 files still load", async () => {
  // deno-lint-ignore no-explicit-any -- edits untyped JSON at any depth, on purpose
  const v2 = (change: (d: Record<string, any>) => void = () => {}) =>
    mutated((d) => {
      d.format = COMPLETIONS_FORMAT;
      d.prompts.forEach((p: Record<string, unknown>, i: number) => (p.input_ids = [1, 100 + i]));
      d.template = {
        name: "model",
        text: "{{ messages }}",
        variables: { enable_thinking: false },
        guide_join: "x",
      };
      change(d);
    });
  assert.equal(COMPLETIONS_FORMAT, "completions/2");
  const doc = parseCompletionsJson(v2(), FILE);
  assert.deepEqual(doc.prompts.map((p) => p.input_ids), [[1, 100], [1, 101], [1, 102]]);
  assert.deepEqual(doc.template?.variables, { enable_thinking: false });
  rejects(v2((d) => delete d.prompts[1].input_ids), "prompts[1].input_ids", "missing required field");
  rejects(v2((d) => (d.prompts[2].input_ids = [])), "prompts[2].input_ids", "at least one token id");
  rejects(v2((d) => (d.prompts[0].input_ids = [1, -2])), "prompts[0].input_ids[1]", "integer ≥ 0");
  rejects(v2((d) => (d.template.variables = { x: [1] })), "template.variables.x", "string, number, boolean");
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of [["v1.json", mutated(() => {})], ["v2.json", v2()]]) {
      await Deno.writeTextFile(join(dir, name), text);
      const loaded = await loadCompletions(join(dir, name));
      assert.equal(loaded.source.format, name === "v1.json" ? "completions/1" : "completions/2");
      assert.equal(loaded.cells[0][0][0], "hi");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
