// The paper's perplexity JSON and hand-merged probs_conf text (lib/data/paper_tables.ts): the format quirks on
// inline text, then every stored file against the paper's published values (skipped without ../shared).
import assert from "node:assert/strict";
import {
  PaperTableError,
  parsePerplexityName,
  parseProbsConf,
  perplexityRow,
  probsConfRows,
  readPerplexityDir,
  readProbsConfDir,
  vocabIndexOf,
} from "../../lib/data/paper_tables.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";

// The shape of probs_70m.txt / probs_160m.txt: leading spaces, blank lines with spaces, an entropy-only label
// whose block comes later, a block without confidence.
const HAND_MERGED = [
  "Entropy PLM:  3.3121349811553955 ",
  "Entropy SFT:  1.897322416305542 ",
  "Entropy SFT2:  3.001667022705078 ",
  "",
  "Model PLM average confidence: 0.44177252165302633 ",
  "Proportion of total tokenizer where sum of average token probabilities at 70th percentile for PLM:  0.0391022582697201 ",
  "Proportion of total tokenizer where sum of average token probabilities at 90th percentile for PLM:  0.25135178117048346 ",
  " ",
  " ",
  " Proportion of total tokenizer where sum of average token probabilities at 70th percentile for SFT:  0.01850747455470738 ",
  "Proportion of total tokenizer where sum of average token probabilities at 90th percentile for SFT:  0.14118161577608143 ",
  " \n \n \n ",
  "Model SFT2 average confidence: 0.4207274956315756 ",
].join("\n");

Deno.test("probs_conf: hand-merged text — leading spaces, entropy-only lines, blocks with and without confidence", () => {
  const f = parseProbsConf(HAND_MERGED, "probs_70m.txt");
  assert.deepEqual(f.entries.map((e) => e.label), ["PLM", "SFT", "SFT2"]);
  assert.deepEqual(f.entries[0], {
    label: "PLM",
    entropy: 3.3121349811553955,
    averageConfidence: 0.44177252165302633,
    prop70: 0.0391022582697201,
    prop90: 0.25135178117048346,
  });
  assert.equal(f.entries[1].averageConfidence, null, "SFT has no confidence line");
  assert.equal(f.entries[1].prop70, 0.01850747455470738);
  assert.deepEqual(f.entries[2], {
    label: "SFT2",
    entropy: 3.001667022705078,
    averageConfidence: 0.4207274956315756,
    prop70: null,
    prop90: null,
  });
  assert.deepEqual(f.conflicts, []);
  const rows = probsConfRows(f);
  assert.deepEqual([rows[0].size, rows[0].index70, rows[0].index90, rows[0].vocab], [
    "70m",
    1967,
    12644,
    50304,
  ]);
});

Deno.test("probs_conf: a repeated line with another value is reported and the first kept; junk lines fail with the line number", () => {
  const f = parseProbsConf("Entropy PLM:  2.5 \nEntropy PLM:  2.5\nEntropy PLM: 3.0", "x.txt");
  assert.equal(f.entries[0].entropy, 2.5);
  assert.equal(f.conflicts.length, 1);
  assert.match(f.conflicts[0], /^line 3: PLM entropy 3 differs/);
  assert.throws(
    () => parseProbsConf("Entropy PLM:  2.5\nhello world", "x.txt"),
    (e) => e instanceof PaperTableError && /x\.txt: line 2: not a probs_conf line/.test(e.message),
  );
  assert.throws(() => parseProbsConf(" \n", "empty.txt"), /no entries/);
  assert.throws(
    () =>
      parseProbsConf(
        "Proportion of total tokenizer where sum of average token probabilities at 80th percentile for X:  0.1",
        "p.txt",
      ),
    /percentile 80/,
  );
});

Deno.test("vocabIndexOf: the stored proportion is index / V for the model's vocabulary", () => {
  assert.deepEqual(vocabIndexOf(2040 / 50304), { index: 2040, vocab: 50304 });
  assert.deepEqual(vocabIndexOf(2046 / 50432), { index: 2046, vocab: 50432 });
  assert.deepEqual(vocabIndexOf(0.03753125), { index: 1201, vocab: 32000 });
  assert.equal(vocabIndexOf(0.123456789), null);
  assert.equal(vocabIndexOf(null), null);
});

