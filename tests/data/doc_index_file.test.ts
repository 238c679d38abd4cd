/** readDocIndexFile: a JSON list of non-negative integers; anything else is refused naming the file. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DocIndexFileError, readDocIndexFile } from "../../lib/data/doc_index_file.ts";

/** Runs `fn` with a scratch folder that is removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readDocIndexFile validates the list", async () => {
  await withTempDir(async (dir) => {
    const file = (name: string, text: string) => {
      const p = join(dir, name);
      Deno.writeTextFileSync(p, text);
      return p;
    };
    assert.deepEqual(await readDocIndexFile(file("ok.json", "[3, 1, 3, 0, 2.0]")), new Set([3, 1, 0, 2]));
    assert.deepEqual(await readDocIndexFile(file("empty.json", "[]")), new Set());
    const cases: [string, string, RegExp][] = [
      ["bad.json", "[1, 2", /not valid JSON/],
      ["obj.json", '{"a": 1}', /expected a JSON list of indices, got an object/],
      ["neg.json", "[1, -2]", /element 1 is not a non-negative integer: -2/],
      ["frac.json", "[1.5]", /element 0 .*1\.5/],
      ["str.json", '[0, "3"]', /element 1 .*"3"/],
      ["big.json", "[1e300]", /element 0/],
    ];
    for (const [name, text, re] of cases) {
      const p = file(name, text);
      await assert.rejects(readDocIndexFile(p), (e: unknown) => {
        assert.ok(e instanceof DocIndexFileError);
        assert.ok(e.message.startsWith(p + ": "), e.message);
        assert.match(e.message, re);
        return true;
      });
    }
  });
});
