/**
 * The project's own file format for sampled completions, `"format": "completions/2"` (JSON): what was sampled
 * (model, template, prompts with the exact token ids fed to the model, sampling settings and the model's shipped
 * generation defaults) next to the samples, so a file can be analysed, audited and re-scored without knowing how
 * it was made. `completions/1` files (no `input_ids`) are still read. Also converts from/to the paper's `.npy`
 * layout and loads either kind into one structure.
 * @module
 */
import { JsonFormatError, type JsonProblem } from "./json_file.ts";
import {
  anyObject,
  arr,
  int,
  isoTime,
  isPlainObject,
  jsonType,
  loose,
  type MakeError,
  nonEmpty,
  num,
  numbers,
  oneOf,
  parseJsonText,
  record,
  type Report,
  str,
  strict,
  tag,
  v,
  validateWith,
} from "./schema.ts";
import { extname } from "node:path";
import { writeJsonAtomic } from "./atomic.ts";
import { sha256Hex } from "./sha256.ts";
import { decodeNpy, encodeNpy } from "./npy.ts";
import { NdArray, type PyValue } from "./py_value.ts";
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

/** A file that is not a valid completions document; names the file and the JSON path of each problem. */
export class CompletionsFormatError extends JsonFormatError {
  constructor(path: string, jsonPath: string, what: string, more: readonly JsonProblem[] = []) {
    super(path, jsonPath, what, more);
    this.name = "CompletionsFormatError";
  }
}

const completionsError: MakeError = (file, problems) =>
  new CompletionsFormatError(file, problems[0].jsonPath, problems[0].message, problems.slice(1));

// ---------------------------------------------------------------------------------------------------------------
// The schema (completions/2, and completions/1 without prompts[].input_ids)
// ---------------------------------------------------------------------------------------------------------------

/** A per-sample seed: an integer or a derived seed string. */
const seedValue = v.union([str(), int()], (i) => `expected an integer or a string, got ${jsonType(i.input)}`);

const modelRefSchema = strict({ id: nonEmpty(), revision: v.optional(str()), family: v.optional(str()) });

const templateVariable = v.custom<string | number | boolean | null>(
  (x) => x === null || ["string", "number", "boolean"].includes(typeof x),
  "expected a string, number, boolean or null",
);

const templateRefSchema = strict({
  name: str(),
  text: str(),
  variables: v.optional(record(templateVariable)),
  guide_join: v.optional(str()),
});

const promptFields = {
  text: v.nullable(str()),
  guide: v.optional(str()),
  answers: v.optional(arr(str())),
};
const tokenIds = numbers({ integer: true, min: 0 });

const samplingSchema = loose({
  temperatures: numbers({
    min: 0,
    noun: "a temperature",
    minItems: 1,
    minItemsMessage: "expected at least one temperature",
  }),
  samples_per_prompt: int({ min: 1 }),
  max_new_tokens: int({ min: 1 }),
  top_k: v.nullable(int({ min: 0 })),
  top_p: v.nullable(num({ min: 0, exclusiveMin: true, max: 1 })),
  seed: v.nullable(seedValue),
});

const logprobs = numbers({ max: 0, noun: "a log-probability" });

const sampleSchema = strict(
  {
    text: str(),
    token_ids: v.optional(tokenIds),
    logprobs: v.optional(logprobs),
    logprobs_sampled: v.optional(logprobs),
    entropies_nats: v.optional(numbers({ min: 0, noun: "an entropy" })),
    seed: v.optional(seedValue),
    finish: v.optional(oneOf(["stop_token", "length"])),
  },
  (s, report) => {
    const arrays = (["token_ids", "logprobs", "logprobs_sampled", "entropies_nats"] as const)
      .filter((k) => s[k] !== undefined);
    for (const k of arrays.slice(1)) {
      const n = s[k]!.length, first = arrays[0], n0 = s[first]!.length;
      if (n !== n0) report([k], `has ${n} entries but ${first} has ${n0}`);
    }
  },
);

