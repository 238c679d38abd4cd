/**
 * Causal language models from transformers.js exports (ONNX), reduced to what scoring needs: full-sequence
 * logits for a batch of equal-length token windows.
 *
 * The folder is checked before transformers.js sees it, so that a missing file or a vocabulary mismatch is
 * named (transformers.js would fail with a bare TypeError, or silently score with the wrong width). The
 * forward call feeds the ONNX session directly: `input_ids`, an all-ones `attention_mask`, `position_ids`
 * 0..n-1 and, for graphs exported with a KV cache, empty past tensors ([batch, heads, 0, head_dim], as
 * transformers.js makes them for a first step), and fetches only `logits` (a KV-cache graph would otherwise
 * hand back its `present.*` tensors: 0.7 GB per 1024-token window for Pythia-2.8B).
 * @module
 */
import { readJsonObjectSync } from "../io/json_file.ts";
import { AutoModelForCausalLM, env, type PreTrainedModel, Tensor } from "@huggingface/transformers";
import { existsSync, readdirSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { PROJECT_ROOT } from "../shared_dir.ts";
import { findPreset, listPresets, type ModelPreset } from "./presets.ts";
import { TRANSFORMERS_CACHE_DIR } from "./tokenizer.ts";
import { withoutUnreadFileStreams } from "./transformers_fs.ts";
import { sha256Hex } from "../io/sha256.ts";
import { readShippedGeneration, type ShippedGeneration } from "./generation_config.ts";
import { externalTensorsOf } from "./onnx_external_data.ts";

/** Weight precisions {@link loadCausalLM} can load. */
export type CausalLMDtype = "fp32" | "fp16" | "q8" | "q4";

/** Devices {@link loadCausalLM} can be asked for; only `cpu` is certain to exist. */
export type CausalLMDevice = "cpu" | "cuda" | "webgpu";

/** Options of {@link loadCausalLM}. */
export interface LoadCausalLMOptions {
  /** Weight precision (default `fp32`): which `onnx/model*.onnx` file is loaded. */
  dtype?: CausalLMDtype;
  /** Execution device (default `cpu`). An unavailable device is an error, never a silent CPU fallback. */
  device?: CausalLMDevice;
  /** Allow downloading a hub id (or a preset's hub id) from the Hugging Face hub (default false). */
  allowRemote?: boolean;
  /** Where preset names and hub ids are looked up (default {@link MODELS_DIR}). */
  modelsDir?: string;
}

/** One file of a loaded model. */
export interface ModelFileInfo {
  /** Path relative to the model folder (e.g. `onnx/model.onnx`). */
  name: string;
  /** Size in bytes. */
  bytes: number;
  /** Hex sha256, for files up to {@link SHA256_LIMIT_BYTES} (hashing a multi-GB export takes minutes). */
  sha256?: string;
}

/** What was loaded. */
export interface ModelInfo {
  /** Absolute folder, or the hub id (`huggingface.co/<id>@<revision>`) for a remote load. */
  source: string;
  /** The preset name, when the model was named by one. */
  preset?: string;
  /** `model_type` from config.json (e.g. `gpt_neox`). */
  modelType: string;
  /** Width of the logits (config `vocab_size`, checked against the ONNX graph). */
  vocabSize: number;
  /** Weight precision loaded. */
  dtype: CausalLMDtype;
  /** Device the session runs on. */
  device: CausalLMDevice;
  /** Whether the graph has past-key-value inputs (fed empty). */
  kvCache: boolean;
  /** Transformer layers (config `num_hidden_layers`). */
  numLayers: number;
  /** Longest input the model was trained for (config `max_position_embeddings`), if the config gives it. */
  maxPositions?: number;
  /**
   * Ids that end generation: generation_config.json's `eos_token_id` (every id, as Hugging Face's `generate`
   * stops on each), else config.json's; empty when the folder names none.
   */
  eosTokenIds: number[];
  /** config.json's `architectures[0]` (e.g. `LlamaForCausalLM`), when it says. */
  architecture?: string;
  /** The folder's generation settings (EOS list and its source, BOS, shipped sampling defaults). */
  generation: ShippedGeneration;
  /** The ONNX files loaded (graph and external data); empty for a remote load. */
  files: ModelFileInfo[];
}

/** Logits of one forward call. */
export interface CausalLMOutput {
  /** float32, row-major [batch, seq, vocab]. */
  logits: Float32Array;
  /** Number of windows. */
  batch: number;
  /** Window length. */
  seq: number;
  /** Logits per position. */
  vocab: number;
}

/**
 * Decoder state between generation steps: the KV cache of every row (graphs exported with one), or the rows'
 * token histories (graphs without; each step then re-reads the whole sequence). Opaque outside this module.
 */
export interface DecodeState {
  /** Rows (sequences) in the state. */
  readonly batch: number;
  /** Tokens already read per row. */
  readonly length: number;
  /** `past_key_values.*` input name → the cache tensor for it; null for a graph without a KV cache. */
  readonly past: ReadonlyMap<string, OrtTensorLike> | null;
  /** Token history per row, kept only for a graph without a KV cache. */
  readonly history: readonly Int32Array[] | null;
}

/** Next-token logits of one decoding step, and the state after it. */
export interface StepOutput {
  /** float32, row-major [batch, vocab]: the logits at each row's last position. */
  logits: Float32Array;
  /** Rows. */
  batch: number;
  /** Logits per row. */
  vocab: number;
  /** The state with this step's tokens read. */
  state: DecodeState;
}

/** A loaded causal language model. */
export interface CausalLM {
  /** What was loaded. */
  readonly info: ModelInfo;
  /** Logits for one batch of equal-length token windows, float32, row-major [batch, seq, vocab]. */
  forward(windows: readonly Int32Array[]): Promise<CausalLMOutput>;
  /**
   * One decoding step: reads `tokens` (one equal-length array per row: the prompt on the first step, then one
   * token each) after `state` (none for the first step) and returns each row's next-token logits. Uses the KV
   * cache when the graph has one. Positions continue from `state.length`; no padding is involved.
   */
  step(tokens: readonly Int32Array[], state?: DecodeState): Promise<StepOutput>;
  /**
   * A state holding the given rows of `state`, in that order (a row may repeat): expands one prompt's state to
   * N samples, or drops finished rows.
   */
  selectRows(state: DecodeState, rows: readonly number[]): DecodeState;
  /** Releases the ONNX session. */
  dispose(): Promise<void>;
}

/** Files every local model folder must have. */
export const REQUIRED_MODEL_FILES: readonly string[] = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
];

