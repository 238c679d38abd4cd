/**
 * Class "no silent nothing": a run that scores no token exits non-zero and says why — an empty corpus file,
 * `--max-docs 0`, a corpus of malformed lines or of empty texts, and the same in a study step — while zstd data
 * under a `.jsonl` name is recognised by its magic bytes and read (with a note to rename it).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { zstdCompressSync } from "node:zlib";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { embeddedStudy } from "../../lib/study/config.ts";
import { analyse } from "../helpers/cli.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const CORPUS = join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl");

const score = (data: string, out: string, ...extra: string[]) =>
  analyse(
    "score",
    "--model",
    join(FIXTURE, "base"),
    "--data",
    data,
    "--max-seq-len",
    "32",
    "--out",
    out,
    ...extra,
  );

Deno.test("score CLI: nothing to score is an error that says why, and writes no output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "o.json");
    const empty = join(dir, "empty.jsonl");
    await Deno.writeTextFile(empty, "");
    let r = await score(empty, out);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the corpus .*empty\.jsonl is empty \(0 bytes\): nothing to score/);

    r = await score(CORPUS, out, "--max-docs", "0");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--max-docs 0 selects no document/);

    const bad = join(dir, "bad.jsonl");
    await Deno.writeTextFile(bad, "{not json\n[1, 2]\n");
    r = await score(bad, out);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no token was scored: .*bad\.jsonl: 2 lines read, 2 malformed/);

    const blank = join(dir, "blank.jsonl");
    await Deno.writeTextFile(blank, '{"text": ""}\n{"text": ""}\n');
    r = await score(blank, out);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no token was scored: .*2 documents without any text token/);

    const idx = join(dir, "none.json");
    await Deno.writeTextFile(idx, "[]");
    r = await score(CORPUS, out, "--doc-indices", idx);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /none\.json lists no document/);
    for (const f of ["o.json", "o.checkpoint.json", "o.partial.json", "o.state.json"]) {
      assert.ok(!existsSync(join(dir, f)), `${f} written by a run that scored nothing`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score CLI: zstd data named .jsonl is recognised by its magic bytes and read as zstd", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = (await Deno.readTextFile(CORPUS)).trim().split("\n").slice(0, 3).join("\n") + "\n";
    const plain = join(dir, "plain.jsonl"), hidden = join(dir, "hidden.jsonl");
    await Deno.writeTextFile(plain, lines);
    await Deno.writeFile(hidden, zstdCompressSync(new TextEncoder().encode(lines)));
    const a = await score(plain, join(dir, "a.json"));
    const b = await score(hidden, join(dir, "b.json"));
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /hidden\.jsonl is zstd-compressed .*28 B5 2F FD.*name it \.jsonl\.zst/);
    const x = JSON.parse(await Deno.readTextFile(join(dir, "a.json")));
    const y = JSON.parse(await Deno.readTextFile(join(dir, "b.json")));
    assert.equal(y.tokens, x.tokens);
    assert.equal(y.perplexity, x.perplexity);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reproduce: a study whose corpus has no token fails at its score step and says why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const corpus = join(dir, "blank.jsonl");
    await Deno.writeTextFile(corpus, '{"text": ""}\n');
    const study = embeddedStudy("ci", join(dir, "results"));
    study.corpus.path = corpus;
    const file = join(dir, "study.json");
    await Deno.writeTextFile(file, JSON.stringify(study));
    const r = await analyse("reproduce", "--study", file, "--no-notebooks");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /scoring micro-base failed: no token was scored: .*blank\.jsonl/);
    assert.ok(!existsSync(join(dir, "results", "summary.json")), "no summary of a study that scored nothing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
