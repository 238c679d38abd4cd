/**
 * numpy `.npy` files: a magic string, a version, a Python-literal header dict (`descr`, `fortran_order`, `shape`)
 * padded to a 64-byte boundary, then either raw little-endian elements or, for object arrays, a pickle. The header
 * is read by a small strict parser (never evaluated) and every inconsistency is an error naming the file and byte.
 * The writer reproduces numpy's own header text and padding, so re-written files are byte-identical.
 * @module
 */
import { writeFileAtomic } from "./atomic.ts";
import { PickleError, unpickle } from "./pickle_reader.ts";
import { pickleDumps, type PickleWriteOptions } from "./pickle_writer.ts";
import {
  type Descr,
  dtypeInfo,
  DTYPES,
  formatShape,
  isObjectArray,
  NdArray,
  type NumericData,
  shapeSize,
} from "./py_value.ts";

/** The 6-byte magic every `.npy` file starts with. */
const NPY_MAGIC: Uint8Array = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** numpy aligns the data start to this many bytes. */
const ARRAY_ALIGN_BYTES = 64;
/** numpy leaves room for this many digits of the growth axis in the header (numpy ≥ 1.23 behaviour). */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** A malformed or unsupported `.npy` file; `offset` is the byte where the problem was found. */
export class NpyError extends Error {
  /** The file the error is about. */
  readonly path: string;
  /** Byte offset in the file. */
  readonly offset: number;
  constructor(path: string, offset: number, what: string) {
    super(`${path}: byte ${offset}: ${what}`);
    this.name = "NpyError";
    this.path = path;
    this.offset = offset;
  }
}

/** The parsed `.npy` header. */
export interface NpyHeader {
  /** Format version `[major, minor]`: 1.0, 2.0 or 3.0. */
  version: [number, number];
  /** The dtype string. */
  descr: Descr;
  /** Whether the data is stored column-major. */
  fortranOrder: boolean;
  /** Array dimensions. */
  shape: number[];
  /** Byte offset where the data starts. */
  dataOffset: number;
}

