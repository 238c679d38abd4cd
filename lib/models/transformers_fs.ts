/**
 * A guard around transformers.js loading calls against a memory leak of its 4.3.1 file layer: every local file
 * it opens is wrapped in a `FileResponse` whose constructor starts `fs.createReadStream(file)` into a body that
 * nothing reads (the bytes come from a separate `readFile`, and onnxruntime opens the ONNX graph itself). The
 * stream advances whenever the event loop turns, so the whole model file (281 MB for Pythia-70M) piles up in
 * memory during scoring until it has been read to its end. While the guard is active, read streams opened on
 * files under the given folders are closed at once; any other read stream is left alone.
 * @module
 */
import fs from "node:fs";
import { resolve, sep } from "node:path";

let active = 0;
const guarded: string[][] = [];
const original = fs.createReadStream;

function patched(this: unknown, ...args: Parameters<typeof original>): ReturnType<typeof original> {
  const stream = original.apply(fs, args);
  const path = typeof args[0] === "string" ? resolve(args[0]) : undefined;
  if (
    path !== undefined && guarded.some((dirs) => dirs.some((d) => path === d || path.startsWith(d + sep)))
  ) {
    stream.destroy();
  }
  return stream;
}

/**
 * Runs `load` (a transformers.js `from_pretrained` call) with the unread file streams it would open under
 * `folders` closed at once. Nested and concurrent calls are fine.
 */
export async function withoutUnreadFileStreams<T>(
  folders: readonly string[],
  load: () => Promise<T>,
): Promise<T> {
  const dirs = folders.map((f) => resolve(f));
  guarded.push(dirs);
  // deno-lint-ignore no-explicit-any
  if (active++ === 0) (fs as any).createReadStream = patched;
  try {
    return await load();
  } finally {
    guarded.splice(guarded.indexOf(dirs), 1);
    // deno-lint-ignore no-explicit-any
    if (--active === 0) (fs as any).createReadStream = original;
  }
}
