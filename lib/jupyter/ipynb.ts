/**
 * Jupyter notebook files (nbformat 4): reading with validation, small helpers over cells and outputs, and
 * atomic writing in Jupyter's own layout (one-space indent, sorted keys, trailing newline).
 * @module
 */
import { JsonFormatError } from "../io/json_file.ts";
import { writeFileAtomic } from "../io/atomic.ts";

/** One output of a code cell. */
export interface NotebookOutput {
  output_type: "execute_result" | "display_data" | "stream" | "error" | "update_display_data";
  /** MIME bundle (execute_result, display_data). */
  data?: Record<string, string | string[] | unknown>;
  metadata?: Record<string, unknown>;
  execution_count?: number | null;
  /** Stream name and text (stream). */
  name?: string;
  text?: string | string[];
  /** Error name, value and traceback (error). */
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** One cell. */
export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: string | string[];
  metadata: { tags?: string[]; [key: string]: unknown };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  attachments?: Record<string, unknown>;
}

/** A notebook. */
export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** A notebook file that is not a valid nbformat-4 document; the message names the file and the cell. */
export class NotebookFormatError extends JsonFormatError {
  constructor(path: string, jsonPath: string, what: string) {
    super(path, jsonPath, what);
    this.name = "NotebookFormatError";
  }
}

const CELL_TYPES = new Set(["code", "markdown", "raw"]);
const OUTPUT_TYPES = new Set(["execute_result", "display_data", "stream", "error", "update_display_data"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isText(v: unknown): v is string | string[] {
  return typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"));
}

/** Checks that `value` is an nbformat-4 notebook (the parts this project relies on); `path` names it in errors. */
function validateNotebook(value: unknown, path: string): Notebook {
  if (!isObject(value)) throw new NotebookFormatError(path, "", "not a JSON object");
  if (value.nbformat !== 4) {
    throw new NotebookFormatError(path, "nbformat", `expected 4, got ${value.nbformat}`);
  }
  if (typeof value.nbformat_minor !== "number") {
    throw new NotebookFormatError(path, "nbformat_minor", "missing or not a number");
  }
  if (!isObject(value.metadata)) throw new NotebookFormatError(path, "metadata", "missing or not an object");
  if (!Array.isArray(value.cells)) throw new NotebookFormatError(path, "cells", "missing or not an array");
  value.cells.forEach((cell: unknown, i: number) => {
    const at = `cells[${i}]`;
    if (!isObject(cell)) throw new NotebookFormatError(path, at, "not an object");
    if (typeof cell.cell_type !== "string" || !CELL_TYPES.has(cell.cell_type)) {
      throw new NotebookFormatError(
        path,
        `${at}.cell_type`,
        `unknown cell type ${JSON.stringify(cell.cell_type)}`,
      );
    }
    if (!isText(cell.source)) {
      throw new NotebookFormatError(path, `${at}.source`, "not a string or list of strings");
    }
    if (!isObject(cell.metadata)) {
      throw new NotebookFormatError(path, `${at}.metadata`, "missing or not an object");
    }
    const tags = cell.metadata.tags;
    if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === "string"))) {
      throw new NotebookFormatError(path, `${at}.metadata.tags`, "not a list of strings");
    }
    if (cell.cell_type === "code") {
      if (!Array.isArray(cell.outputs)) {
        throw new NotebookFormatError(path, `${at}.outputs`, "missing or not an array");
      }
      cell.outputs.forEach((o: unknown, j: number) => {
        if (!isObject(o) || typeof o.output_type !== "string" || !OUTPUT_TYPES.has(o.output_type)) {
          throw new NotebookFormatError(path, `${at}.outputs[${j}]`, "not a valid output");
        }
      });
    }
  });
  return value as unknown as Notebook;
}

/** Parses and validates notebook JSON text. */
export function parseNotebook(text: string, path: string): Notebook {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NotebookFormatError(path, "", `not valid JSON: ${(e as Error).message}`);
  }
  return validateNotebook(value, path);
}

