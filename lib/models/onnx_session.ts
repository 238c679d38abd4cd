/**
 * Creating a causal LM's ONNX Runtime session through transformers.js: the execution provider (device; an
 * unavailable one is an error, never a silent CPU fallback), the graph's dtype and external-data chunks, and the
 * decoder session taken out of the loaded model. Also the shapes of that session as the rest of models/ uses it.
 * @module
 */
import { AutoModelForCausalLM, env, type PreTrainedModel } from "@huggingface/transformers";
import type { ResolvedSource } from "./model_source.ts";
import { TRANSFORMERS_CACHE_DIR } from "./tokenizer.ts";
import { withoutUnreadFileStreams } from "./transformers_fs.ts";

/** Devices a causal LM can be asked for; only `cpu` is certain to exist. */
export type CausalLMDevice = "cpu" | "cuda" | "webgpu";

// What onnxruntime / transformers.js say when an execution provider cannot start.
const DEVICE_FAILURE = /cuda|webgpu|adapter|execution ?provider|shared librar|unsupported device/i;

/** An input or output of the ONNX Runtime session, as its metadata describes it. */
export interface OrtValueMetadata {
  name: string;
  isTensor?: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}
/** An onnxruntime tensor as models/ reads it (what `session.run` returns). */
export interface OrtTensorLike {
  data: unknown;
  dims: readonly number[];
  type: string;
}
/** The ONNX Runtime session transformers.js creates, as far as models/ uses it. */
export interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly OrtValueMetadata[];
  outputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, unknown>, fetches?: readonly string[]): Promise<Record<string, OrtTensorLike>>;
}

/** onnxruntime session settings a caller may choose; anything unset keeps onnxruntime's default. */
export interface OrtSessionSettings {
  /** Threads of one operator (onnxruntime's default: one per physical core). */
  intraOpNumThreads?: number;
  /** The CPU memory arena, which keeps freed tensor memory for reuse (onnxruntime's default: on). */
  enableCpuMemArena?: boolean;
  /** Memory pattern planning per input shape (onnxruntime's default: on). */
  enableMemPattern?: boolean;
  /**
   * When the intra-op threads spin while they wait for work (default `"run"`): `"run"` — while a run executes,
   * and they stop when it returns; `"always"` — onnxruntime's own default, which keeps them spinning after a
   * run; `"off"` — never, they sleep. With `"run"` the operators of a decoding step hand work to a thread that
   * is awake, and between steps the sampler has the cores: sampling 25 × 70 tokens with the 70M architecture on
   * two cores ran ≈ 4 % faster than `"off"` and ≈ 8 % faster than `"always"`, scoring as fast (BENCHMARKS.md).
   */
  intraOpSpinning?: OrtSpinning;
}

/** When onnxruntime's intra-op threads spin (see {@link OrtSessionSettings.intraOpSpinning}). */
export type OrtSpinning = "run" | "always" | "off";

/** The values of {@link OrtSpinning}, for checking one read from a command line or a file. */
export const ORT_SPINNING_MODES: readonly OrtSpinning[] = ["run", "always", "off"];

/** The settings' names, for checking a settings object read from a command line or a file. */
export const ORT_SESSION_SETTING_NAMES: readonly (keyof OrtSessionSettings)[] = [
  "intraOpNumThreads",
  "enableCpuMemArena",
  "enableMemPattern",
  "intraOpSpinning",
];

/**
 * onnxruntime's session options for `settings`: the ones set, and the session configuration entries
 * (`extra.session`) — intra-op spinning (during runs only, unless asked otherwise) and `extraSession`'s entries.
 * Throws a RangeError naming the setting when `intraOpSpinning` is not one of {@link ORT_SPINNING_MODES}.
 */
