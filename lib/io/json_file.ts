/** Reading small JSON files (configs, manifests) with errors that name the file. @module */

/** Parses the JSON file at `path`; an unreadable file or invalid JSON is an error naming the path. */
export function readJsonFileSync(path: string): unknown {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Like {@link readJsonFileSync}, and the top level must be an object. */
export function readJsonObjectSync(path: string): Record<string, unknown> {
  const value = readJsonFileSync(path);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${path} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** One problem of a JSON document: where (a JSON path, "" for the whole document) and what. */
export interface JsonProblem {
  /** JSON path of the offending value (e.g. `cells[12].samples[3].text`); "" for the whole document. */
  jsonPath: string;
  /** What is wrong. */
  message: string;
}

/** At most this many problems are spelled out in an error message; the rest are counted. */
const LISTED_PROBLEMS = 20;

/**
 * A JSON document that breaks its format's rules. The message has one line per problem,
 * `<file>: <json.path>: <what is wrong>`; the first problem is also in {@link jsonPath}.
 */
export class JsonFormatError extends Error {
  /** The file concerned. */
  readonly path: string;
  /** JSON path of the (first) offending value (e.g. `cells[12].samples[3].text`); "" for the whole document. */
  readonly jsonPath: string;
  /** Every problem found, the first one included. */
  readonly problems: readonly JsonProblem[];
  constructor(path: string, jsonPath: string, what: string, more: readonly JsonProblem[] = []) {
    const problems = [{ jsonPath, message: what }, ...more];
    const line = (p: JsonProblem) => `${path}: ${p.jsonPath ? `${p.jsonPath}: ` : ""}${p.message}`;
    const lines = problems.slice(0, LISTED_PROBLEMS).map(line);
    if (problems.length > LISTED_PROBLEMS) {
      lines.push(`${path}: … and ${problems.length - LISTED_PROBLEMS} more problems`);
    }
    super(lines.join("\n"));
    this.name = "JsonFormatError";
    this.path = path;
    this.jsonPath = jsonPath;
    this.problems = problems;
  }
}
