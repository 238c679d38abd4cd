/**
 * A decoder graph edited so that its KV cache stays in buffers the caller keeps and only each step's new keys and
 * values leave the session. As exported, a decoding step returns every layer's whole cache (`present.*` =
 * Concat(past, new)), and onnxruntime-node copies it into fresh JavaScript memory on every step (≈ 30 MB a step
 * for 25 rows of a 70M model; 3 ms of a 16 ms step, BENCHMARKS.md). Edited, each `past_key_values.*` input is
 * fed from a buffer with room for more positions (`kv_buffer.*`, [batch, heads, capacity, head size]), a Slice
 * node cuts the first `kv_buffer_length` positions back out under the original name, and the new keys and values
 * (the Concat's second input) are graph outputs instead of `present.*`. The nodes that read the past see the
 * same tensor as before, so the logits are the same bits.
 *
 * The edit is made at the protobuf wire level, as {@link keepGraphOutputs} does: every field it does not change
 * (nodes, initializers inline or external) is copied byte for byte. A graph whose `present.*` outputs are not
 * such a Concat (a merged graph with subgraphs, a fused attention operator) is left alone: the edit returns why.
 * @module
 */

import { bufferBytes, type ProtobufBytes } from "./protobuf_fields.ts";
import { valueInfoName } from "./onnx_graph_outputs.ts";
import {
  joinBytes,
  lengthField,
  lengthHeader,
  messageFields,
  stringField,
  stringFields,
  varintBytes,
  varintField,
  type WireField,
} from "./protobuf_message.ts";

