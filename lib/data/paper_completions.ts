/**
 * Completions in the paper's `.npy` layout (an object array (T, P, 1) of lists of sample texts, temperatures
 * (t+1)/10, no prompts or token ids) converted to and from completions documents.
 * @module
 */
import { encodeNpy } from "../io/npy.ts";
import type { CompletionCell, CompletionsDoc, PromptEntry } from "../io/completions_doc.ts";
import { NdArray, type PyValue } from "../io/py_value.ts";

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
      tool: "mode-collapse toolkit (lib/data/paper_completions.ts)",
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
