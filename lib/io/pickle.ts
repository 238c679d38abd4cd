/**
 * A restricted codec for Python pickles (protocols 2 to 5) of numpy arrays, enough to read the `.npy` object
 * arrays numpy writes (the paper's, protocol 3; current numpy's `np.save`, protocol 4 with frames) and to
 * re-write the paper's, and nothing more. Reading runs a small stack machine with a memo and a mark stack over an
 * explicit opcode allow-list; the only globals it resolves are numpy's `_reconstruct`, `ndarray` and `dtype` (and
 * `_codecs.encode(str, "latin1")`, which is how protocol 2 spells a bytes literal), so a hostile pickle cannot
 * name any other callable. Values nest at most {@link MAX_NESTING} levels and hold no cycles, so whatever reads
 * them cannot overflow its stack. Writing emits the opcodes and memo numbering that CPython's C pickler produces
 * for numpy 1.x arrays (`np.save(..., allow_pickle=True)`), byte for byte.
 * @module
 */

// ---------------------------------------------------------------------------------------------------------------
// Value model
// ---------------------------------------------------------------------------------------------------------------

/** A Python tuple (a JS array stands for a Python list, so tuples need their own type). */
export class PyTuple {
  /** The tuple's elements. */
  readonly items: readonly PyValue[];
  constructor(items: readonly PyValue[]) {
    this.items = items;
  }
}

/** Keys a Python dict may have here (hashable scalars only). */
export type PyKey = string | number | boolean | null;

/** A Python dict, insertion-ordered like Python's. */
export type PyDict = Map<PyKey, PyValue>;

/** Python values the codec handles: None, bool, int/float, str, bytes, list, tuple, dict, numpy dtype/ndarray. */
export type PyValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | NpDtype
  | NdArray;

/** numpy dtype strings (`descr`) this project supports; byte order `<` or `|` only (no big-endian). */
export type Descr =
  | "|O"
  | "|b1"
  | "|i1"
  | "|u1"
  | "<i2"
  | "<u2"
  | "<i4"
  | "<u4"
  | "<i8"
  | "<u8"
  | "<f4"
  | "<f8";

/** Typed storage of a numeric array, chosen by its dtype (`|b1` is a Uint8Array of 0/1). */
export type NumericData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** What one supported dtype looks like, in numpy's pickled form and in JS. */
export interface DtypeInfo {
  /** The `descr` string used in `.npy` headers. */
  readonly descr: Descr;
  /** The first argument numpy passes to `dtype(...)` when unpickling (`'f4'`, `'O8'`, …). */
  readonly pickleName: string;
  /** Byte-order character in the pickled dtype state. */
  readonly byteOrder: "<" | "|";
  /** numpy's dtype flags in the pickled state (63 for object, 0 for plain numbers). */
  readonly flags: number;
  /** Bytes per element (8 for object pointers, never read for them). */
  readonly itemSizeBytes: number;
  /** Builds the typed view over raw little-endian bytes (undefined for the object dtype). */
  readonly view?: (buffer: ArrayBuffer) => NumericData;
}

/** The supported dtypes, by `descr`. */
export const DTYPES: Readonly<Record<Descr, DtypeInfo>> = {
  "|O": { descr: "|O", pickleName: "O8", byteOrder: "|", flags: 63, itemSizeBytes: 8 },
  "|b1": {
    descr: "|b1",
    pickleName: "b1",
    byteOrder: "|",
    flags: 0,
    itemSizeBytes: 1,
    view: (b) => new Uint8Array(b),
  },
  "|i1": {
    descr: "|i1",
    pickleName: "i1",
    byteOrder: "|",
    flags: 0,
    itemSizeBytes: 1,
    view: (b) => new Int8Array(b),
  },
  "|u1": {
    descr: "|u1",
    pickleName: "u1",
    byteOrder: "|",
    flags: 0,
    itemSizeBytes: 1,
    view: (b) => new Uint8Array(b),
  },
  "<i2": {
    descr: "<i2",
    pickleName: "i2",
    byteOrder: "<",
    flags: 0,
    itemSizeBytes: 2,
    view: (b) => new Int16Array(b),
  },
  "<u2": {
    descr: "<u2",
    pickleName: "u2",
    byteOrder: "<",
    flags: 0,
    itemSizeBytes: 2,
    view: (b) => new Uint16Array(b),
  },
  "<i4": {
    descr: "<i4",
    pickleName: "i4",
    byteOrder: "<",
    flags: 0,
    itemSizeBytes: 4,
    view: (b) => new Int32Array(b),
  },
  "<u4": {
    descr: "<u4",
    pickleName: "u4",
    byteOrder: "<",
    flags: 0,
    itemSizeBytes: 4,
    view: (b) => new Uint32Array(b),
  },
  "<i8": {
    descr: "<i8",
    pickleName: "i8",
    byteOrder: "<",
    flags: 0,
    itemSizeBytes: 8,
    view: (b) => new BigInt64Array(b),
  },
  "<u8": {
    descr: "<u8",
    pickleName: "u8",
    byteOrder: "<",
    flags: 0,
    itemSizeBytes: 8,
    view: (b) => new BigUint64Array(b),
  },
  "<f4": {
    descr: "<f4",
    pickleName: "f4",
    byteOrder: "<",
    flags: 0,
    itemSizeBytes: 4,
    view: (b) => new Float32Array(b),
  },
  "<f8": {
    descr: "<f8",
    pickleName: "f8",
    byteOrder: "<",
    flags: 0,
    itemSizeBytes: 8,
    view: (b) => new Float64Array(b),
  },
};

/** Looks up a `descr` string; undefined when unsupported. */
export function dtypeInfo(descr: string): DtypeInfo | undefined {
  return Object.hasOwn(DTYPES, descr) ? DTYPES[descr as Descr] : undefined;
}

