/**
 * `.npy` reading and writing: numpy-identical headers, all three versions, numeric and object payloads, and bad
 * files (each error must name the file, the byte offset and the problem).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decodeNpy,
  encodeNpy,
  encodeNpyHeader,
  NpyError,
  parseNpyHeader,
  readNpy,
  writeNpy,
} from "../../lib/io/npy.ts";
import { pickleDumps } from "../../lib/io/pickle_writer.ts";
import { NdArray, type PyValue } from "../../lib/io/py_value.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";

const enc = new TextEncoder();
const F = "test.npy";

/** A v1 file from a literal header text (padded like numpy) and a payload. */
function rawNpy(headerText: string, payload: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const lenBytes = major === 1 ? 2 : 4;
  const body = enc.encode(headerText);
  const total = Math.ceil((8 + lenBytes + body.length + 1) / 64) * 64 - 8 - lenBytes;
  const out = new Uint8Array(8 + lenBytes + total + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) new DataView(out.buffer).setUint16(8, total, true);
  else new DataView(out.buffer).setUint32(8, total, true);
  out.set(body, 8 + lenBytes);
  out.fill(0x20, 8 + lenBytes + body.length, 8 + lenBytes + total - 1);
  out[8 + lenBytes + total - 1] = 0x0a;
  out.set(payload, 8 + lenBytes + total);
  return out;
}

function npyError(fn: () => unknown, offset: number | undefined, ...parts: string[]): NpyError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof NpyError, `expected an NpyError, got ${caught}`);
  assert.ok(caught.message.startsWith(`${F}: byte `), caught.message);
  if (offset !== undefined) {
    assert.equal(caught.offset, offset, caught.message);
    assert.ok(caught.message.startsWith(`${F}: byte ${offset}: `), caught.message);
  }
  for (const p of parts) assert.ok(caught.message.includes(p), `"${caught.message}" lacks "${p}"`);
  return caught;
}

const completionsLike = () =>
  new NdArray<PyValue[]>(
    "|O",
    [2, 3, 1],
    Array.from({ length: 6 }, (_, i) => [`sample ${i} a`, `sample ${i} b`]),
  );

