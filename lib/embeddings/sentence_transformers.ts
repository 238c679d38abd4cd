/**
 * Sentence embeddings from a transformers.js export of a sentence-transformers model (the paper used
 * `sentence-transformers/all-MiniLM-L12-v2`, exported as `Xenova/all-MiniLM-L12-v2`): token vectors from the ONNX
 * encoder, mean-pooled over the attention mask ([CLS] and [SEP] included), then L2-normalised, as
 * `SentenceTransformer.encode` does for that model.
 *
 * Two things are done here rather than by transformers.js, on purpose:
 * - the folder is checked first, so a missing file is named (transformers.js fails with a bare TypeError);
 * - truncation: transformers.js 4.3.1 cuts the sequence *after* adding [CLS]/[SEP], so a long input loses its
 *   [SEP]; sentence-transformers (HF tokenizers) cuts the text's tokens to `max_seq_length − 2` and keeps [SEP].
 * @module
 */
import { sha256File } from "../io/sha256.ts";
import { readJsonFileSync } from "../io/json_file.ts";
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from "@huggingface/transformers";
import { PROJECT_ROOT } from "../project_root.ts";
import type { EmbedderInfo, SentenceEmbedder } from "./embedder.ts";

/** ONNX weight variants of a transformers.js export, by the `dtype` that selects them. */
const ONNX_FILE_SUFFIX: Readonly<Record<TransformersDtype, string>> = {
  fp32: "",
  fp16: "_fp16",
  int8: "_int8",
  uint8: "_uint8",
  q8: "_quantized",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
  q2: "_q2",
  q2f16: "_q2f16",
  q1: "_q1",
  q1f16: "_q1f16",
};

/** Weight precisions transformers.js can load; only `fp32` is used unless another is asked for explicitly. */
export type TransformersDtype =
  | "fp32"
  | "fp16"
  | "int8"
  | "uint8"
  | "q8"
  | "q4"
  | "q4f16"
  | "bnb4"
  | "q2"
  | "q2f16"
  | "q1"
  | "q1f16";

/** Options of {@link openTransformersEmbedder}. */
export interface TransformersEmbedderOptions {
  /** Allow downloading a hub id from the Hugging Face hub (default false: local folders only). */
  allowRemote?: boolean;
  /** Weight precision (default `"fp32"`); quantised files are refused unless named here. */
  dtype?: TransformersDtype;
  /** Token limit including [CLS]/[SEP]; default: the model's `sentence_bert_config.json`, see {@link readSentenceTransformersLayout}. */
  maxSeqLength?: number;
  /** Sentences per forward pass (default 32, as `encode()`). */
  batchSize?: number;
  /** `info.name` (default: the source as given). */
  name?: string;
  /** transformers.js download cache (default `<project>/data/cache/transformers`). */
  cacheDir?: string;
}

/** Default folder for transformers.js downloads (the library's own default lies inside node_modules). */
const TRANSFORMERS_CACHE_DIR: string = join(PROJECT_ROOT, "data", "cache", "transformers");
/** Where hub ids are looked up locally before any download (`<project>/data/models/<owner>/<name>`). */
export const LOCAL_MODELS_DIR: string = join(PROJECT_ROOT, "data", "models");

const DEFAULT_BATCH_SIZE = 32;
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** How the token vectors become a sentence vector, as read from the sentence-transformers files. */
export interface SentenceTransformersLayout {
  /** Always `"mean"` (other modes are refused). */
  pooling: "mean";
  /** Whether modules.json has a Normalize module (vectors are normalised either way). */
  normalizeModule: boolean;
  /** max_seq_length from the files, if they give one. */
  maxSeqLength?: number;
  /** Which file gave `maxSeqLength`. */
  maxSeqLengthFrom?: string;
  /** Facts worth recording (missing files, assumptions made). */
  notes: string[];
}

/** Files a transformers.js export needs for `dtype`, relative to the folder. */
function requiredModelFiles(dtype: TransformersDtype = "fp32"): string[] {
  return [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    `onnx/model${ONNX_FILE_SUFFIX[dtype]}.onnx`,
  ];
}

/**
 * Checks that `dir` holds a transformers.js export for `dtype`, and throws an error naming the first missing or
 * unreadable file. A folder holding only quantised weights is refused unless that dtype was asked for.
 */
