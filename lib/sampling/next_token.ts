/**
 * A close look at next-token distributions, for the qualitative side of mode collapse: the top-k tokens a model
 * puts after a prompt (e.g. "tell me a random integer between 0 and 100"), and a generation's tokens with the
 * probability the model gave each (for colouring).
 * @module
 */
import type { CausalLM } from "../models/causal_lm.ts";
import type { Tokenizer } from "../models/tokenizer.ts";
import { nextTokenDistribution } from "./sampler.ts";
import { generate, stopTokenIdsOf } from "./generate.ts";

/** One candidate next token. */
export interface NextTokenProb {
  /** Token id. */
  id: number;
  /** Its text as decoded alone (special tokens kept, so an end-of-text shows as such). */
  text: string;
  /** Probability at temperature 1, over the full vocabulary. */
  prob: number;
}

/** The `k` most probable next tokens after `prompt` (temperature 1, no filter), most probable first. */
export async function topKNextTokens(
  model: CausalLM,
  tokenizer: Tokenizer,
  prompt: string,
  k: number,
): Promise<NextTokenProb[]> {
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError(`k must be an integer ≥ 1, got ${k}`);
  const ids = tokenizer.encode(prompt);
  if (ids.length === 0) throw new RangeError("the prompt has no tokens");
  const { logits } = await model.step([Int32Array.from(ids)]);
  const dist = nextTokenDistribution(logits, { temperature: 1, topK: 0, topP: 1 });
  return Array.from(dist.ids.subarray(0, k), (id, i) => ({
    id,
    text: tokenizer.decode([id]),
    prob: dist.probs[i],
  }));
}

/** A generated token and the model's log-probability of it. */
export interface ScoredToken {
  /** Token id. */
  id: number;
  /** Its text as decoded alone. */
  text: string;
  /** log p under the model at temperature 1 (nats). */
  logprob: number;
}

/** Options of {@link scoredGeneration}. */
export interface ScoredGenerationOptions {
  /** Tokens to generate (default 40). */
  maxNewTokens?: number;
  /** Temperature (default 0: greedy). */
  temperature?: number;
  /** Top-k (default 50). */
  topK?: number;
  /** Seed of the sample (default 0). */
  seed?: number;
}

/** One generation from `prompt` with each token's model log-probability (stops at the model's EOS). */
export async function scoredGeneration(
  model: CausalLM,
  tokenizer: Tokenizer,
  prompt: string,
  opts: ScoredGenerationOptions = {},
): Promise<ScoredToken[]> {
  const [sample] = await generate(model, tokenizer.encode(prompt), [opts.seed ?? 0], {
    settings: { temperature: opts.temperature ?? 0, topK: opts.topK ?? 50, topP: 1 },
    maxNewTokens: opts.maxNewTokens ?? 40,
    stopTokenIds: stopTokenIdsOf(model, tokenizer),
  });
  return sample.tokenIds.map((id, i) => ({
    id,
    text: tokenizer.decode([id]),
    logprob: sample.logprobsModelNats[i],
  }));
}