Deno.test("npy: header text and padding match numpy's (128-byte data offset for the paper's shapes)", () => {
  const h = encodeNpyHeader("|O", [15, 20, 1]);
  assert.equal(h.length, 128);
  const text = new TextDecoder().decode(h.subarray(10));
  assert.ok(text.startsWith("{'descr': '|O', 'fortran_order': False, 'shape': (15, 20, 1), }"));
  assert.ok(text.endsWith(" \n"));
  assert.deepEqual([...h.subarray(0, 10)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
  assert.equal(encodeNpyHeader("|O", []).length, 128);
  assert.ok(new TextDecoder().decode(encodeNpyHeader("<f4", [3])).includes("'shape': (3,), }"));
  // every header is a multiple of 64 bytes, for all versions
  for (const v of [1, 2, 3] as const) {
    const hv = encodeNpyHeader("<f8", [123456, 7], [v, 0]);
    assert.equal(hv.length % 64, 0);
    assert.equal(hv[6], v);
  }
});

Deno.test("npy: numeric arrays round-trip in versions 1.0, 2.0 and 3.0", () => {
  const arrays = [
    new NdArray("<f4", [2, 3], new Float32Array([1, 2, 3, 4, 5, NaN])),
    new NdArray("<f8", [2], new Float64Array([0.1, -1e-300])),
    new NdArray("<i4", [0], new Int32Array(0)),
    new NdArray("<i8", [1, 1, 2], new BigInt64Array([-1n, 2n ** 62n])),
    new NdArray("|b1", [4], new Uint8Array([1, 0, 0, 1])),
  ];
  for (const v of [1, 2, 3] as const) {
    for (const a of arrays) {
      const bytes = encodeNpy(a, { version: [v, 0] });
      const h = parseNpyHeader(bytes, F);
      assert.deepEqual(h.version, [v, 0]);
      assert.equal(h.dataOffset % 64, 0);
      const back = decodeNpy(bytes, F);
      assert.equal(back.descr, a.descr);
      assert.deepEqual(back.shape, a.shape);
      assert.deepEqual(back.data, a.data);
    }
  }
});

Deno.test("npy: Fortran-ordered numeric data is returned in C order", () => {
  // [[1, 2, 3], [4, 5, 6]] stored column-major
  const payload = new Uint8Array(new Float64Array([1, 4, 2, 5, 3, 6]).buffer);
  const bytes = rawNpy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", payload);
  assert.deepEqual([...(decodeNpy(bytes, F).data as Float64Array)], [1, 2, 3, 4, 5, 6]);
});

Deno.test("npy: object arrays round-trip through the file system (atomic write)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "sub", "obj.npy");
    const a = completionsLike();
    await writeNpy(path, a);
    assert.deepEqual(await readNpy(path), a);
    assert.deepEqual([...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name), ["obj.npy"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: a non-npy file and bad versions are rejected", () => {
  npyError(
    () => decodeNpy(enc.encode("hello world, not numpy"), F),
    0,
    "not a .npy file",
    "68 65 6c 6c 6f 20",
  );
  npyError(() => decodeNpy(new Uint8Array(0), F), 0, "an empty file");
  npyError(() => decodeNpy(enc.encode("PK\x03\x04"), F), 0, "not a .npy file");
  const v4 = encodeNpy(new NdArray("<f4", [1], new Float32Array(1)));
  v4[6] = 4;
  npyError(() => decodeNpy(v4, F), 6, "unsupported .npy version 4.0");
});

Deno.test("npy: truncation is reported at the offset where the data ran out", () => {
  const obj = encodeNpy(completionsLike());
  // inside the magic/version, inside the header length, inside the header text
  npyError(() => decodeNpy(obj.subarray(0, 7), F), 7, "truncated");
  npyError(() => decodeNpy(obj.subarray(0, 9), F), 9, "truncated", "header length");
  for (const cut of [10, 50, 127]) {
    npyError(() => decodeNpy(obj.subarray(0, cut), F), cut, "truncated", "runs past the end of the file");
  }
  // inside the pickle
  for (const cut of [128, 129, 140, 200, obj.length - 1]) {
    npyError(
      () => decodeNpy(obj.subarray(0, cut), F),
      cut,
      "pickle: truncated",
      `data ran out at byte ${cut}`,
    );
  }
  // inside numeric data
  const num = encodeNpy(new NdArray("<f4", [15, 20, 1], new Float32Array(300)));
  npyError(
    () => decodeNpy(num.subarray(0, 1000), F),
    1000,
    "truncated",
    "needs 1200 data bytes from byte 128",
  );
});

Deno.test("npy: trailing garbage is rejected", () => {
  const withTail = (b: Uint8Array) => {
    const out = new Uint8Array(b.length + 3);
    out.set(b);
    return out;
  };
  const obj = encodeNpy(completionsLike());
  npyError(() => decodeNpy(withTail(obj), F), obj.length, "3 trailing bytes after STOP");
  const num = encodeNpy(new NdArray("<f4", [2], new Float32Array(2)));
  npyError(() => decodeNpy(withTail(num), F), num.length, "3 trailing bytes after the array data");
  assert.equal(decodeNpy(withTail(num), F, { allowTrailing: true }).data.length, 2);
});

Deno.test("npy: header dict problems are rejected by the strict parser", () => {
  const f4 = new Uint8Array(4);
  const cases: Array<[string, string]> = [
    ["{'descr': '<f4', 'fortran_order': False, }", "missing key 'shape'"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': True, }", "unknown key 'extra'"],
    ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "duplicate key 'descr'"],
    ["{'descr': '<U10', 'fortran_order': False, 'shape': (1,), }", "unsupported descr '<U10'"],
    ["{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "big-endian"],
    ["{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "structured dtypes"],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", "expected a string, True/False or a tuple"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1), }", "one-element shape needs a trailing comma"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "non-negative int"],
    [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk",
      "unexpected 'j' after the closing '}'",
    ],
    ["{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }", "expected ',' or '}'"],
    ["{'descr' '<f4', 'fortran_order': False, 'shape': (1,), }", "expected ':'"],
    ["__import__('os').system('ls')", "expected '{'"],
    [
      "{'descr': '|O', 'fortran_order': True, 'shape': (1,), }",
      "fortran_order True is not supported for object arrays",
    ],
  ];
  for (const [text, message] of cases) {
    const e = npyError(() => decodeNpy(rawNpy(text, f4), F), undefined, message);
    assert.ok(e.offset >= 10 && e.offset < 128, `${text}: offset ${e.offset} outside the header`);
  }
  // the offset points at the offending character
  npyError(() => decodeNpy(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1), }", f4), F), 60);
  // a header that does not end with a newline
  const noNewline = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f4);
  noNewline[127] = 0x20;
  npyError(() => decodeNpy(noNewline, F), 127, "does not end with a newline");
});

Deno.test("npy: the pickle must agree with the header", () => {
  const header = encodeNpyHeader("|O", [15, 20, 1]);
  const pickle = pickleDumps(new NdArray("|O", [3], [["a"], ["b"], ["c"]]));
  const spliced = new Uint8Array(header.length + pickle.length);
  spliced.set(header);
  spliced.set(pickle, header.length);
  npyError(() => decodeNpy(spliced, F), 128, "header says shape (15, 20, 1) but the pickle holds shape (3,)");
  const notArray = new Uint8Array(header.length + 4);
  notArray.set(header);
  notArray.set([0x80, 3, 0x4e, 0x2e], 128);
  npyError(() => decodeNpy(notArray, F), 128, "not a pickled numpy array");
  const foreign = new Uint8Array([...header, 0x80, 3, 0x63, ...enc.encode("os\nsystem\n"), 0x2e]);
  npyError(() => decodeNpy(foreign, F), 130, "GLOBAL (0x63 'c')", "'os system' is not allowed");
  const unknownOp = new Uint8Array([...header, 0x80, 3, 0xfe, 0x2e]);
  npyError(() => decodeNpy(unknownOp, F), 130, "unknown opcode (0xfe)");
});

sharedTest("npy: every paper file re-encodes byte-identically", () => {
  for (const dir of ["completions", "creative_factual"]) {
    for (const entry of Deno.readDirSync(sharedPath("paper", dir))) {
      const path = join(sharedPath("paper", dir), entry.name);
      const bytes = Deno.readFileSync(path);
      const h = parseNpyHeader(bytes, path);
      assert.deepEqual(h.version, [1, 0]);
      assert.equal(h.dataOffset, 128);
      assert.equal(h.descr, "|O");
      const again = encodeNpy(decodeNpy(bytes, path));
      assert.equal(again.length, bytes.length, path);
      assert.ok(again.every((b, i) => b === bytes[i]), `${path}: re-encoded bytes differ`);
    }
  }
});
