/**
 * A restricted reader for Python pickles (protocols 2 to 5) of numpy arrays, enough to read the `.npy` object
 * arrays numpy writes (the paper's, protocol 3; current numpy's `np.save`, protocol 4 with frames), and nothing
 * more. It runs a small stack machine with a memo and a mark stack over an explicit opcode allow-list; the only
 * globals it resolves are numpy's `_reconstruct`, `ndarray` and `dtype` (and `_codecs.encode(str, "latin1")`, which
 * is how protocol 2 spells a bytes literal), so a hostile pickle cannot name any other callable. Values nest at most
 * {@link MAX_NESTING} levels and hold no cycles, so whatever reads them cannot overflow its stack.
 * @module
 */
import {
  APPEND,
  APPENDS,
  BINBYTES,
  BINBYTES8,
  BINFLOAT,
  BINGET,
  BININT,
  BININT1,
  BININT2,
  BINPUT,
  BINUNICODE,
  BINUNICODE8,
  BUILD,
  BYTEARRAY8,
  describeOpcode,
  EMPTY_DICT,
  EMPTY_LIST,
  EMPTY_TUPLE,
  FRAME,
  GLOBAL,
  LONG_BINGET,
  LONG_BINPUT,
  MARK,
  MEMOIZE,
  NEWFALSE,
  NEWTRUE,
  NONE,
  OPCODE_NAMES,
  PROTO,
  REDUCE,
  SETITEM,
  SETITEMS,
  SHORT_BINBYTES,
  SHORT_BINUNICODE,
  STACK_GLOBAL,
  STOP,
  TUPLE,
  TUPLE1,
  TUPLE2,
  TUPLE3,
} from "./pickle_opcodes.ts";
import {
  DTYPES,
  formatShape,
  NdArray,
  NpDtype,
  type NumericData,
  type PyKey,
  PyTuple,
  type PyValue,
  shapeSize,
} from "./py_value.ts";

/** Deepest nesting of lists, tuples, dicts and arrays a pickle may hold (numpy's object arrays need 2 or 3). */
export const MAX_NESTING = 1000;

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
