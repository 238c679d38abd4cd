/**
 * `deno task reproduce` on the embedded default at CI size (notebooks are executed by
 * tests/notebooks/all_notebooks.test.ts): the trained family's collapse is detected, the report is written, a rerun reuses
 * every step, a removed result is recomputed identically, and a bad study file is named.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { embeddedStudy } from "../../lib/study/config.ts";
import { analyse } from "../helpers/cli.ts";

const reproduce = (...args: string[]) => analyse("reproduce", ...args);

Deno.test("reproduce: the embedded default detects the micro family's collapse; reruns reuse; removed files are remade", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await reproduce("--size", "ci", "--results", dir, "--no-notebooks");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /micro-sft vs micro-base: MODE COLLAPSE DETECTED/);
    assert.match(r.stderr, /micro-dpo vs micro-base: MODE COLLAPSE DETECTED/);
    const summary = JSON.parse(await Deno.readTextFile(join(dir, "summary.json")));
    assert.equal(summary.verdicts.length, 2);
    for (const v of summary.verdicts) {
      assert.equal(v.collapsed, true);
      assert.ok(v.lessDiverseShare > 0.5 && v.diversityPoints > 10);
    }
    const { "micro-base": base, "micro-dpo": tuned } = summary.scores;
    assert.ok(tuned.mean_entropy < base.mean_entropy && tuned.mean_confidence > base.mean_confidence);
    assert.ok(tuned.kl_from_base > 0 && base.kl_from_base === null);
    assert.equal(base.documents, 2);
    const report = await Deno.readTextFile(join(dir, "report.html"));
    assert.match(report, /micro-dpo vs micro-base: mode collapse detected/);
    assert.match(report, /trained on a 2-core machine in 51 minutes: .*1\.84 M tokens/s);
    const study = JSON.parse(await Deno.readTextFile(join(dir, "study.json")));
    assert.equal(study.format, "study/1");

    const completions = join(dir, "completions", "micro-base", "factual.json");
    const before = JSON.parse(await Deno.readTextFile(completions));
    const again = await reproduce("--size", "ci", "--results", dir, "--no-notebooks");
    assert.equal(again.code, 0, again.stderr);
    const reusedLines = again.stderr.split("\n").filter((l) =>
      /^reproduce: (score|diversity) .*: reused cached/.test(l)
    );
    assert.equal(reusedLines.length, 3 + 9, "3 scores and 9 diversity results reused");
    assert.ok(reusedLines.slice(3).every((l) => l.includes("(samples: reused cached")), "and their samples");

    await Deno.remove(completions);
    const third = await reproduce(
      "--size",
      "ci",
      "--results",
      dir,
      "--no-notebooks",
      "--figures",
      "paper-double",
    );
    assert.equal(third.code, 0, third.stderr);
    const index = JSON.parse(await Deno.readTextFile(join(dir, "figures", "paper-double", "index.json")));
    assert.equal(index.preset, "paper-double");
    assert.ok(index.figures.length > 5, "the paper bundle redraws the study's figures");
    const badPreset = await reproduce(
      "--size",
      "ci",
      "--results",
      dir,
      "--no-notebooks",
      "--figures",
      "poster",
    );
    assert.equal(badPreset.code, 1);
    assert.match(badPreset.stderr, /unknown figure preset "poster"; known: .*paper-double/);
    assert.match(
      third.stderr,
      /diversity micro-base factual: recomputed .*missing or changed|diversity micro-base factual: computed/,
    );
    const after = JSON.parse(await Deno.readTextFile(completions));
    assert.deepEqual(after.cells, before.cells, "the same seeds give the same samples");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reproduce: a study file with an unknown base model is refused with the file and field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = embeddedStudy("ci", dir);
    s.models[1].base = "no-such-model";
    const path = join(dir, "study.json");
    await Deno.writeTextFile(path, JSON.stringify(s));
    const r = await reproduce("--study", path, "--no-notebooks");
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`${path.replaceAll("/", "\\/")}: models\\[1\\]\\.base: "no-such-model" is not a model`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
