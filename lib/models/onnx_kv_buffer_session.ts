/**
 * A decoding session whose KV cache stays in the toolkit's buffers: the graph file is read, edited by
 * {@link kvBufferGraph}, and onnxruntime loads the edited graph from memory (external data, if any, from the
 * graph's folder). For a graph file holding its weights this costs, while loading, memory for the file twice
 * over (its bytes and the edited copy: a peak of 0.8 against 0.55 GB for the 70M architecture, BENCHMARKS.md)
 * and a little time (0.1 s there); once loaded, the same memory. A graph the edit does not recognise, or one
 * too large to hold twice in memory while it is edited, is not opened: the reason is returned and the caller
 * loads the graph as exported.
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import * as ort from "onnxruntime-node";
import { type KvBufferEntry, kvBufferGraph } from "./onnx_kv_buffer_graph.ts";
import { releaseBuffer } from "./release_buffer.ts";
import { type OrtSession, ortSessionOptions, type OrtSessionSettings } from "./onnx_session.ts";

/**
 * The largest graph file (weights inside it included) edited: the file and its edited copy are both in memory
 * until onnxruntime has loaded the copy. Larger exports keep their weights in external data, so their graph
 * files are small; a 410M-parameter graph with inline float32 weights (1.6 GB) loads as exported instead.
 */
export const KV_BUFFER_MAX_GRAPH_BYTES = 2 ** 30;

/** An opened session over the edited graph. */
export interface KvBufferSession {
  /** The session: inputs `kv_buffer.*` and `kv_buffer_length` instead of `past_key_values.*`. */
  session: OrtSession;
  /** The cached tensors, in the order of the graph's past inputs. */
  entries: KvBufferEntry[];
  /** Releases the session. */
  release(): Promise<void>;
}

/** Frees `bytes` now when they are the whole of their ArrayBuffer (never a slice of a shared pool). */
function freeWhole(bytes: Uint8Array): void {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) releaseBuffer(bytes);
}

/** The `present.*` output that continues past input `past` (the exporters' naming, as causal_lm.ts reads it). */
export function presentOutputOf(past: string): string {
  return past.replace(/^past_key_values\./, "present.");
}

/**
 * Opens `onnxPath` (CPU) with its KV cache in buffers, with the given onnxruntime settings; or returns why it is
 * not (a string). A failure to load the edited graph throws, naming the file.
 */
export async function openKvBufferSession(
  onnxPath: string,
  settings: OrtSessionSettings = {},
): Promise<KvBufferSession | string> {
  const size = (await stat(onnxPath)).size;
  if (size > KV_BUFFER_MAX_GRAPH_BYTES) {
    return `the graph file is ${size} bytes, over ${KV_BUFFER_MAX_GRAPH_BYTES} (its weights are inside it)`;
  }
  const file = await readFile(onnxPath);
  const edited = kvBufferGraph(file, presentOutputOf, onnxPath);
  // The file's bytes (weights included, for a graph that holds them) are freed before onnxruntime reads the
  // edited copy, and the copy once it has: the load's peak stays at about twice the file, not three times.
  freeWhole(file);
  if (typeof edited === "string") return edited;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(edited.bytes, {
      executionProviders: ["cpu"],
      logSeverityLevel: 3, // errors only, as transformers.js loads its sessions
      // A graph loaded from memory has no folder of its own: its external data is looked up here.
      ...ortSessionOptions(settings, { model_external_initializers_file_folder_path: dirname(onnxPath) }),
    });
  } catch (e) {
    throw new Error(
      `onnxruntime could not load ${onnxPath} with its KV cache in buffers: ${(e as Error).message} ` +
        `(load it with kvBuffer: false to run the graph as exported)`,
      { cause: e },
    );
  }
  freeWhole(edited.bytes);
  return {
    session: session as unknown as OrtSession,
    entries: edited.entries,
    release: () => session.release(),
  };
}
