/**
 * The shared schema helper (suggestions, JSON paths, every problem in one error) and the formats without a test
 * file of their own: diversity/1, score/1, checkpoint/1 and the completions journal. Per format: a valid document
 * passes; each class of error names the file and the JSON path; unknown fields get a suggestion; ranges and
 * integers are checked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { didYouMean, formatJsonPath, int, strict, v, validateWith } from "../../lib/io/schema.ts";
import { JsonFormatError } from "../../lib/io/json_file.ts";
import {
  DIVERSITY_FORMAT,
  parseDiversityFile,
  stringifyDiversityFile,
} from "../../lib/io/diversity_format.ts";
import { parseScoreFile, readScoreFile, writeScoreFile } from "../../lib/io/score_format.ts";
import {
  readCheckpoint,
  SCORE_CHECKPOINT_STATE_SCHEMA,
  validateCheckpointState,
  writeCheckpoint,
} from "../../lib/io/checkpoint.ts";
import { readJournal } from "../../lib/io/completions_journal.ts";
import { CorpusAccumulator } from "../../lib/scoring/corpus_accumulator.ts";
import { computeCorpusStats } from "../../lib/scoring/corpus_stats.ts";

// deno-lint-ignore no-explicit-any -- documents are edited as untyped JSON on purpose
type Json = Record<string, any>;

/** The problems of an error thrown by `fn`, as `path: message` (asserting every line names `file`). */
function problemsOf(fn: () => unknown, file: string): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof JsonFormatError, String(e));
    for (const line of e.message.split("\n")) assert.ok(line.startsWith(`${file}: `), e.message);
    return e.problems.map((p) => `${p.jsonPath}: ${p.message}`);
  }
  return [];
}

function has(found: string[], path: string, what: RegExp): void {
  assert.ok(
    found.some((p) => p.startsWith(`${path}: `) && what.test(p.slice(path.length + 2))),
    `no problem at ${path} matching ${what}; got:\n${found.join("\n")}`,
  );
}

Deno.test("schema helper: suggestions, JSON paths, every problem at once", () => {
  assert.equal(didYouMean("tempratures", ["temperatures", "samples"]), "temperatures");
  assert.equal(didYouMean("TopK", ["topK", "topP"]), "topK");
  assert.equal(didYouMean("sedd", ["seed"]), "seed");
  assert.equal(didYouMean("words", ["metrics", "embedder"]), undefined);
  assert.equal(formatJsonPath(["cells", 3, "samples", 0, "text"]), "cells[3].samples[0].text");
  assert.equal(formatJsonPath(["vocab_mass_fraction", "0.7"]), 'vocab_mass_fraction["0.7"]');
  assert.equal(formatJsonPath([]), "");
  const schema = strict({ a: int({ min: 0 }), b: v.array(int()), c: v.optional(strict({ d: int() })) });
  assert.deepEqual(validateWith(schema, { a: 1, b: [2] }, "x.json"), { a: 1, b: [2] });
  const found = problemsOf(
    () => validateWith(schema, { a: -1, b: [1, "2"], c: { e: 1 }, bb: 0 }, "x.json"),
    "x.json",
  );
  assert.deepEqual(found, [
    "a: expected an integer ≥ 0, got -1",
    "b[1]: expected integer, got string",
    "c.d: missing required field",
    "c.e: unknown field (allowed: d)",
    "bb: unknown field (allowed: a, b, c)",
  ]);
});

function diversityDoc(): Json {
  return {
    format: DIVERSITY_FORMAT,
    created: "2024-05-01T12:00:00.000Z",
    complete: true,
    input: { path: "c.json", sha256: "ab", format: "completions/2", prompt_set: "creative", model: "m" },
    settings: { words: ["20"], metrics: ["distinct_1"], seed: 0, seed_derivation: "fnv", order_q_groups: 50 },
    provenance: {
      toolkit_version: "0.1.0",
      runtime: "deno",
      gzip_backend: "pako",
      embedder: null,
      sentences_embedded: 0,
      elapsed_seconds: 0.5,
      extra_note: "kept",
    },
    temperatures: [0.5, 1],
    prompts: ["p0", null],
    results: { "20": { distinct_1: [[0.5, null], [0.25, 1]] } },
    nan_counts: { "20": { distinct_1: 1 } },
    nan_reasons: { "20": { distinct_1: { fewer_than_2_samples: [[0, 1]] } } },
  };
}

