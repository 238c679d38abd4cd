/**
 * Typed, validated access to the paper's two `.npy` file kinds (lauraaisling/analyse-llms `results/`):
 * completions (object array (T, P, S) of lists of str) and stored diversity metrics (0-d object array holding
 * `{group: {metric key: float32 (T, P, S)}}`). Layout details: docs/FORMATS.md, the paper's .npy files.
 * @module
 */
import { decodeNpy, encodeNpy, writeNpy } from "../io/npy.ts";
import { formatShape, isObjectArray, NdArray, type PyValue } from "../io/py_value.ts";
import { isPaperPack, PAPER_PACKS, type PaperPack } from "./packs.ts";

/** A completions file, as read. */
export interface PaperCompletions {
  /** The file read. */
  path: string;
  /** `[T, P, S]`: temperature index × prompt index × model slot. */
  shape: [number, number, number];
  /** Which slot `cells` was taken from (always 0 for the paper's layout, where S = 1). */
  slot: number;
  /** `cells[t][p]` = the sample texts for temperature t and prompt p, in generation order. */
  cells: string[][][];
  /** `[t, p]` of cells whose sample list is empty (allowed, but worth reporting). */
  emptyCells: Array<[number, number]>;
}

/** Options for {@link readPaperCompletions}. */
export interface PaperCompletionsOptions {
  /** Read this slot of a file with S > 1 (the paper's layout has S = 1, and S ≠ 1 is an error without this). */
  slot?: number;
}

/** A wrong layout or content in one of the paper's files. */
export class PaperFormatError extends Error {
  /** The file concerned. */
  readonly path: string;
  constructor(path: string, what: string) {
    super(`${path}: ${what}`);
    this.name = "PaperFormatError";
    this.path = path;
  }
}

function pyType(v: PyValue): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return "list";
  if (v instanceof Map) return "dict";
  if (v instanceof NdArray) return "ndarray";
  if (v instanceof Uint8Array) return "bytes";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  return "tuple";
}

/** Validates an already-decoded completions array (object dtype, 3-d, every element a list of str). */
export function paperCompletionsFromArray(
  array: NdArray,
  path: string,
  options: PaperCompletionsOptions = {},
): PaperCompletions {
  function fail(what: string): never {
    throw new PaperFormatError(path, what);
  }
  if (!isObjectArray(array)) fail(`expected an object array of completions, found dtype ${array.descr}`);
  if (array.shape.length !== 3) {
    fail(`expected the paper's completions layout (T, P, S), found shape ${formatShape(array.shape)}`);
  }
  const [T, P, S] = array.shape as [number, number, number];
  const slot = options.slot ?? 0;
  if (options.slot === undefined && S !== 1) {
    fail(
      `expected shape (T, P, 1), found ${
        formatShape(array.shape)
      }; pass the slot option to pick one of ${S} slots`,
    );
  }
  if (!Number.isInteger(slot) || slot < 0 || slot >= S) fail(`slot ${slot} is out of range for ${S} slots`);
  const data = array.data as PyValue[];
  const cells: string[][][] = [];
  const emptyCells: Array<[number, number]> = [];
  for (let t = 0; t < T; t++) {
    const row: string[][] = [];
    for (let p = 0; p < P; p++) {
      for (let s = 0; s < S; s++) {
        // every slot is validated, not only the one returned
        const flat = (t * P + p) * S + s;
        const cell = data[flat];
        const where = `cell [${t}, ${p}, ${s}] (flat index ${flat})`;
        if (!Array.isArray(cell)) fail(`${where}: expected a list of str, found ${pyType(cell)}`);
        cell.forEach((x, i) => {
          if (typeof x !== "string") fail(`${where} item ${i}: expected str, found ${pyType(x)}`);
        });
        if (s === slot) {
          row.push(cell as string[]);
          if (cell.length === 0) emptyCells.push([t, p]);
        }
      }
    }
    cells.push(row);
  }
  return { path, shape: [T, P, S], slot, cells, emptyCells };
}

/** Reads one of the paper's completions files (`results/completions/*.npy`). */
export async function readPaperCompletions(
  path: string,
  options: PaperCompletionsOptions = {},
): Promise<PaperCompletions> {
  return paperCompletionsFromArray(decodeNpy(await Deno.readFile(path), path), path, options);
}

/** Builds the paper's completions array: shape (T, P, 1), each element a fresh list of str. */
function paperCompletionsArray(
  cells: readonly (readonly (readonly string[])[])[],
): NdArray<PyValue[]> {
  const T = cells.length;
  const P = T ? cells[0].length : 0;
  const flat: PyValue[] = [];
  cells.forEach((row, t) => {
    if (row.length !== P) throw new Error(`cells[${t}] has ${row.length} prompts, cells[0] has ${P}`);
    row.forEach((cell, p) => {
      if (!Array.isArray(cell) || cell.some((x) => typeof x !== "string")) {
        throw new Error(`cells[${t}][${p}] must be an array of strings`);
      }
      flat.push([...cell]); // distinct lists, as the paper's files hold
    });
  });
  return new NdArray("|O", [T, P, 1], flat);
}

/** Encodes completions in the paper's `.npy` layout (numpy 1.x pickle, byte-identical to the originals). */
export function encodePaperCompletions(cells: readonly (readonly (readonly string[])[])[]): Uint8Array {
  return encodeNpy(paperCompletionsArray(cells));
}

