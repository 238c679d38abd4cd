/**
 * Pile-format corpus reader: one JSON object per line (`{"text": …, "meta": {…}}`), plain `.jsonl` or
 * zstd-compressed `.jsonl.zst`, streamed so that memory does not depend on the file's size. Reads documents the way
 * the paper's pipeline did through lm_dataformat (SEED.md §3.1): `ob["text"]`, list-valued text joined with "\n\n",
 * a bare JSON string line taken as the text, document indices counted over the lines of the stream. Unlike the
 * original it stops reading once the selected documents are done (SEED.md §9 item 8) and reports malformed lines
 * instead of crashing on them.
 *
 * zstd is decoded with zstd-napi's native streaming context when its build loaded, else with `node:zlib`'s zstd
 * decompressor (the reader's stats say which, and why). A truncated or corrupt `.zst` stops with a
 * {@link CorpusDecodeError} naming the file and the compressed byte offset, after every complete line decoded before
 * it has been yielded.
 * @module
 */
import { open, readFile, stat } from "node:fs/promises";
import { Buffer } from "node:buffer";
import { createZstdDecompress } from "node:zlib";

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

/** A malformed line that was skipped. */
export interface CorpusSkip {
  /** The corpus file. */
  path: string;
  /** 1-based line number. */
  line: number;
  /** What is wrong with the line (without the location). */
  reason: string;
  /** `path:line: reason`. */
  message: string;
}

/** Which zstd decoder reads `.zst` input. */
export type ZstdDecoderName = "zstd-napi" | "node:zlib";

/** Options of {@link readCorpus}. */
export interface ReadCorpusOptions {
  /**
   * Only documents whose index is below this (the original's `set(range(max_docs))`); reading stops there. Lines
   * are indices, so where some of the first `maxDocs` lines are malformed, fewer documents come out (see
   * `stats.missing`).
   */
  maxDocs?: number;
  /** Only documents with these indices (e.g. from {@link readDocIndexFile}); reading stops after the largest. */
  docIndices?: Iterable<number>;
  /**
   * Pass over the first N documents the selection would yield (resuming after N documents). They are still
   * validated, so the count matches the earlier run's exactly, but malformed lines among them are neither reported
   * through `onSkip` nor fatal: the run being resumed already reported them. They are counted in
   * `stats.skippedBeforeStart`.
   */
  startAt?: number;
  /**
   * Called with each document passed over because of `startAt`, in order (a resumed run checks that they are the
   * documents it scored before).
   */
  onPassOver?: (doc: CorpusDocument) => void;
  /** Throw a {@link CorpusFormatError} at the first malformed line instead of skipping it. */
  strict?: boolean;
  /** Called for each malformed line that is skipped. */
  onSkip?: (skip: CorpusSkip) => void;
  /** Longest line accepted, in bytes; longer lines are malformed and are never held in memory (default 256 MiB). */
  maxLineBytes?: number;
  /** zstd decoder: "auto" (default) prefers zstd-napi and falls back to node:zlib; naming one requires it. */
  zstdDecoder?: "auto" | ZstdDecoderName;
}

/** Why reading ended. */
export type CorpusEnd = "eof" | "selection" | "consumer" | "error";

/** Running statistics of a {@link CorpusReader}, updated as it reads. */
export interface CorpusStats {
  /** The corpus file. */
  path: string;
  /**
   * Input format: from the file name, except that zstd data under another name (its first bytes are the zstd
   * magic number 28 B5 2F FD) is read as zstd (see `formatNote`).
   */
  format: "jsonl" | "jsonl.zst";
  /** Set when the contents contradict the name (e.g. a zstd-compressed file named `.jsonl`). */
  formatNote?: string;
  /** The zstd decoder used, or "none" for plain input (set when reading starts). */
  decoder: "none" | ZstdDecoderName;
  /** Why the node:zlib fallback was used, when it was. */
  decoderNote?: string;
  /** Lines scanned, including lines outside the selection (which are not parsed) and malformed ones. */
  lines: number;
  /** Documents yielded. */
  documents: number;
  /** Malformed lines skipped (and reported) within the selection. */
  skipped: number;
  /** The first few skipped lines. */
  skippedSamples: CorpusSkip[];
  /** Documents passed over because of `startAt`. */
  passedOver: number;
  /** Malformed lines met while passing over the `startAt` documents (not reported again). */
  skippedBeforeStart: number;
  /** Bytes of the file consumed: compressed bytes taken by the decoder for `.zst`, bytes read for plain input. */
  inputBytes: number;
  /** Bytes of JSONL text scanned (decompressed bytes for `.zst`). */
  decodedBytes: number;
  /** Why reading ended; undefined while it runs. */
  end?: CorpusEnd;
  /**
   * Selected indices that gave no document (malformed, or past the end of the file); set when reading ends at the
   * end of the file or of a bounded selection (`maxDocs` or `docIndices`).
   */
  missing?: number;
}