/** Where preset names and hub ids are looked up (`data/models/<preset>`, `data/models/<owner>/<name>`). */
export const MODELS_DIR: string = join(PROJECT_ROOT, "data", "models");

/** Files larger than this are listed without a sha256. */
export const SHA256_LIMIT_BYTES = 64 * 1024 * 1024;

/** ONNX graph files per dtype, in order of preference, with the transformers.js dtype selecting each. */
export const ONNX_FILES_BY_DTYPE: Readonly<
  Record<CausalLMDtype, readonly { file: string; hfDtype: string }[]>
> = {
  fp32: [{ file: "onnx/model.onnx", hfDtype: "fp32" }],
  fp16: [{ file: "onnx/model_fp16.onnx", hfDtype: "fp16" }],
  // transformers.js calls 8-bit dynamic quantisation "q8" (model_quantized.onnx); some exports ship "int8".
  q8: [{ file: "onnx/model_quantized.onnx", hfDtype: "q8" }, {
    file: "onnx/model_int8.onnx",
    hfDtype: "int8",
  }],
  // 4-bit block quantisation of the MatMul weights (onnxruntime's MatMulNBits), transformers.js's "q4".
  q4: [{ file: "onnx/model_q4.onnx", hfDtype: "q4" }],
};

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
// What onnxruntime / transformers.js say when an execution provider cannot start.
const DEVICE_FAILURE = /cuda|webgpu|adapter|execution ?provider|shared librar|unsupported device/i;

/** The ONNX Runtime session transformers.js creates, as far as this module uses it. */
interface OrtValueMetadata {
  name: string;
  isTensor?: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}
