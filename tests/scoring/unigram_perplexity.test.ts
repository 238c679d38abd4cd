/** The add-one unigram baseline, by its definition on a counted toy split. */
import assert from "node:assert/strict";
import { unigramPerplexity } from "../../lib/scoring/unigram_perplexity.ts";
import type { UnigramCounts } from "../../lib/io/unigram_counts_file.ts";

const COUNTS: UnigramCounts = {
  format: "unigram-counts/1",
  about: "toy",
  tokenizer_sha256: "0".repeat(64),
  tokenizer_entries: 3,
  train_tokens: 4,
  counts: [3, 1, 0, 0],
};

Deno.test("unigram perplexity: (count + 1) / (tokens + entries), over every token of every document", () => {
  // p = 4/7, 2/7, 1/7 for ids 0, 1, 2.
  const r = unigramPerplexity(COUNTS, [[0, 1], [2]]);
  const nats = -Math.log(4 / 7) - Math.log(2 / 7) - Math.log(1 / 7);
  assert.equal(r.tokens, 3);
  assert.ok(Math.abs(r.nats - nats) < 1e-12);
  assert.ok(Math.abs(r.perplexity - Math.cbrt(7 ** 3 / 8)) < 1e-12);
  // A token the counted tokenizer does not have (a spare model row) and nothing at all are errors.
  assert.throws(() => unigramPerplexity(COUNTS, [[3]]), /token id 3 is not one of the counted tokenizer's 3/);
  assert.throws(() => unigramPerplexity(COUNTS, [[]]), /no tokens/);
});