/** A numpy dtype object (only the builtin ones in {@link DTYPES}). */
export class NpDtype {
  /** Its `descr` string. */
  descr: Descr;
  constructor(descr: Descr) {
    this.descr = descr;
  }
}

/**
 * A numpy ndarray in C order: `data` is a flat list of Python values for the object dtype and a typed array for
 * numeric dtypes; element (i, j, k) of shape (I, J, K) sits at flat index (i·J + j)·K + k.
 */
export class NdArray<D extends NumericData | PyValue[] = NumericData | PyValue[]> {
  /** dtype string. */
  descr: Descr;
  /** Dimensions; `[]` for a 0-d array. */
  shape: number[];
  /** Elements in C order. */
  data: D;
  constructor(descr: Descr, shape: number[], data: D) {
    this.descr = descr;
    this.shape = shape;
    this.data = data;
  }
}

/** An object-dtype array. */
export type ObjectArray = NdArray<PyValue[]>;
/** A numeric array. */
export type NumericArray = NdArray<NumericData>;

/** True for an object-dtype array (elements are Python values). */
export function isObjectArray(a: NdArray): a is ObjectArray {
  return a.descr === "|O";
}

/** True for a numeric array (elements in a typed array). */
export function isNumericArray(a: NdArray): a is NumericArray {
  return a.descr !== "|O";
}

/** Number of elements a shape holds (1 for the 0-d shape `[]`). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Python's `repr` of a shape tuple: `()`, `(3,)`, `(15, 20, 1)`. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Opcodes
// ---------------------------------------------------------------------------------------------------------------

/** Every pickle opcode CPython knows, by byte, with the protocol that introduced it (for error messages). */
const OPCODE_NAMES: ReadonlyMap<number, readonly [string, number]> = new Map<number, [string, number]>([
  [0x28, ["MARK", 0]],
  [0x2e, ["STOP", 0]],
  [0x30, ["POP", 0]],
  [0x31, ["POP_MARK", 1]],
  [0x32, ["DUP", 0]],
  [0x46, ["FLOAT", 0]],
  [0x49, ["INT", 0]],
  [0x4a, ["BININT", 1]],
  [0x4b, ["BININT1", 1]],
  [0x4c, ["LONG", 0]],
  [0x4d, ["BININT2", 1]],
  [0x4e, ["NONE", 0]],
  [0x50, ["PERSID", 0]],
  [0x51, ["BINPERSID", 1]],
  [0x52, ["REDUCE", 0]],
  [0x53, ["STRING", 0]],
  [0x54, ["BINSTRING", 1]],
  [0x55, ["SHORT_BINSTRING", 1]],
  [0x56, ["UNICODE", 0]],
  [0x58, ["BINUNICODE", 1]],
  [0x61, ["APPEND", 0]],
  [0x62, ["BUILD", 0]],
  [0x63, ["GLOBAL", 0]],
  [0x64, ["DICT", 0]],
  [0x7d, ["EMPTY_DICT", 1]],
  [0x65, ["APPENDS", 1]],
  [0x67, ["GET", 0]],
  [0x68, ["BINGET", 1]],
  [0x69, ["INST", 0]],
  [0x6a, ["LONG_BINGET", 1]],
  [0x6c, ["LIST", 0]],
  [0x5d, ["EMPTY_LIST", 1]],
  [0x6f, ["OBJ", 1]],
  [0x70, ["PUT", 0]],
  [0x71, ["BINPUT", 1]],
  [0x72, ["LONG_BINPUT", 1]],
  [0x73, ["SETITEM", 0]],
  [0x74, ["TUPLE", 0]],
  [0x29, ["EMPTY_TUPLE", 1]],
  [0x75, ["SETITEMS", 1]],
  [0x47, ["BINFLOAT", 1]],
  [0x80, ["PROTO", 2]],
  [0x81, ["NEWOBJ", 2]],
  [0x82, ["EXT1", 2]],
  [0x83, ["EXT2", 2]],
  [0x84, ["EXT4", 2]],
  [0x85, ["TUPLE1", 2]],
  [0x86, ["TUPLE2", 2]],
  [0x87, ["TUPLE3", 2]],
  [0x88, ["NEWTRUE", 2]],
  [0x89, ["NEWFALSE", 2]],
  [0x8a, ["LONG1", 2]],
  [0x8b, ["LONG4", 2]],
  [0x42, ["BINBYTES", 3]],
  [0x43, ["SHORT_BINBYTES", 3]],
  [0x8c, ["SHORT_BINUNICODE", 4]],
  [0x8d, ["BINUNICODE8", 4]],
  [0x8e, ["BINBYTES8", 4]],
  [0x8f, ["EMPTY_SET", 4]],
  [0x90, ["ADDITEMS", 4]],
  [0x91, ["FROZENSET", 4]],
  [0x92, ["NEWOBJ_EX", 4]],
  [0x93, ["STACK_GLOBAL", 4]],
  [0x94, ["MEMOIZE", 4]],
  [0x95, ["FRAME", 4]],
  [0x96, ["BYTEARRAY8", 5]],
  [0x97, ["NEXT_BUFFER", 5]],
  [0x98, ["READONLY_BUFFER", 5]],
]);

// Opcode bytes used by both directions.
const MARK = 0x28,
  STOP = 0x2e,
  BININT = 0x4a,
  BININT1 = 0x4b,
  BININT2 = 0x4d,
  NONE = 0x4e,
  REDUCE = 0x52,
  BINUNICODE = 0x58,
  APPEND = 0x61,
  BUILD = 0x62,
  GLOBAL = 0x63,
  EMPTY_DICT = 0x7d,
  APPENDS = 0x65,
  BINGET = 0x68,
  LONG_BINGET = 0x6a,
  EMPTY_LIST = 0x5d,
  BINPUT = 0x71,
  LONG_BINPUT = 0x72,
  SETITEM = 0x73,
  TUPLE = 0x74,
  EMPTY_TUPLE = 0x29,
  SETITEMS = 0x75,
  BINFLOAT = 0x47,
  PROTO = 0x80,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  BINBYTES = 0x42,
  SHORT_BINBYTES = 0x43,
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96;

