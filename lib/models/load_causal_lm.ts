/**
 * Loading a causal LM exported for transformers.js (ONNX): the source resolved, a local folder checked (before
 * anything multi-GB is loaded), the session created, the graph's inputs and outputs checked against the config,
 * and what was loaded described ({@link ModelInfo}).
 * @module
 */
import { join } from "node:path";
import { type CausalLM, causalLMOver, type ModelInfo } from "./causal_lm.ts";
import { configNumber } from "./config_number.ts";
import type { ShippedGeneration } from "./generation_config.ts";
import { describeModelFiles, type ModelFileInfo } from "./model_files.ts";
import { type CheckedFolder, checkModelFolder } from "./model_folder_check.ts";
import { MODELS_DIR, type ResolvedSource, resolveModelSource } from "./model_source.ts";
import { type CausalLMDtype, ONNX_FILES_BY_DTYPE } from "./onnx_files.ts";
import {
  type CausalLMDevice,
  decoderSessionOf,
  openCausalLMModel,
  type OrtSession,
  type OrtSessionSettings,
} from "./onnx_session.ts";
import { openScoringSession } from "./onnx_scoring_session.ts";
import { openKvBufferSession } from "./onnx_kv_buffer_session.ts";
import { KV_BUFFER_LENGTH_INPUT, type KvBufferEntry } from "./onnx_kv_buffer_graph.ts";

type Json = Record<string, unknown>;

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
  /** onnxruntime session settings (default: onnxruntime's own, with intra-op threads spinning during runs only). */
  session?: OrtSessionSettings;
  /**
   * Load for scoring only (default false): for a local folder whose weights lie in external data (the large
   * models), on cpu or cuda, the graph's `present.*` outputs are dropped before onnxruntime loads it, so a
   * forward pass no longer holds every layer's keys and values to its end; `step` is then unavailable. Other
   * models load as usual (their graph file holds the weights, which would be read twice to edit it).
   */
  scoringOnly?: boolean;
  /**
   * Keep the KV cache in the toolkit's buffers between decoding steps (default true): on cpu, for a local folder
   * whose graph's `present.*` outputs are Concats of the past and the step's new entries (the GPT-NeoX, Llama
   * and Qwen exports), the graph is edited so that a step returns only its new entries instead of the whole
   * cache (same logits; sampling ≈ 10 % faster, BENCHMARKS.md; `CausalLM.kvBuffer` says whether it applied).
   * Other graphs, and `false`, run as exported.
   */
  kvBuffer?: boolean;
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
  for (const flag of ["allowRemote", "scoringOnly", "kvBuffer"] as const) {
    const value: unknown = options[flag];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`${flag} must be true or false, got ${JSON.stringify(value)}`);
    }
  }
  const modelsDir = options.modelsDir ?? MODELS_DIR;
  const where = resolveModelSource(source, allowRemote, modelsDir);

  let checked: CheckedFolder | undefined;
  let files: ModelFileInfo[] = [];
  if (where.folder !== undefined) {
    checked = checkModelFolder(where.folder, dtype);
    checkPresetVocab(where, checked.vocabSize); // before loading: a wrong multi-GB model is refused at once
    files = await describeModelFiles(where.folder, [checked.onnx.file, ...checked.externalData]);
  }

  const found = { where, checked, files, dtype, device };
  if (
    options.scoringOnly && checked !== undefined && checked.externalData.length > 0 && device !== "webgpu"
  ) {
    const scoring = await openScoringSession(join(where.folder!, checked.onnx.file), device, options.session);
    const dispose = () => scoring.release();
    return await releasedOnError(
      dispose,
      () => wrap(scoring.session, { ...found, loadedConfig: checked.config, dispose, scoringOnly: true }),
    );
  }

  // Also for a scoring-only load of a graph holding its weights: without `present.*` outputs a forward pass
  // frees each layer's keys and values early there too.
  if (options.kvBuffer !== false && checked !== undefined && device === "cpu") {
    const buffered = await openKvBufferSession(join(where.folder!, checked.onnx.file), options.session);
    if (typeof buffered !== "string") {
      const dispose = () => buffered.release();
      return await releasedOnError(dispose, () =>
        wrap(buffered.session, {
          ...found,
          loadedConfig: checked.config,
          dispose,
          scoringOnly: false,
          kvBuffers: buffered.entries,
        }));
    }
  }

  const model = await openCausalLMModel(where, {
    hfDtype: checked?.onnx.hfDtype ?? dtype,
    device,
    allowRemote,
    modelsDir,
    externalDataChunks: checked?.externalData.length ?? 0,
    ...(options.session !== undefined ? { session: options.session } : {}),
  });

  const dispose = async () => {
    await model.dispose();
  };
  return await releasedOnError(
    dispose,
    () =>
      wrap(decoderSessionOf(model, String(where.folder ?? where.hubId)), {
        ...found,
        loadedConfig: model.config as unknown as Json,
        dispose,
        scoringOnly: false,
      }),
  );
}