// Field numbers (onnx.proto3).
const MODEL = { graph: 7, opsetImport: 8 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTRIBUTE = { name: 1, i: 3 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensor: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIM = { value: 1, param: 2 } as const;
const TENSOR = {
  dims: 1,
  dataType: 2,
  int64Data: 7,
  name: 8,
  rawData: 9,
  externalData: 13,
  dataLocation: 14,
} as const;
/** TensorProto.DataType: FLOAT, FLOAT16, INT64. */
const DATA_TYPE = { float32: 1, float16: 10, int64: 7 } as const;

/** The graph input holding the number of cached positions (int64, [1]). */
export const KV_BUFFER_LENGTH_INPUT = "kv_buffer_length";
/** The symbolic size of a buffer's position axis. */
const CAPACITY_DIM = "kv_buffer_capacity";
/** The symbolic size of a new-entries output's position axis. */
const NEW_DIM = "kv_buffer_new_length";
const ZERO = "kv_buffer_zero";
const AXIS = "kv_buffer_axis";

/** The buffer input that feeds past input `pastName` (`past_key_values.0.key` → `kv_buffer.0.key`). */
export function kvBufferInputName(pastName: string): string {
  return pastName.replace(/^past_key_values\./, "kv_buffer.");
}

/** One cached tensor of the edited graph. */
export interface KvBufferEntry {
  /** The original past input (`past_key_values.0.key`), now cut out of the buffer inside the graph. */
  past: string;
  /** The input that takes the buffer, [batch, heads, capacity, headSize]. */
  input: string;
  /** The output with the step's new entries, [batch, heads, new tokens, headSize]. */
  output: string;
  /** Heads (the buffer's second axis). */
  heads: number;
  /** Entries per head and position (the buffer's last axis). */
  headSize: number;
  /** Element type of the cache. */
  type: "float32" | "float16";
}

/** An edited graph file and its cached tensors, in the order of the past inputs given. */
export interface KvBufferGraph {
  /** The edited graph file. */
  bytes: Uint8Array;
  entries: KvBufferEntry[];
}

/** A varint field's value as a signed int64 (a negative one is ten bytes of two's complement on the wire). */
function int64At(buf: Uint8Array, f: WireField): number {
  let v = 0n;
  buf.subarray(f.from, f.end).forEach((b, k) => {
    v |= BigInt(b & 0x7f) << BigInt(7 * k);
  });
  return Number(BigInt.asIntN(64, v));
}

/** A node as far as the edit reads it. */
interface NodeView {
  inputs: string[];
  outputs: string[];
  opType: string;
  domain: string;
  /** The `axis` attribute, when the node has one. */
  axis?: number;
}

function nodeView(buf: Uint8Array, what: string): NodeView {
  const fields = messageFields(buf, what);
  let axis: number | undefined;
  for (const a of fields.filter((f) => f.field === NODE.attribute && f.wire === 2)) {
    const attr = buf.subarray(a.from, a.end);
    const af = messageFields(attr, what);
    if (stringFields(attr, af, ATTRIBUTE.name)[0] !== "axis") continue;
    const i = af.find((f) => f.field === ATTRIBUTE.i && f.wire === 0);
    if (i !== undefined) axis = int64At(attr, i);
  }
  return {
    inputs: stringFields(buf, fields, NODE.input),
    outputs: stringFields(buf, fields, NODE.output),
    opType: stringFields(buf, fields, NODE.opType)[0] ?? "",
    domain: stringFields(buf, fields, NODE.domain)[0] ?? "",
    ...(axis !== undefined ? { axis } : {}),
  };
}

/** A tensor value's declared element type and the raw bytes of its shape's dimensions. */
interface TensorInfo {
  elemType: number;
  dims: Uint8Array[];
}

function tensorInfo(valueInfo: Uint8Array, what: string): TensorInfo | undefined {
  const typeField = messageFields(valueInfo, what).find((f) => f.field === VALUE_INFO.type && f.wire === 2);
  if (typeField === undefined) return undefined;
  const type = valueInfo.subarray(typeField.from, typeField.end);
  const tensorField = messageFields(type, what).find((f) => f.field === TYPE.tensor && f.wire === 2);
  if (tensorField === undefined) return undefined;
  const tensor = type.subarray(tensorField.from, tensorField.end);
  const tf = messageFields(tensor, what);
  const elem = tf.find((f) => f.field === TENSOR_TYPE.elemType && f.wire === 0);
  const shapeField = tf.find((f) => f.field === TENSOR_TYPE.shape && f.wire === 2);
  if (elem === undefined || shapeField === undefined) return undefined;
  const shape = tensor.subarray(shapeField.from, shapeField.end);
  const dims = messageFields(shape, what).filter((f) => f.field === SHAPE.dim && f.wire === 2)
    .map((f) => shape.subarray(f.from, f.end));
  return { elemType: elem.varint, dims };
}

/** A dimension's fixed size, or undefined for a symbolic one. */
function dimValue(dim: Uint8Array, what: string): number | undefined {
  return messageFields(dim, what).find((f) => f.field === DIM.value && f.wire === 0)?.varint;
}

function valueInfo(name: string, elemType: number, dims: readonly Uint8Array[]): Uint8Array {
  const tensorParts = [
    varintField(TENSOR_TYPE.elemType, elemType),
    lengthField(TENSOR_TYPE.shape, joinBytes(dims.map((d) => lengthField(SHAPE.dim, d)))),
  ];
  return joinBytes([
    stringField(VALUE_INFO.name, name),
    lengthField(VALUE_INFO.type, lengthField(TYPE.tensor, joinBytes(tensorParts))),
  ]);
}

function int64Initializer(name: string, value: number): Uint8Array {
  return joinBytes([
    varintField(TENSOR.dims, 1),
    varintField(TENSOR.dataType, DATA_TYPE.int64),
    lengthField(TENSOR.int64Data, new Uint8Array(varintBytes(value))),
    stringField(TENSOR.name, name),
  ]);
}

function sliceNode(buffer: string, past: string): Uint8Array {
  return joinBytes([
    ...[buffer, ZERO, KV_BUFFER_LENGTH_INPUT, AXIS].map((i) => stringField(NODE.input, i)),
    stringField(NODE.output, past),
    stringField(NODE.name, `/kv_buffer/Slice/${past}`),
    stringField(NODE.opType, "Slice"),
  ]);
}

/** Where an edited graph finds the weights it no longer holds: its own graph file, read as external data. */
export interface KvBufferWeights {
  /** The graph file's name, relative to the folder onnxruntime is told to read external data from. */
  location: string;
  /** Initializers with at least this many raw bytes become references; smaller ones are copied. */
  minBytes: number;
}

/** A copy of bytes [from, to) of `src` (a file source's views do not outlive its next read). */
function copyOf(src: ProtobufBytes, from: number, to: number): Uint8Array {
  return src.bytes(from, to - from).slice();
}

/**
 * An initializer (a TensorProto of `src` with fields `fields`) whose raw data stays where it is: the same fields
 * without `raw_data`, and an external-data reference to its bytes in the graph file; or null to copy it as it
 * is (no raw data, already external, or smaller than `weights.minBytes`).
 */
function referredInitializer(
  src: ProtobufBytes,
  fields: readonly WireField[],
  weights: KvBufferWeights,
): Uint8Array | null {
  const raw = fields.find((f) => f.field === TENSOR.rawData && f.wire === 2);
  if (raw === undefined || raw.end - raw.from < weights.minBytes) return null;
  if (fields.some((f) => f.field === TENSOR.dataLocation || f.field === TENSOR.externalData)) return null;
  const entry = (key: string, value: string) =>
    lengthField(TENSOR.externalData, joinBytes([stringField(1, key), stringField(2, value)]));
  return joinBytes([
    ...fields.filter((f) => f !== raw).map((f) => copyOf(src, f.start, f.end)),
    entry("location", weights.location),
    entry("offset", String(raw.from)),
    entry("length", String(raw.end - raw.from)),
    varintField(TENSOR.dataLocation, 1), // EXTERNAL
  ]);
}

/**
 * The graph file `model` (its bytes, or a {@link ProtobufBytes} source such as protobuf_fields.ts's `FileBytes` over the
 * file) edited to read the KV cache of its `past_key_values.*` inputs from buffers (see the module comment), or
 * the reason it cannot be (a string). `presentOf` names each past input's `present.*` output. With `weights`,
 * the initializers' raw data is not copied but referred to where it lies in the graph file (offsets into the
 * source, so the source must be the whole file): the edited graph is then small, and onnxruntime reads the
 * weights from the file as external data. Malformed files throw; `what` names the file in errors.
 */
export function kvBufferGraph(
  model: Uint8Array | ProtobufBytes,
  presentOf: (past: string) => string,
  what = "ONNX graph",
  weights?: KvBufferWeights,
): KvBufferGraph | string {
  const src = model instanceof Uint8Array ? bufferBytes(model) : model;
  const modelFields = messageFields(src, what, 0, src.size);
  const graphs = modelFields.filter((f) => f.field === MODEL.graph && f.wire === 2);
  if (graphs.length !== 1) throw new Error(`${what}: expected one graph, found ${graphs.length}`);
  const opsetVersion = modelFields.filter((f) => f.field === MODEL.opsetImport && f.wire === 2).map((f) => {
    const op = copyOf(src, f.from, f.end);
    const of = messageFields(op, what);
    const domain = stringFields(op, of, OPSET.domain)[0] ?? "";
    return domain === "" || domain === "ai.onnx"
      ? of.find((x) => x.field === OPSET.version)?.varint
      : undefined;
  }).find((v) => v !== undefined);
  if (opsetVersion === undefined || opsetVersion < 10) {
    return `opset ${opsetVersion ?? "none"} has no Slice(starts, ends, axes)`;
  }

  const graphFields = messageFields(src, what, graphs[0].from, graphs[0].end);
  const nodes = graphFields.filter((f) => f.field === GRAPH.node && f.wire === 2)
    .map((f) => nodeView(copyOf(src, f.from, f.end), what));
  const producer = new Map<string, NodeView>();
  const names = new Set<string>();
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const x of [...n.inputs, ...n.outputs]) names.add(x);
  }
  // Each input's and output's name (and an input's bytes), and each initializer's fields, read once here.
  const inputs = new Map<string, Uint8Array>();
  const outputs = new Set<string>();
  const nameOf = new Map<WireField, string>();
  const tensorFields = new Map<WireField, WireField[]>();
  for (const f of graphFields) {
    if (f.wire !== 2) continue;
    if (f.field === GRAPH.initializer) {
      // Only the fields' places and the name are read: the weights are skipped.
      const fields = messageFields(src, what, f.from, f.end);
      tensorFields.set(f, fields);
      const nameField = fields.find((t) => t.field === TENSOR.name && t.wire === 2);
      if (nameField !== undefined) {
        names.add(new TextDecoder().decode(copyOf(src, nameField.from, nameField.end)));
      }
    } else if (f.field === GRAPH.input || f.field === GRAPH.output) {
      const body = copyOf(src, f.from, f.end);
      const name = valueInfoName(body, what);
      names.add(name);
      nameOf.set(f, name);
      if (f.field === GRAPH.input) inputs.set(name, body);
      else outputs.add(name);
    }
  }
  // A merged graph's cache-branch flag selects the past by itself; the edit would feed it "no cache".
  if (inputs.has("use_cache_branch")) return "the graph is a merged decoder (use_cache_branch)";
  const pastInputs = [...inputs.keys()].filter((n) => n.startsWith("past_key_values."));
  if (pastInputs.length === 0) return "the graph has no past-key-value inputs";
  const added = [KV_BUFFER_LENGTH_INPUT, ZERO, AXIS, ...pastInputs.map(kvBufferInputName)];
  const taken = added.filter((n) => names.has(n));
  if (taken.length > 0) return `the graph already uses the name ${taken[0]}`;

  const entries: KvBufferEntry[] = [];
  const declared = new Map<string, TensorInfo>();
  for (const past of pastInputs) {
    const present = presentOf(past);
    const body = inputs.get(past)!;
    if (!outputs.has(present)) return `${present} is not a graph output`;
    const info = tensorInfo(body, what);
    if (info === undefined || info.dims.length !== 4) return `${past} is not declared as a 4-D tensor`;
    const type = info.elemType === DATA_TYPE.float32
      ? "float32"
      : info.elemType === DATA_TYPE.float16
      ? "float16"
      : null;
    if (type === null) return `${past} has element type ${info.elemType}, not float32 or float16`;
    const heads = dimValue(info.dims[1], what), headSize = dimValue(info.dims[3], what);
    if (heads === undefined || headSize === undefined) return `${past} has no fixed head count or head size`;
    const concat = producer.get(present);
    if (
      concat === undefined || concat.opType !== "Concat" || concat.domain !== "" || concat.inputs.length !== 2
    ) {
      return `${present} is not made by a Concat of two inputs`;
    }
    if (concat.axis !== 2 && concat.axis !== -2) {
      return `${present} is concatenated on axis ${concat.axis}, not 2`;
    }
    // The past comes in directly or through a one-input Concat (an identity the exporter leaves in).
    const first = concat.inputs[0];
    const through = producer.get(first);
    const fromPast = first === past ||
      (through !== undefined && through.opType === "Concat" && through.inputs.length === 1 &&
        through.inputs[0] === past);
    if (!fromPast) return `${present} does not concatenate ${past} first`;
    const output = concat.inputs[1];
    if (outputs.has(output) || inputs.has(output)) return `${output} is already a graph input or output`;
    entries.push({ past, input: kvBufferInputName(past), output, heads, headSize, type });
    declared.set(past, info);
  }

  const byPast = new Map(entries.map((e) => [e.past, e]));
  const presents = new Set(pastInputs.map(presentOf));
  const graphParts: Uint8Array[] = entries.map((e) => lengthField(GRAPH.node, sliceNode(e.input, e.past)));
  /** A past input's declared type and shape with `axis2` (a symbolic size) for its position axis. */
  const reshaped = (e: KvBufferEntry, name: string, axis2: string) => {
    const { elemType, dims } = declared.get(e.past)!;
    return valueInfo(name, elemType, [dims[0], dims[1], stringField(DIM.param, axis2), dims[3]]);
  };
  for (const f of graphFields) {
    const tensor = tensorFields.get(f);
    const referred = tensor !== undefined && weights !== undefined
      ? referredInitializer(src, tensor, weights)
      : null;
    const name = nameOf.get(f);
    const e = f.field === GRAPH.input && name !== undefined ? byPast.get(name) : undefined;
    if (referred !== null) graphParts.push(lengthField(GRAPH.initializer, referred));
    else if (e !== undefined) graphParts.push(lengthField(GRAPH.input, reshaped(e, e.input, CAPACITY_DIM)));
    else if (!(f.field === GRAPH.output && name !== undefined && presents.has(name))) {
      graphParts.push(copyOf(src, f.start, f.end));
    }
  }
  graphParts.push(
    lengthField(GRAPH.input, valueInfo(KV_BUFFER_LENGTH_INPUT, DATA_TYPE.int64, [varintField(DIM.value, 1)])),
    lengthField(GRAPH.initializer, int64Initializer(ZERO, 0)),
    lengthField(GRAPH.initializer, int64Initializer(AXIS, 2)),
    ...entries.map((e) => lengthField(GRAPH.output, reshaped(e, e.output, NEW_DIM))),
  );
  // The graph's tag and length, then its parts, joined once (a graph holding its weights is copied once).
  const graphLength = graphParts.reduce((n, p) => n + p.length, 0);
  const modelParts = modelFields.flatMap((f) =>
    f.field === MODEL.graph && f.wire === 2
      ? [lengthHeader(MODEL.graph, graphLength), ...graphParts]
      : [copyOf(src, f.start, f.end)]
  );
  return { bytes: joinBytes(modelParts), entries };
}
