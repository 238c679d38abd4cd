/**
 * The transformers.js path against sentence-transformers itself: the tiny random BERT in tests/fixtures/tiny-bert
 * (tools/make_tiny_bert_fixture.py) and the vectors `SentenceTransformer(...).encode()` gave for it.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import {
  checkModelFolder,
  openTransformersEmbedder,
  readSentenceTransformersLayout,
} from "../../lib/embeddings/sentence_transformers.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-bert");
const reference = JSON.parse(Deno.readTextFileSync(join(FIXTURE, "reference_embeddings.json"))) as {
  sentences: string[];
  vectors: number[][];
  max_seq_length: number;
  dimensions: number;
};
// Measured: 8.9e-8 (float32 rounding of the pooled sums); 1e-5 leaves room for other onnxruntime builds.
const TOLERANCE = 1e-5;

function maxAbsDiff(got: Float32Array[], want: number[][]): number {
  let max = 0;
  got.forEach((row, i) => row.forEach((x, d) => max = Math.max(max, Math.abs(x - want[i][d]))));
  return max;
}

/** A scratch copy of the fixture that a test may damage. */
function copyFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "tiny-bert-"));
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

Deno.test("tiny BERT through transformers.js matches sentence-transformers' encode()", async () => {
  const embedder = await openTransformersEmbedder(FIXTURE);
  try {
    const vectors = await embedder.embed(reference.sentences);
    assert.equal(vectors.length, reference.sentences.length);
    for (const v of vectors) {
      assert.ok(v instanceof Float32Array);
      assert.equal(v.length, reference.dimensions);
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      assert.ok(Math.abs(norm - 1) < 1e-6, `norm ${norm}`);
    }
    const diff = maxAbsDiff(vectors, reference.vectors);
    assert.ok(diff <= TOLERANCE, `max abs diff ${diff}`);
    // The duplicate sentence gives the same vector, and the empty one is [CLS][SEP] pooled, not an error.
    assert.deepEqual(vectors[7], vectors[2]);
  } finally {
    await embedder.dispose();
  }
});

Deno.test("info records the model, pooling, dtype and library version", async () => {
  const embedder = await openTransformersEmbedder(relative(Deno.cwd(), FIXTURE));
  try {
    const { info } = embedder;
    assert.equal(info.kind, "transformer");
    assert.equal(info.source, FIXTURE);
    assert.equal(info.dimensions, 32);
    assert.match(info.pooling, /mean over attention mask/);
    assert.equal(info.details?.dtype, "fp32");
    assert.equal(info.details?.transformersJs, "4.3.1");
    assert.equal(info.details?.maxSeqLength, 128);
    assert.equal(info.details?.maxSeqLengthFrom, "sentence_bert_config.json");
    assert.match(String(info.details?.onnxSha256), /^[0-9a-f]{64}$/);
  } finally {
    await embedder.dispose();
  }
});

Deno.test("results do not depend on the batch size or the order of the input", async () => {
  const embedder = await openTransformersEmbedder(FIXTURE, { batchSize: 3 });
  try {
    const reversed = [...reference.sentences].reverse();
    const vectors = (await embedder.embed(reversed)).reverse();
    assert.ok(maxAbsDiff(vectors, reference.vectors) <= TOLERANCE);
    assert.deepEqual(await embedder.embed([]), []);
  } finally {
    await embedder.dispose();
  }
});

Deno.test("a long input keeps its [SEP] when truncated to max_seq_length", async () => {
  // transformers.js' own truncation drops [SEP]; the reference (HF tokenizers) keeps it. Words added past the
  // 128-token cut must not change the vector.
  const long = reference.sentences.at(-1)!;
  const embedder = await openTransformersEmbedder(FIXTURE, { maxSeqLength: 128 });
  try {
    const [v] = await embedder.embed([long + " and more words at the end that must be cut"]);
    assert.ok(maxAbsDiff([v], [reference.vectors.at(-1)!]) <= TOLERANCE);
  } finally {
    await embedder.dispose();
  }
});

Deno.test("a missing file is named in the error", async () => {
  for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"]) {
    const dir = copyFixture();
    try {
      rmSync(join(dir, file));
      await assert.rejects(openTransformersEmbedder(dir), (e: Error) => {
        assert.ok(e.message.includes(`missing ${file}`), e.message);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await assert.rejects(openTransformersEmbedder(join(FIXTURE, "no-such-folder")), /model folder not found/);
});

Deno.test("quantised weights are refused unless the dtype is given", async () => {
  const dir = copyFixture();
  try {
    renameSync(join(dir, "onnx", "model.onnx"), join(dir, "onnx", "model_quantized.onnx"));
    assert.throws(() => checkModelFolder(dir), /missing onnx\/model\.onnx.*dtype: "q8"/);
    // (The file holds fp32 weights under the quantised name; enough to show the explicit choice is honoured.)
    const embedder = await openTransformersEmbedder(dir, { dtype: "q8" });
    assert.equal(embedder.info.details?.dtype, "q8");
    await embedder.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("pooling other than mean is refused, naming the mode", async () => {
  const dir = copyFixture();
  const pooling = join(dir, "1_Pooling", "config.json");
  try {
    writeFileSync(pooling, JSON.stringify({ word_embedding_dimension: 32, pooling_mode_cls_token: true }));
    await assert.rejects(openTransformersEmbedder(dir), /unsupported pooling mode cls_token/);
    writeFileSync(pooling, JSON.stringify({ pooling_mode_mean_tokens: true, pooling_mode_max_tokens: true }));
    assert.throws(
      () => readSentenceTransformersLayout(dir),
      /unsupported pooling mode mean_tokens \+ max_tokens/,
    );
    // sentence-transformers ≥ 5 writes "pooling_mode": accepted for mean, refused otherwise.
    writeFileSync(pooling, JSON.stringify({ embedding_dimension: 32, pooling_mode: "mean" }));
    assert.equal(readSentenceTransformersLayout(dir).pooling, "mean");
    writeFileSync(pooling, JSON.stringify({ embedding_dimension: 32, pooling_mode: "lasttoken" }));
    assert.throws(() => readSentenceTransformersLayout(dir), /unsupported pooling mode lasttoken/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("unknown modules are refused; a missing Normalize or modules.json is noted", async () => {
  const dir = copyFixture();
  const modulesPath = join(dir, "modules.json");
  const modules = JSON.parse(Deno.readTextFileSync(modulesPath));
  try {
    writeFileSync(
      modulesPath,
      JSON.stringify([...modules, { path: "3_Dense", type: "sentence_transformers.models.Dense" }]),
    );
    assert.throws(() => readSentenceTransformersLayout(dir), /Dense is not supported/);
    writeFileSync(modulesPath, JSON.stringify(modules.slice(0, 2)));
    const embedder = await openTransformersEmbedder(dir);
    assert.match(String(embedder.info.details?.notes), /no Normalize module/);
    assert.equal(embedder.info.details?.normalizeModule, false);
    const v = await embedder.embed(reference.sentences);
    assert.ok(maxAbsDiff(v, reference.vectors) <= TOLERANCE, "still normalised");
    await embedder.dispose();
    rmSync(modulesPath);
    rmSync(join(dir, "sentence_bert_config.json"));
    const layout = readSentenceTransformersLayout(dir);
    assert.match(layout.notes.join(), /no modules\.json/);
    assert.equal(layout.maxSeqLength, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("a hub id is refused offline with a clear message", async () => {
  await assert.rejects(
    openTransformersEmbedder("Xenova/all-MiniLM-L12-v2"),
    /not a local folder and remote loading is off/,
  );
});