export function ortSessionOptions(
  settings: OrtSessionSettings = {},
  extraSession: Record<string, string> = {},
): Record<string, unknown> {
  const spinning = settings.intraOpSpinning ?? "run";
  if (!ORT_SPINNING_MODES.includes(spinning)) {
    throw new RangeError(
      `intraOpSpinning: ${JSON.stringify(spinning)} is not one of ${ORT_SPINNING_MODES.join(", ")}`,
    );
  }
  const options: Record<string, unknown> = {};
  if (settings.intraOpNumThreads !== undefined) options.intraOpNumThreads = settings.intraOpNumThreads;
  if (settings.enableCpuMemArena !== undefined) options.enableCpuMemArena = settings.enableCpuMemArena;
  if (settings.enableMemPattern !== undefined) options.enableMemPattern = settings.enableMemPattern;
  // "run": spin inside a run, and `force_spinning_stop` puts the threads to sleep as the run returns.
  const spin: Record<string, unknown> = spinning === "off"
    ? { intra_op: { allow_spinning: "0" } }
    : spinning === "always"
    ? { intra_op: { allow_spinning: "1" } }
    : { intra_op: { allow_spinning: "1" }, force_spinning_stop: "1" };
  options.extra = { session: { ...spin, ...extraSession } };
  return options;
}

/** What {@link openCausalLMModel} loads, and from where. */
export interface OpenModelOptions {
  /** The transformers.js dtype that selects the graph file (e.g. `fp32`, `q8`, `int8`). */
  hfDtype: string;
  /** Execution device. */
  device: CausalLMDevice;
  /** Whether a hub id may be downloaded. */
  allowRemote: boolean;
  /** Where transformers.js resolves local model ids. */
  modelsDir: string;
  /** External-data chunks of the graph (0: the weights are inside the graph). */
  externalDataChunks: number;
  /** Session settings (default: onnxruntime's, with intra-op spinning during runs only). */
  session?: OrtSessionSettings;
}

/**
 * Loads the model (its ONNX session) with transformers.js from a resolved folder or hub id. A provider that
 * cannot start is reported as the device being unavailable; any other failure names the folder or hub id.
 */
export async function openCausalLMModel(
  where: ResolvedSource,
  options: OpenModelOptions,
): Promise<PreTrainedModel> {
  const { hfDtype, device, allowRemote, modelsDir, externalDataChunks, session } = options;
  env.allowLocalModels = true;
  env.allowRemoteModels = allowRemote;
  env.localModelPath = modelsDir + "/";
  env.cacheDir = TRANSFORMERS_CACHE_DIR;
  const modelId = where.folder ?? where.hubId!;
  try {
    // The guard keeps transformers.js from streaming the whole model file into memory (see transformers_fs.ts).
    return await withoutUnreadFileStreams(
      [where.folder ?? TRANSFORMERS_CACHE_DIR],
      () =>
        AutoModelForCausalLM.from_pretrained(modelId, {
          local_files_only: where.folder !== undefined || !allowRemote,
          // deno-lint-ignore no-explicit-any
          dtype: hfDtype as any,
          device,
          ...(where.revision ? { revision: where.revision } : {}),
          ...(externalDataChunks > 0 ? { use_external_data_format: externalDataChunks } : {}),
          session_options: ortSessionOptions(session),
        }),
    );
  } catch (e) {
    const unavailable = deviceFailure(device, e);
    if (unavailable !== undefined) throw unavailable;
    const place = where.folder ? `folder ${where.folder}` : `hub id ${where.hubId} (is this machine online?)`;
    throw new Error(`transformers.js could not load the ${place}: ${(e as Error).message}`, { cause: e });
  }
}

/** The decoder session of a loaded model (`model`, or a merged decoder's); `label` names the model in errors. */
export function decoderSessionOf(model: PreTrainedModel, label: string): OrtSession {
  const session = (model.sessions.model ?? model.sessions.decoder_model_merged) as OrtSession | undefined;
  if (session === undefined) {
    throw new Error(`no decoder session in ${label} (sessions: ${Object.keys(model.sessions)})`);
  }
  return session;
}

/**
 * The error for a failed session start on `device`: a provider that cannot start says the device is unavailable
 * (no CPU fallback); anything else is returned as undefined for the caller to describe.
 */
export function deviceFailure(device: CausalLMDevice, e: unknown): Error | undefined {
  return device !== "cpu" && DEVICE_FAILURE.test(String((e as Error)?.message ?? e))
    ? deviceError(device, e)
    : undefined;
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