/** Deepest nesting of lists, tuples, dicts and arrays a pickle may hold (numpy's object arrays need 2 or 3). */
export const MAX_NESTING = 1000;

/** `NAME (0x63 'c')` for error messages. */
export function describeOpcode(byte: number): string {
  const known = OPCODE_NAMES.get(byte);
  const hex = `0x${byte.toString(16).padStart(2, "0")}`;
  const ch = byte >= 0x20 && byte < 0x7f ? ` '${String.fromCharCode(byte)}'` : "";
  return known ? `${known[0]} (${hex}${ch})` : `unknown opcode (${hex}${ch})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------------------------

/** A rejected or malformed pickle; `offset` is the absolute byte offset of the offending opcode or datum. */
export class PickleError extends Error {
  /** Absolute byte offset (pickle start + `baseOffset`). */
  readonly offset: number;
  /** What is wrong, without the source/offset prefix (for wrappers that add their own). */
  readonly detail: string;
  constructor(source: string | undefined, offset: number, detail: string) {
    super(`${source ? `${source}: ` : ""}byte ${offset}: pickle: ${detail}`);
    this.name = "PickleError";
    this.offset = offset;
    this.detail = detail;
  }
}

/** Options for {@link unpickle}. */
export interface UnpickleOptions {
  /** Names the input in error messages (a file path). */
  source?: string;
  /** Added to every reported offset, e.g. the `.npy` data offset, so errors name file offsets. */
  baseOffset?: number;
  /** Whether bytes after STOP are an error (default) or allowed. */
  allowTrailing?: boolean;
}

/** What {@link unpickle} returns. */
export interface UnpickleResult {
  /** The unpickled value. */
  value: PyValue;
  /** Index just past the STOP opcode, relative to the input bytes. */
  endIndex: number;
}

/** What an allowed global may be used for. */
type GlobalRole = "reconstruct" | "ndarray" | "dtype" | "encode";

/**
 * The globals this reader will resolve: `module name` → role. `_codecs encode` is how protocol 2 writes a bytes
 * value (`_codecs.encode("b", "latin1")`, numpy's typecode argument); it is only ever called with a str and
 * "latin1".
 */
const ALLOWED_GLOBALS: ReadonlyMap<string, GlobalRole> = new Map(
  [
    ["numpy.core.multiarray _reconstruct", "reconstruct"],
    ["numpy._core.multiarray _reconstruct", "reconstruct"],
    ["numpy ndarray", "ndarray"],
    ["numpy dtype", "dtype"],
    ["_codecs encode", "encode"],
  ] as const,
);

/** A resolved allowed global on the unpickler's stack (never part of a returned value). */
class PyGlobal {
  constructor(readonly role: GlobalRole, readonly qualName: string) {}
}

/** Stack entries: values plus the internal global markers. */
type StackItem = PyValue | PyGlobal;

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }); // keep a leading U+FEFF

/** Index of the first byte that breaks UTF-8 well-formedness (as TextDecoder judges), or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number, min: number, cp: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min, cp] = [1, 0x80, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [need, min, cp] = [2, 0x800, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [need, min, cp] = [3, 0x10000, b & 0x07];
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Runs the restricted unpickler over one protocol 2–5 pickle. Throws {@link PickleError} on anything off. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): UnpickleResult {
  return new Unpickler(bytes, options).run();
}

class Unpickler {
  private pos = 0;
  private protocol = 2;
  /** Nesting depth of containers built so far (a lower bound, checked exactly at STOP). */
  private readonly depths = new WeakMap<object, number>();
  private opStart = 0;
  private opByte = 0;
  private readonly stack: StackItem[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, StackItem>();
  /** Placeholders created by REDUCE that still wait for their BUILD. */
  private readonly pending = new Set<NdArray | NpDtype>();
  private readonly view: DataView;
  private readonly base: number;

  constructor(private readonly bytes: Uint8Array, private readonly options: UnpickleOptions) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.base = options.baseOffset ?? 0;
  }

  private fail(what: string, at = this.opStart): never {
    throw new PickleError(this.options.source, this.base + at, `${describeOpcode(this.opByte)}: ${what}`);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      const endAt = this.base + this.bytes.length;
      throw new PickleError(
        this.options.source,
        endAt,
        `truncated: data ran out at byte ${endAt} while reading ${what} for ` +
          `${describeOpcode(this.opByte)} at byte ${this.base + this.opStart} ` +
          `(needed ${n} bytes from byte ${this.base + this.pos}, ${this.bytes.length - this.pos} left)`,
      );
    }
  }

  private u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }
  private u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  private u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is too large`);
    this.pos += 8;
    return Number(v);
  }
  private take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  private line(what: string): string {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0) this.need(this.bytes.length - this.pos + 1, `${what} (a line ending in \\n)`);
    const raw = this.bytes.subarray(this.pos, nl);
    const at = this.pos;
    this.pos = nl + 1;
    return this.utf8(raw, at, what);
  }
  private utf8(raw: Uint8Array, at: number, what: string): string {
    try {
      return STRICT_UTF8.decode(raw);
    } catch {
      const bad = at + Math.max(0, firstInvalidUtf8(raw));
      return this.fail(`${what} is not valid UTF-8 (first bad byte at ${this.base + bad})`);
    }
  }

  private pop(): StackItem {
    const floor = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    if (this.stack.length <= floor) this.fail("stack underflow (no item above the current mark)");
    return this.stack.pop()!;
  }
  private top(): StackItem {
    const floor = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    if (this.stack.length <= floor) this.fail("stack underflow (no item above the current mark)");
    return this.stack[this.stack.length - 1];
  }
  private popMark(): StackItem[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail("no MARK on the mark stack");
    return this.stack.splice(m);
  }
  private memoGet(index: number): void {
    if (!this.memo.has(index)) this.fail(`memo index ${index} was never stored`);
    this.stack.push(this.memo.get(index)!);
  }
  private memoPut(index: number): void {
    this.memo.set(index, this.top());
  }

  /** Depth of a value (0 for scalars) as far as known while reading. */
  private depth(v: StackItem): number {
    return v !== null && typeof v === "object" ? this.depths.get(v) ?? 1 : 0;
  }
  /** Records that `container` now holds `item`; nesting beyond {@link MAX_NESTING} is an error here. */
  private nest(container: object, item: StackItem): void {
    const d = Math.max(this.depths.get(container) ?? 1, 1 + this.depth(item));
    if (d > MAX_NESTING) this.fail(`values nest deeper than ${MAX_NESTING} levels`);
    this.depths.set(container, d);
  }
  private global(mod: string, name: string): void {
    const qual = `${mod} ${name}`;
    const role = ALLOWED_GLOBALS.get(qual);
    if (!role) {
      this.fail(
        `global '${qual}' is not allowed (only ${
          [...ALLOWED_GLOBALS.keys()].map((g) => `'${g}'`).join(", ")
        })`,
      );
    }
    this.stack.push(new PyGlobal(role, qual));
  }

  private value(item: StackItem, role: string): PyValue {
    if (item instanceof PyGlobal) this.fail(`${role} is the class/function ${item.qualName}, not a value`);
    return item;
  }
  private key(item: StackItem): PyKey {
    if (item === null || typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
      return item;
    }
    return this.fail(
      `dict key of type ${typeName(item)} is not supported (only str, int, float, bool, None)`,
    );
  }

  run(): UnpickleResult {
    const b = this.bytes;
    let first = true;
    while (true) {
      this.opStart = this.pos;
      if (this.pos >= b.length) {
        this.opByte = -1;
        throw new PickleError(
          this.options.source,
          this.base + b.length,
          `truncated: data ran out at byte ${this.base + b.length} before STOP`,
        );
      }
      const op = (this.opByte = b[this.pos++]);
      if (first && op !== PROTO) this.fail("a protocol 2–5 pickle must start with PROTO");
      first = false;
      const introduced = OPCODE_NAMES.get(op)?.[1] ?? 0;
      if (introduced > this.protocol) {
        this.fail(`protocol ${introduced} opcode in a protocol ${this.protocol} pickle`);
      }
      switch (op) {
        case PROTO: {
          if (this.opStart !== 0) this.fail("PROTO may only appear at the start");
          const v = this.u8("the protocol number");
          if (v < 2 || v > 5) this.fail(`protocol ${v} is not supported (only 2 to 5)`);
          this.protocol = v;
          break;
        }
        case FRAME: {
          // A frame only says how many bytes the next opcodes take; they are read as usual.
          const n = this.u64("the frame length");
          this.need(n, `a frame of ${n} bytes`);
          break;
        }
        case STOP: {
          if (this.marks.length) this.fail(`${this.marks.length} MARK(s) still open at STOP`);
          if (this.stack.length !== 1) {
            this.fail(`stack holds ${this.stack.length} items at STOP, expected 1`);
          }
          if (this.pending.size) {
            this.fail("an ndarray/dtype was reconstructed but never received its BUILD state");
          }
          const value = this.value(this.stack[0], "the result");
          this.checkNoGlobals(value);
          if (!this.options.allowTrailing && this.pos !== b.length) {
            this.opStart = this.pos;
            this.opByte = b[this.pos];
            this.fail(`${b.length - this.pos} trailing bytes after STOP`);
          }
          return { value, endIndex: this.pos };
        }
        case MARK:
          this.marks.push(this.stack.length);
          break;
        case NONE:
          this.stack.push(null);
          break;
        case NEWTRUE:
          this.stack.push(true);
          break;
        case NEWFALSE:
          this.stack.push(false);
          break;
        case BININT1:
          this.stack.push(this.u8("a 1-byte int"));
          break;
        case BININT2:
          this.stack.push(this.u16("a 2-byte int"));
          break;
        case BININT: {
          this.need(4, "a 4-byte int");
          this.stack.push(this.view.getInt32(this.pos, true));
          this.pos += 4;
          break;
        }
        case BINFLOAT: {
          this.need(8, "an 8-byte float");
          this.stack.push(this.view.getFloat64(this.pos, false)); // big-endian, as pickle stores it
          this.pos += 8;
          break;
        }
        case BINUNICODE:
        case SHORT_BINUNICODE:
        case BINUNICODE8: {
          const n = op === SHORT_BINUNICODE
            ? this.u8("the string length")
            : op === BINUNICODE
            ? this.u32("the string length")
            : this.u64("the string length");
          const at = this.pos;
          this.stack.push(this.utf8(this.take(n, `${n} bytes of UTF-8 string`), at, "string"));
          break;
        }
        case BINBYTES8:
        case BYTEARRAY8: {
          const n = this.u64("the bytes length");
          this.stack.push(this.take(n, `${n} bytes`).slice());
          break;
        }
        case SHORT_BINBYTES: {
          const n = this.u8("the bytes length");
          this.stack.push(this.take(n, `${n} bytes`).slice());
          break;
        }
        case BINBYTES: {
          const n = this.u32("the bytes length");
          this.stack.push(this.take(n, `${n} bytes`).slice());
          break;
        }
        case EMPTY_TUPLE:
          this.stack.push(new PyTuple([]));
          break;
        case TUPLE1:
        case TUPLE2:
        case TUPLE3: {
          const n = op - TUPLE1 + 1;
          const items: StackItem[] = [];
          for (let i = 0; i < n; i++) items.unshift(this.pop());
          this.pushTuple(items);
          break;
        }
        case TUPLE:
          this.pushTuple(this.popMark());
          break;
        case EMPTY_LIST:
          this.stack.push([]);
          break;
        case EMPTY_DICT:
          this.stack.push(new Map());
          break;
        case APPEND: {
          const item = this.value(this.pop(), "the appended item");
          const list = this.top();
          if (!Array.isArray(list)) this.fail(`APPEND target is ${typeName(list)}, not a list`);
          this.nest(list, item);
          list.push(item);
          break;
        }
        case APPENDS: {
          const items = this.popMark().map((x) => this.value(x, "an appended item"));
          const list = this.top();
          if (!Array.isArray(list)) this.fail(`APPENDS target is ${typeName(list)}, not a list`);
          for (const x of items) {
            this.nest(list, x);
            list.push(x);
          }
          break;
        }
        case SETITEM: {
          const v = this.value(this.pop(), "the dict value");
          const k = this.key(this.pop());
          const d = this.top();
          if (!(d instanceof Map)) this.fail(`SETITEM target is ${typeName(d)}, not a dict`);
          this.nest(d, v);
          d.set(k, v);
          break;
        }
        case SETITEMS: {
          const items = this.popMark();
          if (items.length % 2) this.fail(`odd number of items (${items.length}) for key/value pairs`);
          const d = this.top();
          if (!(d instanceof Map)) this.fail(`SETITEMS target is ${typeName(d)}, not a dict`);
          for (let i = 0; i < items.length; i += 2) {
            const value = this.value(items[i + 1], "a dict value");
            this.nest(d, value);
            d.set(this.key(items[i]), value);
          }
          break;
        }
        case BINPUT:
          this.memoPut(this.u8("the memo index"));
          break;
        case LONG_BINPUT:
          this.memoPut(this.u32("the memo index"));
          break;
        case BINGET:
          this.memoGet(this.u8("the memo index"));
          break;
        case LONG_BINGET:
          this.memoGet(this.u32("the memo index"));
          break;
        case MEMOIZE:
          this.memoPut(this.memo.size);
          break;
        case GLOBAL: {
          const mod = this.line("the module name");
          this.global(mod, this.line("the global name"));
          break;
        }
        case STACK_GLOBAL: {
          const name = this.pop(), mod = this.pop();
          if (typeof mod !== "string" || typeof name !== "string") {
            this.fail(`module and name must be str, got ${typeName(mod)} and ${typeName(name)}`);
          }
          this.global(mod, name);
          break;
        }
        case REDUCE:
          this.reduce();
          break;
        case BUILD:
          this.build();
          break;
        default: {
          const known = OPCODE_NAMES.get(op);
          if (!known) this.fail("not a pickle opcode");
          this.fail("opcode not supported by this restricted unpickler");
        }
      }
    }
  }

  /** REDUCE: only `_reconstruct(ndarray, shape, b'b')` and `dtype(name, align, copy)` may be called. */
  private reduce(): void {
    const args = this.pop();
    const fn = this.pop();
    if (!(fn instanceof PyGlobal)) this.fail(`REDUCE callable is ${typeName(fn)}, not an allowed global`);
    if (!(args instanceof PyTuple)) this.fail(`REDUCE arguments are ${typeName(args)}, not a tuple`);
    const a = args.items as readonly StackItem[];
    if (fn.role === "reconstruct") {
      const cls = a[0];
      if (a.length !== 3 || !(cls instanceof PyGlobal) || cls.role !== "ndarray") {
        this.fail(`${fn.qualName} expects (numpy.ndarray, shape, typecode), got ${describeArgs(a)}`);
      }
      if (!(a[1] instanceof PyTuple) || !(a[2] instanceof Uint8Array)) {
        this.fail(`${fn.qualName} expects (numpy.ndarray, shape, typecode), got ${describeArgs(a)}`);
      }
      const placeholder = new NdArray<NumericData | PyValue[]>("|O", [0], []);
      this.pending.add(placeholder);
      this.stack.push(placeholder);
    } else if (fn.role === "dtype") {
      if (
        a.length !== 3 || typeof a[0] !== "string" || typeof a[1] !== "boolean" || typeof a[2] !== "boolean"
      ) {
        this.fail(`numpy.dtype expects (str, bool, bool), got ${describeArgs(a)}`);
      }
      const name = a[0];
      const known = Object.values(DTYPES).find((d) => d.pickleName === name);
      if (!known) {
        const names = Object.values(DTYPES).map((d) => d.pickleName).join(", ");
        this.fail(`dtype '${name}' is not supported (supported: ${names})`);
      }
      const placeholder = new NpDtype(known.descr);
      this.pending.add(placeholder);
      this.stack.push(placeholder);
    } else if (fn.role === "encode") {
      const text = a[0];
      if (a.length !== 2 || typeof text !== "string" || a[1] !== "latin1") {
        this.fail(`_codecs.encode expects (str, 'latin1'), got ${describeArgs(a)}`);
      }
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 0xff) this.fail("_codecs.encode: a character beyond latin-1");
        bytes[i] = c;
      }
      this.stack.push(bytes);
    } else {
      this.fail(`${fn.qualName} may not be called directly`);
    }
  }

  /** BUILD: fills a pending dtype or ndarray in place (memo entries point at the same object). */
  private build(): void {
    const state = this.value(this.pop(), "the BUILD state");
    const target = this.top();
    if (!(target instanceof NpDtype || target instanceof NdArray) || !this.pending.has(target)) {
      this.fail(`BUILD target is ${typeName(target)}, not a freshly reconstructed ndarray or dtype`);
    }
    if (!(state instanceof PyTuple)) this.fail(`BUILD state is ${typeName(state)}, not a tuple`);
    const s = state.items;
    if (target instanceof NpDtype) {
      // (version 3, byte order, subarray, names, fields, elsize, alignment, flags)
      if (s.length !== 8 || s[0] !== 3) {
        this.fail(`dtype state must be an 8-tuple starting with version 3, got ${describeArgs(s)}`);
      }
      if (s[2] !== null || s[3] !== null || s[4] !== null) {
        this.fail("structured or subarray dtypes are not supported");
      }
      const info = DTYPES[target.descr];
      if (s[1] !== info.byteOrder) {
        const order = typeof s[1] === "string" ? `'${s[1]}'` : typeName(s[1]);
        this.fail(`dtype ${info.pickleName} has byte order ${order}; only '${info.byteOrder}' is supported`);
      }
      if (s[5] !== -1 || s[6] !== -1) this.fail("dtype has a non-builtin element size or alignment");
      if (typeof s[7] !== "number") this.fail("dtype flags are not an int");
    } else {
      // (version 1, shape, dtype, is_fortran, data)
      if (s.length !== 5 || s[0] !== 1) {
        this.fail(`ndarray state must be a 5-tuple starting with version 1, got ${describeArgs(s)}`);
      }
      const [, shapeT, dtype, fortran, data] = s;
      if (
        !(shapeT instanceof PyTuple) ||
        !shapeT.items.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
      ) {
        this.fail(`ndarray shape must be a tuple of non-negative ints, got ${typeName(shapeT)}`);
      }
      if (!(dtype instanceof NpDtype) || this.pending.has(dtype)) {
        this.fail(`ndarray dtype is ${typeName(dtype)}, not a built numpy dtype`);
      }
      if (typeof fortran !== "boolean") this.fail("ndarray is_fortran flag is not a bool");
      if (fortran) this.fail("Fortran-ordered pickled arrays are not supported");
      const shape = shapeT.items as number[];
      const count = shapeSize(shape);
      const info = DTYPES[dtype.descr];
      if (info.view === undefined) {
        if (!Array.isArray(data)) this.fail(`object ndarray data is ${typeName(data)}, not a list`);
        if (data.length !== count) {
          this.fail(
            `object ndarray of shape ${
              formatShape(shape)
            } needs ${count} elements, its list has ${data.length}`,
          );
        }
        this.nest(target, data);
        target.data = data;
      } else {
        if (!(data instanceof Uint8Array)) {
          this.fail(`${info.descr} ndarray data is ${typeName(data)}, not bytes`);
        }
        const want = count * info.itemSizeBytes;
        if (data.length !== want) {
          this.fail(
            `${info.descr} ndarray of shape ${
              formatShape(shape)
            } needs ${want} data bytes, got ${data.length}`,
          );
        }
        target.data = info.view(data.slice().buffer);
      }
      target.descr = dtype.descr;
      target.shape = [...shape];
    }
    this.pending.delete(target);
  }

  /** A new tuple of `items` (its depth recorded). */
  private pushTuple(items: StackItem[]): void {
    const t = new PyTuple(items as PyValue[]);
    for (const x of items) this.nest(t, x);
    this.stack.push(t);
  }

  /**
   * The result, walked without recursion: no class/function may escape into it (e.g. a bare `numpy.ndarray` in
   * a list), no container may hold itself, and nothing may nest deeper than {@link MAX_NESTING} levels (memo
   * references can build nesting the per-opcode count does not see).
   */
  private checkNoGlobals(root: PyValue): void {
    const children = (v: object): readonly StackItem[] =>
      Array.isArray(v)
        ? v
        : v instanceof PyTuple
        ? v.items
        : v instanceof Map
        ? [...v.values()]
        : v instanceof NdArray && Array.isArray(v.data)
        ? v.data
        : [];
    const done = new Map<object, number>(); // container → depth below it
    const open = new Set<object>(); // containers on the current path
    type Frame = { node: object; kids: readonly StackItem[]; next: number; depth: number };
    if (root === null || typeof root !== "object") return;
    const path: Frame[] = [{ node: root, kids: children(root), next: 0, depth: 1 }];
    open.add(root);
    while (path.length > 0) {
      const f = path[path.length - 1];
      if (f.next === f.kids.length) {
        path.pop();
        open.delete(f.node);
        done.set(f.node, f.depth);
        if (path.length > 0) {
          const parent = path[path.length - 1];
          parent.depth = Math.max(parent.depth, 1 + f.depth);
        }
        continue;
      }
      const kid = f.kids[f.next++];
      if (kid instanceof PyGlobal) this.fail(`the result contains the class/function ${kid.qualName}`);
      if (kid === null || typeof kid !== "object" || kid instanceof Uint8Array || kid instanceof NpDtype) {
        continue;
      }
      if (open.has(kid)) this.fail("the result contains itself (a cyclic list, tuple or dict)");
      const known = done.get(kid);
      if (known !== undefined) {
        f.depth = Math.max(f.depth, 1 + known);
        continue;
      }
      if (path.length >= MAX_NESTING) this.fail(`values nest deeper than ${MAX_NESTING} levels`);
      open.add(kid);
      path.push({ node: kid, kids: children(kid), next: 0, depth: 1 });
    }
  }
}

