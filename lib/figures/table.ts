/**
 * Tables as HTML: a danfojs DataFrame (danfo has no Jupyter display hook) or plain records → `<table>`, with
 * one number format (formatNumber, lib/numeric/number_format.ts). Duck-typed on the DataFrame (`columns`,
 * `values`, `index`) so this module does not load danfo itself (its import takes seconds).
 * @module
 */
import { escapeMarkup } from "./escape.ts";
import { DisplayBundle } from "./display.ts";
import { formatNumber, type NumberFormat } from "../numeric/number_format.ts";

/** The parts of a danfojs DataFrame used here. */
export interface DataFrameLike {
  columns: string[];
  /** Row-major values (a Series-like 1-d array is treated as one column). */
  values: unknown[];
  index: (string | number)[];
}

/** Options of {@link dataFrameToHtml} and {@link recordsToHtml}. */
export interface TableOptions extends NumberFormat {
  /** Show the index as the first column (default true for DataFrames). */
  showIndex?: boolean;
  /** Table caption. */
  caption?: string;
  /** Per-column formatter, overriding {@link formatNumber}. */
  formatters?: Record<string, (value: unknown) => string>;
}

function tableHtml(
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  index: readonly (string | number)[] | null,
  options: TableOptions,
): string {
  const cell = (col: string, v: unknown) => {
    const text = options.formatters?.[col] ? options.formatters[col](v) : formatNumber(v, options);
    const numeric = typeof v === "number" ? ' style="text-align:right"' : "";
    return `<td${numeric}>${escapeMarkup(text)}</td>`;
  };
  const head = (index ? "<th></th>" : "") + columns.map((c) => `<th>${escapeMarkup(c)}</th>`).join("");
  const body = rows.map((r, i) =>
    "<tr>" + (index ? `<th>${escapeMarkup(String(index[i]))}</th>` : "") +
    columns.map((c, j) => cell(c, r[j])).join("") + "</tr>"
  ).join("\n");
  const caption = options.caption ? `<caption>${escapeMarkup(options.caption)}</caption>` : "";
  return `<table class="dataframe">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** A DataFrame as an HTML `<table class="dataframe">` (header row, one `<tr>` per DataFrame row). */
export function dataFrameToHtml(df: DataFrameLike, options: TableOptions = {}): string {
  const rows = df.values.map((r) => (Array.isArray(r) ? r : [r]));
  return tableHtml(df.columns, rows, options.showIndex === false ? null : df.index, options);
}

/** Plain records as an HTML table; columns = `columns` or the keys of the first record. */
export function recordsToHtml(
  records: readonly Record<string, unknown>[],
  options: TableOptions & { columns?: readonly string[] } = {},
): string {
  const columns = options.columns ?? (records.length ? Object.keys(records[0]) : []);
  const rows = records.map((r) => columns.map((c) => r[c]));
  return tableHtml(columns, rows, options.showIndex ? records.map((_, i) => i) : null, options);
}

/** A DataFrame as a notebook display (`text/html`, and `text/plain` as tab-separated text). */
export function dataFrameDisplay(df: DataFrameLike, options: TableOptions = {}): DisplayBundle {
  const plain = [df.columns.join("\t"), ...df.values.map((r) => (Array.isArray(r) ? r : [r]).join("\t"))]
    .join("\n");
  return new DisplayBundle({ "text/html": dataFrameToHtml(df, options), "text/plain": plain });
}
