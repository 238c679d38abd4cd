/**
 * Class "compatibility checked up front": a fine-tune and a base with different tokenizers (by content), windows
 * longer than the model reads, document indices past the end of the corpus, shards of different corpora, and a
 * completions file whose cells disagree with its samples_per_prompt — each refused with the files named, before
 * any scoring (no output, no checkpoint).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { checkSameTokenizer, tokenizerFingerprint } from "../../lib/scoring/score_job.ts";
import { checkStudyCompatibility } from "../../lib/study/steps.ts";
import { embeddedStudy } from "../../lib/study/config.ts";
import { analyse } from "../helpers/cli.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const CORPUS = join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl");

/** A copy of the base fixture whose tokenizer.json has two vocabulary entries swapped (same sizes). */
async function otherTokenizerCopy(dir: string): Promise<string> {
  const copy = join(dir, "other-base");
  await Deno.mkdir(join(copy, "onnx"), { recursive: true });
  for await (const e of Deno.readDir(join(FIXTURE, "base"))) {
    if (e.isFile) await Deno.copyFile(join(FIXTURE, "base", e.name), join(copy, e.name));
  }
  await Deno.symlink(join(FIXTURE, "base", "onnx", "model.onnx"), join(copy, "onnx", "model.onnx"));
  const tok = JSON.parse(await Deno.readTextFile(join(copy, "tokenizer.json")));
  const vocab = tok.model.vocab as Record<string, number>;
  const [a, b] = ["the", "of"];
  [vocab[a], vocab[b]] = [vocab[b], vocab[a]];
  await Deno.writeTextFile(join(copy, "tokenizer.json"), JSON.stringify(tok));
  return copy;
}

Deno.test("tokenizer fingerprint: by content (merges in either spelling), parts named when they differ", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = await tokenizerFingerprint(join(FIXTURE, "base"));
    const tuned = await tokenizerFingerprint(join(FIXTURE, "tuned"));
    assert.equal(base.sha256, tuned.sha256, "the fixture's fine-tune and base share the Pythia tokenizer");
    // The same merges written as pairs, keys reordered: the same tokenizer.
    const respelled = join(dir, "respelled");
    await Deno.mkdir(respelled);
    const tok = JSON.parse(await Deno.readTextFile(join(FIXTURE, "base", "tokenizer.json")));
    tok.model.merges = (tok.model.merges as string[]).map((m) => m.split(" "));
    tok.model.vocab = Object.fromEntries(Object.entries(tok.model.vocab).reverse());
    await Deno.writeTextFile(join(respelled, "tokenizer.json"), JSON.stringify(tok));
    assert.equal((await tokenizerFingerprint(respelled)).sha256, base.sha256);
    const other = await otherTokenizerCopy(dir);
    await assert.rejects(
      checkSameTokenizer({ name: "the model", dir: join(FIXTURE, "tuned") }, {
        name: "its base",
        dir: other,
      }),
      (e: Error) =>
        e.message.includes(join(FIXTURE, "tuned")) && e.message.includes(other) && /vocab/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score CLI: a base with another tokenizer is refused naming both folders, before scoring", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const other = await otherTokenizerCopy(dir);
    const out = join(dir, "o.json");
    const r = await analyse(
      "score",
      "--model",
      join(FIXTURE, "tuned"),
      "--base",
      other,
      "--data",
      CORPUS,
      "--max-seq-len",
      "64",
      "--out",
      out,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /different tokenizers/);
    assert.ok(r.stderr.includes(join(FIXTURE, "tuned")) && r.stderr.includes(other), r.stderr);
    for (const f of ["o.json", "o.checkpoint.json", "o.partial.json"]) {
      assert.ok(!existsSync(join(dir, f)), f);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score CLI: --max-seq-len past max_position_embeddings and indices past the corpus end are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["score", "--model", join(FIXTURE, "base"), "--data", CORPUS, "--out", join(dir, "o.json")];
    let r = await analyse(...args, "--max-seq-len", "4096");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /max-seq-len 4096 exceeds the 2048 positions .*max_position_embeddings/);
    const idx = join(dir, "idx.json");
    await Deno.writeTextFile(idx, JSON.stringify([0, 3, 12, 40]));
    r = await analyse(...args, "--max-seq-len", "64", "--doc-indices", idx);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /idx\.json: 2 document indices are past the end of .*corpus\.jsonl, which has 12 lines .*: 12, 40/,
    );
    assert.ok(!existsSync(join(dir, "o.checkpoint.json")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("merge-scores: shards scored on different corpora are refused, naming the shard", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = (await Deno.readTextFile(CORPUS)).trim().split("\n");
    const a = join(dir, "a.jsonl"), b = join(dir, "b.jsonl");
    await Deno.writeTextFile(a, lines.slice(0, 4).join("\n") + "\n");
    await Deno.writeTextFile(b, [...lines.slice(0, 2), lines[5], lines[6]].join("\n") + "\n");
    await Deno.writeTextFile(join(dir, "even.json"), "[0, 2]");
    await Deno.writeTextFile(join(dir, "odd.json"), "[1, 3]");
    for (const [data, idx, out] of [[a, "even.json", "sa.json"], [b, "odd.json", "sb.json"]]) {
      const r = await analyse(
        "score",
        "--model",
        join(FIXTURE, "base"),
        "--data",
        data,
        "--doc-indices",
        join(dir, idx),
        "--max-seq-len",
        "32",
        "--out",
        join(dir, out),
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const r = await analyse(
      "merge-scores",
      "--out",
      join(dir, "m.json"),
      join(dir, "sa.state.json"),
      join(dir, "sb.state.json"),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sb\.state\.json: the corpus differs from .*sa\.state\.json's \(sha256/);
    assert.ok(!existsSync(join(dir, "m.json")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("study: a fine-tune whose base has another tokenizer is refused before the first step", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const other = await otherTokenizerCopy(dir);
    const study = embeddedStudy("ci", join(dir, "results"));
    study.models[0].source = other;
    await assert.rejects(
      checkStudyCompatibility(study),
      (e: Error) => /different tokenizers/.test(e.message) && e.message.includes(other),
    );
    const long = embeddedStudy("ci", join(dir, "results"));
    long.corpus.maxSeqLen = 4096;
    await assert.rejects(checkStudyCompatibility(long), /maxSeqLen 4096 exceeds the 2048 positions/);
    assert.ok(!existsSync(join(dir, "results")), "nothing written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diversity CLI: a completions/2 file whose samples_per_prompt disagrees with its cells is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "c.json");
    const g = await analyse(
      "generate",
      "--model",
      join(FIXTURE, "base"),
      "--prompt",
      "Hello",
      "--temperatures",
      "1",
      "--samples",
      "2",
      "--max-new-tokens",
      "3",
      "--out",
      out,
    );
    assert.equal(g.code, 0, g.stderr);
    const doc = JSON.parse(await Deno.readTextFile(out));
    doc.sampling.samples_per_prompt = 3;
    await Deno.writeTextFile(out, JSON.stringify(doc));
    const r = await analyse(
      "diversity",
      "--completions",
      out,
      "--out",
      join(dir, "d.json"),
      "--metrics",
      "distinct_1",
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /c\.json: cells\[0\] holds 2 samples, but sampling\.samples_per_prompt is 3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
