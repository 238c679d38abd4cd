import assert from "node:assert/strict";
import { cachingEmbedder } from "../../lib/embeddings/cache.ts";
import type { EmbedderInfo, SentenceEmbedder } from "../../lib/embeddings/embedder.ts";

/** A fake embedder that records what it was asked to embed. */
function recordingEmbedder(): SentenceEmbedder & { calls: string[][]; disposed: boolean } {
  const info: EmbedderInfo = {
    name: "fake",
    kind: "lexical",
    source: "test",
    dimensions: 2,
    pooling: "none",
  };
  const fake = {
    info,
    calls: [] as string[][],
    disposed: false,
    embed(sentences: readonly string[]): Promise<Float32Array[]> {
      fake.calls.push([...sentences]);
      return Promise.resolve(sentences.map((s) => new Float32Array([s.length, s.charCodeAt(0) || 0])));
    },
    dispose(): Promise<void> {
      fake.disposed = true;
      return Promise.resolve();
    },
  };
  return fake;
}

Deno.test("each distinct sentence is embedded once, in one batch, and order is kept", async () => {
  const inner = recordingEmbedder();
  const cached = cachingEmbedder(inner);
  assert.equal(cached.info, inner.info);
  const input = ["b", "a", "b", "", "a", "ccc", ""];
  const out = await cached.embed(input);
  assert.deepEqual(inner.calls, [["b", "a", "", "ccc"]]);
  assert.deepEqual(out.map((v) => [...v]), input.map((s) => [s.length, s.charCodeAt(0) || 0]));
  assert.deepEqual(cached.stats, { hits: 3, misses: 4, innerCalls: 1, size: 4 });

  const again = await cached.embed(["ccc", "d", "a", "d"]);
  assert.deepEqual(inner.calls[1], ["d"]);
  assert.equal(again[0], out[5], "a hit returns the stored vector");
  assert.deepEqual(cached.stats, { hits: 6, misses: 5, innerCalls: 2, size: 5 });

  await cached.embed(["a", "b"]);
  assert.equal(inner.calls.length, 2, "all hits: the inner embedder is not called");
  assert.deepEqual(await cached.embed([]), []);

  // Exact-string keys: no normalisation.
  await cached.embed(["A", "a "]);
  assert.deepEqual(inner.calls[2], ["A", "a "]);

  cached.clear();
  assert.equal(cached.stats.size, 0);
  await cached.dispose();
  assert.ok(inner.disposed);
});

Deno.test("maxEntries evicts the least recently used, and a small memo still answers every position", async () => {
  const inner = recordingEmbedder();
  const cached = cachingEmbedder(inner, { maxEntries: 2 });
  await cached.embed(["a", "b"]);
  await cached.embed(["a"]); // a is now the most recent
  await cached.embed(["c"]); // evicts b
  assert.equal(cached.stats.size, 2);
  await cached.embed(["a", "b"]);
  assert.deepEqual(inner.calls.at(-1), ["b"]);

  const out = await cached.embed(["x", "y", "z", "x"]);
  assert.deepEqual(out.map((v) => v[1]), [120, 121, 122, 120]);
  assert.equal(cached.stats.size, 2);

  const none = cachingEmbedder(recordingEmbedder(), { maxEntries: 0 });
  await none.embed(["q", "q"]);
  assert.deepEqual(none.stats, { hits: 1, misses: 1, innerCalls: 1, size: 0 });
  assert.throws(() => cachingEmbedder(inner, { maxEntries: -1 }), /maxEntries/);
});

Deno.test("a wrong number of vectors from the inner embedder is an error", async () => {
  const broken: SentenceEmbedder = {
    info: { name: "broken", kind: "lexical", source: "test", dimensions: 1, pooling: "none" },
    embed: () => Promise.resolve([]),
    dispose: () => Promise.resolve(),
  };
  await assert.rejects(cachingEmbedder(broken).embed(["a"]), /0 vectors for 1 sentences/);
});
