/**
 * The shared pieces of the project's file schemas (valibot): builders whose messages read as the project's errors
 * (`expected integer, got string`, `missing required field`, `unknown field (allowed: …); did you mean "x"?`),
 * and {@link validateWith}, which runs a schema, collects every problem and throws one {@link JsonFormatError}
 * whose message has a line `<file>: <json.path[3].like.this>: <what is wrong>` per problem.
 *
 * Each format keeps its schema in its own module (completions_schema.ts, diversity_format.ts, …); this module
 * holds nothing format-specific.
 * @module
 */
import * as v from "valibot";
import { JsonFormatError, type JsonProblem } from "./json_file.ts";

export { v };

/** A JSON path as keys and indices, e.g. `["cells", 3, "samples"]`. */
export type PathParts = readonly (string | number)[];

/** `cells[3].samples[0].text`; keys other than plain words are quoted: `vocab_mass_fraction["0.7"]`. */
export function formatJsonPath(parts: PathParts): string {
  let out = "";
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[\w$-]+$/.test(p)) out += out === "" ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/** The JSON kind of a value, as messages name it: null, array, integer, number, string, boolean, object. */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (value === undefined) return "nothing";
  return typeof value;
}

/** True for a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Suggestions
// ---------------------------------------------------------------------------------------------------------------

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  if (Math.abs(m - n) > 3) return Math.abs(m - n);
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => [i, ...new Array<number>(n).fill(0)]);
  for (let j = 1; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[m][n];
}

/**
 * The candidate `word` most likely misspells: one that differs only in case, else the nearest within edit
 * distance 2 (1 for words of 3 or 4 characters, none for shorter ones); undefined when none is that close.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const all = [...candidates];
  const lower = word.toLowerCase();
  const sameCase = all.find((c) => c !== word && c.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  const limit = word.length <= 2 ? 0 : word.length <= 4 ? 1 : 2;
  if (limit === 0) return undefined;
  let best: string | undefined, bestDistance = limit + 1;
  for (const c of all) {
    if (c === word) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** `; did you mean "x"?` when a candidate is close to `word`, else "". */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? "" : `; did you mean ${JSON.stringify(s)}?`;
}

// ---------------------------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------------------------

const typeMessage = (what: string) => (issue: v.BaseIssue<unknown>) =>
  `expected ${what}, got ${jsonType(issue.input)}`;

/** A string. */
export function str(): v.StringSchema<v.ErrorMessage<v.StringIssue>> {
  return v.string(typeMessage("string"));
}

/** A non-empty string. */
export function nonEmpty() {
  return v.pipe(str(), v.minLength(1, "expected a non-empty string"));
}

/** A boolean. */
export function bool(): v.BooleanSchema<v.ErrorMessage<v.BooleanIssue>> {
  return v.boolean(typeMessage("boolean"));
}

/** Range options of {@link num} and {@link int}. */
export interface RangeOptions {
  /** Smallest value allowed. */
  min?: number;
  /** Largest value allowed. */
  max?: number;
  /** Whether `min` itself is excluded (e.g. top_p in (0, 1]). */
  exclusiveMin?: boolean;
  /** What the value is, for the message (default "a value" / "an integer"). */
  noun?: string;
}

function rangeText(o: RangeOptions, noun: string): string {
  if (o.min !== undefined && o.max !== undefined) {
    return `expected ${noun} in ${o.exclusiveMin ? "(" : "["}${o.min}, ${o.max}]`;
  }
  if (o.min !== undefined) return `expected ${noun} ${o.exclusiveMin ? ">" : "≥"} ${o.min}`;
  return `expected ${noun} ≤ ${o.max}`;
}

function rangeCheck(o: RangeOptions, noun: string) {
  return v.check<number, (issue: v.CheckIssue<number>) => string>(
    (x) =>
      (o.min === undefined || (o.exclusiveMin ? x > o.min : x >= o.min)) &&
      (o.max === undefined || x <= o.max),
    (issue) => `${rangeText(o, noun)}, got ${issue.input}`,
  );
}

/** A finite number, optionally within a range. */
export function num(range: RangeOptions = {}) {
  const base = v.pipe(
    v.number(typeMessage("number")),
    v.finite((issue) => `expected a finite number, got ${issue.input}`),
  );
  return range.min === undefined && range.max === undefined
    ? base
    : v.pipe(base, rangeCheck(range, range.noun ?? "a value"));
}

/** A safe integer (|x| < 2^53), optionally within a range. */
export function int(range: RangeOptions = {}) {
  const base = v.pipe(
    v.number(typeMessage("integer")),
    v.safeInteger((issue) => `expected integer, got ${jsonType(issue.input)} ${issue.input}`),
  );
  return range.min === undefined && range.max === undefined
    ? base
    : v.pipe(base, rangeCheck(range, range.noun ?? "an integer"));
}