/** Writes completions `cells[t][p]` (lists of sample texts) in the paper's layout, atomically. */
export async function writePaperCompletions(
  path: string,
  cells: readonly (readonly (readonly string[])[])[],
): Promise<void> {
  await writeNpy(path, paperCompletionsArray(cells));
}

/** A results file, as read. */
export interface PaperResults {
  /** The file read. */
  path: string;
  /** Metric arrays by group and key, each float32 in C order over {@link PaperResults.shape}. */
  groups: Partial<Record<PaperPack, Record<string, Float32Array>>>;
  /** Shape of every metric array (`[15, 20, 1]` in the paper). */
  shape: number[];
  /** Metric keys in stored order (identical for every group). */
  keyOrder: string[];
  /** Group names as stored in the file, in stored order. */
  storedGroups: PaperPack[];
  /** True when the creative/factual labels were swapped back to the prompts they were computed from. */
  relabelled: boolean;
}

/** Options for {@link readPaperResults}. */
export interface PaperResultsOptions {
  /** Keep the labels as stored (the paper's swapped ones), e.g. to compare with the published figures. */
  paperLabels?: boolean;
}

/**
 * Validates an already-decoded results array and relabels it.
 *
 * LABEL SWAP: the paper's `creative_and_factual_metrics.py` passed its two completion files in the wrong order,
 * so the stored group `"creative"` holds metrics of the FACTUAL completions and `"factual"` those of the CREATIVE
 * ones (proven bit-exactly; docs/PAPER_QUIRKS.md, label swap), and the paper's figures carry the swapped labels.
 * By default this returns correct labels — stored `"creative"` as `"factual"`, stored `"factual"` as
 * `"creative"`, `"seen"` unchanged — with `relabelled: true`. `paperLabels: true` keeps the stored labels.
 */
function paperResultsFromArray(
  array: NdArray,
  path: string,
  options: PaperResultsOptions = {},
): PaperResults {
  function fail(what: string): never {
    throw new PaperFormatError(path, what);
  }
  if (!isObjectArray(array) || array.shape.length !== 0) {
    fail(
      `expected a 0-d object array holding a dict, found ${array.descr} shape ${formatShape(array.shape)}`,
    );
  }
  const top = (array.data as PyValue[])[0];
  if (!(top instanceof Map)) fail(`expected a dict of groups, found ${pyType(top)}`);
  if (top.size === 0) fail("the results dict has no groups");
  const stored: Partial<Record<PaperPack, Record<string, Float32Array>>> = {};
  const storedGroups: PaperPack[] = [];
  let keyOrder: string[] | undefined;
  let shape: number[] | undefined;
  for (const [group, metrics] of top) {
    if (typeof group !== "string" || !isPaperPack(group)) {
      fail(`unknown group ${JSON.stringify(group)} (expected one of ${PAPER_PACKS.join(", ")})`);
    }
    if (!(metrics instanceof Map)) {
      fail(`group '${group}': expected a dict of metrics, found ${pyType(metrics)}`);
    }
    const keys: string[] = [];
    const values: Record<string, Float32Array> = {};
    for (const [key, value] of metrics) {
      if (typeof key !== "string") fail(`group '${group}': metric key ${JSON.stringify(key)} is not a str`);
      if (!(value instanceof NdArray) || value.descr !== "<f4") {
        const found = value instanceof NdArray ? `ndarray of ${value.descr}` : pyType(value);
        fail(`group '${group}' metric '${key}': expected a float32 ndarray, found ${found}`);
      }
      shape ??= value.shape;
      if (formatShape(value.shape) !== formatShape(shape!)) {
        fail(
          `group '${group}' metric '${key}': shape ${formatShape(value.shape)} differs from ${
            formatShape(shape!)
          }`,
        );
      }
      keys.push(key);
      values[key] = value.data as Float32Array;
    }
    if (keyOrder === undefined) keyOrder = keys;
    else if (keys.join("\n") !== keyOrder.join("\n")) {
      fail(
        `group '${group}' has metric keys [${keys.join(", ")}], the first group has [${keyOrder.join(", ")}]`,
      );
    }
    stored[group as PaperPack] = values;
    storedGroups.push(group as PaperPack);
  }
  if (options.paperLabels) {
    return {
      path,
      groups: stored,
      shape: shape ?? [],
      keyOrder: keyOrder ?? [],
      storedGroups,
      relabelled: false,
    };
  }
  const groups: Partial<Record<PaperPack, Record<string, Float32Array>>> = {};
  if (stored.creative) groups.factual = stored.creative;
  if (stored.factual) groups.creative = stored.factual;
  if (stored.seen) groups.seen = stored.seen;
  return { path, groups, shape: shape ?? [], keyOrder: keyOrder ?? [], storedGroups, relabelled: true };
}

/**
 * Reads one of the paper's results files (`results/creative_factual/*`, `results/seen/*`). See
 * {@link paperResultsFromArray} for the creative/factual label swap this corrects by default.
 */
export async function readPaperResults(
  path: string,
  options: PaperResultsOptions = {},
): Promise<PaperResults> {
  return paperResultsFromArray(decodeNpy(await Deno.readFile(path), path), path, options);
}
