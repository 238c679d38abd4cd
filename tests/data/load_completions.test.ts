/** loadCompletions over a paper `.npy` (and the paper's own files, with a JSON round trip). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCompletions } from "../../lib/data/load_completions.ts";
import { writePaperCompletions } from "../../lib/data/paper.ts";
import { completionsFromPaperNpy } from "../../lib/data/paper_completions.ts";
import { writeCompletionsJson } from "../../lib/io/completions_json.ts";
import { sha256Hex } from "../../lib/io/sha256.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";

const cellsOf = (T: number, P: number, n: number) =>
  Array.from(
    { length: T },
    (_, t) => Array.from({ length: P }, (_, p) => Array.from({ length: n }, (_, k) => `t${t}p${p}s${k} ✓`)),
  );

Deno.test("loadCompletions: a paper-layout .npy loads with (t+1)/10 temperatures", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "m_completions_factual_max_length25.npy");
    const cells = cellsOf(3, 2, 25);
    await writePaperCompletions(path, cells);
    const loaded = await loadCompletions(path);
    assert.deepEqual(loaded.temperatures, [0.1, 0.2, 0.3]);
    assert.deepEqual(loaded.prompts, [undefined, undefined]);
    assert.deepEqual(loaded.cells, cells);
    assert.deepEqual(loaded.source, {
      path,
      sha256: await sha256Hex(Deno.readFileSync(path)),
      format: "paper-npy",
    });
    const other = join(dir, "c.txt");
    Deno.writeTextFileSync(other, "");
    await assert.rejects(() => loadCompletions(other), /unknown completions file type '.txt'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

sharedTest(
  "loadCompletions: the paper's files load, hash as in SHA256SUMS and survive a JSON round trip",
  async () => {
    const sums = new Map(
      Deno.readTextFileSync(sharedPath("paper", "SHA256SUMS")).trim().split("\n").map((l) => {
        const [hash, name] = l.split(/\s+/);
        return [name, hash] as [string, string];
      }),
    );
    const dir = await Deno.makeTempDir();
    try {
      for (const entry of Deno.readDirSync(sharedPath("paper", "completions"))) {
        const path = sharedPath("paper", "completions", entry.name);
        const loaded = await loadCompletions(path);
        assert.equal(loaded.source.sha256, sums.get(`completions/${entry.name}`));
        assert.equal(loaded.temperatures.length, 15);
        assert.equal(loaded.cells.length, 15);
        const doc = completionsFromPaperNpy(loaded.cells, {
          promptSet: entry.name.includes("factual") ? "factual" : "creative",
          modelId: entry.name.split("_")[0],
          provenance: { source_file: entry.name, source_sha256: loaded.source.sha256 },
        });
        const json = join(dir, entry.name.replace(".npy", ".json"));
        await writeCompletionsJson(json, doc);
        const again = await loadCompletions(json);
        assert.deepEqual(again.cells, loaded.cells);
        assert.deepEqual(again.temperatures, loaded.temperatures);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
