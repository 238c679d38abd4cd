/**
 * Which external-data files an ONNX graph needs, read from the graph's protobuf without loading it: the top-level
 * initializers whose `data_location` is EXTERNAL, with their `location`, `offset` and `length`. Large fields
 * (raw weights) are skipped by seeking, so a graph with gigabytes of inline weights costs a few reads.
 *
 * The loader uses this to say, before onnxruntime starts, that `onnx/model.onnx_data` is missing or truncated
 * (onnxruntime itself reports such a graph with a bare "failed to load" or crashes on a short file).
 * @module
 */
import { FileBytes, forEachField, readVarint } from "./protobuf_fields.ts";

/** One initializer stored outside the graph file. */
export interface ExternalTensor {
  /** Initializer name. */
  name: string;
  /** File name relative to the graph's folder (the `location` entry). */
  location: string;
  /** Byte offset in that file (default 0). */
  offsetBytes: number;
  /** Bytes it occupies: the `length` entry, else computed from dims and element type (undefined if unknown). */
  lengthBytes?: number;
}

// ONNX TensorProto.DataType → bytes per element (sub-byte types as fractions).
const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  1: 4, // FLOAT
  2: 1, // UINT8
  3: 1, // INT8
  4: 2, // UINT16
  5: 2, // INT16
  6: 4, // INT32
  7: 8, // INT64
  9: 1, // BOOL
  10: 2, // FLOAT16
  11: 8, // DOUBLE
  12: 4, // UINT32
  13: 8, // UINT64
  16: 2, // BFLOAT16
  21: 0.5, // UINT4
  22: 0.5, // INT4
};

const utf8 = new TextDecoder();

/** One initializer as read from the graph: its name, shape, element type and where its data lives. */
interface TensorHeader {
  name: string;
  dims: number[];
  dataType: number;
  external?: ExternalTensor;
}

function readTensor(cur: FileBytes, start: number, end: number): TensorHeader {
  let name = "", location: string | undefined, offset = 0, length: number | undefined;
  let external = false, dataType = 0;
  const dims: number[] = [];
  forEachField(cur, start, end, (field, wire, from, to, v) => {
    if (field === 8 && wire === 2) name = utf8.decode(cur.bytes(from, to - from));
    else if (field === 14 && wire === 0) external = v === 1;
    else if (field === 2 && wire === 0) dataType = v;
    else if (field === 1 && wire === 0) dims.push(v);
    else if (field === 1 && wire === 2) { // packed dims
      for (let p = from; p < to;) {
        const [d, next] = readVarint(cur, p);
        dims.push(d);
        p = next;
      }
    } else if (field === 13 && wire === 2) {
      let key = "", value = "";
      forEachField(cur, from, to, (f, w, a, b) => {
        if (w !== 2) return;
        if (f === 1) key = utf8.decode(cur.bytes(a, b - a));
        if (f === 2) value = utf8.decode(cur.bytes(a, b - a));
      });
      if (key === "location") location = value;
      else if (key === "offset") offset = Number(value);
      else if (key === "length") length = Number(value);
    }
  });
  if (!external || location === undefined) return { name, dims, dataType };
  if (length === undefined && ELEMENT_BYTES[dataType] !== undefined) {
    length = Math.ceil(dims.reduce((a, b) => a * b, 1) * ELEMENT_BYTES[dataType]);
  }
  return {
    name,
    dims,
    dataType,
    external: {
      name,
      location,
      offsetBytes: offset,
      ...(length !== undefined ? { lengthBytes: length } : {}),
    },
  };
}

function tensorHeaders(graphPath: string): TensorHeader[] {
  const file = Deno.openSync(graphPath, { read: true });
  try {
    const cur = new FileBytes(file, file.statSync().size);
    const out: TensorHeader[] = [];
    forEachField(cur, 0, cur.size, (field, wire, from, to) => {
      if (field !== 7 || wire !== 2) return; // ModelProto.graph
      forEachField(cur, from, to, (f, w, a, b) => {
        if (f === 5 && w === 2) out.push(readTensor(cur, a, b)); // GraphProto.initializer
      });
    });
    return out;
  } finally {
    file.close();
  }
}

/** What a graph's initializers hold. */
export interface InitializerSummary {
  /** Number of initializers. */
  tensors: number;
  /** Elements over all initializers (parameters, plus scales and zero points in a quantized graph). */
  elements: number;
  /** Element type names and how many elements each holds (e.g. `{ float32: 123 }`). */
  elementsByType: Record<string, number>;
  /** Tensors stored in external data. */
  external: ExternalTensor[];
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  6: "int32",
  7: "int64",
  9: "bool",
  10: "float16",
  11: "float64",
  16: "bfloat16",
  21: "uint4",
  22: "int4",
};

/** Counts a graph file's initializers by element type (reads headers only). */
export function summariseInitializers(graphPath: string): InitializerSummary {
  const headers = tensorHeaders(graphPath);
  const elementsByType: Record<string, number> = {};
  let elements = 0;
  for (const h of headers) {
    const n = h.dims.reduce((a, b) => a * b, 1);
    elements += n;
    const type = TYPE_NAMES[h.dataType] ?? `type ${h.dataType}`;
    elementsByType[type] = (elementsByType[type] ?? 0) + n;
  }
  return {
    tensors: headers.length,
    elements,
    elementsByType,
    external: headers.flatMap((h) => h.external ? [h.external] : []),
  };
}

/**
 * The external tensors of an ONNX graph file's top-level graph (ModelProto.graph.initializer). Throws a RangeError
 * naming the byte offset when the file is not a well-formed protobuf.
 */
export function externalTensorsOf(graphPath: string): ExternalTensor[] {
  return tensorHeaders(graphPath).flatMap((h) => h.external ? [h.external] : []);
}
