/** A placeholder figure for a figure cell whose figure cannot be drawn. @module */
import { escapeMarkup } from "../figures/escape.ts";
import { type Figure, makeFigure } from "../figures/figure.ts";

/** A small SVG figure that says a figure was skipped and why (keeps a `figure` cell's output contract). */
export function skippedFigure(reason: string): Figure<{ skipped: string }> {
  const lines = reason.match(/.{1,90}(\s|$)/g) ?? [reason];
  const h = 40 + 18 * lines.length;
  const text = lines.map((l, i) =>
    `<text x="16" y="${48 + 18 * i}" font-size="13" fill="#555">${escapeMarkup(l.trim())}</text>`
  ).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="${h}" viewBox="0 0 720 ${h}" ` +
    `font-family="DejaVu Sans"><rect width="720" height="${h}" fill="#f6f6f6"/>` +
    `<text x="16" y="26" font-size="15" font-weight="bold">Skipped</text>${text}</svg>`;
  return makeFigure(svg, { skipped: reason });
}
