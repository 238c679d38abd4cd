/**
 * The diversity results file, `"format": "diversity/1"`: inputs and provenance, temperatures, and
 * `results[<words>][<metric key>][t][p]` (null where the value is undefined), with the reason of every null in
 * `nan_reasons` and their number per key in `nan_counts`.
 * @module
 */
import { writeFileAtomic } from "./atomic.ts";
import {
  anyObject,
  arr,
  bool,
  int,
  isoTime,
  jsonType,
  loose,
  nonEmpty,
  num,
  numbers,
  parseJsonText,
  record,
  str,
  strict,
  tag,
  v,
  validateWith,
} from "./schema.ts";

/** The format tag this module reads and writes. */
export const DIVERSITY_FORMAT = "diversity/1";

/** Machine-readable reasons a metric value is NaN (metrics throw them; `nan_reasons` records them per cell). */
export type NanReason =
  | "no_samples" // an empty set of samples
  | "fewer_than_2_samples" // pairwise means over no pairs (the original: ZeroDivisionError or np.mean([]))
  | "empty_sample" // a sample is "" after truncation: compression ratio of zero bytes (ZeroDivisionError)
  | "all_others_empty" // the other samples join to "": compression ratio of zero bytes
  | "zero_mean_similarity" // order-q: no sampled group had non-zero similarity, 0 ** (1/(1-q)) (ValueError)
  | "negative_mean_similarity" // order-q, q ≥ 3: a negative mean to a fractional power (ValueError)
  | "no_nonzero_similarity" // cosine mean: every lower-triangle cosine is exactly 0 (0/0)
  | "too_few_samples_for_order" // order-q: the original asserts len(samples) > q
  | "lone_surrogate" // a sample cannot be UTF-8 encoded, as Python's str.encode() refuses
  | "no_ngrams"; // distinct-n: no sample has n tokens

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

/** Every reason a cell may be null for, `pending` included (a file of a run that stopped early). */
const NAN_REASONS = [
  "no_samples",
  "fewer_than_2_samples",
  "empty_sample",
  "all_others_empty",
  "zero_mean_similarity",
  "negative_mean_similarity",
  "no_nonzero_similarity",
  "too_few_samples_for_order",
  "lone_surrogate",
  "no_ngrams",
  "pending",
] as const satisfies readonly (NanReason | "pending")[];

/** Compile-time check that {@link NAN_REASONS} lists every {@link NanReason}. */
type _EveryReasonListed = Exclude<NanReason, typeof NAN_REASONS[number]> extends never ? true : never;
const _everyReasonListed: _EveryReasonListed = true;

/** A value of `results`: a number, or null (written for NaN) read back as NaN. */
const cellValue = v.pipe(
  v.nullable(v.number((i) => `expected a number or null, got ${jsonType(i.input)}`)),
  v.transform((x) => x ?? NaN),
);

const cellPairs = arr(
  v.tuple([int({ min: 0 }), int({ min: 0 })], (i) => `expected [t, p], got ${jsonType(i.input)}`),
);

/** The `diversity/1` schema. Nulls in `results` come back as NaN. */
const DIVERSITY_SCHEMA: v.GenericSchema<unknown, DiversityFile> = strict(
  {
    format: tag(DIVERSITY_FORMAT),
    created: isoTime(),
    complete: bool(),
    input: strict({
      path: str(),
      sha256: str(),
      format: nonEmpty(),
      prompt_set: nonEmpty(),
      model: v.optional(str()),
    }),
    settings: strict({
      words: arr(nonEmpty()),
      metrics: arr(nonEmpty()),
      seed: int(),
      seed_derivation: str(),
      order_q_groups: int({ min: 1 }),
    }),
    provenance: loose({
      toolkit_version: str(),
      runtime: str(),
      gzip_backend: str(),
      embedder: v.nullable(anyObject()),
      sentences_embedded: int({ min: 0 }),
      elapsed_seconds: num({ min: 0 }),
    }),
    temperatures: numbers({ min: 0, noun: "a temperature" }),
    prompts: arr(v.nullable(str())),
    results: record(record(arr(arr(cellValue)))),
    nan_counts: record(record(int({ min: 0 }))),
    nan_reasons: record(
      record(strict(Object.fromEntries(NAN_REASONS.map((r) => [r, v.optional(cellPairs)])))),
    ),
  },
  (file, report) => {
    const T = file.temperatures.length, P = file.prompts.length;
    for (const [w, byKey] of Object.entries(file.results)) {
      for (const [key, grid] of Object.entries(byKey)) {
        if (grid.length !== T) {
          report(["results", w, key], `expected ${T} rows (one per temperature), got ${grid.length}`);
          continue;
        }
        grid.forEach((row, t) => {
          if (row.length !== P) {
            report(["results", w, key, t], `expected ${P} values (one per prompt), got ${row.length}`);
          }
        });
      }
    }
  },
);

/**
 * Parses and validates a `diversity/1` file; every error names the file and the JSON path of each problem.
 * Nulls in `results` come back as NaN.
 */
export function parseDiversityFile(text: string, path = "<diversity file>"): DiversityFile {
  return validateWith(DIVERSITY_SCHEMA, parseJsonText(text, path), path, { formats: [DIVERSITY_FORMAT] });
}
