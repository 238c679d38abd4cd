/**
 * `deno task analyse diversity` end to end, as a subprocess: a completions/1 file, the paper's .npy, several
 * files in one call, and bad inputs that must fail with an error naming the file and what is wrong.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { completionsFromPaperNpy } from "../../lib/data/paper_completions.ts";
import { writeCompletionsJson } from "../../lib/io/completions_json.ts";
import { writePaperCompletions } from "../../lib/data/paper.ts";
import { type DiversityFile, parseDiversityFile } from "../../lib/io/diversity_format.ts";
import { existsSync } from "node:fs";
import { sharedPath, sharedTest } from "../helpers/shared.ts";
import { analyse } from "../helpers/cli.ts";
import { diversityOutName, planDiversityJobs } from "../../cli/diversity_jobs.ts";
import { UsageError } from "../../cli/options.ts";

/** 2 temperatures × 3 prompts; prompt 1 at T0 has one sample, prompt 2 at T1 has none. */
function smallCells(): string[][][] {
  const base = [
    "The cat sat on the mat today.",
    "A dog ran in the park!",
    "the cat sat on a mat",
    "Nobody knows.",
  ];
  return [
    [base, [base[0]], [...base, ""]],
    [base.map((s) => s + " again"), base.slice(0, 2), []],
  ];
}

