/** The model-loading options every model command takes (`--dtype`, `--device`, `--allow-remote`). @module */
import { resolveModelSource } from "../lib/models/model_source.ts";
import type { CausalLMDtype } from "../lib/models/onnx_files.ts";
import type { CausalLMDevice } from "../lib/models/onnx_session.ts";
import type { NamedPath } from "../lib/io/output_paths.ts";

/** `parseArgs` option specs of the model-loading flags. */
export const MODEL_LOAD_ARGS = {
  dtype: { type: "string" },
  device: { type: "string", default: "cpu" },
  "allow-remote": { type: "boolean", default: false },
} as const;

/** Loader options from parsed flags; an unknown dtype or device is an error naming the flag. */
export function loadOptionsFrom(values: { dtype?: string; device?: string; "allow-remote"?: boolean }): {
  dtype?: CausalLMDtype;
  device: CausalLMDevice;
  allowRemote: boolean;
} {
  if (values.dtype !== undefined && !["fp32", "fp16", "q8", "q4"].includes(values.dtype)) {
    throw new Error(`--dtype must be fp32, fp16, q8 or q4, got "${values.dtype}"`);
  }
  const device = values.device ?? "cpu";
  if (!["cpu", "cuda", "webgpu"].includes(device)) {
    throw new Error(`--device must be cpu, cuda or webgpu, got "${device}"`);
  }
  return {
    ...(values.dtype !== undefined ? { dtype: values.dtype as CausalLMDtype } : {}),
    device: device as CausalLMDevice,
    allowRemote: values["allow-remote"] ?? false,
  };
}

/**
 * The model folder a source names, as an input that no output may overwrite (empty for a hub id, or a source the
 * loader will refuse with its own message).
 */
export function modelInputs(what: string, source: string, allowRemote = false): NamedPath[] {
  try {
    const folder = resolveModelSource(source, allowRemote).folder;
    return folder !== undefined ? [{ what: `${what} folder`, path: folder }] : [];
  } catch {
    return [];
  }
}
