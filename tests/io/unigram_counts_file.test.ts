/**
 * unigram-counts/1: the committed family's file validates against its own tokenizer; every kind of damage is
 * reported with its JSON path, and counts of another tokenizer are refused before they make a wrong baseline.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readUnigramCounts, validateUnigramCounts } from "../../lib/io/unigram_counts_file.ts";
import { EMBEDDED_MODELS_DIR } from "../../lib/study/config.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

const FILE = join(EMBEDDED_MODELS_DIR, "unigram_counts.json");

Deno.test("unigram counts: the committed file is valid and counts the family's tokenizer", async () => {
  const u = await readUnigramCounts(FILE, join(EMBEDDED_MODELS_DIR, "base", "tokenizer.json"));
  assert.equal(u.format, "unigram-counts/1");
  assert.equal(u.counts.reduce((a, c) => a + c, 0), u.train_tokens);
  await assert.rejects(
    readUnigramCounts(FILE, join(PROJECT_ROOT, "data", "tokenizers", "pythia", "tokenizer.json")),
    /tokenizer_sha256 is 0d0785.*these counts are of another tokenizer's ids/,
  );
});

Deno.test("unigram counts: each problem named by its JSON path", () => {
  const good = () => ({
    format: "unigram-counts/1",
    about: "three tokens",
    tokenizer_sha256: "a".repeat(64),
    tokenizer_entries: 3,
    train_tokens: 4,
    counts: [3, 1, 0, 0],
  });
  assert.equal(validateUnigramCounts(good(), "u.json").train_tokens, 4);
  const problems = (edit: (d: Record<string, unknown>) => void) => {
    const d: Record<string, unknown> = good();
    edit(d);
    try {
      validateUnigramCounts(d, "u.json");
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail("no error");
  };
  assert.match(problems((d) => (d.format = "score/1")), /u\.json.*format: expected "unigram-counts\/1"/);
  assert.match(problems((d) => (d.train_tokens = 5)), /train_tokens: is 5, but the counts add up to 4/);
  assert.match(problems((d) => (d.counts = [3, -1, 2, 0])), /counts\[1\]: expected a count ≥ 0, got -1/);
  assert.match(
    problems((d) => (d.counts = [2, 1, 0, 1])),
    /counts\[3\]: id 3 is past the tokenizer's entries/,
  );
  assert.match(
    problems((d) => (d.counts = [4, 0])),
    /counts: expected at least tokenizer_entries = 3 counts/,
  );
  assert.match(problems((d) => (d.tokenizer_sha256 = "xyz")), /tokenizer_sha256: expected 64 lowercase hex/);
  assert.match(problems((d) => delete d.about), /about: missing required field/);
});
