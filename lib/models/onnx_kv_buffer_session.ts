/**
 * A decoding session whose KV cache stays in the toolkit's buffers: the graph file's structure is read (its
 * weights are skipped by seeking), edited by {@link kvBufferGraph}, and onnxruntime loads the edited graph from
 * memory. The edited graph holds no weights: those that were inside the graph file are referred to where they
 * lie in it, and onnxruntime reads them from there as external data (as it reads a `model.onnx_data` beside
 * the graph, which the edit leaves as it is). So the load costs what loading the graph as exported costs. A
 * graph the edit does not recognise is not opened: the reason is returned and the caller loads the graph as
 * exported.
 * @module
 */
import { basename, dirname } from "node:path";
import * as ort from "onnxruntime-node";
import { type KvBufferEntry, kvBufferGraph } from "./onnx_kv_buffer_graph.ts";
import { type OrtSession, ortSessionOptions, type OrtSessionSettings } from "./onnx_session.ts";
import { FileBytes } from "./protobuf_fields.ts";
import { externalTensorsOf } from "./onnx_external_data.ts";

/** Initializers with fewer raw bytes than this are copied into the edited graph rather than referred to. */
export const KV_BUFFER_COPY_BELOW_BYTES = 1024;

/** An opened session over the edited graph. */
export interface KvBufferSession {
  /** The session: inputs `kv_buffer.*` and `kv_buffer_length` instead of `past_key_values.*`. */
  session: OrtSession;
  /** The cached tensors, in the order of the graph's past inputs. */
  entries: KvBufferEntry[];
  /** Releases the session. */
  release(): Promise<void>;
}

/** The `present.*` output that continues past input `past` (the exporters' naming, as causal_lm.ts reads it). */
export function presentOutputOf(past: string): string {
  return past.replace(/^past_key_values\./, "present.");
}

/**
 * The edited graph of the file at `realPath` (links resolved: onnxruntime refuses external data that a link
 * leads out of the folder it reads from), or why there is none. `what` names the file in errors.
 */
function editedGraph(realPath: string, what: string): ReturnType<typeof kvBufferGraph> {
  const file = Deno.openSync(realPath, { read: true });
  try {
    const src = new FileBytes(file, file.statSync().size);
    return kvBufferGraph(src, presentOutputOf, what, {
      location: basename(realPath),
      minBytes: KV_BUFFER_COPY_BELOW_BYTES,
    });
  } finally {
    file.close();
  }
}

/**
 * Opens `onnxPath` (CPU) with its KV cache in buffers, with the given onnxruntime settings; or returns why it is
 * not (a string). A failure to load the edited graph throws, naming the file.
 */
export async function openKvBufferSession(
  onnxPath: string,
  settings: OrtSessionSettings = {},
): Promise<KvBufferSession | string> {
  // The weights are read through the graph file's real path. A graph linked in from another folder whose own
  // external data lies beside the link, not beside the graph, keeps the exported path (which reads it there).
  const realPath = Deno.realPathSync(onnxPath);
  const folder = dirname(realPath);
  if (folder !== Deno.realPathSync(dirname(onnxPath)) && externalTensorsOf(onnxPath).length > 0) {
    return "the graph file is a link into another folder and has external data";
  }
  const edited = editedGraph(realPath, onnxPath);
  if (typeof edited === "string") return edited;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(edited.bytes, {
      executionProviders: ["cpu"],
      logSeverityLevel: 3, // errors only, as transformers.js loads its sessions
      // A graph loaded from memory has no folder of its own: its external data (the graph file's own weights,
      // and any `_data` file) is looked up here.
      ...ortSessionOptions(settings, { model_external_initializers_file_folder_path: folder }),
    });
  } catch (e) {
    throw new Error(
      `onnxruntime could not load ${onnxPath} with its KV cache in buffers: ${(e as Error).message} ` +
        `(load it with kvBuffer: false to run the graph as exported)`,
      { cause: e },
    );
  }
  return {
    session: session as unknown as OrtSession,
    entries: edited.entries,
    release: () => session.release(),
  };
}