Deno.test("perplexity: file names, the 'entropy' key read as mean NLL, malformed files", () => {
  assert.deepEqual(parsePerplexityName("pythia28b-dpo-perplexity.json"), {
    family: "pythia",
    size: "2.8b",
    variant: "dpo",
  });
  assert.deepEqual(parsePerplexityName("pythia2.8b-sft-perplexity.json"), {
    family: "pythia",
    size: "2.8b",
    variant: "sft",
  });
  assert.deepEqual(parsePerplexityName("pythia14b-base-perplexity.json"), {
    family: "pythia",
    size: "1.4b",
    variant: "base",
  });
  assert.deepEqual(parsePerplexityName("llama-7b-perplexity.json"), {
    family: "llama-2",
    size: "7b",
    variant: "base",
  });
  assert.deepEqual(parsePerplexityName("llama-7b-chat-perplexity.json"), {
    family: "llama-2",
    size: "7b",
    variant: "chat",
  });
  assert.throws(() => parsePerplexityName("gpt2-perplexity.json"), PaperTableError);
  const r = perplexityRow(
    { entropy: 2.9086456298828125, perplexity: 18.331954956054688 },
    "pythia70m-base-perplexity.json",
  );
  assert.equal(r.meanNll, 2.9086456298828125);
  assert.ok(Math.abs(r.lnPerplexity - r.meanNll!) < 1e-6, "entropy key = ln perplexity");
  assert.equal(perplexityRow({ perplexity: 5.63 }, "llama-7b-sft-perplexity.json").meanNll, null);
  assert.throws(
    () => perplexityRow({ perplexity: "7" }, "llama-7b-perplexity.json"),
    /"perplexity": expected/,
  );
  assert.throws(() => perplexityRow({ perplexity: 7, ppl: 1 }, "llama-7b-perplexity.json"), /unexpected key/);
});

sharedTest(
  "perplexity: all 27 stored files match the published values (perplexity, 'entropy' = mean NLL = ln ppl)",
  async () => {
    const rows = await readPerplexityDir(sharedPath("paper", "perplexity"));
    assert.equal(rows.length, 27);
    const get = (size: string, variant: string) =>
      rows.find((r) => r.size === size && r.variant === variant)!;
    const close = (a: number, b: number) => Math.abs(a - b) < 5e-7;
    assert.ok(close(get("70m", "base").perplexity, 18.331955));
    assert.ok(close(get("70m", "sft").meanNll!, 3.403711));
    assert.ok(close(get("2.8b", "dpo").perplexity, 7.350683), "pythia28b-dpo spelled without the dot");
    assert.ok(close(get("6.9b", "ppo").perplexity, 6.704540));
    assert.ok(close(get("7b", "chat").meanNll!, 1.966152));
    assert.equal(get("7b", "ppo").meanNll, null);
    for (const r of rows) {
      if (r.meanNll !== null) {
        assert.ok(
          Math.abs(r.meanNll - r.lnPerplexity) < 1e-5,
          `${r.file}: entropy = ln ppl`,
        );
      }
    }
    assert.deepEqual(rows.slice(0, 3).map((r) => `${r.size} ${r.variant}`), [
      "70m base",
      "70m sft",
      "70m dpo",
    ]);
  },
);

sharedTest(
  "probs_conf: all 10 stored files parse and match the published values (values, implied index / V)",
  async () => {
    const { rows, conflicts } = await readProbsConfDir(sharedPath("paper", "probs_conf"));
    assert.deepEqual(conflicts, []);
    assert.equal(rows.length, 31, rows.map((r) => `${r.file}:${r.label}`).join(" "));
    const get = (size: string, label: string) => rows.find((r) => r.size === size && r.label === label)!;
    const close = (a: number | null, b: number) => a !== null && Math.abs(a - b) < 5e-7;
    assert.ok(close(get("1.4b", "PLM").entropy, 2.226850));
    assert.deepEqual([get("1.4b", "PLM").index70, get("1.4b", "PLM").index90], [2040, 12979]);
    assert.ok(close(get("1b", "DPO").averageConfidence, 0.576886));
    assert.equal(get("2.8b", "SFT").averageConfidence, null);
    assert.deepEqual(
      [get("6.9b", "PLM").vocab, get("6.9b", "SFT").vocab],
      [50432, 50304],
      "6.9b SFT/DPO are 2.8B models",
    );
    assert.deepEqual([get("160m", "SFT2").index70, get("160m", "SFT2").index90], [942, 5674]);
    assert.ok(close(get("160m", "SFT2").averageConfidence, 0.420727));
    assert.ok(close(get("llama", "chat").entropy, 1.059059));
    assert.deepEqual([get("llama-contextualAI", "PPO").index70, get("llama-contextualAI", "PPO").vocab], [
      1163,
      32000,
    ]);
    assert.ok(close(get("pythia_base_llama", "llama-2-7b-chat").prop90, 0.195937));
    for (const r of rows) assert.ok(r.vocab !== null, `${r.file} ${r.label}: proportions are index / V`);
    assert.ok(existsIn(rows, "70m", "DPO") && close(get("70m", "DPO").prop90, 0.143826));
  },
);

function existsIn(rows: { size: string; label: string }[], size: string, label: string): boolean {
  return rows.some((r) => r.size === size && r.label === label);
}