/** An onnxruntime tensor as this module reads it (what `session.run` returns). */
export interface OrtTensorLike {
  data: unknown;
  dims: readonly number[];
  type: string;
}
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly OrtValueMetadata[];
  outputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, unknown>, fetches?: readonly string[]): Promise<Record<string, OrtTensorLike>>;
}

type Json = Record<string, unknown>;

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readJson(path: string): Json {
  return readJsonObjectSync(path) as Json;
}

/** Where a source string points: a local folder, or a hub id (with its revision) to download. */
export interface ResolvedSource {
  /** Absolute local folder. */
  folder?: string;
  /** Hub id to download (only with allowRemote). */
  hubId?: string;
  /** Hub revision of `hubId`. */
  revision?: string;
  /** The preset the source named, if it named one. */
  preset?: ModelPreset;
}

/**
 * Resolves a source: an existing folder; else a preset name (`data/models/<name>/`, or with `allowRemote` the
 * preset's transformers.js export or hub id); else a hub id (`data/models/<owner>/<name>/`, or with
 * `allowRemote` the hub).
 */
export function resolveModelSource(
  source: string,
  allowRemote = false,
  modelsDir = MODELS_DIR,
): ResolvedSource {
  const direct = resolve(source);
  if (isDir(direct)) return { folder: direct };
  const preset = findPreset(source);
  if (preset !== undefined) {
    const folder = join(modelsDir, preset.name);
    if (isDir(folder)) return { folder, preset };
    if (allowRemote) {
      // A PyTorch-only repo cannot be loaded by transformers.js; a known export of the same weights can.
      const hubId = preset.onnxExportId ?? preset.hubId;
      return { hubId, revision: preset.onnxExportId ? "main" : preset.revision, preset };
    }
    throw new Error(
      `model preset "${source}" (${preset.hubId}@${preset.revision}) has no local folder ${folder}: put a ` +
        "transformers.js export there (see docs/MODELS.md), or pass allowRemote: true on a machine that " +
        "can reach the Hugging Face hub",
    );
  }
  if (!isAbsolute(source) && !source.startsWith(".") && HUB_ID.test(source)) {
    const folder = join(modelsDir, source);
    if (isDir(folder)) return { folder };
    if (allowRemote) return { hubId: source, revision: "main" };
    throw new Error(
      `"${source}" is not a local folder (also looked for ${folder}) and remote loading is off ` +
        "(allowRemote: false); see docs/MODELS.md",
    );
  }
  const names = listPresets().map((p) => p.name);
  throw new Error(
    `model folder not found: ${direct}; "${source}" is neither a folder, a preset (${
      names.join(", ")
    }) nor a ` +
      "hub id",
  );
}

