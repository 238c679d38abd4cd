/**
 * SVG plumbing shared by the figure builders: finishing an Observable Plot panel (font, no CSS variables the PNG
 * renderer cannot resolve), serialising with the SVG namespace, and composing panels into one grid SVG with
 * column titles, a figure title and a legend drawn in plain SVG (Plot's own legends are HTML).
 * @module
 */
import { escapeMarkup } from "./escape.ts";
import { FONT_FAMILY, FONT_SIZE_PX, type MarkerSymbol } from "./style.ts";

const SVG_NS = "http://www.w3.org/2000/svg";
const XLINK_NS = "http://www.w3.org/1999/xlink";

/** Anything that serialises to SVG markup: a string or a DOM element (linkedom or browser). */
export type SvgSource = string | { outerHTML: string };

/**
 * Serialises an SVG element (or passes a string through) so it is a standalone SVG document: adds
 * `xmlns`/`xmlns:xlink` on the root when missing, replaces Plot's `var(--plot-background)` by white and its
 * default font by {@link FONT_FAMILY}.
 */
export function svgToString(svg: SvgSource): string {
  let s = typeof svg === "string" ? svg : svg.outerHTML;
  s = s.trim();
  if (!s.startsWith("<svg")) throw new Error("svgToString: expected markup starting with <svg");
  const open = s.slice(0, s.indexOf(">") + 1);
  let newOpen = open;
  if (!/\sxmlns="/.test(open)) newOpen = newOpen.replace(/^<svg/, `<svg xmlns="${SVG_NS}"`);
  if (!/\sxmlns:xlink="/.test(open) && s.includes("xlink:")) {
    newOpen = newOpen.replace(/^<svg/, `<svg xmlns:xlink="${XLINK_NS}"`);
  }
  s = newOpen + s.slice(open.length);
  return s
    .replaceAll("var(--plot-background)", "white")
    .replaceAll('font-family="system-ui, sans-serif"', `font-family="${FONT_FAMILY}"`);
}

/** Width and height in px of a serialised SVG (from its root `width`/`height`, else its viewBox). */
export function svgSizePx(svg: string): { width: number; height: number } {
  const open = svg.slice(0, svg.indexOf(">") + 1);
  const w = /\swidth="([\d.]+)/.exec(open);
  const h = /\sheight="([\d.]+)/.exec(open);
  if (w && h) return { width: Number(w[1]), height: Number(h[1]) };
  const vb = /\sviewBox="[\d.-]+\s+[\d.-]+\s+([\d.]+)\s+([\d.]+)"/.exec(open);
  if (vb) return { width: Number(vb[1]), height: Number(vb[2]) };
  throw new Error("svgSizePx: the SVG has neither width/height nor a viewBox");
}

/** One legend entry: a line sample (optional dash) with an optional marker, and a label. */
export interface LegendEntry {
  label: string;
  colour: string;
  /** SVG stroke-dasharray. */
  dash?: string;
  marker?: MarkerSymbol;
  /** Draw a filled square instead of a line (for bar and area figures). */
  swatch?: boolean;
}

/** A small marker glyph centred at (0, 0) in the given colour. */
export function markerGlyph(marker: MarkerSymbol, colour: string, sizePx = 4): string {
  const r = sizePx;
  switch (marker) {
    case "plus":
      return `<path d="M${-r},0H${r}M0,${-r}V${r}" stroke="${colour}" stroke-width="1.5" fill="none"/>`;
    case "cross":
      return `<path d="M${-r},${-r}L${r},${r}M${-r},${r}L${r},${-r}" stroke="${colour}" stroke-width="1.5" fill="none"/>`;
    case "circle":
      return `<circle r="${r * 0.8}" fill="${colour}"/>`;
    case "diamond":
      return `<path d="M0,${-r}L${r},0L0,${r}L${-r},0Z" fill="${colour}"/>`;
    case "square":
      return `<rect x="${-r * 0.75}" y="${-r * 0.75}" width="${r * 1.5}" height="${
        r * 1.5
      }" fill="${colour}"/>`;
    case "triangle":
      return `<path d="M0,${-r}L${r},${r * 0.8}L${-r},${r * 0.8}Z" fill="${colour}"/>`;
    case "star": {
      // Five points, inner radius 0.45 r, as Plot's star symbol.
      const pts = Array.from({ length: 10 }, (_, i) => {
        const a = (Math.PI / 5) * i - Math.PI / 2, rad = i % 2 === 0 ? r : r * 0.45;
        return `${(rad * Math.cos(a)).toFixed(2)},${(rad * Math.sin(a)).toFixed(2)}`;
      });
      return `<path d="M${pts.join("L")}Z" fill="${colour}"/>`;
    }
    case "wye":
      return `<path d="M0,0V${-r}M0,0L${(r * 0.87).toFixed(2)},${r / 2}M0,0L${-(r * 0.87).toFixed(2)},${
        r / 2
      }" stroke="${colour}" stroke-width="1.5" fill="none"/>`;
    default:
      return `<circle r="${r * 0.6}" fill="${colour}" stroke="${colour}"/>`;
  }
}

/** Legend entries laid out in rows of at most `widthPx`; returns the markup and its height. */
export function legendSvg(
  entries: readonly LegendEntry[],
  widthPx: number,
): { markup: string; heightPx: number } {
  if (entries.length === 0) return { markup: "", heightPx: 0 };
  const rowH = FONT_SIZE_PX.tick + 10;
  const charW = FONT_SIZE_PX.tick * 0.62;
  let x = 0;
  let y = 0;
  const items: string[] = [];
  for (const e of entries) {
    const w = 34 + e.label.length * charW + 18;
    if (x > 0 && x + w > widthPx) {
      x = 0;
      y += rowH;
    }
    const sample = e.swatch
      ? `<rect x="4" y="-5" width="20" height="10" fill="${e.colour}"/>`
      : `<line x1="0" x2="28" y1="0" y2="0" stroke="${e.colour}" stroke-width="2"${
        e.dash ? ` stroke-dasharray="${e.dash}"` : ""
      }/>` + (e.marker ? `<g transform="translate(14,0)">${markerGlyph(e.marker, e.colour)}</g>` : "");
    items.push(
      `<g class="legend-entry" transform="translate(${x},${
        y + rowH / 2
      })">${sample}<text x="34" dy="0.35em" text-anchor="start">${escapeMarkup(e.label)}</text></g>`,
    );
    x += w;
  }
  const heightPx = y + rowH;
  return {
    markup: `<g class="legend" font-size="${FONT_SIZE_PX.tick}">${items.join("")}</g>`,
    heightPx,
  };
}

/** Options of {@link composeGrid}. */
export interface GridLayout {
  /** Panels per row. */
  columns: number;
  /** Titles above the first row, one per column. */
  columnTitles?: readonly string[];
  /** Figure title. */
  title?: string;
  /** Smaller second title line (e.g. a note on labels or word limits). */
  subtitle?: string;
  /** Legend entries, drawn under the title. */
  legend?: readonly LegendEntry[];
  /** Extra SVG (e.g. a colour ramp) drawn under the panels. */
  footer?: SvgSource;
  /** Space between panels in px. */
  gapPx?: number;
  /** Attributes per panel (`data-*`), in panel order; written on each panel's wrapper `<g class="panel">`. */
  panelAttributes?: readonly Record<string, string>[];
}

/**
 * Composes panels (Plot SVGs or markup) into one SVG: panel i at row ⌊i / columns⌋, column i mod columns, each
 * wrapped in `<g class="panel">` (nested `<svg>` positioned with x/y). Cells are sized to the largest panel.
 */
export function composeGrid(panels: readonly SvgSource[], layout: GridLayout): string {
  const gap = layout.gapPx ?? 12;
  const cols = Math.max(1, layout.columns);
  const inner = panels.map((p) => svgToString(p));
  const sizes = inner.map(svgSizePx);
  const cellW = Math.max(1, ...sizes.map((s) => s.width));
  const cellH = Math.max(1, ...sizes.map((s) => s.height));
  const rows = Math.ceil(inner.length / cols);
  const textW = (t: string | undefined, sizePx: number) => (t ? t.length * sizePx * 0.62 + 2 * gap : 0);
  const width = Math.max(
    cols * cellW + (cols - 1) * gap + 2 * gap,
    textW(layout.title, FONT_SIZE_PX.title),
    textW(layout.subtitle, FONT_SIZE_PX.label),
  );
  const parts: string[] = [];
  let y = gap;
  if (layout.title) {
    y += FONT_SIZE_PX.title;
    parts.push(
      `<text class="figure-title" x="${
        width / 2
      }" y="${y}" text-anchor="middle" font-size="${FONT_SIZE_PX.title}" font-weight="bold">${
        escapeMarkup(layout.title)
      }</text>`,
    );
    y += 6;
  }
  if (layout.subtitle) {
    y += FONT_SIZE_PX.label;
    parts.push(
      `<text class="figure-subtitle" x="${
        width / 2
      }" y="${y}" text-anchor="middle" font-size="${FONT_SIZE_PX.label}" font-style="italic">${
        escapeMarkup(layout.subtitle)
      }</text>`,
    );
    y += 6;
  }
  if (layout.legend && layout.legend.length) {
    const lg = legendSvg(layout.legend, width - 2 * gap);
    parts.push(`<g transform="translate(${gap},${y + 4})">${lg.markup}</g>`);
    y += lg.heightPx + 8;
  }
  if (layout.columnTitles && layout.columnTitles.length) {
    y += FONT_SIZE_PX.panelTitle + 4;
    layout.columnTitles.forEach((t, c) => {
      const cx = gap + c * (cellW + gap) + cellW / 2;
      parts.push(
        `<text class="column-title" x="${cx}" y="${y}" text-anchor="middle" font-size="${FONT_SIZE_PX.panelTitle}" font-weight="bold">${
          escapeMarkup(t)
        }</text>`,
      );
    });
    y += 6;
  }
  const top = y;
  inner.forEach((svg, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const px = gap + c * (cellW + gap);
    const py = top + r * (cellH + gap);
    const attrs = Object.entries(layout.panelAttributes?.[i] ?? {})
      .map(([k, v]) => ` ${k}="${escapeMarkup(v)}"`).join("");
    const positioned = svg.replace(/^<svg/, `<svg x="${px}" y="${py}"`);
    parts.push(`<g class="panel"${attrs}>${positioned}</g>`);
  });
  y = top + rows * cellH + Math.max(0, rows - 1) * gap + gap;
  if (layout.footer !== undefined) {
    const f = svgToString(layout.footer);
    const fs = svgSizePx(f);
    parts.push(`<g class="footer">${f.replace(/^<svg/, `<svg x="${gap}" y="${y}"`)}</g>`);
    y += fs.height + gap;
  }
  const height = Math.ceil(y);
  const w = Math.ceil(width);
  return `<svg xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" width="${w}" height="${height}" viewBox="0 0 ${w} ${height}" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE_PX.tick}" fill="black"><rect class="background" width="${w}" height="${height}" fill="white"/>${
    parts.join("")
  }</svg>`;
}
