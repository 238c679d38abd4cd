import assert from "node:assert/strict";
import { join } from "node:path";
import { readCheckpoint, runKeyOf, writeCheckpoint } from "../../lib/io/checkpoint.ts";

Deno.test("checkpoint: round trip, run keys, refusals", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "run.checkpoint.json");
    assert.equal(readCheckpoint(path, "score", "k"), undefined);
    const key = await runKeyOf({ model: "m", data: { sha256: "abc", size: 3 }, maxSeqLen: 64 });
    // Key order does not matter; values do.
    assert.equal(key, await runKeyOf({ maxSeqLen: 64, data: { size: 3, sha256: "abc" }, model: "m" }));
    assert.notEqual(key, await runKeyOf({ model: "m", data: { sha256: "abc", size: 3 }, maxSeqLen: 65 }));
    writeCheckpoint(path, {
      kind: "score",
      runKey: key,
      runDescription: { model: "m" },
      unitsDone: 7,
      state: { x: 1 },
    });
    const cp = readCheckpoint<{ x: number }>(path, "score", key)!;
    assert.equal(cp.unitsDone, 7);
    assert.deepEqual(cp.state, { x: 1 });
    assert.throws(() => readCheckpoint(path, "score", "other"), /belongs to another run.*"model":"m"/);
    assert.throws(() => readCheckpoint(path, "generate", key), /checkpoint of a "score" run/);
    await Deno.writeTextFile(path, "{not json");
    assert.throws(() => readCheckpoint(path, "score", key), /not valid JSON/);
    // No temporary files are left behind by the atomic writes.
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["run.checkpoint.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
