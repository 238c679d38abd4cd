/**
 * The journal of a completion sweep, `completions-journal/1`: a JSON-lines file beside the output that gets one
 * line per finished (temperature, prompt) cell, appended and flushed to disk as soon as the cell is done. Its
 * first line names the run (a key over everything that determines the samples), so a resumed sweep continues
 * only the run it belongs to. A line cut short by a kill is dropped on reading and cut off before appending.
 * Rewriting the whole `completions/1` file after every cell would cost O(cells²) bytes; the journal costs each
 * cell once, and the final file is written atomically from it.
 * @module
 */
import { JsonFormatError } from "./json_file.ts";
import { COMPLETION_CELL_SCHEMA } from "./completions_schema.ts";
import type { CompletionCell } from "./completions_doc.ts";
import { anyObject, checkWith, isoTime, nonEmpty, strict, tag, v } from "./schema.ts";

/** The format tag of the journal's first line. */
export const COMPLETIONS_JOURNAL_FORMAT = "completions-journal/1";

/** First line of a journal. */
export interface JournalHeader {
  /** Always {@link COMPLETIONS_JOURNAL_FORMAT}. */
  format: typeof COMPLETIONS_JOURNAL_FORMAT;
  /** Hash of everything that determines the samples. */
  run_key: string;
  /** The inputs behind the key, for people and error messages. */
  run_description: Record<string, unknown>;
  /** ISO time the run started. */
  created: string;
}

/** What a journal held. */
export interface JournalContents {
  /** Its header. */
  header: JournalHeader;
  /** Finished cells, in the order they were written. */
  cells: CompletionCell[];
  /** Bytes of the file up to the end of the last complete line. */
  goodBytes: number;
  /** True when a final line was cut short (and is ignored). */
  truncatedTail: boolean;
}

/** The journal that belongs to an output file. */
export function journalPathFor(outPath: string): string {
  return `${outPath}.journal.jsonl`;
}

function fail(path: string, line: number, what: string): never {
  throw new JsonFormatError(path, `line ${line}`, what);
}

/** The schema of a journal's first line. */
const JOURNAL_HEADER_SCHEMA: v.GenericSchema<unknown, JournalHeader> = strict({
  format: tag(COMPLETIONS_JOURNAL_FORMAT),
  run_key: nonEmpty(),
  run_description: anyObject(),
  created: isoTime(),
});

/** `value` (line `line` of the journal) checked against `schema`; every problem names the line and JSON path. */
function checkLine<T>(schema: v.GenericSchema<unknown, T>, value: unknown, path: string, line: number): T {
  const r = checkWith(schema, value);
  if (r.ok) return r.value;
  const at = (p: string) => (p ? `line ${line}: ${p}` : `line ${line}`);
  const [first, ...more] = r.problems;
  throw new JsonFormatError(
    path,
    at(first.jsonPath),
    first.message,
    more.map((p) => ({ jsonPath: at(p.jsonPath), message: p.message })),
  );
}

function checkCell(value: unknown, path: string, line: number): CompletionCell {
  return checkLine(COMPLETION_CELL_SCHEMA, value, path, line);
}

/**
 * Reads a journal; undefined when the file does not exist. Throws (naming the file and line) on a header of
 * another format or run, or on a damaged line before the last one.
 */
export async function readJournal(path: string, runKey: string): Promise<JournalContents | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const lastNewline = bytes.lastIndexOf(0x0a);
  const goodBytes = lastNewline + 1;
  const truncatedTail = goodBytes < bytes.length;
  const text = new TextDecoder().decode(bytes.subarray(0, goodBytes));
  const lines = text.split("\n").slice(0, -1); // the text ends with "\n"
  if (lines.length === 0) fail(path, 1, "journal has no complete header line");
  let header: JournalHeader;
  try {
    header = JSON.parse(lines[0]);
  } catch (e) {
    fail(path, 1, `header is not JSON (${(e as Error).message})`);
  }
  if (header?.format !== COMPLETIONS_JOURNAL_FORMAT) {
    fail(path, 1, `expected format "${COMPLETIONS_JOURNAL_FORMAT}", got ${JSON.stringify(header?.format)}`);
  }
  header = checkLine(JOURNAL_HEADER_SCHEMA, header, path, 1);
  if (header.run_key !== runKey) {
    throw new Error(
      `${path}: journal of another run (its inputs: ${JSON.stringify(header.run_description)}); ` +
        "give --fresh instead of --resume to discard it and start again",
    );
  }
  const cells = lines.slice(1).map((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      fail(path, i + 2, `not JSON (${(e as Error).message})`);
    }
    return checkCell(value, path, i + 2);
  });
  return { header, cells, goodBytes, truncatedTail };
}

/** Appends cells to a journal, each flushed to disk before `append` resolves. */
export class JournalWriter {
  private constructor(private readonly file: Deno.FsFile, readonly path: string) {}

  /**
   * Starts a new journal with its header line. A journal already at `path` is never replaced here: the caller
   * refuses it, or removes it on the user's word (`--fresh`).
   */
  static async create(path: string, header: JournalHeader): Promise<JournalWriter> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, createNew: true });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new Error(
          `${path}: a journal is already there; give --resume to continue it or --fresh to discard it`,
        );
      }
      throw new Error(`cannot write the journal ${path}: ${(e as Error).message}`, { cause: e });
    }
    const w = new JournalWriter(file, path);
    await w.writeLine(header);
    return w;
  }

  /** Reopens a journal for appending after its last complete line (a cut-off tail is removed first). */
  static async resume(path: string, contents: JournalContents): Promise<JournalWriter> {
    if (contents.truncatedTail) await Deno.truncate(path, contents.goodBytes);
    const file = await Deno.open(path, { write: true, append: true });
    return new JournalWriter(file, path);
  }

  /** Appends one finished cell. */
  async append(cell: CompletionCell): Promise<void> {
    await this.writeLine(cell);
  }

  private async writeLine(value: unknown): Promise<void> {
    const bytes = new TextEncoder().encode(JSON.stringify(value) + "\n");
    try {
      let written = 0;
      while (written < bytes.length) written += await this.file.write(bytes.subarray(written));
      await this.file.syncData();
    } catch (e) {
      throw new Error(`cannot write the journal ${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Closes the file. */
  close(): void {
    this.file.close();
  }
}
