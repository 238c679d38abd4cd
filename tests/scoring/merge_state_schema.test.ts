/**
 * A score state handed to `merge` goes through the checkpoint/1 state schema: a tampered state is refused with
 * the file and the JSON path, before any accumulator is read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readScoreState } from "../../lib/scoring/merge_scores.ts";

Deno.test("merge: a score state with a wrong field is refused naming the file and state.<field>", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "s.state.json");
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        format: "checkpoint/1",
        kind: "score",
        runKey: "k",
        runDescription: { data: { sha256: "0".repeat(64), bytes: 1 }, settings: {} },
        unitsDone: 1,
        written: "2026-12-05T00:00:00Z",
        state: { accumulator: {}, documentsRead: -3, skippedLines: 0, skippedReasons: [], surplus: 1 },
      }),
    );
    await assert.rejects(readScoreState(path), (e: Error) => {
      assert.ok(e.message.includes(path), e.message);
      assert.match(e.message, /state\.documentsRead/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
