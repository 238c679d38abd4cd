/**
 * The qualitative look at mode collapse for one prompt (the paper's Mode_Collapse and Mode_Collapse_reprompt
 * notebooks): every model's top-k next tokens, and a greedy and a sampled generation of each, rendered as one HTML block of
 * generations coloured by token probability with a single legend.
 * @module
 */
import type { CausalLM } from "../models/causal_lm.ts";
import type { Tokenizer } from "../models/tokenizer.ts";
import {
  type NextTokenProb,
  scoredGeneration,
  type ScoredToken,
  topKNextTokens,
} from "../sampling/next_token.ts";
import { integerMass } from "../sampling/integer_mass.ts";
import type { IntegerMassInput } from "../figures/integer_mass.ts";
import { escapeMarkup } from "../figures/escape.ts";
import { formatFixed } from "../numeric/number_format.ts";
import { probabilityLegendHtml, tokenProbabilityHtml } from "../figures/token_colours.ts";

/** One model's view of a prompt. */
export interface ModelLook {
  model: string;
  /** The top-k next tokens after the prompt (temperature 1). */
  topK: NextTokenProb[];
  /** Greedy continuation with each token's probability. */
  greedy: ScoredToken[];
  /** Sampled continuation (seeded) with each token's probability at temperature 1. */
  sampled: ScoredToken[];
}

/** Options of {@link lookAtPrompt}. */
export interface LookOptions {
  /** Top-k tokens per model. */
  k: number;
  /** Tokens per generation (default 40). */
  maxNewTokens?: number;
  /** Temperature of the sampled generation (default 1). */
  temperature?: number;
  /** Seed of the sampled generation (default 0). */
  seed?: number;
}

/** Top-k, greedy and sampled generation of one model after `prompt`. */
export async function lookAtPrompt(
  model: string,
  loaded: { model: CausalLM; tokenizer: Tokenizer },
  prompt: string,
  options: LookOptions,
): Promise<ModelLook> {
  const { model: lm, tokenizer } = loaded;
  const topK = await topKNextTokens(lm, tokenizer, prompt, options.k);
  const maxNewTokens = options.maxNewTokens ?? 40;
  const greedy = await scoredGeneration(lm, tokenizer, prompt, { maxNewTokens, temperature: 0 });
  const sampled = await scoredGeneration(lm, tokenizer, prompt, {
    maxNewTokens,
    temperature: options.temperature ?? 1,
    seed: options.seed ?? 0,
  });
  return { model, topK, greedy, sampled };
}

/**
 * One model's next-token mass over the integers 0 … 100 after `prompt`, or why it cannot be read (a tokenizer
 * that splits " 0" … " 100" into several tokens, as Llama's does: then the line says so and the model is left out).
 */
export async function lookAtIntegers(
  model: string,
  loaded: { model: CausalLM; tokenizer: Tokenizer },
  prompt: string,
): Promise<IntegerMassInput | { model: string; skipped: string }> {
  try {
    return { model, mass: await integerMass(loaded.model, loaded.tokenizer, prompt) };
  } catch (e) {
    if (e instanceof RangeError) return { model, skipped: e.message };
    throw e;
  }
}

/** Mean probability of a generation's tokens (NaN when empty). */
function meanProb(tokens: readonly ScoredToken[]): number {
  return tokens.length ? tokens.reduce((a, t) => a + Math.exp(t.logprob), 0) / tokens.length : NaN;
}

/**
 * One HTML block for a prompt: the prompt, then per model its greedy and sampled generation coloured by token
 * probability (prompt shown uncoloured before each), with the mean token probability in each title, and one
 * legend at the end.
 */
export function generationsHtml(
  prompt: string,
  looks: readonly ModelLook[],
  options: { temperature?: number; seed?: number } = {},
): string {
  const t = options.temperature ?? 1, seed = options.seed ?? 0;
  const rows = looks.map((l) => {
    const g = tokenProbabilityHtml(l.greedy, {
      title: `${l.model} — greedy (mean token p = ${formatFixed(meanProb(l.greedy), 3)})`,
      prefix: prompt,
      legend: false,
    }).html;
    const s = tokenProbabilityHtml(l.sampled, {
      title: `${l.model} — sampled, T = ${t}, seed ${seed} (mean token p = ${
        formatFixed(meanProb(l.sampled), 3)
      })`,
      prefix: prompt,
      legend: false,
    }).html;
    return `<tr><td style="vertical-align:top;padding:4px 8px;max-width:480px">${g}</td>` +
      `<td style="vertical-align:top;padding:4px 8px;max-width:480px">${s}</td></tr>`;
  }).join("\n");
  return `<div class="qualitative"><div><b>prompt:</b> <code>${escapeMarkup(prompt)}</code></div>` +
    `<table><thead><tr><th>greedy</th><th>sampled</th></tr></thead><tbody>\n${rows}\n</tbody></table>` +
    `${probabilityLegendHtml()}</div>`;
}
