/**
 * The project's own file format for sampled completions, `"format": "completions/2"` (JSON): what was sampled
 * (model, template, prompts with the exact token ids fed to the model, sampling settings and the model's shipped
 * generation defaults) next to the samples, so a file can be analysed, audited and re-scored without knowing how
 * it was made. `completions/1` files (no `input_ids`) are still read. Also converts from/to the paper's `.npy`
 * layout and loads either kind into one structure.
 * @module
 */
import { JsonFormatError } from "./json_file.ts";
import { extname } from "node:path";
import { writeJsonAtomic } from "./atomic.ts";
import { sha256Hex } from "./sha256.ts";
import { decodeNpy, encodeNpy } from "./npy.ts";
import { NdArray, type PyValue } from "./pickle.ts";
import { paperCompletionsFromArray } from "../data/paper.ts";

/** The format tag this module writes. */
export const COMPLETIONS_FORMAT = "completions/2";

/** Every format tag this module reads (the first version lacks `prompts[].input_ids`). */
export const COMPLETIONS_FORMATS_READ = ["completions/1", "completions/2"] as const;

/** A format tag this module reads. */
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

/** A file that is not a valid completions document; names the file and the JSON path. */
export class CompletionsFormatError extends JsonFormatError {
  constructor(path: string, jsonPath: string, what: string) {
    super(path, jsonPath, what);
    this.name = "CompletionsFormatError";
  }
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isInteger(v)) return "number";
  if (typeof v === "number") return "integer";
  return typeof v;
}