/** A short Python-ish type name for messages. */
function typeName(v: unknown): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "list";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof Map) return "dict";
  if (v instanceof NpDtype) return "numpy.dtype";
  if (v instanceof NdArray) return "numpy.ndarray";
  if (v instanceof PyGlobal) return v.qualName;
  return typeof v;
}

function describeArgs(items: readonly unknown[]): string {
  return `(${items.map(typeName).join(", ")})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------------------------

/** Options for {@link pickleDumps}. */
export interface PickleWriteOptions {
  /** Module of `_reconstruct`: numpy 1.x wrote `numpy.core.multiarray` (the paper's files), numpy 2.x `numpy._core…`. */
  reconstructModule?: "numpy.core.multiarray" | "numpy._core.multiarray";
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const BATCH_SIZE = 1000; // CPython's pickle batches APPENDS/SETITEMS in groups of this many

/** Growable byte buffer. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  length = 0;
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  u16(v: number): void {
    this.reserve(2);
    this.buf[this.length++] = v & 0xff;
    this.buf[this.length++] = v >>> 8;
  }
  u32(v: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * Pickles `value` with protocol 3, reproducing CPython's C pickler on the equivalent Python objects, with numpy
 * 1.x's `ndarray.__reduce__`/`dtype.__reduce__` for arrays and dtypes. Python object identity, which decides where
 * the pickler writes BINGET instead of a new object, is modelled as follows:
 * - the same JS array/Map/PyTuple/Uint8Array/NdArray object written twice is one Python object (BINGET);
 * - strings are distinct objects, except CPython's cached singletons (`""` and one character below U+0100) and
 *   dict keys, which are treated as interned (the paper's metric names are source literals shared by both groups);
 * - builtin dtypes, `_reconstruct`, `ndarray`, `dtype` and `b''`/one-byte bytes are singletons;
 * - an object array's data list and its `(0,)` placeholder shape are fresh objects every time, as numpy makes them.
 * Integral numbers become ints (BININT1/BININT2/BININT), other numbers floats (BINFLOAT). Strings must be
 * well-formed UTF-16 (a lone surrogate is an error: Python would need `surrogatepass`).
 */
export function pickleDumps(value: PyValue, options: PickleWriteOptions = {}): Uint8Array {
  if (!LITTLE_ENDIAN_HOST) {
    throw new Error("pickleDumps: numeric arrays are written from host memory; need little-endian");
  }
  return new Pickler(options.reconstructModule ?? "numpy.core.multiarray").dump(value);
}

class Pickler {
  private readonly out = new ByteSink();
  private readonly byIdentity = new Map<object, number>();
  private readonly byValue = new Map<string, number>();
  private nextMemo = 0;
  private readonly encoder = new TextEncoder();

  constructor(private readonly reconstructModule: string) {}

  dump(value: PyValue): Uint8Array {
    this.out.byte(PROTO);
    this.out.byte(3);
    this.save(value, "value");
    this.out.byte(STOP);
    return this.out.result();
  }

  private put(): number {
    const i = this.nextMemo++;
    if (i < 256) {
      this.out.byte(BINPUT);
      this.out.byte(i);
    } else {
      this.out.byte(LONG_BINPUT);
      this.out.u32(i);
    }
    return i;
  }
  private get(i: number): void {
    if (i < 256) {
      this.out.byte(BINGET);
      this.out.byte(i);
    } else {
      this.out.byte(LONG_BINGET);
      this.out.u32(i);
    }
  }
  /** Emits a memo GET if `key` was stored before; returns whether it did. */
  private recallValue(key: string): boolean {
    const i = this.byValue.get(key);
    if (i === undefined) return false;
    this.get(i);
    return true;
  }
  private recallObject(obj: object): boolean {
    const i = this.byIdentity.get(obj);
    if (i === undefined) return false;
    this.get(i);
    return true;
  }

  private save(v: PyValue, path: string, asKey = false): void {
    if (v === null) this.out.byte(NONE);
    else if (typeof v === "boolean") this.out.byte(v ? NEWTRUE : NEWFALSE);
    else if (typeof v === "number") this.saveNumber(v, path);
    else if (typeof v === "string") this.saveString(v, path, asKey);
    else if (v instanceof Uint8Array) this.saveBytes(v);
    else if (Array.isArray(v)) this.saveList(v, path);
    else if (v instanceof PyTuple) this.saveTuple(v, path);
    else if (v instanceof Map) this.saveDict(v, path);
    else if (v instanceof NpDtype) this.saveDtype(v.descr);
    else if (v instanceof NdArray) this.saveNdArray(v, path);
    else throw new Error(`pickleDumps: ${path}: cannot pickle a ${typeof v}`);
  }

  private saveInt(n: number, path: string): void {
    if (n >= 0 && n < 0x100) {
      this.out.byte(BININT1);
      this.out.byte(n);
    } else if (n >= 0 && n < 0x10000) {
      this.out.byte(BININT2);
      this.out.u16(n);
    } else if (n >= -0x80000000 && n < 0x80000000) {
      this.out.byte(BININT);
      this.out.u32(n);
    } else {
      throw new Error(`pickleDumps: ${path}: int ${n} needs LONG1, which this writer does not emit`);
    }
  }
  private saveNumber(n: number, path: string): void {
    if (Number.isInteger(n) && !Object.is(n, -0)) return this.saveInt(n, path);
    this.out.byte(BINFLOAT);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, n, false);
    this.out.bytes(b);
  }
  private saveString(s: string, path: string, asKey: boolean): void {
    const singleton = s.length === 0 || (s.length === 1 && s.charCodeAt(0) < 0x100);
    const key = `s:${s}`;
    if ((singleton || asKey) && this.recallValue(key)) return;
    if (!s.isWellFormed()) throw new Error(`pickleDumps: ${path}: string holds a lone surrogate`);
    const utf8 = this.encoder.encode(s);
    this.out.byte(BINUNICODE);
    this.out.u32(utf8.length);
    this.out.bytes(utf8);
    const i = this.put();
    if (singleton || asKey) this.byValue.set(key, i);
  }
  private saveBytes(b: Uint8Array): void {
    const singleton = b.length <= 1;
    const key = `b:${b.length ? b[0] : ""}`;
    if (singleton ? this.recallValue(key) : this.recallObject(b)) return;
    if (b.length < 0x100) {
      this.out.byte(SHORT_BINBYTES);
      this.out.byte(b.length);
    } else {
      this.out.byte(BINBYTES);
      this.out.u32(b.length);
    }
    this.out.bytes(b);
    const i = this.put();
    if (singleton) this.byValue.set(key, i);
    else this.byIdentity.set(b, i);
  }
  /** A list; `fresh` lists (numpy's data list) are never looked up or registered by identity. */
  private saveList(list: readonly PyValue[], path: string, fresh = false): void {
    if (!fresh && this.recallObject(list)) return;
    this.out.byte(EMPTY_LIST);
    const i = this.put();
    if (!fresh) this.byIdentity.set(list, i);
    if (list.length === 1) {
      this.save(list[0], `${path}[0]`);
      this.out.byte(APPEND);
      return;
    }
    // C pickler: batches of 1000, no empty trailing batch for lists
    for (let start = 0; start < list.length; start += BATCH_SIZE) {
      this.out.byte(MARK);
      const end = Math.min(list.length, start + BATCH_SIZE);
      for (let k = start; k < end; k++) this.save(list[k], `${path}[${k}]`);
      this.out.byte(APPENDS);
    }
  }
  private saveDict(d: PyDict, path: string): void {
    if (this.recallObject(d)) return;
    this.out.byte(EMPTY_DICT);
    this.byIdentity.set(d, this.put());
    const entries = [...d.entries()];
    if (entries.length === 0) return;
    if (entries.length === 1) {
      this.saveDictEntry(entries[0], path);
      this.out.byte(SETITEM);
      return;
    }
    // C pickler: batches of 1000; a size that is a multiple of 1000 gets one empty trailing MARK/SETITEMS
    let start = 0;
    let inBatch: number;
    do {
      this.out.byte(MARK);
      inBatch = 0;
      while (start < entries.length && inBatch < BATCH_SIZE) {
        this.saveDictEntry(entries[start++], path);
        inBatch++;
      }
      this.out.byte(SETITEMS);
    } while (inBatch === BATCH_SIZE);
  }
  private saveDictEntry([k, v]: [PyKey, PyValue], path: string): void {
    const where = `${path}[${JSON.stringify(k)}]`;
    this.save(k, where, true);
    this.save(v, where);
  }
  /** A tuple; `fresh` tuples (built inside numpy's reduce) are not registered by identity. */
  private saveTuple(t: PyTuple, path: string, fresh = false): void {
    const n = t.items.length;
    if (n === 0) {
      this.out.byte(EMPTY_TUPLE); // the empty tuple is never memoized
      return;
    }
    if (!fresh && this.recallObject(t)) return;
    if (n <= 3) {
      t.items.forEach((x, k) => this.save(x, `${path}[${k}]`));
      this.out.byte(TUPLE1 + n - 1);
    } else {
      this.out.byte(MARK);
      t.items.forEach((x, k) => this.save(x, `${path}[${k}]`));
      this.out.byte(TUPLE);
    }
    const i = this.put();
    if (!fresh) this.byIdentity.set(t, i);
  }
  private saveGlobal(module: string, name: string): void {
    const key = `g:${module} ${name}`;
    if (this.recallValue(key)) return;
    this.out.byte(GLOBAL);
    this.out.bytes(this.encoder.encode(`${module}\n${name}\n`));
    this.byValue.set(key, this.put());
  }
  /** `dtype.__reduce__`: (dtype, (name, False, True), (3, order, None, None, None, -1, -1, flags)). */
  private saveDtype(descr: Descr): void {
    const key = `d:${descr}`;
    if (this.recallValue(key)) return;
    const info = DTYPES[descr];
    this.saveGlobal("numpy", "dtype");
    this.saveTuple(new PyTuple([info.pickleName, false, true]), "dtype", true);
    this.out.byte(REDUCE);
    this.byValue.set(key, this.put());
    this.saveTuple(new PyTuple([3, info.byteOrder, null, null, null, -1, -1, info.flags]), "dtype", true);
    this.out.byte(BUILD);
  }
  /** `ndarray.__reduce__`: (_reconstruct, (ndarray, (0,), b'b'), (1, shape, dtype, False, data)). */
  private saveNdArray(a: NdArray, path: string): void {
    if (this.recallObject(a)) return;
    const info = dtypeInfo(a.descr);
    if (!info) throw new Error(`pickleDumps: ${path}: unsupported dtype ${a.descr}`);
    const count = shapeSize(a.shape);
    if (a.data.length !== count) {
      throw new Error(
        `pickleDumps: ${path}: shape ${formatShape(a.shape)} needs ${count} elements, has ${a.data.length}`,
      );
    }
    this.saveGlobal(this.reconstructModule, "_reconstruct");
    this.saveGlobal("numpy", "ndarray");
    this.saveTuple(new PyTuple([0]), path, true);
    this.saveBytes(new Uint8Array([0x62])); // b'b'
    this.out.byte(TUPLE3);
    this.put();
    this.out.byte(REDUCE);
    this.byIdentity.set(a, this.put());
    // state tuple, written by hand so the data list can be a fresh object
    this.out.byte(MARK);
    this.saveInt(1, path);
    this.saveTuple(new PyTuple(a.shape), path, true);
    this.saveDtype(a.descr);
    this.out.byte(NEWFALSE);
    if (isObjectArray(a)) this.saveList(a.data, `${path}.data`, true);
    else {
      const d = a.data as NumericData;
      const expected = info.view!(new ArrayBuffer(0)).constructor;
      if (d.constructor !== expected) {
        throw new Error(
          `pickleDumps: ${path}: ${a.descr} data must be a ${expected.name}, got ${d.constructor.name}`,
        );
      }
      this.saveBytes(new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice());
    }
    this.out.byte(TUPLE);
    this.put();
    this.out.byte(BUILD);
  }
}