/** How many skipped lines {@link CorpusStats.skippedSamples} keeps. */
export const SKIP_SAMPLES = 10;

const DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024;
const PLAIN_CHUNK = 256 * 1024;
const ZST_CHUNK = 128 * 1024;
const ZLIB_WRITE = 16 * 1024;

/** A malformed line read with `strict`. */
export class CorpusFormatError extends Error {
  /** Builds the error for `path:line`. */
  constructor(readonly path: string, readonly line: number, readonly reason: string) {
    super(`${path}:${line}: ${reason}`);
    this.name = "CorpusFormatError";
  }
}

/** A truncated or corrupt `.zst` file. */
export class CorpusDecodeError extends Error {
  /** `offset`: compressed bytes decoded before the failure (the failing data starts there). */
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly fileSize: number,
    readonly detail: string,
    readonly documents: number,
    options?: ErrorOptions,
  ) {
    super(
      `${path}: ${detail} (compressed byte offset ${offset} of ${fileSize}); ` +
        `${documents} document${documents === 1 ? "" : "s"} read before it`,
      options,
    );
    this.name = "CorpusDecodeError";
  }
}

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

/**
 * Counts the corpus's lines, reading no further than `limit` lines (only the last of them is parsed): a count
 * below `limit` means the file ends before line `limit` — e.g. document index `limit - 1` is past its end.
 */