/** Path-tracking checks; each throws a {@link CompletionsFormatError}. */
class Checker {
  constructor(private readonly file: string) {}
  fail(path: string, what: string): never {
    throw new CompletionsFormatError(this.file, path, what);
  }
  object(v: unknown, path: string, allowed?: readonly string[]): Record<string, unknown> {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      this.fail(path, `expected object, got ${jsonType(v)}`);
    }
    if (allowed) {
      for (const k of Object.keys(v)) {
        if (!allowed.includes(k)) this.fail(join(path, k), `unknown field (allowed: ${allowed.join(", ")})`);
      }
    }
    return v as Record<string, unknown>;
  }
  string(v: unknown, path: string): string {
    if (typeof v !== "string") this.fail(path, `expected string, got ${jsonType(v)}`);
    return v;
  }
  nonEmptyString(v: unknown, path: string): string {
    if (this.string(v, path) === "") this.fail(path, "expected a non-empty string");
    return v as string;
  }
  number(v: unknown, path: string): number {
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(path, `expected number, got ${jsonType(v)}`);
    return v;
  }
  int(v: unknown, path: string, min = -Infinity): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      this.fail(path, `expected integer, got ${jsonType(v)}`);
    }
    if (v < min) this.fail(path, `expected an integer ≥ ${min}, got ${v}`);
    return v;
  }
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected array, got ${jsonType(v)}`);
    return v;
  }
  numbers(v: unknown, path: string): number[] {
    return this.array(v, path).map((x, i) => this.number(x, `${path}[${i}]`));
  }
  optional<T>(
    o: Record<string, unknown>,
    key: string,
    path: string,
    check: (v: unknown, p: string) => T,
  ): void {
    if (key in o) check(o[key], join(path, key));
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

const TOP_FIELDS = [
  "format",
  "created",
  "model",
  "template",
  "prompt_set",
  "prompts",
  "sampling",
  "cells",
  "provenance",
];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Validates a parsed value as a `completions/2` or `completions/1` document (throws
 * {@link CompletionsFormatError}); `/2` requires every prompt's `input_ids`.
 */
export function validateCompletionsDoc(value: unknown, pathForErrors: string): CompletionsDoc {
  const c = new Checker(pathForErrors);
  const doc = c.object(value, "", TOP_FIELDS);
  for (
    const k of ["format", "created", "model", "prompt_set", "prompts", "sampling", "cells", "provenance"]
  ) {
    if (!(k in doc)) c.fail(k, "missing required field");
  }
  if (!(COMPLETIONS_FORMATS_READ as readonly unknown[]).includes(doc.format)) {
    c.fail(
      "format",
      `expected ${COMPLETIONS_FORMATS_READ.map((f) => `"${f}"`).join(" or ")}, got ${
        JSON.stringify(doc.format)
      }`,
    );
  }
  const v2 = doc.format === "completions/2";
  const created = c.string(doc.created, "created");
  if (!ISO_TIME.test(created) || Number.isNaN(Date.parse(created))) {
    c.fail("created", "expected an ISO 8601 time");
  }

  const model = c.object(doc.model, "model", ["id", "revision", "family"]);
  c.nonEmptyString(model.id, "model.id");
  c.optional(model, "revision", "model", (v, p) => c.string(v, p));
  c.optional(model, "family", "model", (v, p) => c.string(v, p));

  if ("template" in doc) {
    const t = c.object(doc.template, "template", ["name", "text", "variables", "guide_join"]);
    c.string(t.name, "template.name");
    c.string(t.text, "template.text");
    c.optional(t, "guide_join", "template", (v, p) => c.string(v, p));
    c.optional(t, "variables", "template", (v, p) => {
      for (const [k, x] of Object.entries(c.object(v, p))) {
        if (x !== null && !["string", "number", "boolean"].includes(typeof x)) {
          c.fail(`${p}.${k}`, "expected a string, number, boolean or null");
        }
      }
    });
  }
  c.nonEmptyString(doc.prompt_set, "prompt_set");

  const prompts = c.array(doc.prompts, "prompts");
  if (prompts.length === 0) c.fail("prompts", "expected at least one prompt");
  prompts.forEach((p, i) => {
    const path = `prompts[${i}]`;
    const o = c.object(
      p,
      path,
      v2 ? ["text", "guide", "answers", "input_ids"] : ["text", "guide", "answers"],
    );
    if (!("text" in o)) c.fail(`${path}.text`, "missing required field");
    if (o.text !== null) c.string(o.text, `${path}.text`);
    c.optional(o, "guide", path, (v, q) => c.string(v, q));
    c.optional(o, "answers", path, (v, q) => c.array(v, q).forEach((a, k) => c.string(a, `${q}[${k}]`)));
    if (v2) {
      if (!("input_ids" in o)) c.fail(`${path}.input_ids`, "missing required field (completions/2)");
      const ids = c.array(o.input_ids, `${path}.input_ids`);
      if (ids.length === 0) c.fail(`${path}.input_ids`, "expected at least one token id");
      ids.forEach((x, k) => c.int(x, `${path}.input_ids[${k}]`, 0));
    }
  });

  const s = c.object(doc.sampling, "sampling");
  for (const k of ["temperatures", "samples_per_prompt", "max_new_tokens", "top_k", "top_p", "seed"]) {
    if (!(k in s)) c.fail(`sampling.${k}`, "missing required field");
  }
  const temperatures = c.numbers(s.temperatures, "sampling.temperatures");
  if (temperatures.length === 0) c.fail("sampling.temperatures", "expected at least one temperature");
  temperatures.forEach((t, i) => {
    if (t < 0) c.fail(`sampling.temperatures[${i}]`, `expected a temperature ≥ 0, got ${t}`);
  });
  const perPrompt = c.int(s.samples_per_prompt, "sampling.samples_per_prompt", 1);
  c.int(s.max_new_tokens, "sampling.max_new_tokens", 1);
  if (s.top_k !== null) c.int(s.top_k, "sampling.top_k", 0);
  if (s.top_p !== null) {
    const p = c.number(s.top_p, "sampling.top_p");
    if (p <= 0 || p > 1) c.fail("sampling.top_p", `expected a value in (0, 1], got ${p}`);
  }
  if (s.seed !== null && typeof s.seed !== "string") c.int(s.seed, "sampling.seed");

  const T = temperatures.length, P = prompts.length;
  const cells = c.array(doc.cells, "cells");
  if (cells.length !== T * P) {
    c.fail("cells", `expected ${T * P} cells (${T} temperatures × ${P} prompts), got ${cells.length}`);
  }
  cells.forEach((cell, i) => {
    const path = `cells[${i}]`;
    const o = c.object(cell, path, [
      "temperature_index",
      "prompt_index",
      "temperature",
      "samples",
      "answer_accuracy",
    ]);
    const t = Math.floor(i / P), p = i % P;
    if (c.int(o.temperature_index, `${path}.temperature_index`) !== t) {
      c.fail(`${path}.temperature_index`, `expected ${t} (cells are ordered by temperature, then prompt)`);
    }
    if (c.int(o.prompt_index, `${path}.prompt_index`) !== p) {
      c.fail(`${path}.prompt_index`, `expected ${p} (cells are ordered by temperature, then prompt)`);
    }
    if (c.number(o.temperature, `${path}.temperature`) !== temperatures[t]) {
      c.fail(
        `${path}.temperature`,
        `expected sampling.temperatures[${t}] = ${temperatures[t]}, got ${o.temperature}`,
      );
    }
    const samples = c.array(o.samples, `${path}.samples`);
    if (samples.length > perPrompt) {
      c.fail(
        `${path}.samples`,
        `holds ${samples.length} samples, more than samples_per_prompt = ${perPrompt}`,
      );
    }
    samples.forEach((sample, k) => checkSample(c, sample, `${path}.samples[${k}]`));
    if ("answer_accuracy" in o && o.answer_accuracy !== null) {
      const a = c.number(o.answer_accuracy, `${path}.answer_accuracy`);
      if (a < 0 || a > 1) c.fail(`${path}.answer_accuracy`, `expected a share in [0, 1], got ${a}`);
    }
  });

  c.object(doc.provenance, "provenance");
  return doc as unknown as CompletionsDoc;
}

function checkSample(c: Checker, sample: unknown, path: string): void {
  const o = c.object(sample, path, [
    "text",
    "token_ids",
    "logprobs",
    "logprobs_sampled",
    "entropies_nats",
    "seed",
    "finish",
  ]);
  if (!("text" in o)) c.fail(`${path}.text`, "missing required field");
  c.string(o.text, `${path}.text`);
  const lengths: Array<[string, number]> = [];
  if ("token_ids" in o) {
    const ids = c.array(o.token_ids, `${path}.token_ids`);
    ids.forEach((x, i) => c.int(x, `${path}.token_ids[${i}]`, 0));
    lengths.push(["token_ids", ids.length]);
  }
  if ("logprobs" in o) {
    const lp = c.numbers(o.logprobs, `${path}.logprobs`);
    lp.forEach((x, i) => {
      if (x > 0) c.fail(`${path}.logprobs[${i}]`, `expected a log-probability ≤ 0, got ${x}`);
    });
    lengths.push(["logprobs", lp.length]);
  }
  if ("logprobs_sampled" in o) {
    const lp = c.numbers(o.logprobs_sampled, `${path}.logprobs_sampled`);
    lp.forEach((x, i) => {
      if (x > 0) c.fail(`${path}.logprobs_sampled[${i}]`, `expected a log-probability ≤ 0, got ${x}`);
    });
    lengths.push(["logprobs_sampled", lp.length]);
  }
  if ("entropies_nats" in o) {
    const h = c.numbers(o.entropies_nats, `${path}.entropies_nats`);
    h.forEach((x, i) => {
      if (x < 0) c.fail(`${path}.entropies_nats[${i}]`, `expected an entropy ≥ 0, got ${x}`);
    });
    lengths.push(["entropies_nats", h.length]);
  }
  for (const [name, n] of lengths.slice(1)) {
    if (n !== lengths[0][1]) {
      c.fail(`${path}.${name}`, `has ${n} entries but ${lengths[0][0]} has ${lengths[0][1]}`);
    }
  }
  if ("seed" in o && typeof o.seed !== "string") c.int(o.seed, `${path}.seed`);
  if ("finish" in o && o.finish !== "stop_token" && o.finish !== "length") {
    c.fail(`${path}.finish`, `expected "stop_token" or "length", got ${JSON.stringify(o.finish)}`);
  }
}

/** Parses and validates completions JSON text; errors name `pathForErrors` and the JSON path. */
export function parseCompletionsJson(text: string, pathForErrors: string): CompletionsDoc {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CompletionsFormatError(pathForErrors, "", `invalid JSON: ${(e as Error).message}`);
  }
  return validateCompletionsDoc(value, pathForErrors);
}

/** Validates `doc` and writes it atomically as pretty-printed JSON. */
export async function writeCompletionsJson(path: string, doc: CompletionsDoc): Promise<void> {
  validateCompletionsDoc(doc, path);
  await writeJsonAtomic(path, doc);
}

/** The paper's temperature grid: index t → (t+1)/10 (0.1 … 1.5 for its 15 rows). */
export function paperTemperatures(count = 15): number[] {
  return Array.from({ length: count }, (_, t) => (t + 1) / 10);
}

/** Options for {@link completionsFromPaperNpy}. */
export interface FromPaperOptions {
  /** Prompt-set name ("creative", "factual", "seen" or custom). */
  promptSet: string;
  /** Model id. */
  modelId: string;
  /** Model family. */
  family?: string;
  /** Temperatures by row; default the paper's (t+1)/10. */
  temperatures?: number[];
  /** Prompt texts or entries (the `.npy` files hold none; default unknown = null). */
  prompts?: ReadonlyArray<string | PromptEntry>;
  /** Token limit; default the paper's: 25 for "factual", 70 otherwise. */
  maxNewTokens?: number;
  /** Creation time; default now. */
  created?: string;
  /** Extra provenance (e.g. `{ source_file, source_sha256 }`). */
  provenance?: Record<string, unknown>;
}

/**
 * Converts paper-layout cells (`cells[t][p]` → sample texts) to a `completions/1` document (the paper's files
 * do not keep the token ids its models read, which `completions/2` requires). Sampling settings are the paper's: transformers defaults top_k 50 and top_p 1 (a model's generation_config may have changed
 * them), no seed.
 */
export function completionsFromPaperNpy(
  paperCells: readonly (readonly (readonly string[])[])[],
  options: FromPaperOptions,
): CompletionsDoc {
  const T = paperCells.length;
  const P = T ? paperCells[0].length : 0;
  const temperatures = options.temperatures ?? paperTemperatures(T);
  if (temperatures.length !== T) throw new Error(`${temperatures.length} temperatures given for ${T} rows`);
  const prompts: PromptEntry[] = options.prompts
    ? options.prompts.map((p) => (typeof p === "string" ? { text: p } : { ...p }))
    : Array.from({ length: P }, () => ({ text: null }));
  if (prompts.length !== P) throw new Error(`${prompts.length} prompts given for ${P} columns`);
  const cells: CompletionCell[] = [];
  let most = 1;
  paperCells.forEach((row, t) => {
    if (row.length !== P) {
      throw new Error(`paperCells[${t}] has ${row.length} prompts, paperCells[0] has ${P}`);
    }
    row.forEach((texts, p) => {
      most = Math.max(most, texts.length);
      cells.push({
        temperature_index: t,
        prompt_index: p,
        temperature: temperatures[t],
        samples: texts.map((text) => ({ text })),
      });
    });
  });
  return {
    format: "completions/1",
    created: options.created ?? new Date().toISOString(),
    model: { id: options.modelId, ...(options.family ? { family: options.family } : {}) },
    prompt_set: options.promptSet,
    prompts,
    sampling: {
      temperatures,
      samples_per_prompt: most,
      max_new_tokens: options.maxNewTokens ?? (options.promptSet === "factual" ? 25 : 70),
      top_k: 50,
      top_p: 1,
      seed: null,
      do_sample: true,
    },
    cells,
    provenance: {
      converted_from: "paper-npy",
      tool: "mode-collapse toolkit (lib/io/completions_format.ts)",
      ...options.provenance,
    },
  };
}

/** The sample texts of a document in paper layout: `cells[t][p]` → texts. */
export function toPaperCells(doc: CompletionsDoc): string[][][] {
  const T = doc.sampling.temperatures.length, P = doc.prompts.length;
  const out: string[][][] = Array.from({ length: T }, () => Array.from({ length: P }, () => [] as string[]));
  for (const cell of doc.cells) {
    out[cell.temperature_index][cell.prompt_index] = cell.samples.map((s) => s.text);
  }
  return out;
}

/**
 * The document's texts as the paper's `.npy` file: an object array of shape (T, P, 1) whose cells are Python
 * lists of strings, pickled with protocol 3 (what `np.save` writes). Everything but the texts is dropped.
 */
export function completionsToPaperNpy(doc: CompletionsDoc): Uint8Array {
  const cells = toPaperCells(doc);
  const data: PyValue[] = cells.flatMap((row) => row.map((texts) => [...texts] as PyValue));
  return encodeNpy(new NdArray("|O", [cells.length, doc.prompts.length, 1], data));
}

/** Where loaded completions came from. */
export interface CompletionsSource {
  /** The file read. */
  path: string;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  /** `"paper-npy"`, or the JSON file's format tag. */
  format: "paper-npy" | CompletionsFormatTag;
}

/** Completions in the one shape the diversity engine consumes. */
export interface LoadedCompletions {
  /** Temperature of each row t. */
  temperatures: number[];
  /** Prompt text of each column p (undefined when the file does not say). */
  prompts: (string | undefined)[];
  /** `cells[t][p]` → sample texts. */
  cells: string[][][];
  /** Provenance of the data. */
  source: CompletionsSource;
  /** The prompt set the file declares (completions JSON only; a paper `.npy` does not say). */
  promptSet?: string;
  /** The model id the file declares (completions JSON only). */
  model?: string;
}

/**
 * Loads completions from a paper `.npy` (layout (T, P, 1), temperatures (t+1)/10, no prompt texts) or a
 * completions `.json` file (`completions/2` or `/1`), chosen by extension.
 */
export async function loadCompletions(path: string): Promise<LoadedCompletions> {
  const ext = extname(path).toLowerCase();
  if (ext !== ".npy" && ext !== ".json") {
    throw new Error(`${path}: unknown completions file type '${ext}' (expected .npy or .json)`);
  }
  const bytes = await Deno.readFile(path);
  const sha256 = sha256Hex(bytes);
  if (ext === ".npy") {
    const { cells, shape } = paperCompletionsFromArray(decodeNpy(bytes, path), path);
    return {
      temperatures: paperTemperatures(shape[0]),
      prompts: Array.from({ length: shape[1] }, () => undefined),
      cells,
      source: { path, sha256, format: "paper-npy" },
    };
  }
  const text = decodeUtf8(bytes, path);
  const doc = parseCompletionsJson(text, path);
  return {
    temperatures: [...doc.sampling.temperatures],
    prompts: doc.prompts.map((p) => p.text ?? undefined),
    cells: toPaperCells(doc),
    source: { path, sha256, format: doc.format },
    promptSet: doc.prompt_set,
    model: doc.model.id,
  };
}

function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CompletionsFormatError(path, "", "file is not valid UTF-8");
  }
}
