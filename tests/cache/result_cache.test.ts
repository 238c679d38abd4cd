import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { TOOLKIT_VERSION } from "../../lib/version.ts";
import {
  assertJson,
  CACHE_FORMAT,
  cached,
  cachePath,
  canonicalJson,
  contentHash,
  describeCached,
  FileHasher,
  forget,
  keyOf,
  NotJsonError,
  RECOMPUTE_ENV,
} from "../../lib/cache/result_cache.ts";
import { sha256Text } from "../../lib/io/sha256.ts";

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "result-cache-" });
}

Deno.test("canonicalJson: sorted keys at every level, undefined properties dropped, lossy values rejected", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }),
    '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
  );
  assert.equal(canonicalJson({ a: 1, u: undefined }), '{"a":1}');
  assert.equal(canonicalJson(new Date(0)), '"1970-01-01T00:00:00.000Z"');
  for (
    const [bad, what] of [
      [NaN, /NaN/],
      [Infinity, /Infinity/],
      [{ x: [1, undefined] }, /x\[1\]/],
      [
        new Float64Array(2),
        /Float64Array/,
      ],
      [{ m: new Map() }, /\.m: Map/],
      [1n, /bigint/],
    ] as const
  ) {
    assert.throws(() => canonicalJson(bad), (e: Error) => e instanceof NotJsonError && what.test(e.message));
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => assertJson(cyclic), /circular/);
});