/** Parses and validates the magic, version and header dict. */
export function parseNpyHeader(bytes: Uint8Array, path: string): NpyHeader {
  const fail = (offset: number, what: string): never => {
    throw new NpyError(path, offset, what);
  };
  if (bytes.length < NPY_MAGIC.length || NPY_MAGIC.some((b, i) => bytes[i] !== b)) {
    const n = Math.min(bytes.length, 6);
    const shown = [...bytes.subarray(0, n)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    fail(
      0,
      `not a .npy file: expected magic 93 4e 55 4d 50 59 (\\x93NUMPY), found ${shown || "an empty file"}`,
    );
  }
  if (bytes.length < 8) fail(bytes.length, "truncated: file ends inside the version bytes");
  const major = bytes[6], minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) fail(6, `unsupported .npy version ${major}.${minor}`);
  const lenBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lenBytes;
  if (bytes.length < headerStart) fail(bytes.length, "truncated: file ends inside the header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = headerStart + headerLength;
  if (bytes.length < dataOffset) {
    fail(
      bytes.length,
      `truncated: header of ${headerLength} bytes from byte ${headerStart} runs past the end of the file`,
    );
  }
  if (headerLength === 0 || bytes[dataOffset - 1] !== 0x0a) {
    fail(dataOffset - 1, "header does not end with a newline");
  }
  const parsed = new HeaderParser(bytes, headerStart, dataOffset - 1, major === 3, fail).parse();
  return { version: [major, minor], ...parsed, dataOffset };
}

type Fail = (offset: number, what: string) => never;
type Literal = string | boolean | number[];

/** Recursive-descent parser for the header's Python dict literal, over raw bytes so offsets are exact. */
class HeaderParser {
  private pos: number;
  constructor(
    private readonly b: Uint8Array,
    start: number,
    private readonly end: number,
    private readonly utf8: boolean,
    private readonly fail: Fail,
  ) {
    this.pos = start;
  }

  private ws(): void {
    while (this.pos < this.end && (this.b[this.pos] === 0x20 || this.b[this.pos] === 0x09)) this.pos++;
  }
  private peek(): string {
    return this.pos < this.end ? String.fromCharCode(this.b[this.pos]) : "end of header";
  }
  private expect(ch: string): void {
    this.ws();
    if (this.peek() !== ch) this.fail(this.pos, `header: expected '${ch}', found ${this.describe()}`);
    this.pos++;
  }
  private describe(): string {
    return this.pos < this.end ? `'${this.peek()}'` : "the end of the header";
  }

  parse(): { descr: Descr; fortranOrder: boolean; shape: number[] } {
    this.expect("{");
    const seen = new Map<string, { value: Literal; at: number }>();
    while (true) {
      this.ws();
      if (this.peek() === "}") break;
      const keyAt = this.pos;
      const key = this.string();
      if (seen.has(key)) this.fail(keyAt, `header: duplicate key '${key}'`);
      this.expect(":");
      this.ws();
      const at = this.pos;
      seen.set(key, { value: this.value(), at });
      this.ws();
      if (this.peek() === ",") this.pos++;
      else if (this.peek() !== "}") {
        this.fail(this.pos, `header: expected ',' or '}', found ${this.describe()}`);
      }
    }
    this.pos++;
    this.ws();
    if (this.pos !== this.end) {
      this.fail(this.pos, `header: unexpected ${this.describe()} after the closing '}'`);
    }
    for (const k of seen.keys()) {
      if (!["descr", "fortran_order", "shape"].includes(k)) {
        this.fail(seen.get(k)!.at, `header: unknown key '${k}'`);
      }
    }
    for (const k of ["descr", "fortran_order", "shape"]) {
      if (!seen.has(k)) this.fail(this.end, `header: missing key '${k}'`);
    }
    const descr = seen.get("descr")!, fortran = seen.get("fortran_order")!, shape = seen.get("shape")!;
    if (typeof descr.value !== "string") this.fail(descr.at, "header: 'descr' must be a string");
    const info = dtypeInfo(descr.value);
    if (!info) {
      const hint = /^>/.test(descr.value) ? " (big-endian data is not supported)" : "";
      this.fail(
        descr.at,
        `header: unsupported descr '${descr.value}'${hint}; supported: ${Object.keys(DTYPES).join(", ")}`,
      );
    }
    if (typeof fortran.value !== "boolean") {
      this.fail(fortran.at, "header: 'fortran_order' must be True or False");
    }
    if (!Array.isArray(shape.value)) this.fail(shape.at, "header: 'shape' must be a tuple of ints");
    if (fortran.value && info.descr === "|O") {
      this.fail(fortran.at, "header: fortran_order True is not supported for object arrays");
    }
    if (!Number.isSafeInteger(shapeSize(shape.value))) {
      this.fail(shape.at, "header: shape holds too many elements");
    }
    return { descr: info.descr, fortranOrder: fortran.value, shape: shape.value };
  }

  private value(): Literal {
    const c = this.peek();
    if (c === "'" || c === '"') return this.string();
    if (c === "(") return this.tuple();
    if (this.word("True")) return true;
    if (this.word("False")) return false;
    if (c === "[") this.fail(this.pos, "header: list values (structured dtypes) are not supported");
    return this.fail(this.pos, `header: expected a string, True/False or a tuple, found ${this.describe()}`);
  }
  private word(w: string): boolean {
    for (let i = 0; i < w.length; i++) if (this.b[this.pos + i] !== w.charCodeAt(i)) return false;
    const after = this.b[this.pos + w.length];
    if (this.pos + w.length < this.end && /[A-Za-z0-9_]/.test(String.fromCharCode(after))) return false;
    this.pos += w.length;
    return true;
  }
  private string(): string {
    const quote = this.b[this.pos];
    if (quote !== 0x27 && quote !== 0x22) {
      this.fail(this.pos, `header: expected a quoted string, found ${this.describe()}`);
    }
    const start = ++this.pos;
    while (this.pos < this.end && this.b[this.pos] !== quote) {
      if (this.b[this.pos] === 0x5c) {
        this.fail(this.pos, "header: escape sequences in strings are not supported");
      }
      if (this.b[this.pos] === 0x0a) break;
      this.pos++;
    }
    if (this.pos >= this.end || this.b[this.pos] !== quote) {
      this.fail(start - 1, "header: unterminated string");
    }
    const raw = this.b.subarray(start, this.pos++);
    if (!this.utf8) return String.fromCharCode(...raw); // versions 1 and 2 are latin-1
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      return this.fail(start, "header: string is not valid UTF-8");
    }
  }
  private tuple(): number[] {
    const open = this.pos++;
    const items: number[] = [];
    let trailingComma = false;
    while (true) {
      this.ws();
      if (this.peek() === ")") break;
      const at = this.pos;
      while (this.pos < this.end && this.b[this.pos] >= 0x30 && this.b[this.pos] <= 0x39) this.pos++;
      if (this.pos === at) {
        this.fail(at, `header: expected a non-negative int in the shape, found ${this.describe()}`);
      }
      const text = String.fromCharCode(...this.b.subarray(at, this.pos));
      if (text.length > 1 && text[0] === "0") this.fail(at, `header: malformed int '${text}'`);
      const n = Number(text);
      if (!Number.isSafeInteger(n)) this.fail(at, `header: shape entry ${text} is too large`);
      items.push(n);
      this.ws();
      trailingComma = false;
      if (this.peek() === ",") {
        this.pos++;
        trailingComma = true;
      } else if (this.peek() !== ")") {
        this.fail(this.pos, `header: expected ',' or ')' in the shape, found ${this.describe()}`);
      }
    }
    this.pos++;
    // `(15)` is the int 15 in Python, not a tuple
    if (items.length === 1 && !trailingComma) {
      this.fail(open, "header: a one-element shape needs a trailing comma");
    }
    return items;
  }
}

