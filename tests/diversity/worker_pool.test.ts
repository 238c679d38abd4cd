/**
 * The diversity worker pool as one process analysing several files uses it: started before the work is known
 * (zlib opened ahead), cut down to what the cells need, kept across runs; the tables it gives are the ones a run
 * on the main thread gives, gzip backend name included (the workers report it). Also the worker-count rule.
 */
import assert from "node:assert/strict";
import { computeDiversity, runCellCount, workerCountFor } from "../../lib/diversity/run.ts";
import { DiversityWorkerPool } from "../../lib/diversity/pool.ts";
import { METRIC_SELECTIONS } from "../../lib/metrics/registry.ts";
import { openGzipLength } from "../../lib/metrics/gzip_length.ts";

/** `T` temperatures × `P` prompts of 5 varied samples each. */
function grid(T: number, P: number, salt: number) {
  const words = "the cat sat on a mat and then ran off to the park with two dogs".split(" ");
  let seed = salt;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const sample = () => Array.from({ length: 12 }, () => words[Math.floor(rand() * words.length)]).join(" ");
  return {
    temperatures: Array.from({ length: T }, (_, t) => (t + 1) / 10),
    cells: Array.from(
      { length: T },
      () => Array.from({ length: P }, () => Array.from({ length: 5 }, sample)),
    ),
  };
}

Deno.test("workerCountFor / runCellCount: one thread per 20 cells at most; a shard counts its own cells", () => {
  assert.equal(workerCountFor(600, 2), 2);
  assert.equal(workerCountFor(25, 8), 2);
  assert.equal(workerCountFor(20, 8), 1);
  assert.equal(workerCountFor(600, 0), 0);
  assert.equal(runCellCount(300, 2), 600);
  assert.equal(runCellCount(10, 1, { index: 1, count: 3 }), 4);
  assert.equal(runCellCount(10, 2, { index: 3, count: 3 }), 6);
  assert.equal(runCellCount(1, 1, { index: 2, count: 3 }), 0);
});

Deno.test("worker pool: started early, cut down, kept across files — the main thread's tables, gzip name included", async () => {
  const metrics = METRIC_SELECTIONS.deterministic();
  const files = [grid(3, 10, 1), grid(2, 12, 2)];
  const onMain = [];
  for (const g of files) onMain.push(await computeDiversity(g, { words: [4, null], metrics, workers: 0 }));
  const pool = new DiversityWorkerPool(3).start("auto");
  try {
    pool.shrink(2);
    assert.equal(pool.size, 2);
    for (const [i, g] of files.entries()) {
      const tables = await computeDiversity(g, { words: [4, null], metrics, pool });
      assert.deepEqual(tables, onMain[i]);
    }
  } finally {
    pool.close();
  }
  const auto = openGzipLength("auto");
  assert.equal(onMain[0].gzipBackend, auto.name);
  auto.close();
  assert.throws(() => pool.shrink(0), RangeError);
});
