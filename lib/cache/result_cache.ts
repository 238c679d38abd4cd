/**
 * Result cache for notebook cells: a cell that scores a corpus or runs a sweep reuses a stored result keyed by
 * everything that determines it, and recomputes only when a key part changes or when asked.
 *
 * ```ts
 * const key = await keyOf({
 *   label: "score tiny-base on the corpus",
 *   params: { windows: 8, stride: 512 },            // canonical JSON: key order does not matter
 *   files: { model: "../data/models/tiny-base", corpus: "../data/corpus/pile.jsonl.zst" }, // hashed by content
 * });
 * const scored = await cached(key, () => scoreCorpus(...), { force: recompute });
 * describeCached(scored); // "reused cached result … (computed 2026-… in 41.2 s)" or "computed … in 41.2 s, cached as …"
 * ```
 *
 * - The key is the sha256 of the canonical JSON of: the label, the parameters, the content hashes of the files
 *   (a folder hashes as the sorted list of its files' relative paths and hashes), extra hashes given as they are,
 *   and the toolkit version (lib/version.ts). Moving or renaming a file keeps its key part; editing it changes it.
 * - Files are hashed by content, with a memo of (size, mtime, inode) → sha256 kept in
 *   `results/cache/file-hashes.json`, so multi-GB model files are hashed once, not on every rerun.
 * - Results are stored as `results/cache/<key>.json`, written atomically, with the key material beside the value.
 *   An unreadable or mismatching entry is recomputed (and reported), never trusted.
 * - Values must survive JSON (no NaN, Infinity, Map, Set, typed arrays; pass `encode`/`decode` for those). The
 *   value returned is always the JSON round-trip, so a fresh computation and a reuse return the same thing.
 * - `force: true`, or `MODE_COLLAPSE_RECOMPUTE=1` in the environment (`deno task notebooks --recompute`),
 *   recomputes and replaces the entry.
 * @module
 */
import { existsSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { PROJECT_ROOT } from "../project_root.ts";
import { TOOLKIT_VERSION } from "../version.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { sha256File, sha256Text } from "../io/sha256.ts";

/** Default cache folder. */
export const CACHE_DIR: string = join(PROJECT_ROOT, "results", "cache");

/** Environment variable that makes every {@link cached} call recompute. */
export const RECOMPUTE_ENV = "MODE_COLLAPSE_RECOMPUTE";

/** Format tag of stored entries. */
export const CACHE_FORMAT = "result-cache/1";

/** Format tag of key material. */
const KEY_FORMAT = "cache-key/1";

/** A value that cannot be keyed or stored as JSON; the message gives its JSON path. */
export class NotJsonError extends Error {
  constructor(where: string, what: string) {
    super(`${where}: ${what} does not survive JSON (convert it, or pass encode/decode to cached())`);
    this.name = "NotJsonError";
  }
}

function checkJson(value: unknown, where: string, seen: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new NotJsonError(where, String(value));
      return;
    case "object": {
      if (value === null) return;
      if (seen.has(value)) throw new NotJsonError(where, "a circular reference");
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") return; // Date and friends: by design
      if (ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) {
        throw new NotJsonError(where, value.constructor.name);
      }
      seen.add(value);
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v === undefined || typeof v === "function") throw new NotJsonError(`${where}[${i}]`, String(v));
          checkJson(v, `${where}[${i}]`, seen);
        });
      } else {
        for (const [k, v] of Object.entries(value)) {
          if (v === undefined) continue; // dropped, as JSON does
          checkJson(v, `${where}.${k}`, seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      throw new NotJsonError(where, typeof value);
  }
}

/** Throws {@link NotJsonError} when `value` would not survive `JSON.stringify` → `JSON.parse` intact. */
export function assertJson(value: unknown, where = "value"): void {
  checkJson(value, where, new Set());
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
      return sortDeep(JSON.parse(JSON.stringify(v)));
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = sortDeep(v[k]);
    return out;
  }
  return value;
}

/** Canonical JSON: object keys sorted at every level, no whitespace; rejects what JSON would change. */
export function canonicalJson(value: unknown): string {
  assertJson(value);
  return JSON.stringify(sortDeep(value));
}