/** The ONNX graph file for a dtype in a folder, or an error naming the file expected and those present. */
export function onnxFileFor(folder: string, dtype: CausalLMDtype): { file: string; hfDtype: string } {
  const candidates = ONNX_FILES_BY_DTYPE[dtype];
  if (candidates === undefined) {
    throw new Error(`unknown dtype "${dtype}"; one of ${Object.keys(ONNX_FILES_BY_DTYPE).join(", ")}`);
  }
  const found = candidates.find((c) => existsSync(join(folder, c.file)));
  if (found) return found;
  const onnxDir = join(folder, "onnx");
  const present = isDir(onnxDir) ? readdirSync(onnxDir).filter((f) => f.endsWith(".onnx")).sort() : [];
  throw new Error(
    `model folder ${folder} lacks ${candidates.map((c) => c.file).join(" (or ")}${
      candidates.length > 1 ? ")" : ""
    } for dtype "${dtype}"; ONNX files present: ${present.length > 0 ? present.join(", ") : "none"}`,
  );
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
 * The external-data files a graph needs, checked: each present, long enough for every tensor stored in it,
 * and named as transformers.js loads them (`<graph>_data`, `<graph>_data_1`, …, beside the graph).
 */
export function checkExternalData(folder: string, graphFile: string): string[] {
  const graphPath = join(folder, graphFile);
  let tensors;
  try {
    tensors = externalTensorsOf(graphPath);
  } catch (e) {
    throw new Error(`${graphPath} is not a readable ONNX graph: ${(e as Error).message}`, { cause: e });
  }
  const byFile = new Map<string, { count: number; endBytes: number; last: string }>();
  for (const t of tensors) {
    const entry = byFile.get(t.location) ?? { count: 0, endBytes: 0, last: t.name };
    entry.count++;
    const end = t.offsetBytes + (t.lengthBytes ?? 0);
    if (end >= entry.endBytes) {
      entry.endBytes = end;
      entry.last = t.name;
    }
    byFile.set(t.location, entry);
  }
  const graphName = graphFile.slice(graphFile.lastIndexOf("/") + 1);
  const dir = graphFile.includes("/") ? graphFile.slice(0, graphFile.lastIndexOf("/") + 1) : "";
  const expected = new RegExp(`^${graphName.replace(/[.]/g, "\\.")}_data(?:_(\\d+))?$`);
  const names: string[] = [];
  for (const [location, { count, endBytes, last }] of byFile) {
    const rel = dir + location;
    const path = join(folder, rel);
    if (!existsSync(path)) {
      throw new Error(
        `${graphPath} stores ${count} tensor(s) in external data ${path}, which is missing ` +
          `(copy ${location} from the export beside the graph)`,
      );
    }
    const size = statSync(path).size;
    if (size < endBytes) {
      throw new Error(
        `external data ${path} is truncated: ${size} bytes, but ${graphFile} needs bytes up to ${endBytes} ` +
          `(tensor "${last}"); copy the file again`,
      );
    }
    if (!expected.test(location)) {
      throw new Error(
        `${graphPath} keeps external data in ${byFile.size > 1 ? `${byFile.size} files such as ` : ""}` +
          `"${location}", but transformers.js reads only ${graphName}_data (and ${graphName}_data_1, …): ` +
          `re-save it with onnx.save_model(model, path, save_as_external_data=True, ` +
          `all_tensors_to_one_file=True, location="${graphName}_data")`,
      );
    }
    names.push(rel);
  }
  const index = (n: string) => Number(n.match(/_data_(\d+)$/)?.[1] ?? 0);
  names.sort((a, b) => index(a) - index(b));
  names.forEach((n, i) => {
    if (index(n) !== i) {
      throw new Error(`${graphPath}: external data chunk ${i} is missing (found ${names.join(", ")})`);
    }
  });
  return names;
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

async function describeFiles(folder: string, names: readonly string[]): Promise<ModelFileInfo[]> {
  const out: ModelFileInfo[] = [];
  for (const name of names) {
    const bytes = statSync(join(folder, name)).size;
    const info: ModelFileInfo = { name, bytes };
    if (bytes <= SHA256_LIMIT_BYTES) {
      info.sha256 = sha256Hex(await Deno.readFile(join(folder, name)));
    }
    out.push(info);
  }
  return out;
}

/** A preset knows its logits width: a folder holding another model (a 2.8B under a 6.9B name) is refused. */
function checkPresetVocab(where: ResolvedSource, vocabSize: number): void {
  const preset = where.preset;
  if (preset?.vocabSize !== undefined && preset.vocabSize !== vocabSize) {
    throw new Error(
      `vocab_size mismatch: preset ${preset.name} (${preset.hubId}) has vocab_size ${preset.vocabSize}, ` +
        `but the config.json of ${where.folder ?? where.hubId} has vocab_size = ${vocabSize}`,
    );
  }
}

/** Turns an execution-provider failure into an error saying the device is unavailable (no CPU fallback). */
function deviceError(device: CausalLMDevice, e: unknown): Error {
  const msg = (e as Error)?.message ?? String(e);
  const why = device === "cuda"
    ? "onnxruntime-node could not start its CUDA execution provider. The npm package bundles only the CPU " +
      "(and WebGPU) providers; CUDA needs the provider libraries that onnxruntime-node's install script " +
      "downloads (run `deno task setup:gpu`), plus CUDA 12 and cuDNN 9 on the machine"
    : "onnxruntime-node found no usable WebGPU adapter on this machine";
  return new Error(`device "${device}" is not available: ${why}. No CPU fallback is made. (${msg})`, {
    cause: e,
  });
}

function numberField(config: Json, ...keys: string[]): number | undefined {
  for (const k of keys) if (typeof config[k] === "number") return config[k] as number;
  return undefined;
}

/** Past-key-value input shape for a first step: batch from the call, heads, head size from graph/config. */
function emptyPastShape(meta: OrtValueMetadata | undefined, config: Json, batch: number): number[] {
  const heads = numberField(config, "num_key_value_heads", "num_attention_heads", "n_head");
  const queryHeads = numberField(config, "num_attention_heads", "n_head");
  const hidden = numberField(config, "hidden_size", "n_embd");
  // The head size comes from the query heads: with grouped-query attention there are fewer KV heads, same size.
  const headDim = numberField(config, "head_dim") ?? (queryHeads && hidden ? hidden / queryHeads : undefined);
  const shape = meta?.shape ?? ["batch_size", "num_heads", "past_sequence_length", "head_dim"];
  return shape.map((d, i) => {
    if (i === 0) return batch;
    if (i === 2) return 0;
    if (typeof d === "number") return d;
    const fromConfig = i === 1 ? heads : i === 3 ? headDim : undefined;
    if (fromConfig === undefined) {
      throw new Error(`cannot size past input ${meta?.name}: dimension ${i} is "${d}"`);
    }
    return fromConfig;
  });
}

/** IEEE half-precision bits to float32 (fp16 exports return Uint16Array logits). */
function halfToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0
      ? sign * frac * 2 ** -24
      : exp === 31
      ? (frac ? NaN : sign * Infinity)
      : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

function toFloat32(tensor: OrtTensorLike): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data; // no copy: the buffer onnxruntime returned
  if (tensor.type === "float16" && data instanceof Uint16Array) return halfToFloat32(data);
  if (ArrayBuffer.isView(data) && typeof (data as unknown as { length?: number }).length === "number") {
    return Float32Array.from(data as unknown as ArrayLike<number>); // e.g. a Float16Array
  }
  throw new Error(`logits of type ${tensor.type} cannot be read as float32`);
}

/**
 * Loads a causal LM exported for transformers.js. `source`: a folder (absolute or relative to the working
 * directory), a preset name (`data/models/<name>/`), or a hub id (`data/models/<id>/`, else with
 * `allowRemote` the hub).
 */
export async function loadCausalLM(source: string, options: LoadCausalLMOptions = {}): Promise<CausalLM> {
  const dtype = options.dtype ?? "fp32";
  const device = options.device ?? "cpu";
  const allowRemote = options.allowRemote ?? false;
  if (!(dtype in ONNX_FILES_BY_DTYPE)) {
    throw new Error(`unknown dtype "${dtype}"; one of ${Object.keys(ONNX_FILES_BY_DTYPE).join(", ")}`);
  }
  if (!["cpu", "cuda", "webgpu"].includes(device)) throw new Error(`unknown device "${device}"`);
  const modelsDir = options.modelsDir ?? MODELS_DIR;
  const where = resolveModelSource(source, allowRemote, modelsDir);

  let checked: CheckedFolder | undefined;
  let files: ModelFileInfo[] = [];
  if (where.folder !== undefined) {
    checked = checkModelFolder(where.folder, dtype);
    checkPresetVocab(where, checked.vocabSize); // before loading: a wrong multi-GB model is refused at once
    files = await describeFiles(where.folder, [checked.onnx.file, ...checked.externalData]);
  }

  env.allowLocalModels = true;
  env.allowRemoteModels = allowRemote;
  env.localModelPath = modelsDir + "/";
  env.cacheDir = TRANSFORMERS_CACHE_DIR;
  const modelId = where.folder ?? where.hubId!;
  let model: PreTrainedModel;
  try {
    // The guard keeps transformers.js from streaming the whole model file into memory (see transformers_fs.ts).
    model = await withoutUnreadFileStreams(
      [where.folder ?? TRANSFORMERS_CACHE_DIR],
      () =>
        AutoModelForCausalLM.from_pretrained(modelId, {
          local_files_only: where.folder !== undefined || !allowRemote,
          // deno-lint-ignore no-explicit-any
          dtype: (checked?.onnx.hfDtype ?? dtype) as any,
          device,
          ...(where.revision ? { revision: where.revision } : {}),
          ...(checked && checked.externalData.length > 0
            ? { use_external_data_format: checked.externalData.length }
            : {}),
        }),
    );
  } catch (e) {
    if (device !== "cpu" && DEVICE_FAILURE.test(String((e as Error)?.message ?? e))) {
      throw deviceError(device, e);
    }
    const place = where.folder ? `folder ${where.folder}` : `hub id ${where.hubId} (is this machine online?)`;
    throw new Error(`transformers.js could not load the ${place}: ${(e as Error).message}`, { cause: e });
  }

  try {
    return wrap(model, where, checked, files, dtype, device);
  } catch (e) {
    await model.dispose();
    throw e;
  }
}

function wrap(
  model: PreTrainedModel,
  where: ResolvedSource,
  checked: CheckedFolder | undefined,
  files: ModelFileInfo[],
  dtype: CausalLMDtype,
  device: CausalLMDevice,
): CausalLM {
  const config = (checked?.config ?? model.config) as unknown as Json;
  const session = (model.sessions.model ?? model.sessions.decoder_model_merged) as OrtSession | undefined;
  if (session === undefined) {
    throw new Error(
      `no decoder session in ${where.folder ?? where.hubId} (sessions: ${Object.keys(model.sessions)})`,
    );
  }
  const vocabSize = checked?.vocabSize ?? numberField(config, "vocab_size");
  if (vocabSize === undefined) throw new Error(`config of ${where.folder ?? where.hubId} has no vocab_size`);
  const onnxName = checked?.onnx.file ?? "the ONNX graph";
  const logitsMeta = session.outputMetadata?.find((m) => m.name === "logits");
  if (!session.outputNames.includes("logits")) {
    throw new Error(`${onnxName} has no "logits" output (outputs: ${session.outputNames.join(", ")})`);
  }
  if (checked === undefined) checkPresetVocab(where, vocabSize);
  const graphWidth = logitsMeta?.shape?.[2];
  if (typeof graphWidth === "number" && graphWidth !== vocabSize) {
    throw new Error(
      `vocab_size mismatch: config.json vocab_size = ${vocabSize}, but ${onnxName} logits width = ` +
        `${graphWidth}`,
    );
  }
  const pastInputs = session.inputNames.filter((n) => n.startsWith("past_key_values."));
  const known = new Set([
    "input_ids",
    "attention_mask",
    "position_ids",
    "use_cache_branch",
    "num_logits_to_keep",
  ]);
  const unsupported = session.inputNames.filter((n) => !known.has(n) && !n.startsWith("past_key_values."));
  if (unsupported.length > 0) {
    throw new Error(`${onnxName} has inputs this loader cannot feed: ${unsupported}`);
  }
  const meta = new Map((session.inputMetadata ?? []).map((m) => [m.name, m]));
  // A remote load has no checked folder: EOS from the config transformers.js read.
  const generation: ShippedGeneration = checked?.generation ?? {
    eosTokenIds: [config.eos_token_id].flat().filter((id): id is number => Number.isSafeInteger(id)),
    eosSource: config.eos_token_id === undefined ? "none" : "config.json",
    hasGenerationConfig: false,
    ...(Number.isSafeInteger(config.bos_token_id) ? { bosTokenId: config.bos_token_id as number } : {}),
  };
  const maxPositions = numberField(config, "max_position_embeddings", "n_positions");
  const numLayers = numberField(config, "num_hidden_layers", "n_layer") ?? pastInputs.length / 2;

  const info: ModelInfo = {
    source: where.folder ?? `huggingface.co/${where.hubId}@${where.revision ?? "main"}`,
    ...(where.preset ? { preset: where.preset.name } : {}),
    modelType: String(config.model_type ?? "unknown"),
    vocabSize,
    dtype,
    device,
    kvCache: pastInputs.length > 0,
    numLayers,
    ...(maxPositions !== undefined ? { maxPositions } : {}),
    eosTokenIds: generation.eosTokenIds,
    ...(Array.isArray(config.architectures) && typeof config.architectures[0] === "string"
      ? { architecture: config.architectures[0] }
      : {}),
    generation,
    files,
  };

  /**
   * The session's inputs for `rows` (equal length n) read after `pastLength` cached tokens: ids, an all-ones
   * attention mask over past + new, positions continuing from the past, the cache branch flag, how many
   * positions' logits to keep (0 = all), and the past tensors (`past`, or empty ones for a first step).
   */
  const decoderFeeds = (
    rows: readonly Int32Array[],
    pastLength: number,
    keepLogits: 0 | 1,
    past: ReadonlyMap<string, OrtTensorLike> | null,
  ): Record<string, unknown> => {
    const batch = rows.length, n = rows[0].length, total = pastLength + n;
    const ids = new BigInt64Array(batch * n);
    const positions = new BigInt64Array(batch * n);
    rows.forEach((row, b) => {
      for (let t = 0; t < n; t++) {
        ids[b * n + t] = BigInt(row[t]);
        positions[b * n + t] = BigInt(pastLength + t);
      }
    });
    const feeds: Record<string, unknown> = { input_ids: new Tensor("int64", ids, [batch, n]).ort_tensor };
    if (session.inputNames.includes("attention_mask")) {
      feeds.attention_mask =
        new Tensor("int64", new BigInt64Array(batch * total).fill(1n), [batch, total]).ort_tensor;
    }
    if (session.inputNames.includes("position_ids")) {
      feeds.position_ids = new Tensor("int64", positions, [batch, n]).ort_tensor;
    }
    if (session.inputNames.includes("use_cache_branch")) {
      feeds.use_cache_branch = new Tensor("bool", new Uint8Array([past ? 1 : 0]), [1]).ort_tensor;
    }
    if (session.inputNames.includes("num_logits_to_keep")) {
      feeds.num_logits_to_keep = new Tensor("int64", new BigInt64Array([BigInt(keepLogits)]), []).ort_tensor;
    }
    for (const name of pastInputs) {
      const cached = past?.get(name);
      if (cached !== undefined) {
        feeds[name] = cached;
      } else {
        const m = meta.get(name);
        const type = m?.type ?? "float32";
        const empty = type === "float16" ? new Uint16Array(0) : new Float32Array(0);
        // deno-lint-ignore no-explicit-any
        feeds[name] = new Tensor(type as any, empty, emptyPastShape(m, config, batch)).ort_tensor;
      }
    }
    return feeds;
  };

  /**
   * Checks equal-length rows of in-vocabulary ids and the position limit; returns the row length. `noun` names
   * a row in errors ("window" for forward passes, "row" for decoding steps).
   */
  const checkRows = (rows: readonly Int32Array[], noun: "window" | "row", pastLength: number): number => {
    if (rows.length === 0) throw new RangeError(`needs at least one ${noun}`);
    const n = rows[0].length;
    if (n === 0) throw new RangeError(`${noun}s must not be empty`);
    rows.forEach((row, b) => {
      if (row.length !== n) throw new RangeError(`${noun} ${b} has ${row.length} tokens, ${noun} 0 has ${n}`);
      for (let t = 0; t < n; t++) {
        if (row[t] < 0 || row[t] >= vocabSize) {
          throw new RangeError(`${noun} ${b} token ${t}: id ${row[t]} outside [0, ${vocabSize})`);
        }
      }
    });
    if (maxPositions !== undefined && pastLength + n > maxPositions) {
      const what = noun === "window" ? "window length" : "sequence length";
      throw new RangeError(`${what} ${pastLength + n} exceeds max_position_embeddings ${maxPositions}`);
    }
    return n;
  };

  const forward = async (windows: readonly Int32Array[]): Promise<CausalLMOutput> => {
    const seq = checkRows(windows, "window", 0);
    const batch = windows.length;
    const out = await session.run(decoderFeeds(windows, 0, 0, null), ["logits"]);
    const logits = out.logits;
    const [ob, os, vocab] = logits.dims;
    if (ob !== batch || os !== seq) {
      throw new Error(`logits dims [${logits.dims}] do not match the input [${batch}, ${seq}]`);
    }
    if (vocab !== vocabSize) {
      throw new Error(
        `vocab_size mismatch: config.json vocab_size = ${vocabSize}, but ${onnxName} logits width = ${vocab}`,
      );
    }
    return { logits: toFloat32(logits), batch, seq, vocab };
  };

  const presentOf = new Map(pastInputs.map((n) => [n, n.replace(/^past_key_values\./, "present.")]));
  const missingPresent = [...presentOf.values()].filter((n) => !session.outputNames.includes(n));
  if (missingPresent.length > 0) {
    throw new Error(`${onnxName} has past inputs but lacks the outputs ${missingPresent.join(", ")}`);
  }

  /** The last position's logits of each row, copied out of a [batch, seq, vocab] output. */
  const lastPositions = (all: Float32Array, batch: number, seq: number): Float32Array => {
    if (seq === 1) return all;
    const out = new Float32Array(batch * vocabSize);
    for (let b = 0; b < batch; b++) {
      const from = (b * seq + seq - 1) * vocabSize;
      out.set(all.subarray(from, from + vocabSize), b * vocabSize);
    }
    return out;
  };

  const step = async (tokens: readonly Int32Array[], state?: DecodeState): Promise<StepOutput> => {
    if (state !== undefined && state.batch !== tokens.length) {
      throw new RangeError(`step got ${tokens.length} rows but the state holds ${state.batch}`);
    }
    const n = checkRows(tokens, "row", state?.length ?? 0);
    const batch = tokens.length;
    const pastLength = state?.length ?? 0;
    if (pastInputs.length === 0) {
      // No cache in the graph: re-read each row's whole history.
      const history = tokens.map((row, b) => {
        const before = state?.history?.[b] ?? new Int32Array(0);
        const joined = new Int32Array(before.length + n);
        joined.set(before);
        joined.set(row, before.length);
        return joined;
      });
      const out = await forward(history);
      return {
        logits: lastPositions(out.logits, batch, out.seq),
        batch,
        vocab: vocabSize,
        state: { batch, length: pastLength + n, past: null, history },
      };
    }
    const total = pastLength + n;
    const feeds = decoderFeeds(tokens, pastLength, 1, state?.past ?? null);
    const out = await session.run(feeds, ["logits", ...presentOf.values()]);
    const logits = out.logits;
    const [ob, os, vocab] = logits.dims;
    if (ob !== batch || vocab !== vocabSize || (os !== n && os !== 1)) {
      throw new Error(`logits dims [${logits.dims}] do not match the input [${batch}, ${n}, ${vocabSize}]`);
    }
    const past = new Map<string, OrtTensorLike>();
    for (const [input, output] of presentOf) past.set(input, out[output]);
    return {
      logits: lastPositions(toFloat32(logits), batch, os),
      batch,
      vocab: vocabSize,
      state: { batch, length: total, past, history: null },
    };
  };

  const selectRows = (state: DecodeState, rows: readonly number[]): DecodeState => {
    if (rows.length === 0) throw new RangeError("selectRows needs at least one row");
    for (const r of rows) {
      if (!Number.isInteger(r) || r < 0 || r >= state.batch) {
        throw new RangeError(`row ${r} outside [0, ${state.batch})`);
      }
    }
    if (state.past === null) {
      return { ...state, batch: rows.length, history: rows.map((r) => state.history![r]) };
    }
    const past = new Map<string, OrtTensorLike>();
    for (const [name, tensor] of state.past) {
      const dims = tensor.dims;
      const data = tensor.data as Float32Array | Uint16Array;
      const rowSize = data.length / dims[0];
      const picked = new (data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(
        rows.length * rowSize,
      );
      rows.forEach((r, i) => picked.set(data.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize));
      // deno-lint-ignore no-explicit-any
      past.set(name, new Tensor(tensor.type as any, picked, [rows.length, ...dims.slice(1)]).ort_tensor);
    }
    return { batch: rows.length, length: state.length, past, history: null };
  };

  return {
    info,
    forward,
    step,
    selectRows,
    async dispose(): Promise<void> {
      await model.dispose();
    },
  };
}
