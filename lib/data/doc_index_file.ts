/**
 * Document-index files: a JSON list of 0-based document indices selecting which corpus documents to read (the
 * original's `--doc_indices_path`).
 * @module
 */
import { readFile } from "node:fs/promises";
import { isIndex, kindOf } from "./json_values.ts";

/** An index file that is not a JSON list of non-negative integers. */
export class DocIndexFileError extends Error {
  /** Builds the error for `path`. */
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = "DocIndexFileError";
  }
}

/**
 * Reads a document-index file: a JSON list of 0-based document indices (the original's `--doc_indices_path`).
 * Duplicates are allowed (the original made a set of them).
 */
export async function readDocIndexFile(path: string): Promise<Set<number>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    if (e instanceof SyntaxError) throw new DocIndexFileError(path, `not valid JSON (${e.message})`);
    throw e;
  }
  if (!Array.isArray(value)) {
    throw new DocIndexFileError(path, `expected a JSON list of indices, got ${kindOf(value)}`);
  }
  const out = new Set<number>();
  value.forEach((v, i) => {
    if (!isIndex(v)) {
      throw new DocIndexFileError(path, `element ${i} is not a non-negative integer: ${JSON.stringify(v)}`);
    }
    out.add(v);
  });
  return out;
}
