/**
 * Class "writes only where the user asked": outputs that are folders or devices, outputs that are inputs
 * (compared by real path, through links), pack and model names that would lead out of the results folder, and
 * the line every command prints about where it writes. Each refusal comes before any work and names both files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { checkOutputPaths, realPathOf, safePathSegment } from "../../lib/io/output_paths.ts";
import { embeddedStudy } from "../../lib/study/config.ts";
import { studyPaths } from "../../lib/study/steps.ts";
import { analyse } from "../helpers/cli.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const CORPUS = join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl");

Deno.test("checkOutputPaths: folders, devices, inputs (also through a link) and twin outputs are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "in.jsonl");
    await Deno.writeTextFile(input, "{}\n");
    await Deno.symlink(input, join(dir, "link.json"));
    const inputs = [{ what: "--data", path: input }, { what: "--model folder", path: join(FIXTURE, "base") }];
    assert.throws(
      () => checkOutputPaths([{ what: "--out", path: join(dir, "link.json") }], inputs),
      /--out .*link\.json is the input --data .*in\.jsonl/,
    );
    assert.throws(() => checkOutputPaths([{ what: "--out", path: dir }], inputs), /--out .* is a directory/);
    assert.throws(() => checkOutputPaths([{ what: "--out", path: "/dev/full" }], []), /not a regular file/);
    assert.throws(
      () => checkOutputPaths([{ what: "--out", path: join(FIXTURE, "base", "config.json") }], inputs),
      /is a file of the input --model folder/,
    );
    assert.throws(
      () =>
        checkOutputPaths([{ what: "--out", path: join(dir, "a.json") }, {
          what: "--npy",
          path: join(dir, ".", "a.json"),
        }], []),
      /are the same file/,
    );
    checkOutputPaths([{ what: "--out", path: join(dir, "new", "out.json") }], inputs);
    assert.equal(realPathOf(join(dir, "link.json")), realPathOf(input));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("study paths: model and pack names never lead out of the results folder", () => {
  const study = embeddedStudy("ci", "/tmp/results-x");
  for (const bad of ["..", ".", "a/b", "../x", ""]) {
    assert.throws(() => safePathSegment(bad, "model name"), /cannot be used in a file name/);
    assert.throws(() => studyPaths.score(study, bad), /cannot be used in a file name/);
  }
  assert.equal(
    studyPaths.completions(study, "micro-base", "creative"),
    "/tmp/results-x/completions/micro-base/creative.json",
  );
});

Deno.test("score CLI: --out that is the corpus, a folder, a device or a model file is refused before any work", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = join(dir, "corpus.json");
    await Deno.copyFile(CORPUS, data);
    const before = await Deno.readTextFile(data);
    const args = ["score", "--model", join(FIXTURE, "base"), "--data", data];
    let r = await analyse(...args, "--out", data);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--out .*corpus\.json is the input --data .*corpus\.json/);
    assert.equal(await Deno.readTextFile(data), before, "the corpus is untouched");
    await Deno.mkdir(join(dir, "o.json"));
    r = await analyse(...args, "--out", join(dir, "o.json"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /o\.json is a directory/);
    r = await analyse(...args, "--out", "/dev/full");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\/dev\/full is not a regular file/);
    r = await analyse(...args, "--out", join(FIXTURE, "base", "config.json"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config\.json is a file of the input --model folder/);
    // Only the derived name collides: <out>.state.json is the corpus.
    const state = join(dir, "x.state.json");
    await Deno.copyFile(CORPUS, state);
    r = await analyse(
      "score",
      "--model",
      join(FIXTURE, "base"),
      "--data",
      state,
      "--out",
      join(dir, "x.json"),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the final state .*x\.state\.json is the input --data/);
    assert.ok(!existsSync(join(dir, "x.json")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate CLI: a pack named to leave the folder is refused; --out equal to the pack file too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pack = join(dir, "evil.json");
    await Deno.writeTextFile(
      pack,
      JSON.stringify({
        format: "prompt-pack/1",
        name: "../../escaped",
        prompts: [{ id: "a", text: "Write a poem." }],
      }),
    );
    const r = await analyse(
      "generate",
      "--model",
      join(FIXTURE, "base"),
      "--prompts",
      pack,
      "--out",
      join(dir, "out", "{pack}.json"),
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /the name of the prompt pack .*evil\.json "\.\.\/\.\.\/escaped" cannot be used in a file name/,
    );
    assert.ok(!existsSync(join(dir, "escaped.json")) && !existsSync(join(dir, "..", "escaped.json")));
    const good = join(dir, "poems.json");
    await Deno.writeTextFile(
      good,
      JSON.stringify({
        format: "prompt-pack/1",
        name: "poems",
        prompts: [{ id: "a", text: "Write a poem." }],
      }),
    );
    const same = await analyse(
      "generate",
      "--model",
      join(FIXTURE, "base"),
      "--prompts",
      good,
      "--out",
      good,
    );
    assert.equal(same.code, 1);
    assert.match(same.stderr, /--out .*poems\.json is the input --prompts .*poems\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diversity CLI: --out equal to --completions is refused; the first line says where it writes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { completionsFromPaperNpy } = await import("../../lib/data/paper_completions.ts");
    const { writeCompletionsJson } = await import("../../lib/io/completions_json.ts");
    const input = join(dir, "c.json");
    await writeCompletionsJson(
      input,
      completionsFromPaperNpy([[["a cat sat", "a dog ran"], ["one two", "three four"]]], {
        promptSet: "poems",
        modelId: "m",
        temperatures: [1],
      }),
    );
    const before = await Deno.readTextFile(input);
    const r = await analyse("diversity", "--completions", input, "--out", input);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--out .*c\.json is the input --completions/);
    assert.equal(await Deno.readTextFile(input), before);
    const out = join(dir, "d.json");
    const ok = await analyse(
      "diversity",
      "--completions",
      input,
      "--out",
      out,
      "--metrics",
      "distinct_1",
      "--workers",
      "1",
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stderr.split("\n")[0],
      new RegExp(`^diversity: writes ${realPathOf(out).replaceAll("/", "\\/")}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reproduce --study: the user's study file in the results folder is not overwritten", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const results = join(dir, "results");
    await Deno.mkdir(results);
    const study = embeddedStudy("ci", results);
    study.sweep.packs = ["factual"];
    study.sweep.promptsPerPack = 1;
    study.sweep.temperatures = [1];
    study.sweep.samples = 2;
    study.corpus.maxDocs = 1;
    study.corpus.maxSeqLen = 32;
    const file = join(results, "study.json");
    const text = JSON.stringify({ ...study, resultsDir: "." }, null, 1);
    await Deno.writeTextFile(file, text);
    const r = await analyse("reproduce", "--study", file, "--no-notebooks");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Deno.readTextFile(file), text, "the study file is untouched");
    assert.match(r.stderr, /the resolved study goes to .*study\.resolved\.json/);
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(results, "study.resolved.json"))).resultsDir,
      results,
    );
    assert.match(r.stderr, new RegExp(`writes ${results.replaceAll("/", "\\/")}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