/** Options of {@link numbers}. */
export interface NumbersOptions extends RangeOptions {
  /** Whether every entry must be a safe integer. */
  integer?: boolean;
  /** Fewest entries allowed (default 0). */
  minItems?: number;
  /** Message when there are fewer (default "expected at least N items"). */
  minItemsMessage?: string;
}

/** Problems reported per array at most (an array of a million bad numbers is one mistake). */
const MAX_PROBLEMS_PER_ARRAY = 20;

/**
 * An array of finite numbers (integers with `integer`), each within the range: the same rules as {@link num} /
 * {@link int} per entry, checked in one loop (sample files hold millions of them); the array is not copied.
 */
export function numbers(o: NumbersOptions = {}) {
  const ranged = o.min !== undefined || o.max !== undefined;
  const noun = o.noun ?? (o.integer ? "an integer" : "a value");
  const minItems = o.minItems ?? 0;
  return v.pipe(
    v.custom<number[]>(Array.isArray, typeMessage("array")),
    v.rawCheck<number[]>(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const a = dataset.value as number[];
      if (a.length < minItems) {
        addIssue({ message: o.minItemsMessage ?? `expected at least ${minItems} items` });
      }
      let reported = 0;
      for (let i = 0; i < a.length && reported < MAX_PROBLEMS_PER_ARRAY; i++) {
        const x = a[i];
        let message: string | undefined;
        if (typeof x !== "number") {
          message = `expected ${o.integer ? "integer" : "number"}, got ${jsonType(x)}`;
        } else if (!Number.isFinite(x)) message = `expected a finite number, got ${x}`;
        else if (o.integer && !Number.isSafeInteger(x)) message = `expected integer, got ${jsonType(x)} ${x}`;
        else if (
          ranged && !((o.min === undefined || (o.exclusiveMin ? x > o.min : x >= o.min)) &&
            (o.max === undefined || x <= o.max))
        ) message = `${rangeText(o, noun)}, got ${x}`;
        if (message !== undefined) {
          addIssue({ message, path: [pathItem(i, a)] });
          reported++;
        }
      }
    }),
  );
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 time with a zone (`2024-05-01T12:00:00.000Z`). */
export function isoTime() {
  return v.pipe(
    str(),
    v.check((t) => ISO_TIME.test(t) && !Number.isNaN(Date.parse(t)), "expected an ISO 8601 time"),
  );
}

/** A sha256 digest as 64 lowercase hex digits. */
export function sha256Hex() {
  return v.pipe(nonEmpty(), v.regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits"));
}

/** Exactly the string `tag` (a format tag). */
export function tag<const T extends string>(value: T) {
  return v.literal(value, (issue) => `expected ${JSON.stringify(value)}, got ${JSON.stringify(issue.input)}`);
}

/** One of `values`; the message lists them and suggests the nearest for a near miss. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, what = "one of") {
  return v.picklist(values, (issue) => {
    const got = issue.input;
    const hint = typeof got === "string" ? suggestion(got, values) : "";
    return `expected ${what} ${values.map((x) => JSON.stringify(x)).join(", ")}, got ${
      JSON.stringify(got) ?? "nothing"
    }${hint}`;
  });
}

/** An array of `item`; `min` items at least (with `minMessage`). */
export function arr<const S extends v.GenericSchema>(item: S, min = 0, minMessage?: string) {
  const base = v.array(item, typeMessage("array"));
  return min === 0
    ? base
    : v.pipe(base, v.minLength(min, minMessage ?? `expected at least ${min} item${min === 1 ? "" : "s"}`));
}

/** A JSON object whose keys are free and whose values match `value`. */
export function record<const S extends v.GenericSchema>(value: S) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, typeMessage("object")),
    v.record(v.string(), value),
  );
}

/** Any JSON object, contents not checked. */
export function anyObject() {
  return v.custom<Record<string, unknown>>(isPlainObject, typeMessage("object"));
}

/** The output of an object schema with `entries` (the known fields, typed). */
export type ObjectOutput<E extends v.ObjectEntries> = v.InferOutput<v.LooseObjectSchema<E, undefined>>;

/** A check across the fields of a typed object: reports each problem at its path. */
export type FieldsCheck<T> = (value: T, report: Report) => void;

/**
 * A JSON object with exactly these fields: a missing required field and every unknown field is a problem; an
 * unknown field close to an allowed one gets a suggestion (`"tempratures"` → did you mean `"temperatures"`?).
 * `check` runs across the fields once they all have the right types.
 */
export function strict<const E extends v.ObjectEntries>(entries: E, check?: FieldsCheck<ObjectOutput<E>>) {
  const allowed = Object.keys(entries);
  return v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, typeMessage("object")),
    v.looseObject(entries, (issue) => issue.input === undefined ? "missing required field" : issue.message),
    v.rawCheck<ObjectOutput<E>>(({ dataset, addIssue }) => {
      const value = dataset.value as Record<string, unknown>;
      if (!isPlainObject(value)) return;
      for (const key of Object.keys(value)) {
        if (Object.hasOwn(entries, key)) continue;
        addIssue({
          message: `unknown field${suggestion(key, allowed)} (allowed: ${allowed.join(", ")})`,
          path: [pathItem(key, value)],
        });
      }
    }),
    crossCheck<ObjectOutput<E>>(check ?? (() => {})),
  );
}

