/**
 * A corpus document, and how one line of a Pile-format JSONL file becomes one, following lm_dataformat (which the
 * paper's pipeline read the corpus with): `ob["text"]`, list-valued text joined with "\n\n", a bare JSON string
 * line taken as the text. A malformed line gives the reason instead of a document.
 * @module
 */
import { Buffer } from "node:buffer";
import { kindOf } from "./json_values.ts";

/** One document of the corpus. */
export interface CorpusDocument {
  /**
   * 0-based position of the document's line in the stream (= `line - 1`). This is the `i` of the original's
   * `enumerate(stream_data())`, which had one document per line; malformed lines leave gaps rather than shifting
   * later indices, so an index file addresses the same documents whatever the reader had to skip.
   */
  index: number;
  /** 1-based line number in the (decompressed) file. */
  line: number;
  /** The document text (a list-valued `text` is joined with "\n\n", as lm_dataformat did). */
  text: string;
  /** The line's `meta` object, when it has one. */
  meta?: Record<string, unknown>;
  /** UTF-8 length of `text` in bytes. */
  bytes: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses one line (without its "\n"; a trailing "\r" is dropped) at 0-based line `index` into a document, or
 * returns what is wrong with it.
 */
export function parseCorpusLine(raw: Uint8Array, index: number): CorpusDocument | string {
  const bytes = raw.length > 0 && raw[raw.length - 1] === 13 ? raw.subarray(0, raw.length - 1) : raw;
  let source: string;
  try {
    source = utf8.decode(bytes);
  } catch {
    return `invalid UTF-8 at byte ${firstInvalidUtf8(bytes)} of the line`;
  }
  if (source.trim() === "") return "empty line";
  let ob: unknown;
  try {
    ob = JSON.parse(source);
  } catch (e) {
    return `invalid JSON (${(e as Error).message})`;
  }
  const line = index + 1;
  // lm_dataformat's legacy form: a line holding just the text.
  if (typeof ob === "string") return { index, line, text: ob, bytes: Buffer.byteLength(ob, "utf8") };
  if (ob === null || typeof ob !== "object" || Array.isArray(ob)) {
    return `expected a JSON object, got ${kindOf(ob)}`;
  }
  const record = ob as Record<string, unknown>;
  if (!("text" in record)) return `no "text" field`;
  let text = record.text;
  if (Array.isArray(text)) {
    const bad = text.findIndex((t) => typeof t !== "string");
    if (bad >= 0) return `"text" is a list whose element ${bad} is ${kindOf(text[bad])}, not a string`;
    text = text.join("\n\n");
  }
  if (typeof text !== "string") return `"text" is ${kindOf(text)}, not a string or a list of strings`;
  const doc: CorpusDocument = { index, line, text, bytes: Buffer.byteLength(text, "utf8") };
  const meta = record.meta;
  if (meta !== undefined && meta !== null) {
    if (typeof meta !== "object" || Array.isArray(meta)) return `"meta" is ${kindOf(meta)}, not an object`;
    doc.meta = meta as Record<string, unknown>;
  }
  return doc;
}

/** Offset of the first byte where `bytes` stops being valid UTF-8 (for the skip reason). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.length;
  // Valid prefixes are monotone up to the bad byte, give or take a sequence: bisect, then step back.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (validPrefix(bytes.subarray(0, mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function validPrefix(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}
