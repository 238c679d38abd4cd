/**
 * Loads sampled completions from either kind of file, a paper `.npy` or a completions `.json`, into the one shape
 * the diversity engine consumes, with the file's hash for provenance.
 * @module
 */
import { extname } from "node:path";
import type { CompletionsFormatTag } from "../io/completions_doc.ts";
import { parseCompletionsJson } from "../io/completions_json.ts";
import { CompletionsFormatError } from "../io/completions_schema.ts";
import { decodeNpy } from "../io/npy.ts";
import { sha256Hex } from "../io/sha256.ts";
import { paperCompletionsFromArray } from "./paper.ts";
import { paperTemperatures, toPaperCells } from "./paper_completions.ts";

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