interface MemoEntry {
  size: number;
  mtimeMs: number;
  ino: number | null;
  sha256: string;
  /** Wall-clock time the hash was taken (absent in memos of older versions: such entries are not trusted). */
  hashedAtMs?: number;
}

/**
 * A memo entry is trusted only for a file last modified at least this long before it was hashed. A file edited
 * within the same mtime tick as the hashing (a quick rewrite of the same size; or a filesystem with coarse
 * timestamps) would otherwise look unchanged: the "racy clean" case git guards against the same way.
 */
export const RACY_MARGIN_MS = 2000;

/**
 * Content hashing of files and folders with a persistent memo: a file whose size, mtime and inode are unchanged
 * since it was last hashed, and which had not been modified just before that hashing, is not read again.
 */
export class FileHasher {
  /** Where the memo is kept (undefined: memory only). */
  readonly memoPath?: string;
  #memo?: Map<string, MemoEntry>;
  #dirty = false;
  /** Files actually read (not served from the memo) by this hasher; for tests and reports. */
  hashedCount = 0;

  constructor(memoPath?: string) {
    this.memoPath = memoPath;
  }

  #load(): Map<string, MemoEntry> {
    if (this.#memo !== undefined) return this.#memo;
    this.#memo = new Map();
    if (this.memoPath !== undefined && existsSync(this.memoPath)) {
      try {
        const data = JSON.parse(Deno.readTextFileSync(this.memoPath)) as {
          files?: Record<string, MemoEntry>;
        };
        for (const [k, v] of Object.entries(data.files ?? {})) {
          if (typeof v?.sha256 === "string" && typeof v.size === "number") this.#memo.set(k, v);
          // (entries without a numeric hashedAtMs are kept but never trusted: see RACY_MARGIN_MS)
        }
      } catch { /* a damaged memo is only a lost optimisation */ }
    }
    return this.#memo;
  }