Deno.test("diversity CLI: completions/1 JSON → diversity/1 with NaN reasons", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "small.json");
    await writeCompletionsJson(
      input,
      completionsFromPaperNpy(smallCells(), {
        promptSet: "creative",
        modelId: "test/model",
        temperatures: [0.5, 1],
      }),
    );
    const out = join(dir, "div.json");
    const r = await analyse(
      "diversity",
      "--completions",
      input,
      "--out",
      out,
      "--words",
      "3,all",
      "--metrics",
      "deterministic,order_2_jaccard_2,distinct_1",
      "--seed",
      "7",
      "--workers",
      "1",
    );
    assert.equal(r.code, 0, r.stderr);
    const file = parseDiversityFile(await Deno.readTextFile(out), out);
    assert.equal(file.input.prompt_set, "creative");
    assert.equal(file.input.model, "test/model");
    assert.deepEqual(file.settings.words, ["3", "all"]);
    assert.deepEqual(file.temperatures, [0.5, 1]);
    assert.equal(file.settings.seed, 7);
    const bleu = file.results["3"].selfBleuSmoothed;
    assert.equal(bleu.length, 2);
    assert.equal(bleu[0].length, 3);
    // One sample: no references; no samples: nothing to average; an empty completion: target ratio undefined.
    assert.deepEqual(file.nan_reasons["3"].selfBleuSmoothed, {
      fewer_than_2_samples: [[0, 1]],
      no_samples: [[1, 2]],
    });
    assert.deepEqual(file.nan_reasons["all"].avg_compression_ratio_target.empty_sample, [[0, 2]]);
    assert.equal(file.nan_counts["3"].selfBleuSmoothed, 2);
    assert.ok(Number.isNaN(bleu[0][1]));
    assert.ok(bleu[0][0] > 0 && bleu[0][0] <= 1);
    // The raw JSON writes undefined values as null.
    assert.match(await Deno.readTextFile(out), /null/);
    assert.match(r.stderr, /wrote/);
    // Same seed, same order-q values; another seed, other values somewhere.
    const out2 = join(dir, "div2.json");
    await analyse(
      "diversity",
      "--completions",
      input,
      "--out",
      out2,
      "--words",
      "3",
      "--metrics",
      "order_2_jaccard_2",
      "--seed",
      "7",
    );
    const again = parseDiversityFile(await Deno.readTextFile(out2), out2);
    assert.deepEqual(again.results["3"].order_2_jaccard_2, file.results["3"].order_2_jaccard_2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diversity CLI: bad inputs fail with the file and what is wrong", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = join(dir, "x_completions_factual_max_length25.npy");
    await writePaperCompletions(good, smallCells());
    const bytes = await Deno.readFile(good);
    const truncated = join(dir, "truncated.npy");
    await Deno.writeFile(truncated, bytes.subarray(0, bytes.length - 40));
    let r = await analyse(
      "diversity",
      "--completions",
      truncated,
      "--prompt-set",
      "factual",
      "--out",
      join(dir, "o.json"),
      "--metrics",
      "deterministic",
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /truncated\.npy/);
    assert.match(r.stderr, /offset \d+|byte \d+/i);

    const notNpy = join(dir, "notes.npy");
    await Deno.writeTextFile(notNpy, "hello");
    r = await analyse(
      "diversity",
      "--completions",
      notNpy,
      "--prompt-set",
      "factual",
      "--out",
      join(dir, "o.json"),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /notes\.npy/);

    // The paper's file name says which prompt set it holds; a plain name without --prompt-set is an error.
    r = await analyse(
      "diversity",
      "--completions",
      good,
      "--out",
      join(dir, "ok.json"),
      "--metrics",
      "selfBleuSmoothed",
      "--words",
      "5",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      parseDiversityFile(await Deno.readTextFile(join(dir, "ok.json"))).input.prompt_set,
      "factual",
    );
    const plain = join(dir, "plain.npy");
    await Deno.writeFile(plain, bytes);
    r = await analyse(
      "diversity",
      "--completions",
      plain,
      "--out",
      join(dir, "o.json"),
      "--metrics",
      "deterministic",
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /plain\.npy: cannot tell which prompt set/);

    r = await analyse("diversity", "--completions", good, "--out", join(dir, "o.json"), "--metrics", "nope");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown metric key "nope"/);
    r = await analyse("diversity", "--completions", good, "--out", join(dir, "o.json"), "--words", "0");
    assert.match(r.stderr, /--words: "0" is not a positive integer/);
    r = await analyse("diversity", "--completions", join(dir, "missing.json"), "--out", join(dir, "o.json"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

sharedTest("diversity CLI: one of the paper's files reproduces its stored values", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "dpo.json");
    const input = sharedPath("paper", "completions", "pythia-2.8b-dpo_completions_factual_max_length25.npy");
    const r = await analyse(
      "diversity",
      "--completions",
      input,
      "--out",
      out,
      "--words",
      "5",
      "--metrics",
      "deterministic",
    );
    assert.equal(r.code, 0, r.stderr);
    const file = parseDiversityFile(await Deno.readTextFile(out), out);
    assert.equal(file.input.prompt_set, "factual");
    assert.equal(file.input.format, "paper-npy");
    assert.match(file.input.sha256, /^[0-9a-f]{64}$/);
    const { readPaperResults } = await import("../../lib/data/paper.ts");
    const stored = await readPaperResults(
      sharedPath("paper", "creative_factual", "pythia-2.8b-dpo_results_5_words.npy"),
    );
    const ncd = stored.groups.factual!.average_pairwise_ncd;
    file.results["5"].average_pairwise_ncd.forEach((row, t) =>
      row.forEach((v, p) => assert.equal(Math.fround(v), ncd[t * 20 + p], `[${t},${p}]`))
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diversity jobs: each --completions paired with its --out / --out-dir name, --prompt-set and --model", () => {
  assert.deepEqual(
    planDiversityJobs({
      completions: ["a.npy", "b.json"],
      out: ["A.json", "B.json"],
      promptSets: ["creative", "factual"],
      models: ["m"],
    }),
    [
      { input: "a.npy", out: "A.json", promptSet: "creative", model: "m" },
      { input: "b.json", out: "B.json", promptSet: "factual", model: "m" },
    ],
  );
  assert.deepEqual(
    planDiversityJobs({ completions: ["x/a.npy", "y/b.json"], outDir: "o", models: ["m1", "m2"] }).map((
      j,
    ) => [
      j.out,
      j.promptSet,
      j.model,
    ]),
    [[join("o", "a.diversity.json"), undefined, "m1"], [join("o", "b.diversity.json"), undefined, "m2"]],
  );
  assert.equal(diversityOutName("p/c.NPY", { index: 2, count: 3 }), "c.diversity.shard-2-of-3.json");
  const refused = (o: Parameters<typeof planDiversityJobs>[0], pattern: RegExp) =>
    assert.throws(
      () => planDiversityJobs(o),
      (e: Error) => e instanceof UsageError && pattern.test(e.message),
    );
  refused({ completions: ["a", "b"], out: ["A"] }, /--completions given twice but --out once/);
  refused({ completions: ["a"], out: ["A"], outDir: "o" }, /--out and --out-dir both given/);
  refused(
    { completions: ["a", "b", "c"], outDir: "o", promptSets: ["creative"] },
    /--prompt-set given once for 3 --completions/,
  );
  refused({ completions: ["a", "b", "c"], outDir: "o", models: ["m", "n"] }, /--model given twice for 3/);
  refused({ completions: ["x/a.npy", "y/a.json"], outDir: "o" }, /x\/a\.npy and y\/a\.json would both write/);
});

Deno.test("diversity CLI: several files in one call write what one call per file writes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 2 temperatures × 12 prompts at 2 word limits: enough cells for two workers.
    const cells = smallCells().map((row) =>
      [0, 1, 2, 3].flatMap((k) => row.map((c) => c.map((x) => `${x} ${k}`)))
    );
    const json = join(dir, "small.json");
    await writeCompletionsJson(
      json,
      completionsFromPaperNpy(cells, {
        promptSet: "creative",
        modelId: "test/model",
        temperatures: [0.5, 1],
      }),
    );
    const npy = join(dir, "m_completions_factual_max_length25.npy");
    await writePaperCompletions(npy, cells.map((row) => row.map((c) => c.map((s) => s + " more words"))));
    const common = [
      "--words",
      "3,all",
      "--metrics",
      "deterministic,order_2_jaccard_2,distinct_1",
      "--seed",
      "3",
    ];
    const single = [join(dir, "one_a.json"), join(dir, "one_b.json")];
    for (const [i, input] of [json, npy].entries()) {
      const r = await analyse(
        "diversity",
        "--completions",
        input,
        "--out",
        single[i],
        ...common,
        "--workers",
        "1",
      );
      assert.equal(r.code, 0, r.stderr);
    }
    // Two files, one process: --out per file in order, the prompt set of each from its file, one pool of two
    // workers for both (the single runs above ran on the main thread).
    const both = [join(dir, "both_a.json"), join(dir, "both_b.json")];
    let r = await analyse(
      "diversity",
      "--completions",
      json,
      "--completions",
      npy,
      "--out",
      both[0],
      "--out",
      both[1],
      ...common,
      "--workers",
      "2",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/^diversity: writes /gm)?.length, 2, r.stderr);
    const comparable = (f: DiversityFile) => {
      const { created: _c, provenance: { elapsed_seconds: _e, ...provenance }, ...rest } = f;
      return { ...rest, provenance };
    };
    for (const i of [0, 1]) {
      const a = parseDiversityFile(await Deno.readTextFile(single[i]), single[i]);
      const b = parseDiversityFile(await Deno.readTextFile(both[i]), both[i]);
      assert.deepEqual(comparable(b), comparable(a));
    }
    // --out-dir names each file after its input; --prompt-set once per file, --model once for both.
    const outDir = join(dir, "out");
    r = await analyse(
      "diversity",
      "--completions",
      json,
      "--completions",
      npy,
      "--out-dir",
      outDir,
      "--prompt-set",
      "creative",
      "--prompt-set",
      "factual",
      "--model",
      "named",
      ...common,
    );
    assert.equal(r.code, 0, r.stderr);
    const names = [...Deno.readDirSync(outDir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["m_completions_factual_max_length25.diversity.json", "small.diversity.json"]);
    const factual = parseDiversityFile(await Deno.readTextFile(join(outDir, names[0])), names[0]);
    assert.equal(factual.input.prompt_set, "factual");
    assert.equal(factual.input.model, "named");
    assert.deepEqual(factual.results, parseDiversityFile(await Deno.readTextFile(single[1])).results);

    // A bad second file stops the call before anything is measured or written.
    const bad = join(dir, "bad.npy");
    await Deno.writeTextFile(bad, "hello");
    const outs = [join(dir, "x.json"), join(dir, "y.json")];
    r = await analyse(
      "diversity",
      "--completions",
      json,
      "--completions",
      bad,
      "--prompt-set",
      "creative",
      "--prompt-set",
      "factual",
      "--out",
      outs[0],
      "--out",
      outs[1],
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.npy/);
    assert.ok(!existsSync(outs[0]) && !existsSync(outs[1]), "nothing written");
    // A count that pairs no file with its option is a usage error.
    r = await analyse(
      "diversity",
      "--completions",
      json,
      "--completions",
      npy,
      "--out-dir",
      outDir,
      "--prompt-set",
      "x",
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--prompt-set given once for 2 --completions/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