export function checkModelFolder(
  dir: string,
  dtype: TransformersDtype = "fp32",
  dtypeExplicit = false,
): void {
  if (!existsSync(dir)) throw new Error(`model folder not found: ${dir}`);
  if (!statSync(dir).isDirectory()) {
    throw new Error(`not a folder: ${dir} (expected a transformers.js model export)`);
  }
  for (const file of requiredModelFiles(dtype)) {
    const path = join(dir, file);
    if (existsSync(path)) continue;
    let hint = "";
    if (file.startsWith("onnx/")) {
      const others = Object.entries(ONNX_FILE_SUFFIX)
        .filter(([, suffix]) => existsSync(join(dir, "onnx", `model${suffix}.onnx`)))
        .map(([name]) => name);
      hint = others.length === 0
        ? " (no onnx/model*.onnx at all: is this a PyTorch folder? export it to ONNX first)"
        : ` (the folder has dtype${others.length > 1 ? "s" : ""} ${others.join(", ")}; ` +
          (dtypeExplicit
            ? "pick one of those"
            : "quantised or half-precision weights are used only when the " +
              `dtype option names them, e.g. dtype: "${others[0]}"`) +
          ")";
    }
    throw new Error(`model folder ${dir} is missing ${file}${hint}`);
  }
  const config = readJsonFileSync(join(dir, "config.json")) as Record<string, unknown>;
  readJsonFileSync(join(dir, "tokenizer.json"));
  readJsonFileSync(join(dir, "tokenizer_config.json"));
  const jsConfig = config["transformers.js_config"] as Record<string, unknown> | undefined;
  if (jsConfig?.use_external_data_format) {
    const data = `onnx/model${ONNX_FILE_SUFFIX[dtype]}.onnx_data`;
    if (!existsSync(join(dir, data))) {
      throw new Error(`model folder ${dir} is missing ${data} (external weights)`);
    }
  }
}

/**
 * Reads modules.json, `<pooling>/config.json` and sentence_bert_config.json when present. Refuses pooling other
 * than mean-over-tokens and modules this embedder does not implement (Dense, LayerNorm, …), since the vectors
 * would silently differ from the model's.
 */
export function readSentenceTransformersLayout(dir: string): SentenceTransformersLayout {
  const notes: string[] = [];
  const layout: SentenceTransformersLayout = { pooling: "mean", normalizeModule: false, notes };
  const modulesPath = join(dir, "modules.json");
  if (!existsSync(modulesPath)) {
    notes.push("no modules.json: assumed Transformer → mean Pooling → Normalize (the paper's model)");
    layout.normalizeModule = true;
  } else {
    const modules = readJsonFileSync(modulesPath) as { path?: string; type?: string }[];
    if (!Array.isArray(modules)) throw new Error(`${modulesPath}: expected a list of modules`);
    let pooling = false;
    for (const module of modules) {
      const kind = String(module.type ?? "").split(".").pop() ?? "";
      if (kind === "Transformer") continue;
      if (kind === "Normalize") {
        layout.normalizeModule = true;
      } else if (kind === "Pooling") {
        pooling = true;
        checkPoolingConfig(join(dir, module.path ?? "", "config.json"));
      } else {
        throw new Error(
          `${modulesPath}: module ${module.type} is not supported (only Transformer, Pooling, Normalize)`,
        );
      }
    }
    if (!pooling) throw new Error(`${modulesPath}: no Pooling module, so the model gives token vectors only`);
    if (!layout.normalizeModule) {
      notes.push(
        "modules.json has no Normalize module; vectors are L2-normalised anyway (the paper's model has one)",
      );
    }
  }
  const sbertPath = join(dir, "sentence_bert_config.json");
  if (existsSync(sbertPath)) {
    const value = (readJsonFileSync(sbertPath) as Record<string, unknown>).max_seq_length;
    if (typeof value === "number") {
      layout.maxSeqLength = value;
      layout.maxSeqLengthFrom = "sentence_bert_config.json";
    }
  }
  return layout;
}

/** Accepts the 2.x keys (`pooling_mode_mean_tokens: true`, all others false) and the 5.x+ `pooling_mode: "mean"`. */
function checkPoolingConfig(path: string): void {
  if (!existsSync(path)) throw new Error(`pooling config missing: ${path}`);
  const config = readJsonFileSync(path) as Record<string, unknown>;
  let modes: string[];
  if ("pooling_mode" in config) {
    const mode = config.pooling_mode;
    modes = (Array.isArray(mode) ? mode : [mode]).map(String);
  } else {
    modes = Object.entries(config)
      .filter(([key, on]) => key.startsWith("pooling_mode_") && on === true)
      .map(([key]) => key.slice("pooling_mode_".length));
  }
  const isMean = (m: string) => m === "mean" || m === "mean_tokens";
  if (modes.length !== 1 || !isMean(modes[0])) {
    throw new Error(
      `${path}: unsupported pooling mode ${modes.length === 0 ? "(none set)" : modes.join(" + ")}; ` +
        "only mean pooling over the attention mask is implemented",
    );
  }
}

