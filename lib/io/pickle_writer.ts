/**
 * A pickle writer for the paper's `.npy` object arrays: it emits the opcodes and memo numbering that CPython's C
 * pickler produces for numpy 1.x arrays (`np.save(..., allow_pickle=True)`, protocol 3), byte for byte.
 * @module
 */
import {
  APPEND,
  APPENDS,
  BINBYTES,
  BINFLOAT,
  BINGET,
  BININT,
  BININT1,
  BININT2,
  BINPUT,
  BINUNICODE,
  BUILD,
  EMPTY_DICT,
  EMPTY_LIST,
  EMPTY_TUPLE,
  GLOBAL,
  LONG_BINGET,
  LONG_BINPUT,
  MARK,
  NEWFALSE,
  NEWTRUE,
  NONE,
  PROTO,
  REDUCE,
  SETITEM,
  SETITEMS,
  SHORT_BINBYTES,
  STOP,
  TUPLE,
  TUPLE1,
  TUPLE3,
} from "./pickle_opcodes.ts";
import {
  type Descr,
  dtypeInfo,
  DTYPES,
  formatShape,
  isObjectArray,
  NdArray,
  NpDtype,
  type NumericData,
  type PyDict,
  type PyKey,
  PyTuple,
  type PyValue,
  shapeSize,
} from "./py_value.ts";

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
