/**
 * The diversity results file, `"format": "diversity/1"`: inputs and provenance, temperatures, and
 * `results[<words>][<metric key>][t][p]` (null where the value is undefined), with the reason of every null in
 * `nan_reasons` and their number per key in `nan_counts`.
 * @module
 */
import type { NanReason } from "../metrics/errors.ts";
import { writeFileAtomic } from "./atomic.ts";

/** The format tag this module reads and writes. */
export const DIVERSITY_FORMAT = "diversity/1";

/** `[temperature index, prompt index]` pairs per reason (`pending`: not computed, in an incomplete file). */
export type NanReasonMap = Partial<Record<NanReason | "pending", [number, number][]>>;

/** The contents of a `diversity/1` file. */
export interface DiversityFile {
  format: typeof DIVERSITY_FORMAT;
  /** ISO time the file was written. */
  created: string;
  /** False when the run stopped early; the missing cells are listed under the `pending` reason. */
  complete: boolean;
  /** What was analysed. */
  input: {
    path: string;
    sha256: string;
    /** `"paper-npy"` or `"completions/1"`. */
    format: string;
    /** Which prompts the completions answer (correct labels; see `settings.paper_labels`). */
    prompt_set: string;
    model?: string;
  };
  settings: {
    /** Word limits, as the keys of `results`. */
    words: string[];
    metrics: string[];
    seed: number;
    /** How each stochastic (metric, cell) gets its numpy-compatible seed. */
    seed_derivation: string;
    order_q_groups: number;
  };
  provenance: {
    toolkit_version: string;
    runtime: string;
    gzip_backend: string;
    /** The embedder of the cosine-family keys, or null when none was used. */
    embedder: Record<string, unknown> | null;
    sentences_embedded: number;
    elapsed_seconds: number;
    [extra: string]: unknown;
  };
  temperatures: number[];
  /** Prompt texts when known, else null per prompt. */
  prompts: (string | null)[];
  /** `results[words][key][t][p]`: NaN in memory, written as null. */
  results: Record<string, Record<string, number[][]>>;
  nan_counts: Record<string, Record<string, number>>;
  nan_reasons: Record<string, Record<string, NanReasonMap>>;
}

/** Serialises with NaN as null and a trailing newline. */
export function stringifyDiversityFile(file: DiversityFile): string {
  return JSON.stringify(file, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 1) + "\n";
}

/** Writes a results file atomically. */
export async function writeDiversityFile(path: string, file: DiversityFile): Promise<void> {
  await writeFileAtomic(path, stringifyDiversityFile(file));
}

function fail(path: string, where: string, what: string): never {
  throw new Error(`${path}: ${where}: ${what}`);
}

/**
 * Parses and validates a `diversity/1` file; every error names the file and the JSON path. Nulls in `results`
 * come back as NaN.
 */
export function parseDiversityFile(text: string, path = "<diversity file>"): DiversityFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(path, "(root)", `not valid JSON (${(e as Error).message})`);
  }
  const obj = raw as Record<string, unknown>;
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    fail(path, "(root)", "expected an object");
  }
  if (obj.format !== DIVERSITY_FORMAT) {
    fail(path, "format", `expected "${DIVERSITY_FORMAT}", got ${JSON.stringify(obj.format)}`);
  }
  const temps = obj.temperatures;
  if (!Array.isArray(temps) || !temps.every((t) => typeof t === "number")) {
    fail(path, "temperatures", "expected an array of numbers");
  }
  const results = obj.results as Record<string, Record<string, unknown>>;
  if (typeof results !== "object" || results === null) fail(path, "results", "expected an object");
  for (const [w, byKey] of Object.entries(results)) {
    if (typeof byKey !== "object" || byKey === null) fail(path, `results.${w}`, "expected an object");
    for (const [key, grid] of Object.entries(byKey)) {
      const at = `results.${w}.${key}`;
      if (!Array.isArray(grid) || grid.length !== temps.length) {
        fail(path, at, `expected ${temps.length} rows (one per temperature)`);
      }
      grid.forEach((row, t) => {
        if (!Array.isArray(row)) fail(path, `${at}[${t}]`, "expected an array");
        row.forEach((v, p) => {
          if (v === null) row[p] = NaN;
          else if (typeof v !== "number") {
            fail(path, `${at}[${t}][${p}]`, `expected a number or null, got ${typeof v}`);
          }
        });
      });
    }
  }
  for (const field of ["input", "settings", "provenance", "nan_counts", "nan_reasons"]) {
    if (typeof obj[field] !== "object" || obj[field] === null) fail(path, field, "expected an object");
  }
  return obj as unknown as DiversityFile;
}
