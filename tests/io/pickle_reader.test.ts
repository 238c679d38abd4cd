/**
 * The restricted unpickler: scalars, containers, memo and arrays decode; everything outside the allow-list is
 * rejected with the offset and opcode in the message.
 */
import assert from "node:assert/strict";
import { describeOpcode } from "../../lib/io/pickle_opcodes.ts";
import { PickleError, unpickle } from "../../lib/io/pickle_reader.ts";
import { pickleDumps } from "../../lib/io/pickle_writer.ts";
import { NdArray, NpDtype, PyTuple, type PyValue } from "../../lib/io/py_value.ts";

/** Concatenates opcode bytes, ASCII strings and byte arrays into one pickle. */
function bin(...parts: (number | string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) =>
    typeof p === "number" ? new Uint8Array([p]) : typeof p === "string" ? new TextEncoder().encode(p) : p
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const PROTO3 = bin(0x80, 3);

function throwsWith(fn: () => unknown, ...parts: (string | RegExp)[]): PickleError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PickleError, `expected a PickleError, got ${caught}`);
  for (const p of parts) {
    if (typeof p === "string") assert.ok(caught.message.includes(p), `"${caught.message}" lacks "${p}"`);
    else assert.match(caught.message, p);
  }
  return caught;
}

Deno.test("pickle: scalars, containers and memo references decode", () => {
  // [None, True, False, 7, 300, -5, 1.5, 'é', b'xy', (), (1,), {'a': 1}] with the list memoized and re-used
  const p = bin(
    PROTO3,
    0x5d, // EMPTY_LIST
    0x71,
    0, // BINPUT 0
    0x28, // MARK
    0x4e,
    0x88,
    0x89,
    0x4b,
    7,
    0x4d,
    new Uint8Array([44, 1]), // BININT2 300
    0x4a,
    new Uint8Array([0xfb, 0xff, 0xff, 0xff]), // BININT -5
    0x47,
    new Uint8Array([0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), // BINFLOAT 1.5 (big-endian)
    0x58,
    u32(2),
    new Uint8Array([0xc3, 0xa9]), // BINUNICODE 'é'
    0x43,
    2,
    "xy", // SHORT_BINBYTES
    0x29, // EMPTY_TUPLE
    0x4b,
    1,
    0x85, // TUPLE1
    0x7d,
    0x58,
    u32(1),
    "a",
    0x4b,
    1,
    0x73, // EMPTY_DICT, SETITEM
    0x65, // APPENDS
    0x2e,
  );
  const { value, endIndex } = unpickle(p);
  assert.equal(endIndex, p.length);
  assert.ok(Array.isArray(value));
  assert.deepEqual(value.slice(0, 8), [null, true, false, 7, 300, -5, 1.5, "é"]);
  assert.deepEqual(value[8], new TextEncoder().encode("xy"));
  assert.deepEqual(value[9], new PyTuple([]));
  assert.deepEqual(value[10], new PyTuple([1]));
  assert.deepEqual(value[11], new Map([["a", 1]]));
});

Deno.test("pickle: BINGET returns the memoized object itself", () => {
  // l = []; [l, l]
  const p = bin(PROTO3, 0x5d, 0x71, 0, 0x28, 0x5d, 0x71, 1, 0x6a, u32(1), 0x65, 0x2e);
  const value = unpickle(p).value as PyValue[][];
  assert.equal(value[0], value[1]);
});

Deno.test("pickle: a leading U+FEFF survives decoding", () => {
  const text = "\ufeffstarts with a BOM";
  const value = unpickle(pickleDumps([text])).value as string[];
  assert.equal(value[0], text);
});

Deno.test("pickle: a foreign global is rejected with offset and opcode", () => {
  for (
    const qual of ["os\nsystem\n", "builtins\neval\n", "numpy\nload\n", "numpy.core.multiarray\nscalar\n"]
  ) {
    const p = bin(PROTO3, 0x63, qual, 0x58, u32(2), "ls", 0x85, 0x52, 0x2e);
    const name = qual.trim().replace("\n", " ");
    const e = throwsWith(
      () => unpickle(p, { source: "evil.pkl" }),
      "evil.pkl: byte 2:",
      "GLOBAL (0x63 'c')",
      `'${name}'`,
    );
    assert.match(e.message, /not allowed/);
    assert.equal(e.offset, 2);
  }
  // offsets are shifted by baseOffset (the .npy data offset)
  const e = throwsWith(() => unpickle(bin(PROTO3, 0x63, "os\nsystem\n"), { baseOffset: 128 }), "byte 130:");
  assert.equal(e.offset, 130);
});

Deno.test("pickle: unknown and unsupported opcodes, and opcodes newer than the declared protocol, are rejected", () => {
  throwsWith(
    () => unpickle(bin(PROTO3, 0xff, 0x2e)),
    "byte 2:",
    "unknown opcode (0xff)",
    "not a pickle opcode",
  );
  throwsWith(() => unpickle(bin(PROTO3, 0x95, new Uint8Array(8), 0x2e)), "FRAME (0x95)", "protocol 4 opcode");
  throwsWith(() => unpickle(bin(PROTO3, 0x93, 0x2e)), "STACK_GLOBAL (0x93)", "protocol 4");
  throwsWith(() => unpickle(bin(PROTO3, 0x8c, 1, "a", 0x2e)), "SHORT_BINUNICODE (0x8c)");
  throwsWith(
    () => unpickle(bin(0x80, 6, 0x4e, 0x2e)),
    "byte 0:",
    "PROTO (0x80)",
    "protocol 6 is not supported",
  );
  throwsWith(
    () => unpickle(bin(PROTO3, 0x4e, 0x30, 0x4e, 0x2e)),
    "byte 3:",
    "POP (0x30 '0')",
    "not supported",
  );
  throwsWith(() => unpickle(bin(PROTO3, 0x69, "os\nsystem\n", 0x2e)), "INST (0x69 'i')");
  throwsWith(() => unpickle(bin(0x4e, 0x2e)), "byte 0:", "must start with PROTO");
  assert.equal(describeOpcode(0x63), "GLOBAL (0x63 'c')");
});

Deno.test("pickle: malformed strings, memo and stack errors name the offset", () => {
  const bad = bin(PROTO3, 0x58, u32(3), new Uint8Array([0x61, 0xc3, 0x28]), 0x2e);
  throwsWith(() => unpickle(bad), "byte 2:", "BINUNICODE", "not valid UTF-8", "first bad byte at 8");
  const surrogate = bin(PROTO3, 0x58, u32(3), new Uint8Array([0xed, 0xa0, 0x80]), 0x2e);
  throwsWith(() => unpickle(surrogate), "not valid UTF-8", "first bad byte at 7");
  throwsWith(
    () => unpickle(bin(PROTO3, 0x68, 5, 0x2e)),
    "byte 2:",
    "BINGET",
    "memo index 5 was never stored",
  );
  throwsWith(() => unpickle(bin(PROTO3, 0x61, 0x2e)), "APPEND", "stack underflow");
  throwsWith(() => unpickle(bin(PROTO3, 0x4e, 0x4e, 0x2e)), "STOP", "stack holds 2 items");
  throwsWith(() => unpickle(bin(PROTO3, 0x4e, 0x2e, 0x4e)), "byte 4:", "1 trailing bytes after STOP");
  assert.equal(unpickle(bin(PROTO3, 0x4e, 0x2e, 0x4e), { allowTrailing: true }).endIndex, 4);
  throwsWith(() => unpickle(bin(PROTO3, 0x4e, 0x74, 0x2e)), "TUPLE", "no MARK");
  throwsWith(() => unpickle(bin(PROTO3, 0x4e, 0x4e, 0x61, 0x2e)), "APPEND target is None, not a list");
  throwsWith(() => unpickle(bin(PROTO3, 0x7d, 0x5d, 0x4e, 0x73, 0x2e)), "dict key of type list");
});

Deno.test("pickle: truncated input names the offset where data ran out", () => {
  const full = pickleDumps(new NdArray("|O", [1], [["a completion"]]));
  for (const cut of [1, 2, 10, 40, 60, 100, full.length - 20, full.length - 1]) {
    const e = throwsWith(
      () => unpickle(full.subarray(0, cut), { baseOffset: 128 }),
      "truncated",
      "data ran out at byte",
    );
    assert.equal(e.offset, 128 + cut);
    assert.ok(e.message.includes(`byte ${128 + cut}`));
  }
});

Deno.test("pickle: only _reconstruct(ndarray, …) and dtype(…) may be called, with sane states", () => {
  const reconstruct = bin(0x63, "numpy.core.multiarray\n_reconstruct\n");
  const ndarray = bin(0x63, "numpy\nndarray\n");
  const dtype = (name: string) =>
    bin(0x63, "numpy\ndtype\n", 0x58, u32(name.length), name, 0x89, 0x88, 0x87, 0x52);
  const dtypeState = (order: string) =>
    bin(
      0x28,
      0x4b,
      3,
      0x58,
      u32(1),
      order,
      0x4e,
      0x4e,
      0x4e,
      0x4a,
      u32(0xffffffff),
      0x4a,
      u32(0xffffffff),
      0x4b,
      0,
      0x74,
      0x62,
    );
  // calling ndarray directly
  throwsWith(
    () => unpickle(bin(PROTO3, ndarray, 0x29, 0x52, 0x2e)),
    "REDUCE",
    "numpy ndarray may not be called directly",
  );
  // unsupported dtype and big-endian byte order
  throwsWith(() => unpickle(bin(PROTO3, dtype("U10"), 0x2e)), "dtype 'U10' is not supported");
  throwsWith(() => unpickle(bin(PROTO3, dtype("c8"), 0x2e)), "dtype 'c8' is not supported");
  throwsWith(() => unpickle(bin(PROTO3, dtype("f4"), dtypeState(">"), 0x2e)), "byte order '>'");
  // a dtype that never receives its BUILD
  throwsWith(() => unpickle(bin(PROTO3, dtype("f4"), 0x2e)), "never received its BUILD");
  // a well-formed f4 array whose data is one byte short
  const arr = (data: Uint8Array) =>
    bin(
      PROTO3,
      reconstruct,
      ndarray,
      0x4b,
      0,
      0x85,
      0x43,
      1,
      "b",
      0x87,
      0x52,
      0x28,
      0x4b,
      1,
      0x4b,
      2,
      0x85,
      dtype("f4"),
      dtypeState("<"),
      0x89,
      0x43,
      data.length,
      data,
      0x74,
      0x62,
      0x2e,
    );
  const ok = unpickle(arr(new Uint8Array(new Float32Array([1, 2]).buffer))).value as NdArray;
  assert.deepEqual([...(ok.data as Float32Array)], [1, 2]);
  throwsWith(() => unpickle(arr(new Uint8Array(7))), "<f4 ndarray of shape (2,) needs 8 data bytes, got 7");
  // a bare class object must not end up in the result
  throwsWith(
    () => unpickle(bin(PROTO3, ndarray, 0x85, 0x2e)),
    "the result contains the class/function numpy ndarray",
  );
  // BUILD on something that is not a fresh placeholder
  throwsWith(() => unpickle(bin(PROTO3, 0x5d, 0x29, 0x62, 0x2e)), "BUILD target is list");
  assert.ok(new NpDtype("<f4").descr === "<f4");
});