Deno.test("diversity/1: valid files read back (null → NaN); problems name the file and JSON path", () => {
  const file = parseDiversityFile(JSON.stringify(diversityDoc()), "d.json");
  assert.ok(Number.isNaN(file.results["20"].distinct_1[0][1]));
  assert.deepEqual(parseDiversityFile(stringifyDiversityFile(file), "d.json"), file);
  const bad = (change: (d: Json) => void) => {
    const d = diversityDoc();
    change(d);
    return problemsOf(() => parseDiversityFile(JSON.stringify(d), "d.json"), "d.json");
  };
  has(
    bad((d) => d.results["20"].distinct_1.pop()),
    "results.20.distinct_1",
    /expected 2 rows \(one per temperature\)/,
  );
  has(bad((d) => (d.results["20"].distinct_1[1] = [1])), "results.20.distinct_1[1]", /expected 2 values/);
  has(
    bad((d) => (d.results["20"].distinct_1[0][0] = "x")),
    "results.20.distinct_1[0][0]",
    /number or null, got string/,
  );
  has(
    bad((d) => (d.nan_reasons["20"].distinct_1 = { fewer_than_2_sample: [] })),
    "nan_reasons.20.distinct_1.fewer_than_2_sample",
    /unknown field; did you mean "fewer_than_2_samples"\?/,
  );
  has(bad((d) => (d.settings.sed = 1)), "settings.sed", /did you mean "seed"\?/);
  has(bad((d) => (d.settings.seed = 0.5)), "settings.seed", /expected integer/);
  has(bad((d) => (d.nan_counts["20"].distinct_1 = -1)), "nan_counts.20.distinct_1", /≥ 0/);
  assert.deepEqual(bad((d) => (d.format = "score/1")), ['format: expected "diversity/1", got "score/1"']);
  assert.deepEqual(problemsOf(() => parseDiversityFile("{", "d.json"), "d.json").length, 1);
});

Deno.test("score/1: a written file reads back (NaN statistics as NaN); problems name the file and path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const stats = computeCorpusStats(new CorpusAccumulator({ vocab: 8 })).stats; // empty: NaN statistics
    const path = join(dir, "s.json");
    await writeScoreFile(path, {
      ...stats,
      created: "2024-05-01T12:00:00.000Z",
      complete: true,
      model: { source: "m" },
      base: null,
      data: { path: "c.jsonl", bytes: 0, sha256: "00" },
      settings: { max_seq_len: 64, context_len: 1, prefix_token: 0, max_docs: null, doc_indices: null },
      skipped: { lines: 0, reasons: [] },
      provenance: {
        toolkit_version: "0.1.0",
        runtime: "deno",
        elapsed_seconds: 0,
        resumed_from_documents: 0,
      },
    }, new Float64Array(8));
    const back = await readScoreFile(path);
    assert.ok(Number.isNaN(back.perplexity));
    assert.equal(back.mean_distribution_file, "s.meandist.npy");
    const doc: Json = JSON.parse(await Deno.readTextFile(path));
    const bad = (change: (d: Json) => void) => {
      const d = structuredClone(doc);
      change(d);
      return problemsOf(() => parseScoreFile(JSON.stringify(d), path), path);
    };
    has(bad((d) => (d.tokens = -3)), "tokens", /integer ≥ 0, got -3/);
    has(bad((d) => (d.documents = 1.5)), "documents", /expected integer/);
    has(bad((d) => (d.perplexty = 1)), "perplexty", /did you mean "perplexity"\?/);
    has(bad((d) => (d.vocab_mass_fraction["0.7"] = "x")), 'vocab_mass_fraction["0.7"]', /expected number/);
    has(bad((d) => delete d.settings.max_seq_len), "settings.max_seq_len", /missing required field/);
    has(bad((d) => (d.settings.max_seq_len = 0)), "settings.max_seq_len", /≥ 1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint/1 and the completions journal: envelopes and lines through their schemas", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "run.checkpoint.json");
    const state = { accumulator: {}, documentsRead: 3, skippedLines: 0, skippedReasons: [] };
    writeCheckpoint(path, { kind: "score", runKey: "k", runDescription: {}, unitsDone: 3, state });
    const cp = readCheckpoint(path, "score", "k")!;
    assert.deepEqual(validateCheckpointState(cp, SCORE_CHECKPOINT_STATE_SCHEMA, path).state, state);
    has(
      problemsOf(
        () =>
          validateCheckpointState(
            { ...cp, state: { ...state, documentsRead: -1 } },
            SCORE_CHECKPOINT_STATE_SCHEMA,
            path,
          ),
        path,
      ),
      "state.documentsRead",
      /≥ 0/,
    );
    const raw = JSON.parse(await Deno.readTextFile(path));
    await Deno.writeTextFile(path, JSON.stringify({ ...raw, unitsDone: -2, runKye: "x" }));
    const found = problemsOf(() => readCheckpoint(path, "score", "k"), path);
    has(found, "unitsDone", /integer ≥ 0/);
    has(found, "runKye", /did you mean "runKey"\?/);

    const journal = join(dir, "out.json.journal.jsonl");
    const header = {
      format: "completions-journal/1",
      run_key: "k",
      run_description: {},
      created: raw.written,
    };
    const cell = { temperature_index: 0, prompt_index: 0, temperature: 1, samples: [{ text: "a" }] };
    await Deno.writeTextFile(journal, [header, cell].map((x) => JSON.stringify(x)).join("\n") + "\n");
    assert.equal((await readJournal(journal, "k"))?.cells.length, 1);
    const badCell = { ...cell, samples: [{ text: 5, tokens: [] }] };
    await Deno.writeTextFile(
      journal,
      [header, badCell, cell].map((x) => JSON.stringify(x)).join("\n") + "\n",
    );
    await assert.rejects(readJournal(journal, "k"), (e: unknown) => {
      assert.ok(e instanceof JsonFormatError);
      assert.match(e.message, /: line 2: samples\[0\]\.text: expected string, got integer/);
      assert.match(e.message, /: line 2: samples\[0\]\.tokens: unknown field/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
