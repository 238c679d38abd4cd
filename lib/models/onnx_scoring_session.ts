/**
 * A scoring-only onnxruntime session for a causal LM whose weights lie in external data: the graph file is read
 * (it holds no weights, a few MB), its `present.*` outputs are dropped ({@link keepGraphOutputs}), and onnxruntime
 * loads the edited graph from memory with its external data from the graph's folder. The weights are mapped
 * once, as on the ordinary path; what is saved is the KV outputs' memory during every forward pass.
 * @module
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as ort from "onnxruntime-node";
import { keepGraphOutputs } from "./onnx_graph_outputs.ts";
import {
  type CausalLMDevice,
  deviceFailure,
  type OrtSession,
  ortSessionOptions,
  type OrtSessionSettings,
} from "./onnx_session.ts";

/** A scoring-only session and what its graph no longer returns. */
export interface ScoringSession {
  /** The session: its outputs are the graph's without `present.*`. */
  session: OrtSession;
  /** The outputs dropped from the graph. */
  removedOutputs: string[];
  /** Releases the session. */
  release(): Promise<void>;
}

/** Whether a graph output is a KV-cache output (dropped for scoring). */
export function isKvOutput(name: string): boolean {
  return name.startsWith("present.") || name.startsWith("present_");
}

/**
 * Opens `onnxPath` (a graph with external data beside it) for scoring only, on `device` ("cpu" or "cuda"), with
 * the given onnxruntime settings. Errors name the file.
 */
export async function openScoringSession(
  onnxPath: string,
  device: Exclude<CausalLMDevice, "webgpu">,
  settings: OrtSessionSettings = {},
): Promise<ScoringSession> {
  const edited = keepGraphOutputs(await readFile(onnxPath), (n) => !isKvOutput(n), onnxPath);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(edited.bytes, {
      executionProviders: [device],
      logSeverityLevel: 3, // errors only, as transformers.js loads its sessions
      ...ortSessionOptions(
        // Memory patterns pre-plan one block per input shape for all intermediates; without them the 1.4B's
        // peak for 1,024-token windows fell from 1.17x to 1.13x the weights at the same speed (BENCHMARKS.md).
        { ...settings, enableMemPattern: settings.enableMemPattern ?? false },
        // A graph loaded from memory has no folder of its own: its external data is looked up here.
        { model_external_initializers_file_folder_path: dirname(onnxPath) },
      ),
    });
  } catch (e) {
    throw deviceFailure(device, e) ??
      new Error(`onnxruntime could not load ${onnxPath} for scoring: ${(e as Error).message}`, { cause: e });
  }
  return {
    session: session as unknown as OrtSession,
    removedOutputs: edited.removed,
    release: () => session.release(),
  };
}
