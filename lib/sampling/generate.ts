/**
 * The generation loop: N seeded samples of one prompt, decoded together over the model's KV cache, with the
 * log-probability and sampling entropy of every generated token.
 *
 * The prompt is read once (batch 1) and its cache copied to every row; each row then draws from its own
 * xoshiro128** stream seeded by its sample seed, so a sample depends only on (prompt, settings, its seed) — never
 * on which other samples share its batch. Rows that stop (a stop token, or the token limit) leave the batch.
 * @module
 */
import type { CausalLM, DecodeState } from "../models/causal_lm.ts";
import { releaseBuffer } from "../models/release_buffer.ts";
import type { Tokenizer } from "../models/tokenizer.ts";
import { Xoshiro128StarStar } from "./rng.ts";
import { type SamplingSettings, validateSamplingSettings } from "./sampler.ts";
import { SamplerHelper, sampleRows, startSamplerHelper } from "./sampler_helper.ts";

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** Temperature (0 = greedy), top-k, top-p. */
  settings: SamplingSettings;
  /** Most tokens generated per sample (≥ 1). */
  maxNewTokens: number;
  /** Ids that end a sample when drawn (kept as its last token, as Hugging Face's generate does); [] = none. */
  stopTokenIds: readonly number[];
  /** Rows decoded together (default: all samples at once). */
  batchSize?: number;
  /** Called after every decoding step with the tokens generated so far and the most there can be. */
  onTokens?: (generated: number, maxTotal: number) => void;
  /** Stops between steps with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Part of each step's rows prepared on a helper thread (sampler_helper.ts; the same tokens and values either
   * way). A {@link SamplerHelper} is used as it is and left running: one helper serves many calls, as a sweep's
   * does. `true` starts one for this call, `false` keeps every row on this thread. Default: a helper for this
   * call only when the call is long enough to repay the thread's start ({@link worthAHelper}).
   */
  helperThread?: boolean | SamplerHelper;
}

/** Why a sample ended. */
export type FinishReason = "stop_token" | "length";

/** One generated sample. */
export interface GeneratedSample {
  /** Generated token ids (the prompt excluded, a final stop token included). */
  tokenIds: number[];
  /** log p of each token under the model at temperature 1 with no filter (what scoring the text gives). */
  logprobsModelNats: number[];
  /** log p of each token under the distribution it was drawn from (after temperature, top-k, top-p). */
  logprobsSampledNats: number[];
  /** Entropy (nats) of each distribution a token was drawn from (0 when greedy). */
  entropiesNats: number[];
  /** Why it ended. */
  finish: FinishReason;
  /** The seed of its random stream. */
  seed: number;
}

/** The ids that end a sample and where they came from. */
export interface StopTokens {
  /** Token ids. */
  ids: number[];
  /** `generation_config.json` or `config.json` (the model's EOS list), `tokenizer` (its EOS), or `none`. */
  source: "generation_config.json" | "config.json" | "tokenizer" | "none";
}

/**
 * The ids that end a sample, as Hugging Face's `generate` decides them: the model folder's EOS list
 * (generation_config.json over config.json, every id), else the tokenizer's EOS. The tokenizer's EOS is not
 * added to a model's own list: a Llama-3.1 base stops on `<|end_of_text|>` only, not on the chat EOS its
 * tokenizer names.
 */
export function stopTokensOf(model: CausalLM, tokenizer: Tokenizer): StopTokens {
  const g = model.info.generation;
  if (g.eosTokenIds.length > 0 && g.eosSource !== "none") {
    return { ids: [...g.eosTokenIds], source: g.eosSource };
  }
  const eos = tokenizer.special.eos;
  return eos === undefined ? { ids: [], source: "none" } : { ids: [eos], source: "tokenizer" };
}

/** The ids of {@link stopTokensOf}. */
export function stopTokenIdsOf(model: CausalLM, tokenizer: Tokenizer): number[] {
  return stopTokensOf(model, tokenizer).ids;
}

