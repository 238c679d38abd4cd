/**
 * `unigram-counts/1` files: token counts of a training split (written by tools/micro_family/export.py as
 * data/micro-family/unigram_counts.json), the baseline a pre-trained base model must beat. One schema, validated
 * whole on read; the counts must add up to `train_tokens` and fit the tokenizer they name.
 * @module
 */
import { int, nonEmpty, numbers, readJsonSync, sha256Hex, strict, tag, v, validateWith } from "./schema.ts";
import { sha256File } from "./sha256.ts";

/** The format tag of unigram-count files. */
export const UNIGRAM_COUNTS_FORMAT = "unigram-counts/1";

/** A training split's token counts. */
export interface UnigramCounts {
  /** Always {@link UNIGRAM_COUNTS_FORMAT}. */
  format: typeof UNIGRAM_COUNTS_FORMAT;
  /** What was counted, in words. */
  about: string;
  /** sha256 of the `tokenizer.json` whose ids are counted. */
  tokenizer_sha256: string;
  /** Entries of that tokenizer (the add-one smoothing spreads over these). */
  tokenizer_entries: number;
  /** Tokens counted (the sum of `counts`). */
  train_tokens: number;
  /** Count per token id, 0 … model vocabulary − 1 (ids past the tokenizer's entries count 0). */
  counts: number[];
}

const SCHEMA: v.GenericSchema<unknown, UnigramCounts> = strict({
  format: tag(UNIGRAM_COUNTS_FORMAT),
  about: nonEmpty(),
  tokenizer_sha256: sha256Hex(),
  tokenizer_entries: int({ min: 1 }),
  train_tokens: int({ min: 1 }),
  counts: numbers({ integer: true, min: 0, noun: "a count", minItems: 1 }),
}, (u, report) => {
  if (u.counts.length < u.tokenizer_entries) {
    report(
      ["counts"],
      `expected at least tokenizer_entries = ${u.tokenizer_entries} counts, got ${u.counts.length}`,
    );
    return;
  }
  const past = u.counts.findIndex((c, id) => id >= u.tokenizer_entries && c !== 0);
  if (past >= 0) {
    report(["counts", past], `id ${past} is past the tokenizer's entries but counts ${u.counts[past]}`);
  }
  const total = u.counts.reduce((a, c) => a + c, 0);
  if (total !== u.train_tokens) {
    report(["train_tokens"], `is ${u.train_tokens}, but the counts add up to ${total}`);
  }
}) as v.GenericSchema<unknown, UnigramCounts>;

/** Validates a parsed unigram-count document; one error names `file` and lists every problem's JSON path. */
export function validateUnigramCounts(value: unknown, file: string): UnigramCounts {
  return validateWith(SCHEMA, value, file, { formats: [UNIGRAM_COUNTS_FORMAT] });
}

/**
 * Reads a unigram-count file and, with `tokenizerJson`, checks that it counts that tokenizer's ids (its sha256
 * matches `tokenizer_sha256`): counts of another tokenizer would give a silently wrong baseline.
 */
export async function readUnigramCounts(file: string, tokenizerJson?: string): Promise<UnigramCounts> {
  const counts = validateUnigramCounts(readJsonSync(file), file);
  if (tokenizerJson !== undefined) {
    const sha = await sha256File(tokenizerJson);
    if (sha !== counts.tokenizer_sha256) {
      throw new Error(
        `${file}: tokenizer_sha256 is ${counts.tokenizer_sha256}, but ${tokenizerJson} has sha256 ${sha}: ` +
          "these counts are of another tokenizer's ids",
      );
    }
  }
  return counts;
}