/**
 * A JSON object with these fields (missing required ones are problems) and any further fields, kept as they
 * are; `check` as in {@link strict}.
 */
export function loose<const E extends v.ObjectEntries>(entries: E, check?: FieldsCheck<ObjectOutput<E>>) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, typeMessage("object")),
    v.looseObject(entries, (issue) => issue.input === undefined ? "missing required field" : issue.message),
    crossCheck<ObjectOutput<E>>(check ?? (() => {})),
  );
}

function pathItem(key: string | number, input: unknown): v.UnknownPathItem {
  return { type: "unknown", origin: "value", input, key, value: undefined };
}

/** Reports a problem at `path` (relative to the value checked) with `message`. */
export type Report = (path: PathParts, message: string) => void;

/**
 * A check across fields, run after the value's own schema: `fn` sees the typed value and reports each problem
 * at its path. It is skipped when the value already has type problems, unless `always` (then `fn` must cope
 * with values of any shape).
 */
function crossCheck<T>(fn: (value: T, report: Report) => void, always = false) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed && !always) return;
    fn(dataset.value as T, (path, message) => {
      const items = path.map((k) => pathItem(k, undefined));
      addIssue(
        items.length > 0
          ? { message, path: items as [v.UnknownPathItem, ...v.UnknownPathItem[]] }
          : { message },
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Running a schema
// ---------------------------------------------------------------------------------------------------------------

/** Builds the error a format throws (its own subclass of {@link JsonFormatError}). */
export type MakeError = (file: string, problems: readonly JsonProblem[]) => JsonFormatError;

/** The default: a plain {@link JsonFormatError}. */
export const jsonFormatError: MakeError = (file, problems) =>
  new JsonFormatError(file, problems[0].jsonPath, problems[0].message, problems.slice(1));

/** Fallback wording for issues a schema did not word itself. */
function fallbackMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.kind === "schema") {
    if (issue.input === undefined) return "missing required field";
    const expected = issue.expected === "Object" ? "object" : issue.expected ?? "another value";
    return `expected ${expected}, got ${jsonType(issue.input)}`;
  }
  return issue.message;
}

/** The problems of valibot issues, each with its JSON path. */
function problemsOf(issues: readonly v.BaseIssue<unknown>[]): JsonProblem[] {
  return issues.map((issue) => ({
    jsonPath: formatJsonPath((issue.path ?? []).map((p) => p.key as string | number)),
    message: issue.message,
  }));
}

/** Runs `schema` over `value`: the typed output, or every problem at once. */
export function checkWith<const S extends v.GenericSchema>(
  schema: S,
  value: unknown,
): { ok: true; value: v.InferOutput<S> } | { ok: false; problems: JsonProblem[] } {
  const r = v.safeParse(schema, value, { message: fallbackMessage });
  return r.success ? { ok: true, value: r.output } : { ok: false, problems: problemsOf(r.issues) };
}

/** Options of {@link validateWith}. */
export interface ValidateOptions {
  /** Builds the error (default: a plain {@link JsonFormatError}). */
  makeError?: MakeError;
  /**
   * The format tags the schema reads: a document whose `format` field is another is reported for that alone
   * (a file of another kind, whose every other field would also be a problem).
   */
  formats?: readonly string[];
}

/**
 * Validates `value` (already parsed JSON) against `schema`; throws one error naming `file` that lists every
 * problem with its JSON path.
 */
export function validateWith<const S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  file: string,
  options: ValidateOptions = {},
): v.InferOutput<S> {
  const makeError = options.makeError ?? jsonFormatError;
  const formats = options.formats;
  if (formats !== undefined && isPlainObject(value) && !formats.includes(value.format as string)) {
    const expected = formats.map((f) => JSON.stringify(f)).join(" or ");
    const got = "format" in value ? JSON.stringify(value.format) : "no format field";
    throw makeError(file, [{ jsonPath: "format", message: `expected ${expected}, got ${got}` }]);
  }
  const r = checkWith(schema, value);
  if (r.ok) return r.value;
  throw makeError(file, r.problems);
}

/** Parses JSON text (an error names `file`: `<file>: invalid JSON: …`). */
export function parseJsonText(text: string, file: string, makeError: MakeError = jsonFormatError): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw makeError(file, [{ jsonPath: "", message: `invalid JSON: ${(e as Error).message}` }]);
  }
}

/** Reads and parses a JSON file synchronously; unreadable files and invalid JSON are errors naming it. */
export function readJsonSync(file: string, makeError: MakeError = jsonFormatError): unknown {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    throw makeError(file, [{ jsonPath: "", message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseJsonText(text, file, makeError);
}
