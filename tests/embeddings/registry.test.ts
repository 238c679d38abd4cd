import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import {
  DEFAULT_EMBEDDER,
  listEmbedders,
  MINILM_EMBEDDER,
  MINILM_FOLDER,
  openEmbedder,
} from "../../lib/embeddings/registry.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-bert");

Deno.test("the default is the offline GloVe embedder, and both names are listed", () => {
  assert.equal(DEFAULT_EMBEDDER, "glove-6b-100d-sif");
  const names = listEmbedders().map((e) => e.name);
  assert.ok(
    names.includes("glove-6b-100d-mean") && names.includes("glove-6b-100d-sif") &&
      names.includes("minilm-l12"),
  );
  assert.deepEqual(listEmbedders().filter((e) => e.isDefault).map((e) => e.name), [DEFAULT_EMBEDDER]);
});

Deno.test("names resolve to their embedders", async () => {
  const dir = mkdtempSync(join(tmpdir(), "registry-"));
  try {
    // GloVe by name, on a tiny file in the package's layout (the real one is covered in glove.test.ts).
    const source = join(dir, "vectors.json");
    writeFileSync(
      source,
      '{"size":1,"dimensions":2,"l2NormIndex":2,"wordIndex":3,"words":["cat"],"vectors":{"cat":[3,4,5,0]}}',
    );
    const glove = await openEmbedder("glove-6b-100d-mean", {
      glove: { sourcePath: source, cacheDir: join(dir, "c") },
    });
    assert.equal(glove.info.name, "glove-6b-100d-mean");
    assert.deepEqual([...(await glove.embed(["Cat"]))[0]], [0.6000000238418579, 0.800000011920929]);
    await glove.dispose();

    // A model folder by path.
    const folder = await openEmbedder(FIXTURE);
    assert.equal(folder.info.kind, "transformer");
    assert.equal(folder.info.name, FIXTURE);
    await folder.dispose();

    // minilm-l12 from the models folder, with the paper's 128-token limit.
    const models = join(dir, "models");
    mkdirSync(models);
    await assert.rejects(openEmbedder(MINILM_EMBEDDER, { modelsDir: models }), (e: Error) => {
      assert.match(e.message, /needs a transformers\.js export of sentence-transformers\/all-MiniLM-L12-v2/);
      assert.ok(e.message.includes(join(models, MINILM_FOLDER)));
      assert.match(e.message, /Xenova\/all-MiniLM-L12-v2/);
      return true;
    });
    cpSync(FIXTURE, join(models, MINILM_FOLDER), { recursive: true });
    const minilm = await openEmbedder("sentence-transformers/all-MiniLM-L12-v2", { modelsDir: models });
    assert.equal(minilm.info.name, MINILM_EMBEDDER);
    assert.equal(minilm.info.details?.maxSeqLength, 128);
    await minilm.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("an unknown name lists the known ones", async () => {
  await assert.rejects(
    openEmbedder("word2vec"),
    /unknown embedder "word2vec".*glove-6b-100d-sif, glove-6b-100d-mean, minilm-l12/,
  );
  await assert.rejects(openEmbedder("some/hub-model"), /unknown embedder.*needs allowRemote/);
});