/** Options for reading. */
export interface NpyReadOptions {
  /** Allow bytes after the array data (default false: trailing garbage is an error). */
  allowTrailing?: boolean;
}

/**
 * Decodes a whole `.npy` file held in memory. Numeric arrays are read directly (Fortran order is converted to C
 * order); object arrays go through the restricted unpickler and must agree with the header's dtype and shape.
 */
export function decodeNpy(bytes: Uint8Array, path: string, options: NpyReadOptions = {}): NdArray {
  const h = parseNpyHeader(bytes, path);
  const info = DTYPES[h.descr];
  if (info.view === undefined) {
    let value;
    try {
      value = unpickle(bytes.subarray(h.dataOffset), {
        baseOffset: h.dataOffset,
        allowTrailing: options.allowTrailing,
      }).value;
    } catch (e) {
      if (e instanceof PickleError) throw new NpyError(path, e.offset, `pickle: ${e.detail}`);
      throw e;
    }
    if (!(value instanceof NdArray)) {
      throw new NpyError(path, h.dataOffset, `object array payload is not a pickled numpy array`);
    }
    if (value.descr !== h.descr) {
      throw new NpyError(
        path,
        h.dataOffset,
        `header says descr '${h.descr}' but the pickle holds '${value.descr}'`,
      );
    }
    if (!sameShape(value.shape, h.shape)) {
      throw new NpyError(
        path,
        h.dataOffset,
        `header says shape ${formatShape(h.shape)} but the pickle holds shape ${formatShape(value.shape)}`,
      );
    }
    return value;
  }
  const count = shapeSize(h.shape);
  const wantBytes = count * info.itemSizeBytes;
  const have = bytes.length - h.dataOffset;
  if (have < wantBytes) {
    throw new NpyError(
      path,
      bytes.length,
      `truncated: shape ${
        formatShape(h.shape)
      } of ${h.descr} needs ${wantBytes} data bytes from byte ${h.dataOffset}, ` +
        `the file ends after ${have}`,
    );
  }
  if (have > wantBytes && !options.allowTrailing) {
    throw new NpyError(
      path,
      h.dataOffset + wantBytes,
      `${have - wantBytes} trailing bytes after the array data`,
    );
  }
  const data = info.view(bytes.slice(h.dataOffset, h.dataOffset + wantBytes).buffer);
  return new NdArray(h.descr, h.shape, h.fortranOrder ? fortranToC(data, h.shape) : data);
}