/**
 * Opens a sentence embedder on a transformers.js model: `source` is a local folder (absolute or relative to the
 * working directory) or, with `allowRemote`, a Hugging Face hub id.
 */
export async function openTransformersEmbedder(
  source: string,
  options: TransformersEmbedderOptions = {},
): Promise<SentenceEmbedder> {
  const dtype = options.dtype ?? "fp32";
  const allowRemote = options.allowRemote ?? false;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer`);
  const folder = resolve(source);
  const isFolder = existsSync(folder);
  const looksLikePath = isAbsolute(source) || source.startsWith(".") || !HUB_ID.test(source);
  if (!isFolder && looksLikePath) throw new Error(`model folder not found: ${folder}`);
  if (!isFolder && !allowRemote) {
    throw new Error(
      `"${source}" is not a local folder and remote loading is off (allowRemote: false). Put a transformers.js ` +
        `export of it in a folder (e.g. ${
          join(LOCAL_MODELS_DIR, source.split("/").pop() ?? source)
        }) and pass ` +
        "that path, or allow remote loading on a machine that can reach the Hugging Face hub.",
    );
  }

  let layout: SentenceTransformersLayout;
  let weightsSha256: string | undefined;
  if (isFolder) {
    checkModelFolder(folder, dtype, options.dtype !== undefined);
    layout = readSentenceTransformersLayout(folder);
    weightsSha256 = await sha256File(join(folder, `onnx/model${ONNX_FILE_SUFFIX[dtype]}.onnx`));
  } else {
    layout = {
      pooling: "mean",
      normalizeModule: true,
      notes: ["loaded from the hub: sentence-transformers files not read; assumed mean Pooling → Normalize"],
    };
  }

  const transformers = await import("@huggingface/transformers");
  const { env } = transformers;
  env.allowLocalModels = true;
  env.allowRemoteModels = allowRemote;
  env.localModelPath = LOCAL_MODELS_DIR + "/";
  env.cacheDir = (options.cacheDir ?? TRANSFORMERS_CACHE_DIR) + "/";
  const modelId = isFolder ? folder : source;
  const loadOptions = { local_files_only: !allowRemote };
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  try {
    tokenizer = await transformers.AutoTokenizer.from_pretrained(modelId, loadOptions);
    model = await transformers.AutoModel.from_pretrained(modelId, { ...loadOptions, dtype, device: "cpu" });
  } catch (e) {
    const where = isFolder ? `folder ${folder}` : `hub id ${source} (is this machine online?)`;
    throw new Error(`transformers.js could not load the ${where}: ${(e as Error).message}`, { cause: e });
  }

  const modelConfig = model.config as unknown as Record<string, unknown>;
  const positions = typeof modelConfig.max_position_embeddings === "number"
    ? modelConfig.max_position_embeddings
    : Infinity;
  const tokenizerMax = Number(tokenizer.model_max_length);
  let maxSeqLength: number;
  let maxSeqLengthFrom: string;
  if (options.maxSeqLength !== undefined) {
    [maxSeqLength, maxSeqLengthFrom] = [options.maxSeqLength, "option"];
  } else if (layout.maxSeqLength !== undefined) {
    [maxSeqLength, maxSeqLengthFrom] = [layout.maxSeqLength, layout.maxSeqLengthFrom ?? "?"];
  } else {
    // sentence-transformers' rule when its config gives none: the smaller of the tokenizer's and the model's limit.
    maxSeqLength = Math.min(
      Number.isFinite(tokenizerMax) && tokenizerMax > 0 ? tokenizerMax : Infinity,
      positions,
    );
    maxSeqLengthFrom = "min(tokenizer model_max_length, max_position_embeddings)";
  }
  if (!Number.isFinite(maxSeqLength) || maxSeqLength < 2) {
    throw new Error(`no usable max_seq_length for ${source}`);
  }
  const dimensions = Number(modelConfig.hidden_size);
  const { prefix, suffix } = specialTokens(tokenizer);

  const info: EmbedderInfo = {
    name: options.name ?? source,
    kind: "transformer",
    source: isFolder ? folder : `huggingface.co/${source}`,
    dimensions,
    pooling: "mean over attention mask ([CLS]/[SEP] included), L2-normalised",
    details: {
      dtype,
      transformersJs: String(env.version),
      maxSeqLength,
      maxSeqLengthFrom,
      normalizeModule: layout.normalizeModule,
      batchSize,
      ...(weightsSha256 ? { onnxSha256: weightsSha256 } : {}),
      ...(layout.notes.length > 0 ? { notes: layout.notes.join("; ") } : {}),
    },
  };

  /** Token ids of one sentence, truncated the way HF tokenizers do: text tokens cut, special tokens kept. */
  const encode = (text: string): number[] => {
    const body = tokenizer.encode(text, { add_special_tokens: false });
    const room = Math.max(0, maxSeqLength - prefix.length - suffix.length);
    return [...prefix, ...body.slice(0, room), ...suffix];
  };

  const embedBatch = async (ids: number[][]): Promise<Float32Array[]> => {
    const width = Math.max(...ids.map((row) => row.length));
    const inputIds = new BigInt64Array(ids.length * width).fill(BigInt(tokenizer.pad_token_id ?? 0));
    const mask = new BigInt64Array(ids.length * width);
    ids.forEach((row, r) => {
      row.forEach((id, t) => {
        inputIds[r * width + t] = BigInt(id);
        mask[r * width + t] = 1n;
      });
    });
    const dims = [ids.length, width];
    const output = await model({
      input_ids: new transformers.Tensor("int64", inputIds, dims),
      attention_mask: new transformers.Tensor("int64", mask, dims),
    }) as { last_hidden_state: Tensor };
    const hidden = output.last_hidden_state;
    if (hidden.dims[2] !== dimensions) {
      throw new Error(`model output width ${hidden.dims[2]} ≠ hidden_size ${dimensions}`);
    }
    const data = hidden.data as Float32Array;
    return ids.map((row, r) => meanPoolNormalise(data, r * width * dimensions, row.length, dimensions));
  };

  return {
    info,
    async embed(sentences: readonly string[]): Promise<Float32Array[]> {
      const ids = sentences.map(encode);
      // Longest first, as encode() does: fewer pad positions per batch; padding does not change the vectors.
      const order = ids.map((_, i) => i).sort((a, b) => ids[b].length - ids[a].length || a - b);
      const out = new Array<Float32Array>(sentences.length);
      for (let start = 0; start < order.length; start += batchSize) {
        const chunk = order.slice(start, start + batchSize);
        const vectors = await embedBatch(chunk.map((i) => ids[i]));
        chunk.forEach((i, k) => out[i] = vectors[k]);
      }
      return out;
    },
    async dispose(): Promise<void> {
      await model.dispose();
    },
  };
}

/**
 * Mean of the first `length` token vectors of one row (its unpadded tokens), then divided by its L2 norm
 * (sentence-transformers divides by max(norm, 1e-12)). Summed in float64, stored as float32.
 */
function meanPoolNormalise(
  data: Float32Array,
  offset: number,
  length: number,
  dims: number,
): Float32Array {
  const sum = new Float64Array(dims);
  for (let t = 0; t < length; t++) {
    const base = offset + t * dims;
    for (let d = 0; d < dims; d++) sum[d] += data[base + d];
  }
  let norm = 0;
  for (let d = 0; d < dims; d++) {
    sum[d] /= Math.max(length, 1e-9);
    norm += sum[d] * sum[d];
  }
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  const out = new Float32Array(dims);
  for (let d = 0; d < dims; d++) out[d] = sum[d] * scale;
  return out;
}

/** The ids the tokenizer puts before and after a single text ([CLS] … [SEP] for BERT), found by probing. */
function specialTokens(tokenizer: PreTrainedTokenizer): { prefix: number[]; suffix: number[] } {
  for (const probe of ["hello", "a", "the", "x"]) {
    const body = tokenizer.encode(probe, { add_special_tokens: false });
    const full = tokenizer.encode(probe, { add_special_tokens: true });
    if (body.length === 0) continue;
    for (let start = 0; start + body.length <= full.length; start++) {
      if (body.every((id, k) => full[start + k] === id)) {
        return { prefix: full.slice(0, start), suffix: full.slice(start + body.length) };
      }
    }
  }
  throw new Error("could not work out the tokenizer's special tokens");
}
