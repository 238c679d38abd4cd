/**
 * Python values as the pickle codec reads and writes them: None, bool, int/float, str, bytes, list (a JS array),
 * tuple, dict (an insertion-ordered Map), numpy dtypes and ndarrays (C order; typed storage for numeric dtypes), and
 * the numpy dtypes this project supports.
 * @module
 */

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

/** True for an object-dtype array (elements are Python values). */
export function isObjectArray(a: NdArray): a is ObjectArray {
  return a.descr === "|O";
}

/** Number of elements a shape holds (1 for the 0-d shape `[]`). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Python's `repr` of a shape tuple: `()`, `(3,)`, `(15, 20, 1)`. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}