  /** Writes the memo if it changed (atomically; concurrent writers lose entries, never correctness). */
  async save(): Promise<void> {
    if (!this.#dirty || this.memoPath === undefined) return;
    const files = Object.fromEntries([...this.#load().entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    await writeFileAtomic(this.memoPath, JSON.stringify({ format: "file-hashes/1", files }, null, 1) + "\n");
    this.#dirty = false;
  }

  /** sha256 (hex) of a file's content. */
  async hashFile(path: string): Promise<string> {
    const abs = await Deno.realPath(path);
    const st = await Deno.stat(abs);
    if (!st.isFile) throw new Error(`${path} is not a file`);
    const memo = this.#load();
    const mtimeMs = st.mtime?.getTime() ?? -1;
    const hit = memo.get(abs);
    if (
      hit !== undefined && hit.size === st.size && hit.mtimeMs === mtimeMs && hit.ino === (st.ino ?? null) &&
      hit.hashedAtMs !== undefined && mtimeMs >= 0 && mtimeMs <= hit.hashedAtMs - RACY_MARGIN_MS
    ) {
      return hit.sha256;
    }
    const hashedAtMs = Date.now();
    const sha256 = await sha256File(abs);
    this.hashedCount++;
    memo.set(abs, { size: st.size, mtimeMs, ino: st.ino ?? null, sha256, hashedAtMs });
    this.#dirty = true;
    return sha256;
  }

  /**
   * sha256 of a file, or of a folder: the canonical JSON of its files' relative paths (with `/`) and content
   * hashes, sorted by path (so a folder's hash does not depend on where it is).
   */
  async hashPath(path: string): Promise<string> {
    const st = await Deno.stat(path);
    if (st.isFile) return await this.hashFile(path);
    if (!st.isDirectory) throw new Error(`${path} is neither a file nor a folder`);
    const root = resolve(path);
    const entries: [string, string][] = [];
    const walk = async (dir: string) => {
      const names: string[] = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      for (const name of names.sort()) {
        const p = join(dir, name);
        const s = await Deno.stat(p);
        if (s.isDirectory) await walk(p);
        else if (s.isFile) entries.push([relative(root, p).split(sep).join("/"), await this.hashFile(p)]);
      }
    };
    await walk(root);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return sha256Text(canonicalJson({ folder: entries }));
  }
}

/** The default hasher, with its memo in `results/cache/file-hashes.json`. */
export const defaultHasher: FileHasher = new FileHasher(join(CACHE_DIR, "file-hashes.json"));

/** Content sha256 of a file or folder with the default hasher (memo kept), e.g. to show a data set's hash. */
export async function contentHash(path: string, hasher: FileHasher = defaultHasher): Promise<string> {
  const h = await hasher.hashPath(path);
  await hasher.save();
  return h;
}

/** What determines a result. */
export interface KeyParts {
  /** A short name of the computation, shown in reports ("score tiny-base"); part of the key. */
  label?: string;
  /** Parameters (any JSON value; canonicalised). */
  params?: unknown;
  /** Files or folders, hashed by content: named (`{model: path}`) or an ordered list. */
  files?: Record<string, string> | string[];
  /** Hashes already known (a data set's published sha256, a model's ModelInfo.files sha256s …), as given. */
  hashes?: Record<string, string>;
  /** Library version (default {@link TOOLKIT_VERSION}). */
  version?: string;
  /** Hasher (default {@link defaultHasher}). */
  hasher?: FileHasher;
}

/** A cache key and the material it was made from. */
export interface CacheKey {
  /** sha256 (hex) of the canonical JSON of {@link material}. */
  key: string;
  label?: string;
  /** Everything that went into the key (stored beside the value, to see why a key changed). */
  material: Record<string, unknown>;
}

/** Builds the key of a computation from everything that determines it (see the module doc). */
export async function keyOf(parts: KeyParts): Promise<CacheKey> {
  const hasher = parts.hasher ?? defaultHasher;
  let files: Record<string, string> | string[] | undefined;
  if (Array.isArray(parts.files)) {
    files = [];
    for (const p of parts.files) files.push(await hasher.hashPath(p));
  } else if (parts.files !== undefined) {
    files = {};
    for (const [name, p] of Object.entries(parts.files)) files[name] = await hasher.hashPath(p);
  }
  await hasher.save();
  const material: Record<string, unknown> = {
    format: KEY_FORMAT,
    version: parts.version ?? TOOLKIT_VERSION,
  };
  if (parts.label !== undefined) material.label = parts.label;
  if (parts.params !== undefined) material.params = parts.params;
  if (files !== undefined) material.files = files;
  if (parts.hashes !== undefined) material.hashes = parts.hashes;
  const key = sha256Text(canonicalJson(material));
  return { key, label: parts.label, material: JSON.parse(canonicalJson(material)) };
}

/** Options of {@link cached}. */
export interface CachedOptions<T> {
  /** Recompute and replace (default: `MODE_COLLAPSE_RECOMPUTE=1` in the environment). */
  force?: boolean;
  /** Cache folder (default {@link CACHE_DIR}). */
  dir?: string;
  /** Value → JSON-safe value, before storing. */
  encode?: (value: T) => unknown;
  /** Stored JSON → value (also applied to a fresh result, so both paths return the same). */
  decode?: (json: unknown) => T;
}

/** What {@link cached} did. */
export interface CachedResult<T> {
  value: T;
  /** True when the stored result was used, false when it was computed now. */
  reused: boolean;
  key: string;
  label?: string;
  /** The entry's file. */
  path: string;
  /** When the stored value was computed (ISO time). */
  computedAt: string;
  /** How long the computation took (then, for a reused result). */
  computeSeconds: number;
  /** Why it was computed rather than reused (absent when reused). */
  reason?: "missing" | "forced" | "unreadable";
}

interface Entry {
  format: string;
  key: string;
  label?: string;
  material?: unknown;
  computed_at: string;
  compute_seconds: number;
  toolkit_version: string;
  value: unknown;
}

const inFlight = new Map<string, Promise<CachedResult<unknown>>>();

/** The file of a key in `dir`. */
export function cachePath(key: string, dir: string = CACHE_DIR): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(key) || key.startsWith(".")) throw new Error(`bad cache key "${key}"`);
  return join(dir, `${key}.json`);
}

function envForce(): boolean {
  try {
    return Deno.env.get(RECOMPUTE_ENV) === "1";
  } catch {
    return false;
  }
}

/**
 * Returns the stored result of `key`, or computes it with `compute`, stores it atomically and returns it.
 * `key` is a {@link keyOf} result (recommended) or a plain key string.
 */
export function cached<T>(
  key: CacheKey | string,
  compute: () => T | Promise<T>,
  opts: CachedOptions<T> = {},
): Promise<CachedResult<T>> {
  const k: CacheKey = typeof key === "string" ? { key, material: { key } } : key;
  const path = cachePath(k.key, opts.dir ?? CACHE_DIR);
  const running = inFlight.get(path);
  if (running !== undefined) return running as Promise<CachedResult<T>>;
  const p = cachedNow(k, path, compute, opts).finally(() => inFlight.delete(path));
  inFlight.set(path, p as Promise<CachedResult<unknown>>);
  return p;
}

async function cachedNow<T>(
  k: CacheKey,
  path: string,
  compute: () => T | Promise<T>,
  opts: CachedOptions<T>,
): Promise<CachedResult<T>> {
  const decode = opts.decode ?? ((j: unknown) => j as T);
  const force = opts.force ?? envForce();
  let reason: CachedResult<T>["reason"] = force ? "forced" : "missing";
  if (!force && existsSync(path)) {
    try {
      const entry = JSON.parse(await Deno.readTextFile(path)) as Entry;
      if (entry.format !== CACHE_FORMAT || entry.key !== k.key || !("value" in entry)) {
        throw new Error("format or key mismatch");
      }
      return {
        value: decode(entry.value),
        reused: true,
        key: k.key,
        label: k.label ?? entry.label,
        path,
        computedAt: entry.computed_at,
        computeSeconds: entry.compute_seconds,
      };
    } catch (e) {
      console.error(`cache: ${path} is unreadable (${(e as Error).message}); recomputing`);
      reason = "unreadable";
    }
  }
  const t0 = performance.now();
  const raw = await compute();
  const computeSeconds = (performance.now() - t0) / 1000;
  const json = opts.encode ? opts.encode(raw) : raw;
  assertJson(json, k.label ? `cached value of "${k.label}"` : "cached value");
  const entry: Entry = {
    format: CACHE_FORMAT,
    key: k.key,
    label: k.label,
    material: k.material,
    computed_at: new Date().toISOString(),
    compute_seconds: Math.round(computeSeconds * 1000) / 1000,
    toolkit_version: TOOLKIT_VERSION,
    value: json,
  };
  const text = JSON.stringify(entry) + "\n";
  await writeFileAtomic(path, text);
  return {
    value: decode(JSON.parse(text).value),
    reused: false,
    key: k.key,
    label: k.label,
    path,
    computedAt: entry.computed_at,
    computeSeconds: entry.compute_seconds,
    reason,
  };
}

/** One line saying what {@link cached} did, for a notebook to print. */
export function describeCached(r: CachedResult<unknown>): string {
  const what = r.label ? `"${r.label}"` : "result";
  const short = r.key.slice(0, 12);
  if (r.reused) {
    return `reused cached ${what} (key ${short}…, computed ${r.computedAt} in ${
      r.computeSeconds.toFixed(1)
    } s); ` +
      `rerun with force: true or --recompute to recompute`;
  }
  const why = r.reason === "forced"
    ? "recomputed on request"
    : r.reason === "unreadable"
    ? "recomputed (the stored entry was unreadable)"
    : "computed (no cached result)";
  return `${why} ${what} in ${r.computeSeconds.toFixed(1)} s; cached as ${short}…`;
}

/** Deletes a cached entry (true if there was one). */
export async function forget(key: CacheKey | string, dir: string = CACHE_DIR): Promise<boolean> {
  const path = cachePath(typeof key === "string" ? key : key.key, dir);
  try {
    await Deno.remove(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
