/**
 * The numpy-compatible pickler: round trips through the reader, CPython-identical memo/batching choices, refusal of
 * what it cannot represent, and the paper's files re-pickled byte for byte.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { unpickle } from "../../lib/io/pickle_reader.ts";
import { pickleDumps } from "../../lib/io/pickle_writer.ts";
import { NdArray, type PyValue } from "../../lib/io/py_value.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";

Deno.test("pickle: object and numeric arrays round-trip through the writer", () => {
  const obj = new NdArray("|O", [2, 2, 1], [
    ["a", "", "é", "Ā", "😀"],
    [],
    ["one"],
    Array.from({ length: 1001 }, String),
  ]);
  const numeric: NdArray[] = [
    new NdArray("<f4", [2, 2], new Float32Array([1.5, -2, Infinity, NaN])),
    new NdArray("<f8", [3], new Float64Array([0.1, -0, 1e300])),
    new NdArray("<i4", [2], new Int32Array([-7, 2 ** 31 - 1])),
    new NdArray("<i8", [2], new BigInt64Array([-(2n ** 63n), 2n ** 40n])),
    new NdArray("|b1", [3], new Uint8Array([1, 0, 1])),
    new NdArray("|u1", [], new Uint8Array([9])),
  ];
  const dict = new Map<string, PyValue>([["x", obj], ["y", numeric]]);
  const back = unpickle(pickleDumps(new NdArray("|O", [], [dict]))).value as NdArray;
  assert.deepEqual(back.shape, []);
  const d = (back.data as PyValue[])[0] as Map<string, PyValue>;
  assert.deepEqual(d.get("x"), obj);
  const ys = d.get("y") as NdArray[];
  ys.forEach((y, i) => {
    assert.equal(y.descr, numeric[i].descr);
    assert.deepEqual(y.shape, numeric[i].shape);
    assert.equal(y.data.constructor, numeric[i].data.constructor);
    assert.deepEqual([...(y.data as Iterable<unknown>)], [...(numeric[i].data as Iterable<unknown>)]);
  });
});

Deno.test("pickle: writer follows CPython's identity and batching rules", () => {
  // dict keys are interned: the second group's keys are memo references (BINGET), as in the paper's results files
  const g = () => new Map<string, PyValue>([["metric_one", 1], ["metric_two", 2]]);
  const twoGroups = pickleDumps(new Map([["creative", g()], ["factual", g()]]));
  assert.equal(twoGroups.filter((b) => b === 0x58).length, 4); // 'creative', 2 keys, 'factual' (keys not re-sent)
  // singleton strings ('' and one Latin-1 char) are shared, longer equal strings are not
  const strs = pickleDumps(["", "", "a", "a", "ab", "ab"]);
  assert.equal(strs.filter((b) => b === 0x58).length, 4);
  // lists: APPEND for one item, MARK…APPENDS in batches of 1000 without an empty tail
  assert.deepEqual([...pickleDumps([[1]]).slice(-5)], [0x4b, 1, 0x61, 0x61, 0x2e]);
  const oneItem = pickleDumps(["x"]);
  assert.equal(oneItem[oneItem.length - 2], 0x61); // APPEND before STOP
  const thousand = pickleDumps(Array.from({ length: 1000 }, () => null));
  assert.equal(thousand.filter((b) => b === 0x65).length, 1);
  // dicts: a size that is a multiple of 1000 ends with an empty MARK SETITEMS, as CPython's C pickler writes it
  const bigDict = pickleDumps(
    new Map(Array.from({ length: 1000 }, (_, i) => [`k${i}`, null] as [string, null])),
  );
  assert.deepEqual([...bigDict.slice(-3)], [0x28, 0x75, 0x2e]);
  // the same dtype object is written once
  const twoArrays = pickleDumps([
    new NdArray("<f4", [1], new Float32Array([1])),
    new NdArray("<f4", [1], new Float32Array([2])),
  ]);
  assert.equal(new TextDecoder().decode(twoArrays).split("numpy\ndtype\n").length, 2);
});

Deno.test("pickle: writer refuses what it cannot represent", () => {
  assert.throws(() => pickleDumps(["\ud800"]), /lone surrogate/);
  assert.throws(() => pickleDumps(2 ** 40), /LONG1/);
  assert.throws(() => pickleDumps(new NdArray("<f4", [2], new Float64Array(2))), /must be a Float32Array/);
  assert.throws(() => pickleDumps(new NdArray("|O", [3], [1])), /needs 3 elements/);
});

sharedTest("pickle: every paper file's pickle re-pickles byte-identically", () => {
  for (const dir of ["completions", "creative_factual"]) {
    for (const entry of Deno.readDirSync(sharedPath("paper", dir))) {
      const path = join(sharedPath("paper", dir), entry.name);
      const payload = Deno.readFileSync(path).subarray(128);
      const { value } = unpickle(payload, { source: path, baseOffset: 128 });
      assert.ok(value instanceof NdArray);
      const again = pickleDumps(value);
      assert.equal(again.length, payload.length, path);
      assert.ok(again.every((b, i) => b === payload[i]), `${path}: re-pickled bytes differ`);
    }
  }
});
