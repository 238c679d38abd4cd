/**
 * study/1 is validated whole before anything loads: the schema (unknown fields with suggestions, ranges,
 * integers), the checks across the study (names, bases, templates, template variables, sources, packs, corpus,
 * metrics, embedder, folders), every problem at once with its JSON path, and relative paths from the study's
 * folder. `reproduce --study` with three separate mistakes reports all three and loads no model.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { JsonFormatError } from "../../lib/io/json_file.ts";
import { EMBEDDED_MODELS_DIR, embeddedStudy, readStudy, validateStudy } from "../../lib/study/config.ts";
import { analyse } from "../helpers/cli.ts";

// deno-lint-ignore no-explicit-any -- study documents are edited as untyped JSON on purpose
type Json = Record<string, any>;

/** A valid study file's contents (the embedded CI study, as a file would hold it). */
function goodStudy(resultsDir = "/tmp/unused-results"): Json {
  return JSON.parse(JSON.stringify(embeddedStudy("ci", resultsDir)));
}

/** The problems `validateStudy` finds in `doc`, as `path: message` lines (asserting the error's shape). */
function problems(doc: unknown, baseDir = "."): string[] {
  try {
    validateStudy(doc, "s.json", baseDir);
  } catch (e) {
    assert.ok(e instanceof JsonFormatError, String(e));
    assert.ok(e.message.split("\n").every((l) => l.startsWith("s.json: ")), e.message);
    return e.problems.map((p) => `${p.jsonPath}: ${p.message}`);
  }
  return [];
}

/** Asserts `doc` is refused with one problem at `path` whose message matches `what`. */
function refused(doc: unknown, path: string, what: RegExp): void {
  const found = problems(doc);
  assert.ok(
    found.some((p) => p.startsWith(`${path}: `) && what.test(p.slice(path.length + 2))),
    `no problem at ${path} matching ${what}; got:\n${found.join("\n")}`,
  );
}

const edit = (change: (d: Json) => void): Json => {
  const d = goodStudy();
  change(d);
  return d;
};

Deno.test("study/1: the embedded study validates; a minimal file takes the defaults", () => {
  assert.deepEqual(problems(goodStudy()), []);
  const minimal = validateStudy(
    { format: "study/1", models: [{ name: "m", role: "base", source: join(EMBEDDED_MODELS_DIR, "base") }] },
    "s.json",
  );
  const base = embeddedStudy();
  assert.deepEqual(minimal.sweep, base.sweep);
  assert.deepEqual(minimal.corpus, base.corpus);
  assert.equal(minimal.resultsDir, base.resultsDir);
});

