/**
 * Reading and writing completions JSON files: parsed and validated against the `completions/2` (or `/1`) schema,
 * written atomically after validation.
 * @module
 */
import { writeJsonAtomic } from "./atomic.ts";
import type { CompletionsDoc } from "./completions_doc.ts";
import { completionsError, validateCompletionsDoc } from "./completions_schema.ts";
import { parseJsonText } from "./schema.ts";

/** Parses and validates completions JSON text; errors name `pathForErrors` and the JSON path. */
export function parseCompletionsJson(text: string, pathForErrors: string): CompletionsDoc {
  return validateCompletionsDoc(parseJsonText(text, pathForErrors, completionsError), pathForErrors);
}

/** Validates `doc` and writes it atomically as pretty-printed JSON. */
export async function writeCompletionsJson(path: string, doc: CompletionsDoc): Promise<void> {
  validateCompletionsDoc(doc, path);
  await writeJsonAtomic(path, doc);
}