export async function countCorpusLines(path: string, limit: number): Promise<number> {
  if (!isIndex(limit) || limit < 1) throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`);
  const reader = readCorpus(path, { docIndices: [limit - 1] });
  for await (const _ of reader) { /* the stream stops after line `limit` */ }
  return reader.stats.lines;
}

/** Opens a corpus for streaming; iterate it once. Plain unless the name ends in `.zst`. */
export function readCorpus(path: string, options: ReadCorpusOptions = {}): CorpusReader {
  return new CorpusReader(path, options);
}

/** A single-use stream of a corpus's documents, with {@link CorpusStats} kept up to date as it reads. */
export class CorpusReader implements AsyncIterable<CorpusDocument> {
  /** Statistics so far. */
  readonly stats: CorpusStats;
  readonly #options: ReadCorpusOptions;
  readonly #selection: Selection;
  #started = false;

  /** Validates the options; nothing is read until iteration. */
  constructor(readonly path: string, options: ReadCorpusOptions = {}) {
    this.#options = options;
    this.#selection = new Selection(options);
    for (const [name, v] of [["startAt", options.startAt], ["maxLineBytes", options.maxLineBytes]] as const) {
      if (v !== undefined && !isIndex(v)) {
        throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
      }
    }
    this.stats = {
      path,
      format: path.toLowerCase().endsWith(".zst") ? "jsonl.zst" : "jsonl",
      decoder: "none",
      lines: 0,
      documents: 0,
      skipped: 0,
      skippedSamples: [],
      passedOver: 0,
      skippedBeforeStart: 0,
      inputBytes: 0,
      decodedBytes: 0,
    };
  }

  /** The documents, in file order. */
  [Symbol.asyncIterator](): AsyncIterator<CorpusDocument> {
    if (this.#started) throw new Error(`${this.path}: a corpus reader can be iterated only once`);
    this.#started = true;
    return this.#documents();
  }

  async *#documents(): AsyncGenerator<CorpusDocument> {
    const stats = this.stats;
    const sel = this.#selection;
    const maxLine = this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    let toPassOver = this.#options.startAt ?? 0;
    let index = 0; // index of the line being assembled
    let parts: Uint8Array[] = [];
    let lineBytes = 0; // bytes of the current line so far (counted even when they are not kept)
    let wanted = sel.wants(0);
    // A finished line: parse it if selected, yield it unless it is passed over for startAt.
    const finish = (): CorpusDocument | undefined => {
      stats.lines++;
      if (!wanted) return undefined;
      const passing = toPassOver > 0;
      const parsed = lineBytes > maxLine
        ? `line is ${lineBytes} bytes, longer than the limit of ${maxLine}`
        : parseLine(parts.length === 1 ? parts[0] : concat(parts, lineBytes), index);
      if (typeof parsed === "string") {
        if (passing) stats.skippedBeforeStart++;
        else this.#skip(index + 1, parsed);
        return undefined;
      }
      if (passing) {
        toPassOver--;
        stats.passedOver++;
        this.#options.onPassOver?.(parsed);
        return undefined;
      }
      return parsed;
    };
    try {
      if (sel.exhausted(0)) {
        stats.end = "selection";
        stats.missing = sel.missing(0);
        return;
      }
      const source = await this.#open();
      for await (const chunk of source) {
        stats.decodedBytes += chunk.length;
        let pos = 0;
        while (pos < chunk.length) {
          const nl = chunk.indexOf(10, pos);
          const end = nl < 0 ? chunk.length : nl;
          // Keep the bytes only of selected lines, and only while under the limit: memory stays bounded.
          if (wanted && lineBytes + (end - pos) <= maxLine) parts.push(chunk.subarray(pos, end));
          else parts = [];
          lineBytes += end - pos;
          if (nl < 0) break;
          pos = nl + 1;
          const doc = finish();
          parts = [];
          lineBytes = 0;
          index++;
          wanted = sel.wants(index);
          if (doc !== undefined) {
            stats.documents++;
            yield doc;
          }
          if (sel.exhausted(index)) {
            stats.end = "selection";
            stats.missing = sel.missing(stats.documents + stats.passedOver);
            return;
          }
        }
      }
      // A last line without a newline still counts.
      if (lineBytes > 0) {
        const doc = finish();
        if (doc !== undefined) {
          stats.documents++;
          yield doc;
        }
      }
      stats.end = "eof";
      stats.missing = sel.missing(stats.documents + stats.passedOver);
    } catch (e) {
      stats.end = "error";
      if (e instanceof ZstdFailure) {
        // The incomplete line at the cut is dropped: it cannot be told apart from a complete one.
        const size = (await stat(this.path)).size;
        throw new CorpusDecodeError(this.path, e.offset, size, e.message, stats.documents, {
          cause: e.cause,
        });
      }
      throw e;
    } finally {
      stats.end ??= "consumer";
    }
  }

  /** Byte chunks of the JSONL text: the file itself or its zstd decoding. */
  async #open(): Promise<AsyncIterable<Uint8Array>> {
    const stats = this.stats;
    const progress = { consumed: 0 };
    const counted = async function* (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        stats.inputBytes = progress.consumed;
        yield chunk;
      }
      stats.inputBytes = progress.consumed;
    };
    if (this.stats.format === "jsonl" && await hasZstdMagic(this.path)) {
      stats.format = "jsonl.zst";
      stats.formatNote =
        `${this.path} is zstd-compressed (it starts with the zstd magic number 28 B5 2F FD); ` +
        "read as zstd — name it .jsonl.zst";
    }
    if (this.stats.format === "jsonl") return counted(readChunks(this.path, PLAIN_CHUNK, progress));
    const choice = await chooseZstdDecoder(this.#options.zstdDecoder ?? "auto");
    stats.decoder = choice.name;
    if (choice.note !== undefined) stats.decoderNote = choice.note;
    return counted(decodeZstd(readChunks(this.path, ZST_CHUNK), choice, progress));
  }

  #skip(line: number, reason: string): void {
    const { path, stats } = this;
    if (this.#options.strict) throw new CorpusFormatError(path, line, reason);
    const skip: CorpusSkip = { path, line, reason, message: `${path}:${line}: ${reason}` };
    stats.skipped++;
    if (stats.skippedSamples.length < SKIP_SAMPLES) stats.skippedSamples.push(skip);
    this.#options.onSkip?.(skip);
  }
}

/** Which line indices are wanted: below maxDocs and, if given, in docIndices. */
class Selection {
  readonly #set: Set<number> | undefined;
  /** Largest wanted index (Infinity when unbounded). */
  readonly #last: number;
  /** Number of wanted indices, when bounded. */
  readonly #count: number | undefined;

  constructor(options: ReadCorpusOptions) {
    const { maxDocs, docIndices } = options;
    if (maxDocs !== undefined && !isIndex(maxDocs)) {
      throw new RangeError(`maxDocs must be a non-negative integer, got ${maxDocs}`);
    }
    const limit = maxDocs ?? Infinity;
    if (docIndices !== undefined) {
      const set = new Set<number>();
      for (const i of docIndices) {
        if (!isIndex(i)) throw new RangeError(`document index ${i} is not a non-negative integer`);
        if (i < limit) set.add(i);
      }
      this.#set = set;
      let last = -1;
      for (const i of set) last = i > last ? i : last;
      this.#last = last;
      this.#count = set.size;
    } else {
      this.#last = limit - 1;
      this.#count = maxDocs;
    }
  }

  wants(index: number): boolean {
    return index <= this.#last && (this.#set === undefined || this.#set.has(index));
  }

  /** True when no index from `index` on is wanted: reading can stop. */
  exhausted(index: number): boolean {
    return index > this.#last;
  }

  /** Wanted indices that gave no document, given how many did. */
  missing(found: number): number | undefined {
    return this.#count === undefined ? undefined : this.#count - found;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses one line (without its "\n") into a document, or returns what is wrong with it. */
function parseLine(raw: Uint8Array, index: number): CorpusDocument | string {
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

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function isIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** The first four bytes of a zstd frame (RFC 8878 §3.1.1), as they appear in the file. */
export const ZSTD_MAGIC: readonly number[] = [0x28, 0xb5, 0x2f, 0xfd];

/** Whether the file starts with the zstd magic number, whatever its name. */
export async function hasZstdMagic(path: string): Promise<boolean> {
  const file = await open(path, "r");
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await file.read(head, 0, 4, 0);
    return bytesRead === 4 && ZSTD_MAGIC.every((b, i) => head[i] === b);
  } finally {
    await file.close();
  }
}

/** Reads a file in fresh chunks (they are kept by the line splitter, so buffers are not reused). */
async function* readChunks(
  path: string,
  size: number,
  progress?: { consumed: number },
): AsyncGenerator<Uint8Array> {
  const file = await open(path, "r");
  try {
    for (;;) {
      const buf = new Uint8Array(size);
      const { bytesRead } = await file.read(buf, 0, size, null);
      if (bytesRead === 0) return;
      if (progress) progress.consumed += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// zstd decoding

/** The parts of zstd-napi's low-level binding used here (its streaming context gives exact consumed counts). */
interface ZstdNapiBinding {
  DCtx: new () => { decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number] };
  dStreamOutSize(): number;
}

/** A decoder choice: the name, the binding for zstd-napi, and why the fallback was taken. */
interface ZstdChoice {
  name: ZstdDecoderName;
  binding?: ZstdNapiBinding;
  note?: string;
}

/** A decode failure at a compressed offset, turned into a {@link CorpusDecodeError} by the reader. */
class ZstdFailure extends Error {
  constructor(readonly offset: number, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

let napiLoad: Promise<ZstdNapiBinding | Error> | undefined;

/** Loads zstd-napi's native binding once; an Error says why it is unavailable (not built, no --allow-ffi). */
function loadZstdNapi(): Promise<ZstdNapiBinding | Error> {
  napiLoad ??= (async () => {
    try {
      const mod = await import("zstd-napi/binding.js") as { default?: unknown };
      const binding = (mod.default ?? mod) as Partial<ZstdNapiBinding>;
      if (typeof binding.DCtx !== "function" || typeof binding.dStreamOutSize !== "function") {
        return new Error("zstd-napi's binding lacks DCtx/dStreamOutSize");
      }
      return binding as ZstdNapiBinding;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  })();
  return napiLoad;
}

async function chooseZstdDecoder(want: "auto" | ZstdDecoderName): Promise<ZstdChoice> {
  if (want === "node:zlib") return { name: "node:zlib" };
  const napi = await loadZstdNapi();
  if (!(napi instanceof Error)) return { name: "zstd-napi", binding: napi };
  const why = napi.message.split("\n")[0];
  if (want === "zstd-napi") throw new Error(`zstd-napi is not available: ${why}`, { cause: napi });
  return { name: "node:zlib", note: `zstd-napi did not load (${why}); using node:zlib's zstd decompressor` };
}

