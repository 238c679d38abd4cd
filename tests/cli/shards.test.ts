/**
 * `--shard I/N` on score, generate and diversity, and `analyse merge`: for each step a single run and its three
 * shards merged in shuffled order give the same file (the fields that necessarily differ — the time of writing
 * and the elapsed seconds — aside: EXCLUDED), and overlapping, missing and foreign shards are refused, naming
 * the file.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { statePathOf } from "../../lib/scoring/score_job.ts";
import { meanDistributionPath } from "../../lib/io/score_format.ts";
import { analyse } from "../helpers/cli.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const CORPUS = join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl");

/** The only fields a merge may not reproduce: when the file was written, and how long the run took. */
const EXCLUDED: Record<string, string[][]> = {
  "score/1": [["created"], ["provenance", "elapsed_seconds"]],
  "completions/2": [["created"]],
  "diversity/1": [["created"], ["provenance", "elapsed_seconds"]],
};

/** The file's JSON text with the excluded fields removed (key order kept, so order differences show). */
async function comparable(path: string): Promise<string> {
  const value = JSON.parse(await Deno.readTextFile(path));
  const excluded = EXCLUDED[value.format];
  assert.ok(excluded, `${path}: unexpected format ${value.format}`);
  for (const at of excluded) {
    let o = value;
    for (const k of at.slice(0, -1)) o = o[k];
    assert.ok(at.at(-1)! in o, `${path}: no ${at.join(".")}`);
    delete o[at.at(-1)!];
  }
  return JSON.stringify(value, null, 1);
}

async function ok(...args: string[]): Promise<string> {
  const r = await analyse(...args);
  assert.equal(r.code, 0, `${args.join(" ")}\n${r.stderr}`);
  return r.stderr;
}

async function refused(pattern: RegExp, ...args: string[]): Promise<void> {
  const r = await analyse(...args);
  assert.equal(r.code, 1, `${args.join(" ")} should fail\n${r.stderr}`);
  assert.match(r.stderr, pattern);
}

/** Merges `shards` into `out` and checks it equals `single`; then the refusals. */
async function mergeChecks(dir: string, single: string, shards: string[], foreign: string): Promise<void> {
  // Under the single run's name (in its own folder): score/1 names its .meandist.npy by the output's name.
  await Deno.mkdir(join(dir, "merged"));
  const merged = join(dir, "merged", basename(single));
  const [s1, s2, s3] = shards;
  await ok("merge", "--out", merged, s3, s1, s2);
  assert.equal(await comparable(merged), await comparable(single));
  // Missing: 1/3 and 3/3 without 2/3.
  await refused(/shard 2\/3 missing: given .*s1.*\(1\/3\), .*s3.*\(3\/3\)/, "merge", "--out", merged, s1, s3);
  // Overlapping: shard 1/3 twice.
  const copy = join(dir, "copy-of-s1.json");
  await Deno.copyFile(s1, copy);
  await refused(
    new RegExp(`${copy.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")}: shard 1/3 overlaps .*s1`),
    "merge",
    "--out",
    merged,
    s1,
    s2,
    s3,
    copy,
  );
  // Foreign: shard 2/3 of another job.
  await refused(
    new RegExp(`${foreign.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .* differs from`),
    "merge",
    "--out",
    merged,
    s1,
    foreign,
    s3,
  );
}

Deno.test("shards: score --shard 1..3/3 merged in any order equal a single run; bad sets refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = (model: string, out: string, ...more: string[]) => [
      "score",
      "--model",
      join(FIXTURE, model),
      "--base",
      join(FIXTURE, "base"),
      "--data",
      CORPUS,
      "--max-seq-len",
      "32",
      "--out",
      out,
      ...more,
    ];
    const single = join(dir, "single.json");
    await ok(...args("tuned", single));
    const shards = [1, 2, 3].map((i) => join(dir, `s${i}.json`));
    for (const [i, s] of shards.entries()) await ok(...args("tuned", s, "--shard", `${i + 1}/3`));
    // Documents interleave: shard I holds documents I−1, I−1+3, …
    const rows = JSON.parse(await Deno.readTextFile(shards[1])).per_document as { doc_index: number }[];
    assert.ok(rows.length > 0 && rows.every((r) => r.doc_index % 3 === 1), JSON.stringify(rows));
    const foreign = join(dir, "foreign.json");
    await ok(...args("base", foreign, "--shard", "2/3"));
    await mergeChecks(dir, single, shards.map(statePathOf), statePathOf(foreign));
    const merged = join(dir, "merged", "single.json");
    assert.deepEqual(
      await Deno.readFile(meanDistributionPath(merged)),
      await Deno.readFile(meanDistributionPath(single)),
    );
    // merge-scores (the older name) merges the same shards to the same result.
    await Deno.mkdir(join(dir, "old"));
    const old = join(dir, "old", "single.json");
    await ok("merge-scores", "--out", old, ...shards.map(statePathOf).reverse());
    assert.equal(await comparable(old), await comparable(single));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shards: generate and diversity --shard 1..3/3 merged in any order equal a single run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const gen = (out: string, seed: string, ...more: string[]) => [
      "generate",
      "--model",
      join(FIXTURE, "base"),
      "--prompt",
      "Tell me a story.",
      "--prompt",
      "Name a colour.",
      "--prompt",
      "Count to three.",
      "--temperatures",
      "0.7,1",
      "--samples",
      "2",
      "--max-new-tokens",
      "8",
      "--seed",
      seed,
      "--out",
      out,
      ...more,
    ];
    const single = join(dir, "single.json");
    await ok(...gen(single, "3"));
    const shards = [1, 2, 3].map((i) => join(dir, `s${i}.json`));
    for (const [i, s] of shards.entries()) await ok(...gen(s, "3", "--shard", `${i + 1}/3`));
    const cells = JSON.parse(await Deno.readTextFile(shards[0])).cells as {
      temperature_index: number;
      prompt_index: number;
    }[];
    assert.deepEqual(cells.map((c) => c.temperature_index * 3 + c.prompt_index), [0, 3]);
    const foreign = join(dir, "foreign.json");
    await ok(...gen(foreign, "4", "--shard", "2/3"));
    await mergeChecks(join(dir), single, shards, foreign);

    // Diversity of the single run's completions, whole and in shards.
    const ddir = join(dir, "diversity");
    await Deno.mkdir(ddir);
    const div = (out: string, seed: string, ...more: string[]) => [
      "diversity",
      "--completions",
      single,
      "--metrics",
      "deterministic",
      "--words",
      "5,all",
      "--workers",
      "2",
      "--seed",
      seed,
      "--out",
      out,
      ...more,
    ];
    const dsingle = join(ddir, "single.json");
    await ok(...div(dsingle, "0"));
    const dshards = [1, 2, 3].map((i) => join(ddir, `s${i}.json`));
    for (const [i, s] of dshards.entries()) await ok(...div(s, "0", "--shard", `${i + 1}/3`));
    const dforeign = join(ddir, "foreign.json");
    await ok(...div(dforeign, "1", "--shard", "2/3"));
    await mergeChecks(ddir, dsingle, dshards, dforeign);
    // Shards of different steps do not mix.
    await refused(
      /a generate shard, but .* is a diversity shard/,
      "merge",
      "--out",
      join(ddir, "x.json"),
      dshards[0],
      shards[1],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shards: a bad --shard is a usage error naming the option", async () => {
  for (const bad of ["0/3", "4/3", "1/0", "x"]) {
    const r = await analyse("diversity", "--completions", "nowhere.json", "--out", "x.json", "--shard", bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--shard must be I\/N/);
  }
});