/** Reads a `.npy` file. */
export async function readNpy(path: string, options: NpyReadOptions = {}): Promise<NdArray> {
  return decodeNpy(await Deno.readFile(path), path, options);
}

/** Reorders column-major data to row-major. */
function fortranToC<T extends NumericData>(data: T, shape: readonly number[]): T {
  const n = shape.length;
  if (n < 2) return data;
  const out = new (data.constructor as { new (len: number): T })(data.length);
  const idx = new Array<number>(n).fill(0);
  const fStride: number[] = [];
  let s = 1;
  for (let k = 0; k < n; k++) {
    fStride.push(s);
    s *= shape[k];
  }
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let k = 0; k < n; k++) f += idx[k] * fStride[k];
    out[c] = data[f];
    for (let k = n - 1; k >= 0; k--) { // advance the C-order index
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Options for writing. */
export interface NpyWriteOptions extends PickleWriteOptions {
  /** Force a format version; by default the oldest that fits, as numpy does (1.0 unless the header is huge). */
  version?: [1 | 2 | 3, 0];
}

/** The header bytes numpy writes for a C-ordered array (`np.lib.format._write_array_header`). */
export function encodeNpyHeader(
  descr: Descr,
  shape: readonly number[],
  version?: [1 | 2 | 3, 0],
): Uint8Array {
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${formatShape(shape)}, }`;
  if (shape.length > 0) text += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const body = new TextEncoder().encode(text);
  const wrap = (major: 1 | 2 | 3): Uint8Array | undefined => {
    const lenBytes = major === 1 ? 2 : 4;
    const hlen = body.length + 1;
    const pad = ARRAY_ALIGN_BYTES - ((NPY_MAGIC.length + 2 + lenBytes + hlen) % ARRAY_ALIGN_BYTES);
    const total = hlen + pad;
    if (major === 1 && total > 0xffff) return undefined;
    const out = new Uint8Array(NPY_MAGIC.length + 2 + lenBytes + total);
    out.set(NPY_MAGIC);
    out[6] = major;
    out[7] = 0;
    const dv = new DataView(out.buffer);
    if (major === 1) dv.setUint16(8, total, true);
    else dv.setUint32(8, total, true);
    out.set(body, 8 + lenBytes);
    out.fill(0x20, 8 + lenBytes + body.length, out.length - 1);
    out[out.length - 1] = 0x0a;
    return out;
  };
  if (version) {
    const h = wrap(version[0]);
    if (!h) throw new Error(`header of ${body.length} bytes is too long for .npy version ${version[0]}.0`);
    return h;
  }
  return wrap(1) ?? wrap(2)!; // the header is ASCII, so version 3 is never needed
}

/** Encodes an array as numpy's `np.save(allow_pickle=True)` would (object arrays pickled with protocol 3). */
export function encodeNpy(array: NdArray, options: NpyWriteOptions = {}): Uint8Array {
  const header = encodeNpyHeader(array.descr, array.shape, options.version);
  let payload: Uint8Array;
  if (isObjectArray(array)) payload = pickleDumps(array, options);
  else {
    const d = array.data as NumericData;
    if (d.length !== shapeSize(array.shape)) {
      throw new Error(
        `encodeNpy: shape ${formatShape(array.shape)} needs ${
          shapeSize(array.shape)
        } elements, has ${d.length}`,
      );
    }
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
      throw new Error("encodeNpy: needs a little-endian host");
    }
    payload = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  const out = new Uint8Array(header.length + payload.length);
  out.set(header);
  out.set(payload, header.length);
  return out;
}

/** Writes an array to `path` atomically in `.npy` format. */
export async function writeNpy(path: string, array: NdArray, options: NpyWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodeNpy(array, options));
}
