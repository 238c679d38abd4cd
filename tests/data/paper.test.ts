/**
 * Readers of the paper's completions and results files: layout validation, the creative/factual relabelling,
 * spot values of the stored results, byte-identical rewriting, and malformed inputs built with the writer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  encodePaperCompletions,
  PaperFormatError,
  readPaperCompletions,
  readPaperResults,
  writePaperCompletions,
} from "../../lib/data/paper.ts";
import { encodeNpy } from "../../lib/io/npy.ts";
import { NdArray, type PyValue } from "../../lib/io/py_value.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";

const METRIC_KEYS = [
  "selfBleuSmoothed",
  "average_pairwise_ncd",
  "average_pairwise_jaccard_2",
  "average_pairwise_jaccard_3",
  "average_pairwise_jaccard_4",
  "avg_compression_ratio_full",
  "avg_compression_ratio_target",
  "cosine_similarity",
  ...[2, 3, 4, 5, 6].flatMap((q) => [`order_${q}_jaccard_2`, `order_${q}_cosine`]),
  "vendi_jaccard_2",
  "vendi_cosine",
];

/** Runs `fn` with a scratch folder that is removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function rejects(fn: () => Promise<unknown>, path: string, ...parts: string[]): Promise<Error> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected an error, got ${caught}`);
  assert.ok(caught.message.startsWith(`${path}: `), caught.message);
  for (const p of parts) assert.ok(caught.message.includes(p), `"${caught.message}" lacks "${p}"`);
  return caught;
}

const grid = (T: number, P: number, n: number) =>
  Array.from(
    { length: T },
    (_, t) => Array.from({ length: P }, (_, p) => Array.from({ length: n }, (_, k) => `t${t} p${p} #${k}`)),
  );

Deno.test("paper: completions written in the paper layout read back", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "c.npy");
    const cells = grid(3, 4, 25);
    await writePaperCompletions(path, cells);
    const read = await readPaperCompletions(path);
    assert.deepEqual(read.shape, [3, 4, 1]);
    assert.deepEqual(read.cells, cells);
    assert.deepEqual(read.emptyCells, []);
    assert.deepEqual(Deno.readFileSync(path), encodePaperCompletions(cells));
  });
});

Deno.test("paper: an empty sample list is allowed but reported", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "c.npy");
    const cells = grid(2, 2, 3);
    cells[1][0] = [];
    await writePaperCompletions(path, cells);
    const read = await readPaperCompletions(path);
    assert.deepEqual(read.cells[1][0], []);
    assert.deepEqual(read.emptyCells, [[1, 0]]);
  });
});

Deno.test("paper: wrong shapes and dtypes are rejected", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "bad.npy");
    const lists = (n: number) => Array.from({ length: n }, (_, i) => [`s${i}`]);
    // (15, 20, 2): two model slots, only readable when a slot is chosen
    Deno.writeFileSync(path, encodeNpy(new NdArray("|O", [15, 20, 2], lists(600))));
    await rejects(
      () => readPaperCompletions(path),
      path,
      "expected shape (T, P, 1), found (15, 20, 2)",
      "slot",
    );
    const slot1 = await readPaperCompletions(path, { slot: 1 });
    assert.deepEqual(slot1.cells[0][0], ["s1"]);
    assert.deepEqual(slot1.cells[14][19], ["s599"]);
    await rejects(() => readPaperCompletions(path, { slot: 2 }), path, "slot 2 is out of range for 2 slots");
    // (3,)
    Deno.writeFileSync(path, encodeNpy(new NdArray("|O", [3], lists(3))));
    await rejects(
      () => readPaperCompletions(path),
      path,
      "expected the paper's completions layout",
      "found shape (3,)",
    );
    // numeric instead of object
    Deno.writeFileSync(path, encodeNpy(new NdArray("<f4", [15, 20, 1], new Float32Array(300))));
    await rejects(() => readPaperCompletions(path), path, "found dtype <f4");
    // a completions file is not a results file and vice versa
    await rejects(() => readPaperResults(path), path, "expected a 0-d object array");
  });
});

Deno.test("paper: a cell that is not a list of str names the cell", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "bad.npy");
    const data: PyValue[] = [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]];
    data[4] = "just a string";
    Deno.writeFileSync(path, encodeNpy(new NdArray("|O", [2, 3, 1], data)));
    const e = await rejects(
      () => readPaperCompletions(path),
      path,
      "cell [1, 1, 0] (flat index 4)",
      "expected a list of str, found str",
    );
    assert.ok(e instanceof PaperFormatError);
    data[4] = ["ok", 7, "ok"];
    Deno.writeFileSync(path, encodeNpy(new NdArray("|O", [2, 3, 1], data)));
    await rejects(
      () => readPaperCompletions(path),
      path,
      "cell [1, 1, 0] (flat index 4) item 1: expected str, found int",
    );
    data[4] = null;
    Deno.writeFileSync(path, encodeNpy(new NdArray("|O", [2, 3, 1], data)));
    await rejects(() => readPaperCompletions(path), path, "found None");
  });
});

Deno.test("paper: results files are validated and relabelled", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "r.npy");
    const metrics = (v: number) =>
      new Map<string, PyValue>(
        ["m1", "m2"].map((k, i) => [k, new NdArray("<f4", [2, 1], new Float32Array([v, i]))]),
      );
    const write = (top: Map<PyValue & string, PyValue>) =>
      Deno.writeFileSync(path, encodeNpy(new NdArray("|O", [], [top as Map<string, PyValue>])));
    write(new Map([["creative", metrics(1)], ["factual", metrics(2)]]));
    const fixed = await readPaperResults(path);
    assert.equal(fixed.relabelled, true);
    assert.deepEqual(fixed.keyOrder, ["m1", "m2"]);
    assert.deepEqual(fixed.shape, [2, 1]);
    assert.deepEqual(fixed.storedGroups, ["creative", "factual"]);
    assert.equal(fixed.groups.factual!.m1[0], 1); // stored "creative" = factual prompts
    assert.equal(fixed.groups.creative!.m1[0], 2);
    const asStored = await readPaperResults(path, { paperLabels: true });
    assert.equal(asStored.relabelled, false);
    assert.equal(asStored.groups.creative!.m1[0], 1);
    write(new Map([["seen", metrics(3)]]));
    assert.equal((await readPaperResults(path)).groups.seen!.m1[0], 3);
    // malformed variants
    write(new Map([["bogus", metrics(1)]]));
    await rejects(() => readPaperResults(path), path, 'unknown group "bogus"');
    const other = new Map<string, PyValue>([["m2", metrics(1).get("m2")!], ["m1", metrics(1).get("m1")!]]);
    write(new Map([["creative", metrics(1)], ["factual", other]]));
    await rejects(() => readPaperResults(path), path, "group 'factual' has metric keys [m2, m1]");
    write(new Map([["creative", new Map([["m1", new NdArray("<f8", [1], new Float64Array(1))]])]]));
    await rejects(
      () => readPaperResults(path),
      path,
      "metric 'm1': expected a float32 ndarray, found ndarray of <f8",
    );
    write(new Map([["creative", new Map([["m1", [1, 2]]])]]));
    await rejects(() => readPaperResults(path), path, "found list");
  });
});

sharedTest("paper: every completions file has the paper layout and rewrites byte-identically", async () => {
  const dir = sharedPath("paper", "completions");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.equal(names.length, 6);
  for (const name of names) {
    const path = join(dir, name);
    const read = await readPaperCompletions(path);
    assert.deepEqual(read.shape, [15, 20, 1]);
    assert.deepEqual(read.emptyCells, []);
    for (const row of read.cells) {
      assert.equal(row.length, 20);
      for (const cell of row) {
        assert.equal(cell.length, 25);
        assert.ok(cell.every((s) => typeof s === "string"));
      }
    }
    const original = Deno.readFileSync(path);
    const rewritten = encodePaperCompletions(read.cells);
    assert.equal(rewritten.length, original.length, name);
    assert.ok(rewritten.every((b, i) => b === original[i]), `${name}: rewrite is not byte-identical`);
  }
  const factual = await readPaperCompletions(join(dir, "pythia-2.8b_completions_factual_max_length25.npy"));
  assert.equal(
    factual.cells[0][0][0],
    " capital of France is Paris.\n\nA:\n\nThe capital of France is Paris.\n\nThis is a correct",
  );
});

sharedTest("paper: every results file has 20 float32 metrics of shape (15, 20, 1), relabelled", async () => {
  const dir = sharedPath("paper", "creative_factual");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.equal(names.length, 6);
  for (const name of names) {
    const path = join(dir, name);
    const fixed = await readPaperResults(path);
    const stored = await readPaperResults(path, { paperLabels: true });
    assert.deepEqual(fixed.keyOrder, METRIC_KEYS);
    assert.deepEqual(fixed.shape, [15, 20, 1]);
    assert.deepEqual(stored.storedGroups, ["creative", "factual"]);
    for (const group of ["creative", "factual"] as const) {
      for (const key of METRIC_KEYS) {
        assert.ok(fixed.groups[group]![key] instanceof Float32Array);
        assert.equal(fixed.groups[group]![key].length, 300);
      }
    }
    assert.deepEqual(fixed.groups.factual, stored.groups.creative);
    assert.deepEqual(fixed.groups.creative, stored.groups.factual);
    assert.notDeepEqual(fixed.groups.creative, stored.groups.creative);
  }
  // Stored values: pythia-2.8b, 20 words, stored "creative" (= factual prompts), T = 0.1, prompts 0–3
  const r = await readPaperResults(join(dir, "pythia-2.8b_results_20_words.npy"));
  const expect: Record<string, number[]> = {
    selfBleuSmoothed: [0.95967, 0.96437, 0.94519, 0.90688],
    average_pairwise_ncd: [0.15381, 0.33180, 0.18046, 0.15896],
    vendi_jaccard_2: [1.59775, 4.07389, 3.47924, 2.28024],
    cosine_similarity: [0.92073, 0.87619, 0.90040, 0.94601],
  };
  for (const [key, values] of Object.entries(expect)) {
    values.forEach((v, p) => assert.ok(Math.abs(r.groups.factual![key][p] - v) < 6e-6, `${key}[${p}]`));
  }
});