/** Which zstd decoder `.zst` corpora will use here, and why the fallback, when it is the one. */
export async function zstdDecoderInfo(): Promise<{ name: ZstdDecoderName; note?: string }> {
  const { name, note } = await chooseZstdDecoder("auto");
  return note === undefined ? { name } : { name, note };
}

/** {@link zstdDecoderInfo} in words (for `deno task setup`). */
export async function describeZstdDecoder(): Promise<string> {
  const { name, note } = await zstdDecoderInfo();
  return name === "zstd-napi" ? "zstd-napi (native build loaded) decodes .zst corpora" : note ?? name;
}

/**
 * Decodes a zstd byte stream. Every output produced before a failure is yielded before the failure is thrown, so
 * the reader can hand on every complete line. {@link ZstdFrameScanner} follows the frame structure alongside: it
 * detects truncation (node:zlib accepts a stream that ends inside a frame without complaint) and tells node:zlib's
 * decoder where frames end (Deno's stops after the first frame of a stream).
 */
async function* decodeZstd(
  source: AsyncIterable<Uint8Array>,
  choice: ZstdChoice,
  progress: { consumed: number },
): AsyncGenerator<Uint8Array> {
  const scanner = new ZstdFrameScanner();
  const pending = choice.binding !== undefined
    ? yield* napiDecode(choice.binding, source, scanner, progress)
    : yield* zlibDecode(source, scanner, progress);
  if (!scanner.atBoundary) {
    throw new ZstdFailure(
      progress.consumed,
      `truncated zstd stream: the file ends inside the frame that starts at compressed byte ${scanner.frameStart}`,
    );
  }
  if (pending) {
    throw new ZstdFailure(progress.consumed, "truncated zstd stream: the decoder expects more data");
  }
}