Deno.test("keyOf: same inputs same key; key order irrelevant; params, file contents, version and label each change it", async () => {
  const dir = await tmp();
  const hasher = new FileHasher();
  const a = join(dir, "a.bin");
  await Deno.writeTextFile(a, "model weights v1");
  const base = { label: "score", params: { windows: 8, stride: 512 }, files: { model: a }, hasher };
  const k1 = await keyOf(base);
  assert.match(k1.key, /^[0-9a-f]{64}$/);
  assert.equal((await keyOf({ ...base, params: { stride: 512, windows: 8 } })).key, k1.key, "key order");
  assert.equal(k1.material.version, TOOLKIT_VERSION);
  assert.deepEqual(k1.material.files, { model: sha256Text("model weights v1") });
  assert.equal(await contentHash(a, hasher), sha256Text("model weights v1"));
  assert.notEqual((await keyOf({ ...base, params: { windows: 9, stride: 512 } })).key, k1.key, "params");
  assert.notEqual((await keyOf({ ...base, version: "9.9.9" })).key, k1.key, "version");
  assert.notEqual((await keyOf({ ...base, label: "other" })).key, k1.key, "label");
  assert.notEqual((await keyOf({ ...base, hashes: { corpus: "abc" } })).key, k1.key, "extra hashes");
  // Content, not path: a copy elsewhere gives the same key; an edit gives another.
  const b = join(dir, "copy.bin");
  await Deno.copyFile(a, b);
  assert.equal((await keyOf({ ...base, files: { model: b } })).key, k1.key, "moved file");
  await Deno.writeTextFile(b, "model weights v2");
  assert.notEqual((await keyOf({ ...base, files: { model: b } })).key, k1.key, "edited file");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("FileHasher: folders hash by relative paths and contents; the (size, mtime, inode) memo avoids re-reading and persists", async () => {
  const dir = await tmp();
  const model = join(dir, "model");
  await Deno.mkdir(join(model, "onnx"), { recursive: true });
  await Deno.writeTextFile(join(model, "config.json"), "{}");
  await Deno.writeTextFile(join(model, "onnx", "model.onnx"), "graph");
  // Files as a model folder's are: written well before they are hashed (fresh ones: the racy test below).
  const old = new Date(Date.now() - 60_000);
  for (const f of [join(model, "config.json"), join(model, "onnx", "model.onnx")]) {
    await Deno.utime(f, old, old);
  }
  const memoPath = join(dir, "memo", "file-hashes.json");
  const h = new FileHasher(memoPath);
  const folder = await h.hashPath(model);
  assert.equal(h.hashedCount, 2);
  assert.equal(await h.hashPath(model), folder);
  assert.equal(h.hashedCount, 2, "second pass served from the memo");
  // Same tree elsewhere: same hash. A renamed file inside: another hash.
  const other = join(dir, "elsewhere");
  await Deno.mkdir(join(other, "onnx"), { recursive: true });
  await Deno.writeTextFile(join(other, "config.json"), "{}");
  await Deno.writeTextFile(join(other, "onnx", "model.onnx"), "graph");
  assert.equal(await h.hashPath(other), folder);
  await Deno.rename(join(other, "config.json"), join(other, "config2.json"));
  assert.notEqual(await h.hashPath(other), folder);

  // The memo is trusted while size+mtime+inode match (that is the point: big files are not re-read) …
  const f = join(model, "config.json");
  const st = await Deno.stat(f);
  await h.save();
  assert.ok(existsSync(memoPath));
  const h2 = new FileHasher(memoPath);
  await Deno.writeTextFile(f, "[]"); // same size
  await Deno.utime(f, st.atime!, st.mtime!); // same mtime
  assert.equal(await h2.hashFile(f), sha256Text("{}"), "memo from disk used: same size, mtime and inode");
  assert.equal(h2.hashedCount, 0);
  // … and a changed mtime makes it re-read the file.
  await Deno.utime(f, st.atime!, new Date(st.mtime!.getTime() + 5000));
  assert.equal(await h2.hashFile(f), sha256Text("[]"));
  assert.equal(h2.hashedCount, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("FileHasher: a file rewritten within the mtime tick it was hashed in is read again (racy memo)", async () => {
  const dir = await tmp();
  const f = join(dir, "weights.bin");
  await Deno.writeTextFile(f, "weights v1");
  const h = new FileHasher(join(dir, "file-hashes.json"));
  assert.equal(await h.hashFile(f), sha256Text("weights v1"));
  const st = await Deno.stat(f);
  // Same size, same inode, and (as on a fast machine or a coarse-timestamp filesystem) the same mtime.
  await Deno.writeTextFile(f, "weights v2");
  await Deno.utime(f, st.atime!, st.mtime!);
  assert.equal(await h.hashFile(f), sha256Text("weights v2"), "in memory");
  await h.save();
  await Deno.writeTextFile(f, "weights v3");
  await Deno.utime(f, st.atime!, st.mtime!);
  const h2 = new FileHasher(join(dir, "file-hashes.json"));
  assert.equal(await h2.hashFile(f), sha256Text("weights v3"), "from the saved memo");
  assert.equal(h2.hashedCount, 1);
  // A memo entry of an older version (no hashedAtMs) is not trusted either.
  const memo = JSON.parse(await Deno.readTextFile(join(dir, "file-hashes.json")));
  for (const e of Object.values(memo.files) as { hashedAtMs?: number }[]) delete e.hashedAtMs;
  await Deno.writeTextFile(join(dir, "file-hashes.json"), JSON.stringify(memo));
  const h3 = new FileHasher(join(dir, "file-hashes.json"));
  await h3.hashFile(f);
  assert.equal(h3.hashedCount, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cached: computes once, then reuses; force recomputes; the value is the JSON round-trip either way", async () => {
  const dir = await tmp();
  const key = await keyOf({ label: "sweep", params: { t: [0.5, 1] }, hasher: new FileHasher() });
  let calls = 0;
  const compute = () => {
    calls++;
    return { rows: [1, 2, 3], when: new Date(0), dropped: undefined };
  };
  const first = await cached(key, compute, { dir });
  assert.equal(first.reused, false);
  assert.equal(first.reason, "missing");
  assert.equal(first.key, key.key);
  assert.equal(first.path, join(dir, `${key.key}.json`));
  assert.deepEqual(first.value, { rows: [1, 2, 3], when: "1970-01-01T00:00:00.000Z" });
  assert.match(
    describeCached(first),
    /^computed \(no cached result\) "sweep" in \d+\.\d s; cached as [0-9a-f]{12}…$/,
  );

  const second = await cached(key, compute, { dir });
  assert.equal(second.reused, true);
  assert.equal(calls, 1);
  assert.deepEqual(second.value, first.value);
  assert.equal(second.computedAt, first.computedAt);
  assert.match(describeCached(second), /^reused cached "sweep" \(key [0-9a-f]{12}…, computed 20\d\d-/);

  const forced = await cached(key, compute, { dir, force: true });
  assert.equal(forced.reused, false);
  assert.equal(forced.reason, "forced");
  assert.equal(calls, 2);

  // The stored entry carries the key material; no temporary files are left behind.
  const entry = JSON.parse(await Deno.readTextFile(first.path));
  assert.equal(entry.format, CACHE_FORMAT);
  assert.deepEqual(entry.material, key.material);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [`${key.key}.json`]);
  assert.equal(await forget(key, dir), true);
  assert.equal(await forget(key, dir), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cached: MODE_COLLAPSE_RECOMPUTE=1 forces; a damaged or foreign entry is recomputed, never trusted", async () => {
  const dir = await tmp();
  let calls = 0;
  const compute = () => ++calls;
  await cached("k1", compute, { dir });
  Deno.env.set(RECOMPUTE_ENV, "1");
  try {
    assert.equal((await cached("k1", compute, { dir })).reason, "forced");
  } finally {
    Deno.env.delete(RECOMPUTE_ENV);
  }
  assert.equal((await cached("k1", compute, { dir })).reused, true);
  await Deno.writeTextFile(cachePath("k1", dir), '{"format": "result-cache/1", "key": "k1", "val');
  const r = await cached("k1", compute, { dir });
  assert.equal(r.reason, "unreadable");
  assert.equal(r.value, 3);
  // An entry whose key does not match its file name (copied by hand) is not used either.
  await Deno.copyFile(cachePath("k1", dir), cachePath("k2", dir));
  assert.equal((await cached("k2", compute, { dir })).reason, "unreadable");
  assert.throws(() => cachePath("../escape", dir), /bad cache key/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cached: encode/decode for values JSON cannot hold; lossy values without them are refused; concurrent calls compute once", async () => {
  const dir = await tmp();
  const r = await cached("typed", () => new Float64Array([1.5, 2.5]), {
    dir,
    encode: (v) => Array.from(v),
    decode: (j) => Float64Array.from(j as number[]),
  });
  assert.ok(r.value instanceof Float64Array);
  assert.deepEqual(
    Array.from(
      (await cached("typed", () => new Float64Array(), {
        dir,
        decode: (j) => Float64Array.from(j as number[]),
      })).value,
    ),
    [1.5, 2.5],
  );
  await assert.rejects(
    cached("nan", () => ({ x: NaN }), { dir }),
    /cached value\.x: NaN does not survive JSON/,
  );
  assert.ok(!existsSync(cachePath("nan", dir)), "nothing stored for a refused value");
  let calls = 0;
  const slow = async () => {
    calls++;
    await new Promise((ok) => setTimeout(ok, 30));
    return calls;
  };
  const [a, b] = await Promise.all([cached("same", slow, { dir }), cached("same", slow, { dir })]);
  assert.equal(calls, 1);
  assert.equal(a.value, b.value);
  await Deno.remove(dir, { recursive: true });
});
