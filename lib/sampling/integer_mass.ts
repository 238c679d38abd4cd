/**
 * How a model spreads its next-token mass over the integers after a prompt such as "Tell me a random integer
 * between 0 and 100. The number is": the mass on each integer's token, their total, how many integers that mass
 * is effectively spread over, and the most likely one. A model that has collapsed piles the mass on a few.
 * @module
 */
import type { CausalLM } from "../models/causal_lm.ts";
import type { Tokenizer } from "../models/tokenizer.ts";
import { topKNextTokens } from "./next_token.ts";

/** Options of {@link integerMass}. */
export interface IntegerMassOptions {
  /** Smallest integer (default 0). */
  from?: number;
  /** Largest integer (default 100). */
  to?: number;
  /** Text before each integer's digits (default `" "`: the token a model puts after "… The number is"). */
  prefix?: string;
}

/** The next-token mass over the integers `from` … `to`. */
export interface IntegerMass {
  /** The integers, `from` … `to`. */
  integers: number[];
  /** Probability of each integer's token (temperature 1, full vocabulary). */
  probs: number[];
  /** Their sum: how much of the next token is an integer at all. */
  total: number;
  /** exp of the entropy (nats) of `probs` renormalised to sum 1: the number of integers effectively in play. */
  effectiveCount: number;
  /** The most probable integer (the smaller one on a tie). */
  top: number;
  /** Its share of `total`. */
  topShare: number;
}

/**
 * The next-token mass after `prompt` on each integer `from` … `to` written as `prefix + digits`. Each must be one
 * token of `tokenizer` (as " 0" … " 100" are in Pythia's); one that is not is an error naming it, since its first
 * piece alone would count the mass of other integers too.
 */
export async function integerMass(
  model: CausalLM,
  tokenizer: Tokenizer,
  prompt: string,
  opts: IntegerMassOptions = {},
): Promise<IntegerMass> {
  const from = opts.from ?? 0, to = opts.to ?? 100, prefix = opts.prefix ?? " ";
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from) {
    throw new RangeError(`expected integers from ≤ to, got ${from} … ${to}`);
  }
  const integers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const ids = integers.map((n) => {
    const pieces = tokenizer.encode(`${prefix}${n}`);
    if (pieces.length !== 1) {
      throw new RangeError(
        `${
          JSON.stringify(prefix + n)
        } is ${pieces.length} tokens in this tokenizer, not one: its next-token ` +
          "mass cannot be read from one distribution",
      );
    }
    return pieces[0];
  });
  const all = await topKNextTokens(model, tokenizer, prompt, model.info.vocabSize);
  const byId = new Map(all.map((t) => [t.id, t.prob]));
  const probs = ids.map((id) => byId.get(id) ?? 0);
  return summariseIntegerMass(integers, probs);
}

/** The summary of given per-integer probabilities (pure; what {@link integerMass} returns). */
export function summariseIntegerMass(integers: number[], probs: number[]): IntegerMass {
  if (integers.length !== probs.length || integers.length === 0) {
    throw new RangeError(`expected one probability per integer, got ${probs.length} for ${integers.length}`);
  }
  const total = probs.reduce((a, p) => a + p, 0);
  let entropyNats = 0, best = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] > probs[best]) best = i;
    const q = probs[i] / total;
    if (q > 0) entropyNats -= q * Math.log(q);
  }
  return {
    integers,
    probs,
    total,
    effectiveCount: total > 0 ? Math.exp(entropyNats) : 0,
    top: integers[best],
    topShare: total > 0 ? probs[best] / total : 0,
  };
}

/** The share of the integer mass on `chosen` integers (e.g. a rater's favourites); 0 when there is no mass. */
export function integerShare(mass: IntegerMass, chosen: readonly number[]): number {
  if (mass.total === 0) return 0;
  let sum = 0;
  for (const n of new Set(chosen)) {
    const i = mass.integers.indexOf(n);
    if (i >= 0) sum += mass.probs[i];
  }
  return sum / mass.total;
}