/** zstd-napi's streaming context; returns whether it stopped inside a frame. */
async function* napiDecode(
  binding: ZstdNapiBinding,
  source: AsyncIterable<Uint8Array>,
  scanner: ZstdFrameScanner,
  progress: { consumed: number },
): AsyncGenerator<Uint8Array, boolean> {
  const dctx = new binding.DCtx();
  const dst = new Uint8Array(binding.dStreamOutSize());
  let inFrame = false;
  for await (const chunk of source) {
    let src = chunk;
    for (;;) {
      let result: [number, number, number];
      try {
        result = dctx.decompressStream(dst, src);
      } catch (e) {
        throw new ZstdFailure(progress.consumed, `corrupt zstd data (${(e as Error).message})`, { cause: e });
      }
      const [hint, produced, consumed] = result;
      progress.consumed += consumed;
      src = src.subarray(consumed);
      inFrame = hint !== 0;
      if (produced > 0) yield dst.slice(0, produced);
      // Same stopping rule as zstd-napi's DecompressStream: input used up and no output left pending.
      if (src.length === 0 && (produced < dst.length || hint === 0)) break;
    }
    scanner.push(chunk);
    if (scanner.failure !== undefined) throw scanner.failure;
  }
  return inFrame;
}

/** node:zlib's zstd decompressor, a fresh one for each frame; it cannot tell whether it stopped inside a frame. */
async function* zlibDecode(
  source: AsyncIterable<Uint8Array>,
  scanner: ZstdFrameScanner,
  progress: { consumed: number },
): AsyncGenerator<Uint8Array, boolean> {
  let frame = new ZlibFrameDecoder();
  try {
    for await (const chunk of source) {
      const chunkStart = progress.consumed;
      const ends = scanner.push(chunk);
      // Up to each frame end, then the rest of the chunk (or up to where the structure turned invalid).
      const pieces = ends.map((end) => ({ end, frameEnd: true }));
      const stop = scanner.failure === undefined ? chunk.length : scanner.stoppedAt;
      if ((ends.at(-1) ?? 0) < stop) pieces.push({ end: stop, frameEnd: false });
      let from = 0;
      for (const { end, frameEnd } of pieces) {
        // Small writes: the failure offset is known to within ZLIB_WRITE bytes.
        for (let at = from; at < end; at += ZLIB_WRITE) {
          const stop = Math.min(at + ZLIB_WRITE, end);
          const failed = await frame.write(chunk.subarray(at, stop));
          yield* frame.take();
          if (failed !== undefined) {
            throw new ZstdFailure(chunkStart + at, `corrupt zstd data (${failed.message})`, {
              cause: failed,
            });
          }
          progress.consumed = chunkStart + stop;
        }
        if (frameEnd) {
          const failed = await frame.end();
          yield* frame.take();
          if (failed !== undefined) {
            throw new ZstdFailure(chunkStart + end, `corrupt zstd data (${failed.message})`, {
              cause: failed,
            });
          }
          frame = new ZlibFrameDecoder();
        }
        from = end;
      }
      if (scanner.failure !== undefined) throw scanner.failure;
    }
    const failed = await frame.end();
    yield* frame.take();
    if (failed !== undefined) {
      throw new ZstdFailure(progress.consumed, `corrupt zstd data (${failed.message})`, { cause: failed });
    }
    return false;
  } finally {
    frame.destroy();
  }
}