/** `make()`'s model; if the checks in it throw, the session just opened is released (`dispose`) first. */
async function releasedOnError(dispose: () => Promise<void>, make: () => CausalLM): Promise<CausalLM> {
  try {
    return make();
  } catch (e) {
    await dispose();
    throw e;
  }
}

/** What {@link wrap} builds a model from, besides the session. */
interface LoadedParts {
  /** The config the loader read (a remote load has no checked folder). */
  loadedConfig: Json;
  where: ResolvedSource;
  /** The checked folder, when the model is one. */
  checked: CheckedFolder | undefined;
  files: ModelFileInfo[];
  dtype: CausalLMDtype;
  device: CausalLMDevice;
  /** Releases the session. */
  dispose: () => Promise<void>;
  /** The graph's `present.*` outputs were dropped on purpose (forward only). */
  scoringOnly: boolean;
  /** The session runs the graph edited to keep its KV cache in buffers: its cached tensors. */
  kvBuffers?: KvBufferEntry[];
}

function wrap(session: OrtSession, parts: LoadedParts): CausalLM {
  const { loadedConfig, where, checked, files, dtype, device, dispose, scoringOnly, kvBuffers } = parts;
  const config = (checked?.config ?? loadedConfig) as Json;
  const vocabSize = checked?.vocabSize ?? configNumber(config, "vocab_size");
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
  const pastInputs = kvBuffers?.map((e) => e.past) ??
    session.inputNames.filter((n) => n.startsWith("past_key_values."));
  const known = new Set([
    "input_ids",
    "attention_mask",
    "position_ids",
    "use_cache_branch",
    "num_logits_to_keep",
  ]);
  if (kvBuffers !== undefined) {
    for (const e of kvBuffers) known.add(e.input);
    known.add(KV_BUFFER_LENGTH_INPUT);
  }
  const unsupported = session.inputNames.filter((n) => !known.has(n) && !n.startsWith("past_key_values."));
  if (unsupported.length > 0) {
    throw new Error(`${onnxName} has inputs this loader cannot feed: ${unsupported}`);
  }
  // A remote load has no checked folder: EOS from the config transformers.js read.
  const generation: ShippedGeneration = checked?.generation ?? {
    eosTokenIds: [config.eos_token_id].flat().filter((id): id is number => Number.isSafeInteger(id)),
    eosSource: config.eos_token_id === undefined ? "none" : "config.json",
    hasGenerationConfig: false,
    ...(Number.isSafeInteger(config.bos_token_id) ? { bosTokenId: config.bos_token_id as number } : {}),
  };
  const maxPositions = configNumber(config, "max_position_embeddings", "n_positions");
  const numLayers = configNumber(config, "num_hidden_layers", "n_layer") ?? pastInputs.length / 2;

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
  return causalLMOver(
    {
      session,
      config,
      vocabSize,
      maxPositions,
      onnxName,
      pastInputs,
      scoringOnly,
      ...(kvBuffers ? { kvBuffers } : {}),
    },
    info,
    dispose,
  );
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
