/**
 * The check of a local model folder before transformers.js sees it, so that a missing file or a vocabulary
 * mismatch is named (transformers.js would fail with a bare TypeError, or silently score with the wrong width):
 * required files, an architecture transformers.js can run, the ONNX graph for the dtype with its external data,
 * `vocab_size` against the tokenizer, and the EOS/BOS ids.
 * @module
 */
import { AutoModelForCausalLM } from "@huggingface/transformers";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readJsonObjectSync } from "../io/json_file.ts";
import { readShippedGeneration, type ShippedGeneration } from "./generation_config.ts";
import { type CausalLMDtype, checkExternalData, onnxFileFor } from "./onnx_files.ts";

/** Files every local model folder must have. */
const REQUIRED_MODEL_FILES: readonly string[] = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
];

type Json = Record<string, unknown>;

function readJson(path: string): Json {
  return readJsonObjectSync(path) as Json;
}

/** Largest token id in a tokenizer.json (model vocabulary and added tokens); undefined if none. */
export function maxTokenizerId(tokenizerJson: Json): number | undefined {
  let max = -1;
  const model = tokenizerJson.model as Json | undefined;
  const vocab = model?.vocab;
  if (Array.isArray(vocab)) {
    max = vocab.length - 1; // Unigram: [piece, score] pairs, id = index
  } else if (vocab !== null && typeof vocab === "object") {
    for (const id of Object.values(vocab as Json)) if (typeof id === "number" && id > max) max = id;
  }
  const added = tokenizerJson.added_tokens;
  if (Array.isArray(added)) {
    for (const t of added) {
      const id = (t as Json | null)?.id;
      if (typeof id === "number" && id > max) max = id;
    }
  }
  return max >= 0 ? max : undefined;
}

/** Files of a local folder checked before loading, with the facts read from them. */
export interface CheckedFolder {
  /** Parsed config.json. */
  config: Record<string, unknown>;
  /** Its vocab_size. */
  vocabSize: number;
  /** The ONNX graph for the dtype, and the transformers.js dtype that selects it. */
  onnx: { file: string; hfDtype: string };
  /** External-data files of that graph (folder-relative), in chunk order. */
  externalData: string[];
  /** generation_config.json over config.json: EOS list, BOS, shipped sampling defaults. */
  generation: ShippedGeneration;
}

/** `model_type`s transformers.js can load as a causal LM (its AutoModelForCausalLM mapping). */
export function supportedModelTypes(): string[] {
  const mappings = (AutoModelForCausalLM as unknown as { MODEL_CLASS_MAPPINGS?: Map<string, unknown>[] })
    .MODEL_CLASS_MAPPINGS ?? [];
  return [...new Set(mappings.flatMap((m) => [...m.keys()]))].sort();
}

/**
 * Checks a local model folder before anything is loaded: required files present (the error names each missing
 * one), an architecture transformers.js can run, an ONNX graph for the dtype with its external data whole, a
 * numeric `vocab_size`, every tokenizer id below it, and EOS/BOS ids inside it.
 */
export function checkModelFolder(folder: string, dtype: CausalLMDtype = "fp32"): CheckedFolder {
  const missing = REQUIRED_MODEL_FILES.filter((f) => !existsSync(join(folder, f)));
  if (missing.length > 0) throw new Error(`model folder ${folder} lacks ${missing.join(" and ")}`);
  const configPath = join(folder, "config.json");
  const config = readJson(configPath);
  const modelType = config.model_type;
  if (typeof modelType !== "string" || modelType === "") {
    throw new Error(`${configPath}: model_type must name the architecture, got ${JSON.stringify(modelType)}`);
  }
  const supported = supportedModelTypes();
  if (supported.length > 0 && !supported.includes(modelType)) {
    throw new Error(
      `${configPath}: model_type "${modelType}" is not an architecture transformers.js can run as a causal ` +
        `language model (supported: ${supported.join(", ")})`,
    );
  }
  const onnx = onnxFileFor(folder, dtype);
  const vocabSize = config.vocab_size;
  if (typeof vocabSize !== "number" || !Number.isInteger(vocabSize) || vocabSize < 1) {
    throw new Error(`${configPath}: vocab_size must be a positive integer, got ${JSON.stringify(vocabSize)}`);
  }
  const tokenizerPath = join(folder, "tokenizer.json");
  const maxId = maxTokenizerId(readJson(tokenizerPath));
  if (maxId !== undefined && maxId >= vocabSize) {
    throw new Error(
      `vocab_size mismatch: config.json vocab_size = ${vocabSize}, but tokenizer.json has ids up to ` +
        `${maxId} (tokenizer ids must be < vocab_size) in ${folder}`,
    );
  }
  const generation = readShippedGeneration(folder, config, vocabSize);
  const externalData = checkExternalData(folder, onnx.file);
  return { config, vocabSize, onnx, externalData, generation };
}
