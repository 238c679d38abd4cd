/**
 * Where a command may write, checked before any work: an output is a regular file or nothing yet (not a
 * folder, not a device), it is none of the inputs (compared by real path, so links and `..` do not hide one),
 * two outputs are not the same file, and its folder takes a new file. Also names that become path segments
 * (model and pack names) are refused when they could leave the folder they are put in, and write errors are
 * given the path they concern.
 * @module
 */
import { existsSync, lstatSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** A file (or, for a model, a folder) a command reads or writes, with what names it on the command line. */
export interface NamedPath {
  /** How the user gave it: `--out`, `--data`, `the study file`, … */
  what: string;
  /** The path as given. */
  path: string;
}

/** The absolute path with every existing part resolved through links (what a write would really touch). */
export function realPathOf(path: string): string {
  const abs = resolve(path);
  const rest: string[] = [];
  let at = abs;
  for (;;) {
    try {
      return rest.length === 0 ? realpathSync(at) : join(realpathSync(at), ...rest.reverse());
    } catch {
      const parent = dirname(at);
      if (parent === at) return abs;
      rest.push(basename(at));
      at = parent;
    }
  }
}

function kindOf(path: string): string | undefined {
  try {
    const s = statSync(path);
    if (s.isFile()) return undefined;
    return s.isDirectory() ? "a directory" : "not a regular file (a device, pipe or socket)";
  } catch (e) {
    // Deno lets only --allow-all touch devices (/dev/…): a path it refuses that way is not a plain file.
    if ((e as Error)?.name === "NotCapable") return "not a regular file (a device, pipe or socket)";
    return undefined; // absent (or a dangling link: writing replaces it)
  }
}

function inside(child: string, folder: string): boolean {
  const r = relative(folder, child);
  return r === "" || (!r.startsWith("..") && !isAbsolute(r));
}

/**
 * Throws an Error naming both paths when an output is a folder or a device, is (or lies inside, for a folder
 * input such as a model) one of `inputs`, or is the same file as another output.
 */
export function checkOutputPaths(outputs: readonly NamedPath[], inputs: readonly NamedPath[]): void {
  const real = outputs.map((o) => ({ ...o, real: realPathOf(o.path) }));
  for (const o of real) {
    const kind = kindOf(o.real);
    if (kind !== undefined) {
      throw new Error(`${o.what} ${o.path} is ${kind}; give the path of a file to write`);
    }
  }
  real.forEach((o, i) => {
    const twin = real.findIndex((x, j) => j < i && x.real === o.real);
    if (twin >= 0) {
      throw new Error(`${real[twin].what} ${real[twin].path} and ${o.what} ${o.path} are the same file`);
    }
  });
  for (const input of inputs) {
    if (!existsSync(input.path)) continue;
    const r = realPathOf(input.path);
    const folder = lstatSync(r).isDirectory();
    for (const o of real) {
      if (o.real === r) {
        throw new Error(
          `${o.what} ${o.path} is the input ${input.what} ${input.path}: writing it would destroy the input`,
        );
      }
      if (folder && inside(o.real, r) && existsSync(o.real)) {
        throw new Error(
          `${o.what} ${o.path} is a file of the input ${input.what} ${input.path}: writing it would change the ` +
            "input",
        );
      }
    }
  }
}

/** Makes `dir` (and its parents) and checks that a file can be created in it; the error names the folder. */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const probe = join(dir, `.write-probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    await Deno.writeFile(probe, new Uint8Array(0), { createNew: true });
  } catch (e) {
    throw new Error(`cannot write in ${dir}: ${(e as Error).message}`, { cause: e });
  }
  await Deno.remove(probe).catch(() => {});
}

/** `e` as an Error whose message names `path` ("cannot write <path>: …") unless it already does. */
export function writeErrorFor(path: string, e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  if (message.includes(path)) return e instanceof Error ? e : new Error(message);
  return new Error(`cannot write ${path}: ${message}`, { cause: e });
}

/** Runs `write`, rethrowing its error with `path` in the message (see {@link writeErrorFor}). */
export async function writingTo<T>(path: string, write: () => Promise<T> | T): Promise<T> {
  try {
    return await write();
  } catch (e) {
    throw writeErrorFor(path, e);
  }
}

/**
 * `name` when it can be one path segment (letters, digits, `.`, `_`, `-`; not `.` or `..`, no separator);
 * otherwise an Error saying what it is and where it came from.
 */
export function safePathSegment(name: string, what: string): string {
  if (!/^[\w.-]+$/.test(name) || name === "." || name === ".." || name.includes(sep)) {
    throw new Error(
      `${what} ${JSON.stringify(name)} cannot be used in a file name: use letters, digits, '.', '_' or '-' ` +
        "(and not '.' or '..')",
    );
  }
  return name;
}
