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

/** A JSON document that breaks its format's rules; the message names the file and the JSON path. */
export class JsonFormatError extends Error {
  /** The file concerned. */
  readonly path: string;
  /** JSON path of the offending value (e.g. `cells[12].samples[3].text`); "" for the whole document. */
  readonly jsonPath: string;
  constructor(path: string, jsonPath: string, what: string) {
    super(`${path}: ${jsonPath ? `${jsonPath}: ` : ""}${what}`);
    this.name = "JsonFormatError";
    this.path = path;
    this.jsonPath = jsonPath;
  }
}
