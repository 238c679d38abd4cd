/** Test helper: parse SVG/HTML markup with linkedom and count elements. */
import { DOMParser } from "linkedom";

/** Parses SVG markup as XML; throws when the root is not an `<svg>`. */
export function parseSvg(svg: string): Document {
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml") as unknown as Document;
  const root = doc.documentElement;
  if (!root || root.tagName.toLowerCase() !== "svg") throw new Error("not an SVG document");
  return doc;
}

/** Parses an HTML fragment. */
export function parseHtml(html: string): Document {
  return new DOMParser().parseFromString(
    `<!DOCTYPE html><html><body>${html}</body></html>`,
    "text/html",
  ) as unknown as Document;
}

/** Number of elements matching a selector. */
export function count(doc: Document, selector: string): number {
  return doc.querySelectorAll(selector).length;
}

/** Text contents of all `<text>` elements. */
export function texts(doc: Document): string[] {
  return [...doc.querySelectorAll("text")].map((t) => t.textContent ?? "");
}
