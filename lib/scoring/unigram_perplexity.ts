/**
 * The unigram baseline: perplexity of an add-one-smoothed unigram model of a training split (its token counts,
 * lib/io/unigram_counts_file.ts) on the tokens a study scores. A pre-trained base model that is a language model
 * at all sits far below it.
 * @module
 */
import type { UnigramCounts } from "../io/unigram_counts_file.ts";

/** The unigram model's perplexity on some tokens, with what it is made of. */
export interface UnigramPerplexity {
  /** exp(mean negative log-probability). */
  perplexity: number;
  /** Tokens scored. */
  tokens: number;
  /** Sum of −log p over them, in nats. */
  nats: number;
}

/**
 * Perplexity of the add-one-smoothed unigram model p(id) = (count(id) + 1) / (train_tokens + tokenizer_entries)
 * on every token of `documents` (token ids of the same tokenizer). An id the tokenizer does not have is an error.
 */
export function unigramPerplexity(
  counts: UnigramCounts,
  documents: Iterable<readonly number[]>,
): UnigramPerplexity {
  const logDenominator = Math.log(counts.train_tokens + counts.tokenizer_entries);
  let nats = 0, tokens = 0;
  for (const ids of documents) {
    for (const id of ids) {
      if (!(id >= 0 && id < counts.tokenizer_entries)) {
        throw new RangeError(
          `token id ${id} is not one of the counted tokenizer's ${counts.tokenizer_entries}`,
        );
      }
      nats += logDenominator - Math.log(counts.counts[id] + 1);
      tokens++;
    }
  }
  if (tokens === 0) throw new RangeError("no tokens to score");
  return { perplexity: Math.exp(nats / tokens), tokens, nats };
}
