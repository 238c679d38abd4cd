/**
 * Pile-format corpus reader: one JSON object per line (`{"text": …, "meta": {…}}`), plain `.jsonl` or
 * zstd-compressed `.jsonl.zst`, streamed so that memory does not depend on the file's size. Lines become documents
 * as lm_dataformat made them for the paper's pipeline (lib/data/corpus_document.ts), document indices counted over
 * the lines of the stream. Unlike the original, which streamed the whole file whatever it needed
 * (docs/PAPER_QUIRKS.md, Whole corpus streamed), it stops reading once the selected documents are done, and it
 * reports malformed lines instead of crashing on them.
 *
 * zstd is decoded with zstd-napi's native streaming context when its build loaded, else with `node:zlib`'s zstd
 * decompressor (the reader's stats say which, and why). A truncated or corrupt `.zst` stops with a
 * {@link CorpusDecodeError} naming the file and the compressed byte offset, after every complete line decoded before
 * it has been yielded.
 * @module
 */
import { open, stat } from "node:fs/promises";
import { type CorpusDocument, parseCorpusLine } from "./corpus_document.ts";
import { isIndex } from "./json_values.ts";
import { chooseZstdDecoder, type ZstdDecoderName } from "./zstd_backend.ts";
import { decodeZstd } from "./zstd_decode.ts";
import { hasZstdMagic, ZstdFailure } from "./zstd_frames.ts";

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

/** Options of {@link readCorpus}. */
export interface ReadCorpusOptions {
  /**
   * Only documents whose index is below this (the original's `set(range(max_docs))`); reading stops there. Lines
   * are indices, so where some of the first `maxDocs` lines are malformed, fewer documents come out (see
   * `stats.missing`).
   */
  maxDocs?: number;
  /** Only documents with these indices (e.g. from `readDocIndexFile`); reading stops after the largest. */
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
const SKIP_SAMPLES = 10;

const DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024;
const PLAIN_CHUNK = 256 * 1024;
const ZST_CHUNK = 128 * 1024;

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
        : parseCorpusLine(parts.length === 1 ? parts[0] : concat(parts, lineBytes), index);
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

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