Deno.test("study/1: unknown fields are errors, near misses get a suggestion", () => {
  refused(
    edit((d) => (d.sweep.tempratures = [1])),
    "sweep.tempratures",
    /unknown field; did you mean "temperatures"\?/,
  );
  refused(edit((d) => (d.Models = [])), "Models", /unknown field; did you mean "models"\?/);
  refused(edit((d) => (d.models[0].temlate = "plm")), "models[0].temlate", /did you mean "template"\?/);
  refused(edit((d) => (d.extra = 1)), "extra", /^unknown field \(allowed: /);
  refused(
    edit((d) => (d.models[0].role = "Base")),
    "models[0].role",
    /expected a role: .*did you mean "base"\?/,
  );
});

Deno.test("study/1: numbers are checked for range and integrality", () => {
  refused(edit((d) => (d.sweep.samples = 0)), "sweep.samples", /expected an integer ≥ 1, got 0/);
  refused(edit((d) => (d.sweep.samples = 2.5)), "sweep.samples", /expected integer/);
  refused(edit((d) => (d.sweep.seed = -1)), "sweep.seed", /≥ 0/);
  refused(edit((d) => (d.sweep.topK = -5)), "sweep.topK", /≥ 0/);
  refused(edit((d) => (d.sweep.topP = 0)), "sweep.topP", /\(0, 1\]/);
  refused(edit((d) => (d.sweep.topP = 1.01)), "sweep.topP", /\(0, 1\]/);
  refused(edit((d) => (d.sweep.temperatures = [0.5, -1])), "sweep.temperatures[1]", /temperature ≥ 0/);
  refused(edit((d) => (d.sweep.temperatures = [])), "sweep.temperatures", /at least one temperature/);
  refused(edit((d) => (d.corpus.maxSeqLen = 0)), "corpus.maxSeqLen", /≥ 1/);
  refused(edit((d) => (d.corpus.contextLen = 256)), "corpus.contextLen", /less than maxSeqLen \(256\)/);
  refused(edit((d) => (d.diversity.words = [20, 0])), "diversity.words[1]", /expected an integer ≥ 1, got 0/);
  refused(edit((d) => (d.diversity.words = ["any"])), "diversity.words[0]", /word limit .* or "all"/);
  refused(
    edit((d) => (d.sweep.promptsPerPack = "4")),
    "sweep.promptsPerPack",
    /expected integer, got string/,
  );
});

Deno.test("study/1: models, templates, packs, metrics, embedder and folders are checked against the disk", () => {
  refused(edit((d) => (d.models[1].name = "micro-base")), "models[1].name", /duplicate name "micro-base"/);
  refused(edit((d) => (d.models[1].name = "a/b")), "models[1].name", /letters, digits/);
  refused(
    edit((d) => (d.models[1].base = "micro-bsae")),
    "models[1].base",
    /not a model of this study; did you mean "micro-base"/,
  );
  refused(
    edit((d) => {
      d.models[0].base = "micro-sft";
    }),
    "models[0].base",
    /cycle \(micro-base → micro-sft → micro-base\)/,
  );
  refused(
    edit((d) => (d.models[0].template = "hhh")),
    "models[0].template",
    /no template "hhh".*did you mean "hh"\?/,
  );
  refused(
    edit((d) => (d.models[0].templateVars = { x: 1 })),
    "models[0].templateVars",
    /need "template": "model"/,
  );
  assert.deepEqual(
    problems(edit((d) => {
      d.models[0].template = "model";
      d.models[0].templateVars = { enable_thinking: false };
    })),
    [],
  );
  refused(
    edit((d) => (d.models[0].source = "/no/such/folder")),
    "models[0].source",
    /model folder not found/,
  );
  refused(
    edit((d) => (d.models[0].source = "pythia-2.8b-sftt")),
    "models[0].source",
    /did you mean "pythia-2\.8b-sft"\?/,
  );
  refused(edit((d) => (d.corpus.path = "/no/such/corpus.jsonl")), "corpus.path", /does not exist/);
  refused(
    edit((d) => (d.sweep.packs = ["creative", "factul"])),
    "sweep.packs[1]",
    /no prompt pack .*did you mean "factual"\?/,
  );
  refused(edit((d) => (d.sweep.packs = ["creative", "creative"])), "sweep.packs[1]", /would collide/);
  refused(edit((d) => (d.diversity.metrics = "paper,nope")), "diversity.metrics", /unknown metric "nope"/);
  refused(edit((d) => (d.diversity.embedder = "glove")), "diversity.embedder", /unknown embedder "glove"/);
  refused(edit((d) => (d.paperDir = "/no/such/paper")), "paperDir", /is not a folder/);
});

Deno.test("study/1: every problem is reported at once; another format is named for its tag", () => {
  const found = problems(edit((d) => {
    d.sweep.tempratures = d.sweep.temperatures;
    d.sweep.topP = 2;
    d.models[1].base = "nobody";
    d.corpus.path = "/no/such/corpus.jsonl";
  }));
  assert.equal(found.length, 4, found.join("\n"));
  assert.deepEqual(problems({ format: "study/2", models: [] }), [
    'format: expected "study/1", got "study/2"',
  ]);
  assert.deepEqual(problems([]), [": expected object, got array"]);
});

Deno.test("study/1: relative paths resolve from the study file's folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "sub", "paper"), { recursive: true });
    await Deno.writeTextFile(join(dir, "sub", "corpus.jsonl"), '{"text": "x"}\n');
    await Deno.copyFile(join("data", "prompts", "factual.json"), join(dir, "sub", "mine.json"));
    await Deno.symlink(join(EMBEDDED_MODELS_DIR, "base"), join(dir, "sub", "model"));
    const doc = goodStudy();
    doc.resultsDir = "out";
    doc.corpus.path = "corpus.jsonl";
    doc.paperDir = "./paper";
    doc.sweep.packs = ["creative", "mine.json"];
    doc.models[0].source = "./model";
    const file = join(dir, "sub", "study.json");
    await Deno.writeTextFile(file, JSON.stringify(doc));
    const s = readStudy(file);
    assert.equal(s.resultsDir, join(dir, "sub", "out"));
    assert.equal(s.corpus.path, join(dir, "sub", "corpus.jsonl"));
    assert.equal(s.paperDir, join(dir, "sub", "paper"));
    assert.deepEqual(s.sweep.packs, ["creative", join(dir, "sub", "mine.json")]);
    assert.equal(s.models[0].source, join(dir, "sub", "model"));
    assert.equal(s.models[1].source, doc.models[1].source, "absolute paths stay");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reproduce --study: three separate mistakes are reported together before any model loads", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const results = join(dir, "results");
    const doc = goodStudy(results);
    doc.sweep.tempratures = doc.sweep.temperatures; // 1: a misspelt field
    doc.sweep.samples = 0; // 2: out of range
    doc.models[1].base = "micro-bsae"; // 3: a base that is not a study model
    const path = join(dir, "study.json");
    await Deno.writeTextFile(path, JSON.stringify(doc));
    const started = performance.now();
    const r = await analyse("reproduce", "--study", path, "--no-notebooks");
    const seconds = (performance.now() - started) / 1000;
    assert.equal(r.code, 1, r.stderr);
    for (
      const line of [
        `${path}: sweep.tempratures: unknown field; did you mean "temperatures"?`,
        `${path}: sweep.samples: expected an integer ≥ 1, got 0`,
        `${path}: models[1].base: "micro-bsae" is not a model of this study; did you mean "micro-base"?`,
      ]
    ) assert.ok(r.stderr.includes(line), `stderr lacks ${line}:\n${r.stderr}`);
    assert.ok(!existsSync(results), "no results folder was made");
    assert.doesNotMatch(r.stderr, /reproduce: (corpus|score|sweep)/, "no step started");
    assert.ok(seconds < 30, `refused in ${seconds.toFixed(1)} s`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