/** Reads and validates a notebook file. */
export async function readNotebook(path: string): Promise<Notebook> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`cannot read notebook ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseNotebook(text, path);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

/** The notebook as Jupyter writes it: one-space indent, sorted keys, trailing newline. */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

/** Writes a notebook atomically (validated first, so a broken notebook never replaces a good one). */
export async function writeNotebook(path: string, nb: Notebook): Promise<void> {
  validateNotebook(nb, path);
  await writeFileAtomic(path, serializeNotebook(nb));
}

/** A cell's (or an output's) text as one string. */
export function joinText(text: string | string[] | undefined): string {
  return text === undefined ? "" : typeof text === "string" ? text : text.join("");
}

/** A cell's source as one string. */
export function cellSource(cell: NotebookCell): string {
  return joinText(cell.source);
}

/** Splits text into Jupyter's list-of-lines form (each line keeps its newline). */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** The cell's tags. */
export function cellTags(cell: NotebookCell): string[] {
  return cell.metadata.tags ?? [];
}

/** Indexes of the cells carrying `tag`. */
export function cellsTagged(nb: Notebook, tag: string): number[] {
  return nb.cells.flatMap((c, i) => (cellTags(c).includes(tag) ? [i] : []));
}

/** A new, empty-output code cell (nbformat 4.5 ids). */
export function newCodeCell(source: string, tags: string[] = []): NotebookCell {
  return {
    cell_type: "code",
    id: crypto.randomUUID().replaceAll("-", "").slice(0, 16),
    source: splitLines(source),
    metadata: tags.length > 0 ? { tags } : {},
    outputs: [],
    execution_count: null,
  };
}

/** Error outputs of the notebook with their cell indexes. */
export function errorOutputs(nb: Notebook): { cell: number; output: NotebookOutput }[] {
  return nb.cells.flatMap((c, i) =>
    (c.outputs ?? []).filter((o) => o.output_type === "error").map((output) => ({ cell: i, output }))
  );
}

/** The cell's `execute_result` output, if any. */
export function executeResult(cell: NotebookCell): NotebookOutput | undefined {
  return (cell.outputs ?? []).find((o) => o.output_type === "execute_result");
}

/** The text of one MIME type across a cell's rich outputs (joined), plus its stream text for `text/plain`. */
export function outputText(cell: NotebookCell, mime = "text/plain"): string {
  const parts: string[] = [];
  for (const o of cell.outputs ?? []) {
    if (o.output_type === "stream" && mime === "text/plain") parts.push(joinText(o.text));
    const v = o.data?.[mime];
    if (isText(v)) parts.push(joinText(v));
  }
  return parts.join("");
}

/** Removes ANSI escape sequences (the Deno kernel colours `text/plain` results and tracebacks). */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

/** Tag: the cell must end with a result (`execute_result`). */
const EXPECT_RESULT_TAG = "expect-result";

/** Tag: the cell must output at least one SVG figure (`image/svg+xml`, or `text/html` holding an `<svg>`). */
const FIGURE_TAG = "figure";

/** Tag: the cell must print something (a `stream` output). */
const EXPECT_STREAM_TAG = "expect-stream";

/**
 * Tag: the cell must show an SVG figure or print why it cannot (a figure that some studies cannot have, e.g.
 * the integer look for a tokenizer that splits integers into several tokens).
 */
export const FIGURE_OR_NOTE_TAG = "figure-or-note";

/** Outputs of a cell that carry an SVG figure. */
export function outputFigureCount(cell: NotebookCell): number {
  return (cell.outputs ?? []).filter((o) => {
    const svg = o.data?.["image/svg+xml"];
    if (svg !== undefined) return true;
    const html = o.data?.["text/html"];
    return isText(html) && /<svg\b/i.test(joinText(html));
  }).length;
}

/**
 * What an executed notebook promised but does not have: cells tagged {@link EXPECT_RESULT_TAG} without a
 * result, {@link FIGURE_TAG} without a figure, {@link EXPECT_STREAM_TAG} without printed output,
 * {@link FIGURE_OR_NOTE_TAG} with neither. Each entry
 * names the cell (index in `nb`).
 */
export function unmetExpectations(nb: Notebook): { cell: number; problem: string }[] {
  const out: { cell: number; problem: string }[] = [];
  nb.cells.forEach((c, i) => {
    const tags = cellTags(c);
    if (tags.includes(EXPECT_RESULT_TAG) && executeResult(c) === undefined) {
      out.push({ cell: i, problem: `tagged "${EXPECT_RESULT_TAG}" but has no execute_result` });
    }
    if (tags.includes(FIGURE_TAG) && outputFigureCount(c) === 0) {
      out.push({ cell: i, problem: `tagged "${FIGURE_TAG}" but has no SVG output` });
    }
    const printed = (c.outputs ?? []).some((o) => o.output_type === "stream");
    if (tags.includes(EXPECT_STREAM_TAG) && !printed) {
      out.push({ cell: i, problem: `tagged "${EXPECT_STREAM_TAG}" but printed nothing` });
    }
    if (tags.includes(FIGURE_OR_NOTE_TAG) && outputFigureCount(c) === 0 && !printed) {
      out.push({
        cell: i,
        problem: `tagged "${FIGURE_OR_NOTE_TAG}" but has neither an SVG output nor a note`,
      });
    }
  });
  return out;
}
