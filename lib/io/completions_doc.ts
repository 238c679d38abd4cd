/**
 * The project's own file format for sampled completions, `"format": "completions/2"` (JSON): what was sampled
 * (model, template, prompts with the exact token ids fed to the model, sampling settings and the model's shipped
 * generation defaults) next to the samples, so a file can be analysed, audited and re-scored without knowing how
 * it was made. `completions/1` files (no `input_ids`) are still read. This module holds the document's types and
 * format tags; the schema is in completions_schema.ts, reading and writing in completions_json.ts.
 * @module
 */

/** The format tag written. */
export const COMPLETIONS_FORMAT = "completions/2";

/** Every format tag read (the first version lacks `prompts[].input_ids`). */
export const COMPLETIONS_FORMATS_READ = ["completions/1", "completions/2"] as const;

/** A format tag read. */
export type CompletionsFormatTag = typeof COMPLETIONS_FORMATS_READ[number];

/** Which model produced the samples. */
export interface ModelRef {
  /** Hugging Face id or local name. */
  id: string;
  /** Git revision of the weights. */
  revision?: string;
  /** Model family (e.g. "pythia", "llama2"), which decides the prompt template. */
  family?: string;
}

/** The prompt template the prompts were wrapped in. */
export interface TemplateRef {
  /** Template name (e.g. "hh", "plm", or "model" for the model's own chat template). */
  name: string;
  /** Template text (for "model": the Jinja source of the chat template). */
  text: string;
  /** Chat-template variables set by the user (e.g. `{"enable_thinking": false}`); "model" only. */
  variables?: Record<string, string | number | boolean | null>;
  /** How the guide was joined to a chat template's output; "model" only. */
  guide_join?: string;
}

/** One prompt. */
export interface PromptEntry {
  /** The prompt text; `null` when unknown (e.g. converted from a paper `.npy`, which stores no prompts). */
  text: string | null;
  /** Assistant-turn prefix that forces comparable continuations. */
  guide?: string;
  /** Accepted answers (factual prompts). */
  answers?: string[];
  /** The exact token ids the model was conditioned on (`completions/2`; absent in `completions/1`). */
  input_ids?: number[];
}

/** Sampling settings; further keys are allowed and kept. */
export interface SamplingConfig {
  /** Temperatures, one per temperature index. */
  temperatures: number[];
  /** Samples requested per (temperature, prompt) cell; a cell may hold fewer (e.g. failed generations). */
  samples_per_prompt: number;
  /** Token limit per sample. */
  max_new_tokens: number;
  /** top-k filter (0 = off); `null` when unknown. */
  top_k: number | null;
  /** Nucleus filter (1 = off); `null` when unknown. */
  top_p: number | null;
  /** Base seed; `null` when unseeded (the paper). */
  seed: number | string | null;
  /** Other settings (e.g. `do_sample`, precision). */
  [extra: string]: unknown;
}

/** One sampled completion. */
export interface Sample {
  /** The completion text, prompt removed. */
  text: string;
  /** Generated token ids. */
  token_ids?: number[];
  /**
   * Log-probability of each generated token (natural log) under the model at temperature 1 with no top-k /
   * top-p filter: what scoring the prompt + text gives.
   */
  logprobs?: number[];
  /** Log-probability of each token under the distribution it was drawn from (after temperature, top-k, top-p). */
  logprobs_sampled?: number[];
  /** Entropy of the sampling distribution at each generated token, in nats. */
  entropies_nats?: number[];
  /** The seed that reproduces this sample. */
  seed?: string | number;
  /** Why generation ended: a stop token (EOS, kept as the last token id) or the token limit. */
  finish?: "stop_token" | "length";
}

/** The samples of one (temperature, prompt) pair. */
export interface CompletionCell {
  /** Index into `sampling.temperatures`. */
  temperature_index: number;
  /** Index into `prompts`. */
  prompt_index: number;
  /** `sampling.temperatures[temperature_index]`, repeated for readability. */
  temperature: number;
  /** The samples, in generation order. */
  samples: Sample[];
  /**
   * Factual prompts: share of samples whose text contains one of the prompt's answers (case-insensitive);
   * `null` when the cell has no samples.
   */
  answer_accuracy?: number | null;
}

/** A `completions/2` (or read: `/1`) document. `cells` is ordered by temperature, then prompt: cell t·P + p. */
export interface CompletionsDoc {
  /** {@link COMPLETIONS_FORMAT} when written here; `completions/1` in older files. */
  format: CompletionsFormatTag;
  /** ISO 8601 creation time. */
  created: string;
  /** The model. */
  model: ModelRef;
  /** The prompt template, if one was used. */
  template?: TemplateRef;
  /** Prompt-set name: "creative", "factual", "seen" or a custom name. */
  prompt_set: string;
  /** The prompts. */
  prompts: PromptEntry[];
  /** Sampling settings. */
  sampling: SamplingConfig;
  /** All T·P cells. */
  cells: CompletionCell[];
  /** Free-form provenance (source file sha256, tool version, …). */
  provenance: Record<string, unknown>;
}
