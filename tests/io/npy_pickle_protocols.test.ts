/**
 * `.npy` object arrays as current numpy writes them (np.save: pickle protocol 4 with FRAME, SHORT_BINUNICODE,
 * MEMOIZE, STACK_GLOBAL) and pickled with protocols 2 to 5 (tests/fixtures/npy-pickle, made by its make.py) load
 * through the restricted unpickler to the values numpy saved; deeply nested or cyclic input is an error naming the
 * file and byte offset, never a stack overflow.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeNpy, NpyError, readNpy } from "../../lib/io/npy.ts";
import { MAX_NESTING, PickleError, unpickle } from "../../lib/io/pickle_reader.ts";
import { NdArray, PyTuple } from "../../lib/io/py_value.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

const DIR = join(PROJECT_ROOT, "tests", "fixtures", "npy-pickle");
const EXPECTED = JSON.parse(Deno.readTextFileSync(join(DIR, "expected.json"))) as {
  numpy: string;
  shape: number[];
  cells: string[][][];
};

/** Concatenates opcode bytes, ASCII strings and byte arrays into one buffer. */
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

for (const name of ["numpy-save", "protocol-2", "protocol-3", "protocol-4", "protocol-5"]) {
  Deno.test(`npy: ${name}.npy (numpy ${EXPECTED.numpy}) loads to the values numpy saved`, async () => {
    const arr = await readNpy(join(DIR, `${name}.npy`));
    assert.ok(arr instanceof NdArray);
    assert.equal(arr.descr, "|O");
    assert.deepEqual(arr.shape, EXPECTED.shape);
    assert.deepEqual(arr.data, EXPECTED.cells.flat());
  });
}

Deno.test("npy: np.save's protocol-4 file uses the opcodes it should (frames, short strings, memoize)", () => {
  const bytes = Deno.readFileSync(join(DIR, "numpy-save.npy"));
  const pickle = bytes.subarray(bytes.indexOf(0x80));
  assert.deepEqual([...pickle.subarray(0, 3)], [0x80, 4, 0x95], "PROTO 4 then FRAME");
  for (const op of [0x8c, 0x93, 0x94]) assert.ok(pickle.includes(op), `opcode 0x${op.toString(16)}`);
});

Deno.test("pickle: 100k nested lists are an error with the offset, not a stack overflow", () => {
  const n = 100_000;
  const deep = bin(0x80, 4, new Uint8Array(n).fill(0x5d), new Uint8Array(n - 1).fill(0x61), 0x2e);
  assert.throws(
    () => unpickle(deep, { source: "deep.pkl" }),
    (e: unknown) => {
      assert.ok(e instanceof PickleError, String(e));
      assert.match(
        e.message,
        new RegExp(`^deep\\.pkl: byte \\d+: pickle: APPEND .*nest deeper than ${MAX_NESTING}`),
      );
      return true;
    },
  );
  // Nested tuples the same.
  const tuples = bin(0x80, 4, 0x29, new Uint8Array(n).fill(0x85), 0x2e);
  assert.throws(() => unpickle(tuples), /TUPLE1 .*nest deeper/);
});

Deno.test("pickle: nesting built through memo references is caught at STOP; cycles are refused", () => {
  // R = []; then, under one MARK, L0 … Ln where each L(i) is appended into L(i-1) via the memo; APPENDS puts the
  // L(i-1) left on the stack into R. No single opcode sees the depth.
  const n = MAX_NESTING + 10;
  const steps: (number | Uint8Array)[] = [];
  for (let i = 1; i <= n; i++) steps.push(0x6a, u32(i), 0x5d, 0x94, 0x61); // LONG_BINGET i, EMPTY_LIST, MEMOIZE, APPEND
  // memo: 0 = R, i + 1 = L(i); each step leaves L(i - 1) on the stack, and APPENDS puts them all into R.
  const p = bin(0x80, 4, 0x5d, 0x94, 0x28, 0x5d, 0x94, ...steps, 0x65, 0x2e);
  assert.throws(() => unpickle(p), /STOP .*nest deeper than/);
  const cyclic = bin(0x80, 4, 0x5d, 0x94, 0x68, 0, 0x61, 0x2e); // L = []; L.append(L)
  assert.throws(() => unpickle(cyclic), /STOP .*contains itself/);
});

Deno.test("npy: a deeply nested pickle in a .npy names the file and the byte offset", () => {
  const header = Deno.readFileSync(join(DIR, "protocol-4.npy"));
  const dataOffset = header.indexOf(0x80);
  const n = 50_000;
  const bytes = bin(
    header.subarray(0, dataOffset),
    0x80,
    4,
    new Uint8Array(n).fill(0x5d),
    new Uint8Array(n - 1).fill(0x61),
    0x2e,
  );
  assert.throws(
    () => decodeNpy(bytes, "deep.npy"),
    (e: unknown) => {
      assert.ok(e instanceof NpyError, String(e));
      assert.match(e.message, /^deep\.npy: byte \d+: pickle: .*nest deeper/);
      assert.ok(e.offset > dataOffset + n);
      return true;
    },
  );
});

Deno.test("pickle: protocol-5 and protocol-4 opcodes, _codecs.encode only as a latin-1 bytes literal", () => {
  // (b'ab' via _codecs.encode, bytearray8, binunicode8, binbytes8) in a protocol-5 pickle
  const u64 = (k: number) => new Uint8Array(new BigUint64Array([BigInt(k)]).buffer);
  const p = bin(
    0x80,
    5,
    0x95,
    u64(0), // an empty frame is allowed
    0x28,
    0x8c,
    7,
    "_codecs",
    0x8c,
    6,
    "encode",
    0x93,
    0x8c,
    2,
    "ab",
    0x8c,
    6,
    "latin1",
    0x86,
    0x52,
    0x96,
    u64(2),
    "cd",
    0x8d,
    u64(1),
    "e",
    0x8e,
    u64(1),
    "f",
    0x74,
    0x2e,
  );
  const { value } = unpickle(p);
  const enc = new TextEncoder();
  assert.deepEqual(value, new PyTuple([enc.encode("ab"), enc.encode("cd"), "e", enc.encode("f")]));
  assert.throws(
    () =>
      unpickle(
        bin(
          0x80,
          4,
          0x8c,
          7,
          "_codecs",
          0x8c,
          6,
          "encode",
          0x93,
          0x8c,
          1,
          "x",
          0x8c,
          4,
          "utf8",
          0x86,
          0x52,
          0x2e,
        ),
      ),
    /expects \(str, 'latin1'\)/,
  );
  assert.throws(
    () => unpickle(bin(0x80, 4, 0x8c, 2, "os", 0x8c, 6, "system", 0x93, 0x2e)),
    /STACK_GLOBAL .*global 'os system' is not allowed/,
  );
  assert.throws(
    () => unpickle(bin(0x80, 4, 0x95, u64(100), 0x4e, 0x2e)),
    /truncated: .*a frame of 100 bytes for FRAME/,
  );
  assert.throws(
    () => unpickle(bin(0x80, 4, 0x96, u64(1), "x", 0x2e)),
    /protocol 5 opcode in a protocol 4 pickle/,
  );
});