/** The schema of one (temperature, prompt) cell; the completions journal holds one per line. */
export const COMPLETION_CELL_SCHEMA: v.GenericSchema<unknown, CompletionCell> = strict({
  temperature_index: int({ min: 0 }),
  prompt_index: int({ min: 0 }),
  temperature: num(),
  samples: arr(sampleSchema),
  answer_accuracy: v.optional(v.nullable(num({ min: 0, max: 1, noun: "a share" }))),
});

/** Checks across the document: T·P cells in order, each at its temperature, none over-full. */
function cellsAgree(doc: CompletionsDoc, report: Report): void {
  const temperatures = doc.sampling.temperatures, perPrompt = doc.sampling.samples_per_prompt;
  const T = temperatures.length, P = doc.prompts.length;
  if (doc.cells.length !== T * P) {
    report(["cells"], `expected ${T * P} cells (${T} temperatures × ${P} prompts), got ${doc.cells.length}`);
    return;
  }
  doc.cells.forEach((cell, i) => {
    const t = Math.floor(i / P), p = i % P;
    const order = "(cells are ordered by temperature, then prompt)";
    if (cell.temperature_index !== t) report(["cells", i, "temperature_index"], `expected ${t} ${order}`);
    if (cell.prompt_index !== p) report(["cells", i, "prompt_index"], `expected ${p} ${order}`);
    if (cell.temperature !== temperatures[t]) {
      report(
        ["cells", i, "temperature"],
        `expected sampling.temperatures[${t}] = ${temperatures[t]}, got ${cell.temperature}`,
      );
    }
    if (cell.samples.length > perPrompt) {
      report(
        ["cells", i, "samples"],
        `holds ${cell.samples.length} samples, more than samples_per_prompt = ${perPrompt}`,
      );
    }
  });
}

function documentSchema(v2: boolean) {
  return strict(
    {
      format: v2
        ? v.literal(
          COMPLETIONS_FORMAT,
          (i) =>
            `expected ${COMPLETIONS_FORMATS_READ.map((f) => `"${f}"`).join(" or ")}, got ${
              JSON.stringify(i.input) ?? "nothing"
            }`,
        )
        : tag("completions/1"),
      created: isoTime(),
      model: modelRefSchema,
      template: v.optional(templateRefSchema),
      prompt_set: nonEmpty(),
      prompts: arr(
        v2
          ? strict({
            ...promptFields,
            input_ids: numbers({
              integer: true,
              min: 0,
              minItems: 1,
              minItemsMessage: "expected at least one token id",
            }),
          })
          : strict(promptFields),
        1,
        "expected at least one prompt",
      ),
      sampling: samplingSchema,
      cells: arr(COMPLETION_CELL_SCHEMA),
      provenance: anyObject(),
    },
    (doc, report) => cellsAgree(doc as CompletionsDoc, report),
  );
}

/** The `completions/2` schema: every prompt records the token ids the model read. */
export const COMPLETIONS_V2_SCHEMA: v.GenericSchema<unknown, CompletionsDoc> = documentSchema(true);
/** The `completions/1` schema: as `/2` without `prompts[].input_ids`. */
export const COMPLETIONS_V1_SCHEMA: v.GenericSchema<unknown, CompletionsDoc> = documentSchema(false);

/**
 * Validates a parsed value as a `completions/2` or `completions/1` document (the `format` field picks the
 * schema); throws one {@link CompletionsFormatError} listing every problem with its JSON path.
 */
export function validateCompletionsDoc(value: unknown, pathForErrors: string): CompletionsDoc {
  const v1 = isPlainObject(value) && value.format === "completions/1";
  return validateWith(v1 ? COMPLETIONS_V1_SCHEMA : COMPLETIONS_V2_SCHEMA, value, pathForErrors, {
    makeError: completionsError,
    formats: COMPLETIONS_FORMATS_READ,
  });
}

/** Parses and validates completions JSON text; errors name `pathForErrors` and the JSON path. */
export function parseCompletionsJson(text: string, pathForErrors: string): CompletionsDoc {
  return validateCompletionsDoc(parseJsonText(text, pathForErrors, completionsError), pathForErrors);
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
