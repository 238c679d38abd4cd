/**
 * Dropping outputs from an ONNX graph file, at the protobuf wire level: the ModelProto is copied field by field
 * and only the graph's `output` entries whose names are not kept are left out. Used for a scoring-only session:
 * a KV-cache decoder's `present.*` outputs are graph outputs, so onnxruntime computes and holds them to the end
 * of every run even when nobody fetches them (384 MiB per 1,024-token window for a Pythia-1.4B); without them
 * they are freed as soon as the attention has used them.
 *
 * Only the graph's output list changes; nodes, initializers (inline or external) and every other field are copied
 * byte for byte, so the edited graph computes the same logits.
 * @module
 */

import { joinBytes, lengthHeader, messageFields, stringFields } from "./protobuf_message.ts";

// ModelProto.graph = 7, GraphProto.output = 12, ValueInfoProto.name = 1 (onnx.proto3).
const MODEL_GRAPH = 7;
const GRAPH_OUTPUT = 12;
const VALUE_INFO_NAME = 1;

/** A ValueInfoProto's name ("" when it has none). */
export function valueInfoName(buf: Uint8Array, what: string): string {
  return stringFields(buf, messageFields(buf, what), VALUE_INFO_NAME)[0] ?? "";
}

/** The names of a graph file's outputs, in order. `what` names the file in errors. */
export function graphOutputNames(model: Uint8Array, what = "ONNX graph"): string[] {
  const names: string[] = [];
  for (const m of messageFields(model, what)) {
    if (m.field !== MODEL_GRAPH || m.wire !== 2) continue;
    const graph = model.subarray(m.from, m.end);
    for (const g of messageFields(graph, what)) {
      if (g.field === GRAPH_OUTPUT && g.wire === 2) {
        names.push(valueInfoName(graph.subarray(g.from, g.end), what));
      }
    }
  }
  return names;
}

/** An edited graph file and what was left out of it. */
export interface EditedGraph {
  /** The graph file with only the kept outputs. */
  bytes: Uint8Array;
  /** The outputs left out, in their order in the original. */
  removed: string[];
}

/**
 * A copy of the ONNX graph file `model` whose graph keeps only the outputs for which `keep(name)` is true. Throws
 * when the file has no graph or no output would remain. `what` names the file in errors.
 */
export function keepGraphOutputs(
  model: Uint8Array,
  keep: (name: string) => boolean,
  what = "ONNX graph",
): EditedGraph {
  const parts: Uint8Array[] = [];
  const removed: string[] = [];
  let graphs = 0;
  let kept = 0;
  for (const m of messageFields(model, what)) {
    if (m.field !== MODEL_GRAPH || m.wire !== 2) {
      parts.push(model.subarray(m.start, m.end));
      continue;
    }
    graphs++;
    const graph = model.subarray(m.from, m.end);
    const graphParts: Uint8Array[] = [];
    for (const g of messageFields(graph, what)) {
      if (g.field === GRAPH_OUTPUT && g.wire === 2) {
        const name = valueInfoName(graph.subarray(g.from, g.end), what);
        if (!keep(name)) {
          removed.push(name);
          continue;
        }
        kept++;
      }
      graphParts.push(graph.subarray(g.start, g.end));
    }
    const payload = joinBytes(graphParts);
    parts.push(lengthHeader(MODEL_GRAPH, payload.length), payload);
  }
  if (graphs !== 1) throw new Error(`${what}: expected one graph, found ${graphs}`);
  if (kept === 0) throw new Error(`${what}: no graph output would remain`);
  return { bytes: joinBytes(parts), removed };
}