/**
 * One node:zlib zstd decompressor driven one write at a time, its output collected in flowing mode, so that what
 * was decoded before an error is not lost with the stream's buffer.
 */
class ZlibFrameDecoder {
  readonly #z = createZstdDecompress();
  #out: Uint8Array[] = [];
  #failure: Error | undefined;

  constructor() {
    this.#z.on("data", (c: Uint8Array) => this.#out.push(c));
    this.#z.on("error", (e: Error) => this.#failure ??= e);
  }

  /** Feeds bytes; resolves once they are decoded, with the decoder's error if it failed. */
  write(bytes: Uint8Array): Promise<Error | undefined> {
    if (bytes.length === 0) return Promise.resolve(this.#failure);
    return this.#settle((done) => this.#z.write(bytes, () => done()));
  }

  /** Ends the input; resolves once all output is out, with the decoder's error if it failed. */
  end(): Promise<Error | undefined> {
    return this.#settle((done) => {
      this.#z.once("end", done);
      this.#z.end();
    });
  }

  /** The output collected so far. */
  take(): Uint8Array[] {
    return this.#out.splice(0);
  }

  destroy(): void {
    this.#z.destroy();
  }

  #settle(start: (done: () => void) => void): Promise<Error | undefined> {
    if (this.#failure !== undefined) return Promise.resolve(this.#failure);
    const run = () =>
      new Promise<Error | undefined>((resolve) => {
        let settled = false;
        const done = () => {
          if (settled) return;
          settled = true;
          this.#z.off("error", done);
          globalThis.removeEventListener("error", onUncaught);
          // Let output events already queued arrive first.
          setImmediate(() => resolve(this.#failure));
        };
        // Deno's node:zlib throws a zstd error, instead of emitting it, when the error arises while it resumes a
        // write that had filled its output buffer; the throw surfaces as an uncaught error. Writes run one at a
        // time (ZLIB_TURN), so such an error belongs to this one.
        const onUncaught = (event: ErrorEvent) => {
          const e = event.error;
          if (!(e instanceof Error) || !e.message.startsWith("Zstd decompress error")) return;
          event.preventDefault();
          this.#failure ??= e;
          done();
        };
        globalThis.addEventListener("error", onUncaught);
        this.#z.once("error", done);
        start(done);
      });
    const turn = ZLIB_TURN.then(run);
    ZLIB_TURN = turn;
    return turn;
  }
}

/** The tail of the queue of node:zlib zstd writes, process-wide (see ZlibFrameDecoder). */
let ZLIB_TURN: Promise<unknown> = Promise.resolve();

/**
 * Frame structure (RFC 8878 §3.1) followed byte by byte, to tell where frames end; block contents are skipped, so
 * this costs next to nothing.
 */
class ZstdFrameScanner {
  /** Bytes scanned. */
  offset = 0;
  /** Start of the frame being scanned (from its first magic byte), or -1 between frames. */
  frameStart = -1;
  /** Set where the structure turned out invalid; scanning stops there. */
  failure: ZstdFailure | undefined;
  /** With `failure`: where in the last chunk scanning stopped. */
  stoppedAt = 0;
  #state: "magic" | "descriptor" | "block" | "skippable" = "magic";
  #head = new Uint8Array(4);
  #have = 0;
  #skip = 0;
  #after: "block" | "magic" = "magic";
  #checksum = false;

  /** True between frames (where a stream may end). */
  get atBoundary(): boolean {
    return this.#state === "magic" && this.#have === 0 && this.#skip === 0;
  }

  /** Scans the next bytes; returns the positions in `chunk` just past each frame that ends in it. */
  push(chunk: Uint8Array): number[] {
    const ends: number[] = [];
    if (this.failure !== undefined) return ends;
    let p = 0;
    while (p < chunk.length) {
      if (this.#skip > 0) {
        const k = Math.min(this.#skip, chunk.length - p);
        p += k;
        this.offset += k;
        this.#skip -= k;
        if (this.#skip === 0) this.#enter(this.#after);
      } else {
        if (this.#state === "magic" && this.#have === 0) this.frameStart = this.offset;
        this.#head[this.#have++] = chunk[p++];
        this.offset++;
        if (this.#have === this.#need()) {
          this.#have = 0;
          this.failure = this.#parse();
          if (this.failure !== undefined) {
            this.stoppedAt = p;
            return ends;
          }
        }
      }
      if (this.atBoundary && this.frameStart === -1 && ends.at(-1) !== p) ends.push(p);
    }
    return ends;
  }

  #need(): number {
    return this.#state === "descriptor" ? 1 : this.#state === "block" ? 3 : 4;
  }

  #enter(state: "block" | "magic"): void {
    this.#state = state;
    if (state === "magic") this.frameStart = -1;
  }

  #skipThen(n: number, next: "block" | "magic"): void {
    this.#skip = n;
    this.#after = next;
    if (n === 0) this.#enter(next);
  }

  #parse(): ZstdFailure | undefined {
    const h = this.#head;
    const at = this.offset - this.#need();
    switch (this.#state) {
      case "magic": {
        const magic = (h[0] | h[1] << 8 | h[2] << 16 | h[3] << 24) >>> 0;
        this.frameStart = at;
        if (magic === 0xfd2fb528) this.#state = "descriptor";
        else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) this.#state = "skippable";
        else return new ZstdFailure(at, `not zstd data (no frame magic number at compressed byte ${at})`);
        return;
      }
      case "skippable":
        this.#skipThen((h[0] | h[1] << 8 | h[2] << 16 | h[3] << 24) >>> 0, "magic");
        return;
      case "descriptor": {
        const d = h[0];
        if (d & 0x08) return new ZstdFailure(at, "corrupt zstd frame header (reserved bit set)");
        const single = (d >> 5) & 1;
        this.#checksum = ((d >> 2) & 1) === 1;
        const fcs = [single, 2, 4, 8][d >> 6];
        const dictId = [0, 1, 2, 4][d & 3];
        this.#skipThen((single ? 0 : 1) + dictId + fcs, "block");
        return;
      }
      case "block": {
        const bh = h[0] | h[1] << 8 | h[2] << 16;
        const type = (bh >> 1) & 3;
        if (type === 3) return new ZstdFailure(at, "corrupt zstd block (reserved block type)");
        const size = type === 1 ? 1 : bh >>> 3;
        if ((bh & 1) === 1) this.#skipThen(size + (this.#checksum ? 4 : 0), "magic");
        else this.#skipThen(size, "block");
        return;
      }
    }
  }
}
