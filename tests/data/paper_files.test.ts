/** The paper's result files: the manifest matches ../shared/paper; fetching verifies every hash. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { checkPaperDir, fetchPaperFiles, PAPER_FILES } from "../../lib/data/paper_files.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";

sharedTest("paper files: every file of ../shared/paper has the manifest's sha256", async () => {
  const check = await checkPaperDir(sharedPath("paper"));
  assert.deepEqual(check.missing, []);
  assert.deepEqual(check.corrupt, []);
  assert.equal(check.ok.length, PAPER_FILES.length);
});

sharedTest(
  "paper files: fetched from a mirror, verified and written; a tampered file is refused",
  async () => {
    const dest = await Deno.makeTempDir();
    const mirror = await Deno.makeTempDir();
    try {
      const base = pathToFileURL(sharedPath("paper")).href;
      const lines: string[] = [];
      const check = await fetchPaperFiles(dest, { baseUrl: base, log: (l) => lines.push(l) });
      assert.equal(check.ok.length, PAPER_FILES.length);
      assert.equal(lines.length, PAPER_FILES.length);
      // Nothing to do the second time.
      assert.equal((await fetchPaperFiles(dest, { baseUrl: base })).ok.length, PAPER_FILES.length);

      // A mirror serving a changed file: refused, and the good local copy is kept.
      const [path] = PAPER_FILES[10];
      await Deno.mkdir(join(mirror, path, ".."), { recursive: true });
      await Deno.writeFile(join(mirror, path), new Uint8Array([1, 2, 3]));
      await Deno.remove(join(dest, path));
      await assert.rejects(
        fetchPaperFiles(dest, { baseUrl: pathToFileURL(mirror).href }),
        new RegExp(
          `${path.replace(".", "\\.")}: sha256 [0-9a-f]{64}, expected ${PAPER_FILES[10][1]}; not written`,
        ),
      );
      assert.equal((await checkPaperDir(dest)).missing.length, 1);
    } finally {
      await Deno.remove(dest, { recursive: true });
      await Deno.remove(mirror, { recursive: true });
    }
  },
);

Deno.test("paper files: an unreachable source says so and names the folder to fill by hand", async () => {
  const dest = await Deno.makeTempDir();
  try {
    await assert.rejects(
      fetchPaperFiles(dest, { baseUrl: pathToFileURL(join(dest, "nowhere")).href }),
      /could not fetch file:.*; this machine may be offline: copy the paper's files into/,
    );
  } finally {
    await Deno.remove(dest, { recursive: true });
  }
});
