/**
 * `deno task analyse diversity` end to end, as a subprocess: a completions/1 file, the paper's .npy, and bad
 * inputs that must fail with an error naming the file and what is wrong.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { completionsFromPaperNpy } from "../../lib/data/paper_completions.ts";
import { writeCompletionsJson } from "../../lib/io/completions_json.ts";
import { writePaperCompletions } from "../../lib/data/paper.ts";
import { parseDiversityFile } from "../../lib/io/diversity_format.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";
import { analyse } from "../helpers/cli.ts";

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