/** Checks generation options, throwing a RangeError that names the bad one. */
function validateGenerateOptions(options: GenerateOptions): void {
  validateSamplingSettings(options.settings);
  if (!Number.isSafeInteger(options.maxNewTokens) || options.maxNewTokens < 1) {
    throw new RangeError(`maxNewTokens must be an integer ≥ 1, got ${options.maxNewTokens}`);
  }
  if (
    options.batchSize !== undefined && (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1)
  ) {
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${options.batchSize}`);
  }
  const h = options.helperThread;
  if (h !== undefined && typeof h !== "boolean" && !(h instanceof SamplerHelper)) {
    throw new TypeError(`helperThread must be true, false or a SamplerHelper, got ${JSON.stringify(h)}`);
  }
}

/**
 * Generates one sample per seed from `promptIds`. Samples come back in the order of `seeds`; each equals what
 * a call with that seed alone would return.
 */
export async function generate(
  model: CausalLM,
  promptIds: ArrayLike<number>,
  seeds: readonly number[],
  options: GenerateOptions,
): Promise<GeneratedSample[]> {
  validateGenerateOptions(options);
  if (promptIds.length === 0) {
    throw new RangeError("the prompt has no tokens (a model needs at least one to condition on)");
  }
  if (seeds.length === 0) return [];
  const batchSize = options.batchSize ?? seeds.length;
  const prompt = Int32Array.from(promptIds);
  options.signal?.throwIfAborted();
  // Started before the prompt's step, so that its thread loads while the model reads the prompt.
  const given = typeof options.helperThread === "object" ? options.helperThread : null;
  const rows = Math.min(batchSize, seeds.length);
  const vocab = model.info.vocabSize;
  const maxTotal = seeds.length * options.maxNewTokens;
  const own = options.helperThread ?? worthAHelper(rows, maxTotal, vocab);
  const helper = given ?? (own === true ? startSamplerHelper(rows, vocab) : null);
  try {
    // Room for the whole sequence at once (a model keeping its KV cache in buffers then never grows them).
    const first = await model.step([prompt], undefined, prompt.length + options.maxNewTokens);
    const out: GeneratedSample[] = [];
    for (let start = 0; start < seeds.length; start += batchSize) {
      const chunk = seeds.slice(start, start + batchSize);
      const done = out.reduce((n, s) => n + s.tokenIds.length, 0);
      out.push(
        ...await decodeRows(
          model,
          first.logits,
          first.state,
          chunk,
          options,
          helper,
          (n) => options.onTokens?.(done + n, maxTotal),
        ),
      );
    }
    // Every batch has copied the prompt's state and logits: freed at once too.
    model.release(first.state);
    releaseBuffer(first.logits);
    return out;
  } finally {
    if (helper !== given) helper?.close();
  }
}

/**
 * Logit entries one call must read before a helper thread started for it alone pays off. Starting one (a
 * thread, its module and WebAssembly kernel, cold) cost about what it saved in 25 × 20 tokens of 50,304 logits
 * (2.5e7 entries) with the 70M architecture on two cores, and 25 × 70 tokens (8.8e7) ran ≈ 5 % faster with it
 * (BENCHMARKS.md); twice the break-even.
 */
export const HELPER_WORTH_ENTRIES = 5e7;

/** Whether a call drawing `tokens` tokens in batches of `rows` rows of `vocab` logits starts its own helper. */
export function worthAHelper(rows: number, tokens: number, vocab: number): boolean {
  return rows >= 2 && tokens * vocab >= HELPER_WORTH_ENTRIES;
}

/** Decodes one batch of rows that share the prompt's state and first logits. */
async function decodeRows(
  model: CausalLM,
  promptLogits: Float32Array,
  promptState: DecodeState,
  seeds: readonly number[],
  options: GenerateOptions,
  helper: SamplerHelper | null,
  onTokens: (generated: number) => void,
): Promise<GeneratedSample[]> {
  const { settings, maxNewTokens } = options;
  const stop = new Set(options.stopTokenIds);
  const vocab = promptLogits.length; // the prompt step has one row
  const rngs = seeds.map((s) => new Xoshiro128StarStar(s));
  const samples: GeneratedSample[] = seeds.map((seed) => ({
    tokenIds: [],
    logprobsModelNats: [],
    logprobsSampledNats: [],
    entropiesNats: [],
    finish: "length",
    seed,
  }));
  // active[i] = sample index of state row i; logits row i belongs to active[i].
  let active = seeds.map((_, i) => i);
  // Every row reads the prompt's single logits row first.
  let logits = promptLogits;
  if (seeds.length > 1) {
    logits = new Float32Array(seeds.length * vocab);
    for (let i = 0; i < seeds.length; i++) logits.set(promptLogits, i * vocab);
  }
  let state: DecodeState | undefined;
  // This loop's states and logits are its own (the prompt's are shared by every batch): each is freed as soon
  // as it has been read, which spares the garbage collector most of its work (release_buffer.ts).
  const releaseOwn = () => {
    if (state !== undefined) model.release(state);
    if (logits !== promptLogits) releaseBuffer(logits);
  };
  let generated = 0;
  for (;;) {
    const next: number[] = [];
    const stillActive: number[] = [];
    const keepRows: number[] = [];
    const drawnRows = sampleRows(logits, active.length, vocab, settings, active.map((a) => rngs[a]), helper);
    active.forEach((sampleIndex, i) => {
      const drawn = drawnRows[i];
      const s = samples[sampleIndex];
      s.tokenIds.push(drawn.tokenId);
      s.logprobsModelNats.push(drawn.logprobModelNats);
      s.logprobsSampledNats.push(drawn.logprobSampledNats);
      s.entropiesNats.push(drawn.entropyNats);
      generated++;
      if (stop.has(drawn.tokenId)) {
        s.finish = "stop_token";
      } else if (s.tokenIds.length < maxNewTokens) {
        stillActive.push(sampleIndex);
        keepRows.push(i);
        next.push(drawn.tokenId);
      }
    });
    onTokens(generated);
    if (stillActive.length === 0) break;
    options.signal?.throwIfAborted();
    if (state === undefined) {
      state = model.selectRows(promptState, keepRows.map(() => 0));
    } else if (keepRows.length < active.length) {
      const kept = model.selectRows(state, keepRows);
      model.release(state);
      state = kept;
    }
    const result = await model.step(next.map((id) => Int32Array.of(id)), state);
    releaseOwn();
    state = result.state;
    logits = result.logits;
    active = stillActive;
  }
  releaseOwn();
  return samples;
}
