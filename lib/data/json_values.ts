/**
 * Checks and words for JSON values in the data readers' messages: whether a value is an index (an integer ≥ 0),
 * and how a value's kind is named ("null", "a list", "an object", "a string", …).
 * @module
 */

/** True for an integer ≥ 0 (a document index, a count). */
export function isIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** A JSON value's kind in words, for messages: "null", "a list", "an object", "a string", "a number", …. */
export function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
