/**
 * SVG plumbing shared by the figure builders: finishing an Observable Plot panel (font, no CSS variables the PNG
 * renderer cannot resolve), serialising with the SVG namespace, and composing panels into one grid SVG with
 * column titles, a figure title and a legend drawn in plain SVG (Plot's own legends are HTML), laid out for the
 * active preset (lib/figures/preset.ts): at a paper preset's fixed width, with the preset recorded in the SVG's
 * `<metadata>` and `data-preset`.
 * @module
 */
import { escapeMarkup } from "./escape.ts";
import {
  activeFigurePreset,
  type FigureMetadata,
  figureMetadataElement,
  PX_PER_IN,
  textWidthPx,
  wrapText,
} from "./preset.ts";
import { type MarkerSymbol, round2 } from "./style.ts";

const SVG_NS = "http://www.w3.org/2000/svg";
const XLINK_NS = "http://www.w3.org/1999/xlink";

/** Anything that serialises to SVG markup: a string or a DOM element (linkedom or browser). */
export type SvgSource = string | { outerHTML: string };

/**
 * Serialises an SVG element (or passes a string through) so it is a standalone SVG document: adds
 * `xmlns`/`xmlns:xlink` on the root when missing, replaces Plot's `var(--plot-background)` by white and its
 * default font by the active preset's (DejaVu Sans on screen).
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
    .replaceAll('font-family="system-ui, sans-serif"', `font-family="${activeFigurePreset().fontFamily}"`);
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

/** A small marker glyph centred at (0, 0) in the given colour (radius: the active preset's marker size + 1). */
function markerGlyph(marker: MarkerSymbol, colour: string, sizePx?: number): string {
  const p = activeFigurePreset();
  const r = round2(sizePx ?? p.markerRadiusPx + 1);
  const sw = round2(p.lineWidthPx);
  switch (marker) {
    case "plus":
      return `<path d="M${-r},0H${r}M0,${-r}V${r}" stroke="${colour}" stroke-width="${sw}" fill="none"/>`;
    case "cross":
      return `<path d="M${-r},${-r}L${r},${r}M${-r},${r}L${r},${-r}" stroke="${colour}" stroke-width="${sw}" fill="none"/>`;
    case "circle":
      return `<circle r="${round2(r * 0.8)}" fill="${colour}"/>`;
    case "diamond":
      return `<path d="M0,${-r}L${r},0L0,${r}L${-r},0Z" fill="${colour}"/>`;
    case "square":
      return `<rect x="${round2(-r * 0.75)}" y="${round2(-r * 0.75)}" width="${round2(r * 1.5)}" height="${
        round2(r * 1.5)
      }" fill="${colour}"/>`;
    case "triangle":
      return `<path d="M0,${-r}L${r},${round2(r * 0.8)}L${-r},${round2(r * 0.8)}Z" fill="${colour}"/>`;
    case "star": {
      // Five points, inner radius 0.45 r, as Plot's star symbol.
      const pts = Array.from({ length: 10 }, (_, i) => {
        const a = (Math.PI / 5) * i - Math.PI / 2, rad = i % 2 === 0 ? r : r * 0.45;
        return `${(rad * Math.cos(a)).toFixed(2)},${(rad * Math.sin(a)).toFixed(2)}`;
      });
      return `<path d="M${pts.join("L")}Z" fill="${colour}"/>`;
    }
    case "hexagon": {
      const pts = Array.from({ length: 6 }, (_, i) => {
        const a = (Math.PI / 3) * i - Math.PI / 2;
        return `${(r * Math.cos(a)).toFixed(2)},${(r * Math.sin(a)).toFixed(2)}`;
      });
      return `<path d="M${pts.join("L")}Z" fill="${colour}"/>`;
    }
    case "wye":
      return `<path d="M0,0V${-r}M0,0L${(r * 0.87).toFixed(2)},${r / 2}M0,0L${-(r * 0.87).toFixed(2)},${
        r / 2
      }" stroke="${colour}" stroke-width="${sw}" fill="none"/>`;
    default:
      return `<circle r="${round2(r * 0.6)}" fill="${colour}" stroke="${colour}"/>`;
  }
}

/** Legend entries laid out in rows of at most `widthPx` (the active preset's font and sample length); returns the markup and its height. */
function legendSvg(
  entries: readonly LegendEntry[],
  widthPx: number,
): { markup: string; heightPx: number } {
  if (entries.length === 0) return { markup: "", heightPx: 0 };
  const p = activeFigurePreset();
  const font = p.fontPx.tick;
  const rowH = round2(font * (p.widthPx === null ? 1.9 : 1.6));
  const sampleW = p.legendSamplePx;
  const textX = sampleW + Math.round(font * 0.55);
  const after = p.widthPx === null ? 18 : Math.round(font);
  let x = 0;
  let y = 0;
  const items: string[] = [];
  for (const e of entries) {
    const w = textX + textWidthPx(e.label, font) + after;
    if (x > 0 && x + w - after > widthPx) {
      x = 0;
      y += rowH;
    }
    const sample = e.swatch
      ? `<rect x="${round2(sampleW * 0.15)}" y="${round2(-font * 0.45)}" width="${
        round2(sampleW * 0.7)
      }" height="${round2(font * 0.9)}" fill="${e.colour}"/>`
      : `<line x1="0" x2="${sampleW}" y1="0" y2="0" stroke="${e.colour}" stroke-width="${
        round2(p.lineWidthPx * 1.3)
      }"${e.dash ? ` stroke-dasharray="${e.dash}"` : ""}/>` +
        (e.marker ? `<g transform="translate(${sampleW / 2},0)">${markerGlyph(e.marker, e.colour)}</g>` : "");
    items.push(
      `<g class="legend-entry" transform="translate(${round2(x)},${
        round2(y + rowH / 2)
      })">${sample}<text x="${textX}" dy="0.35em" text-anchor="start">${escapeMarkup(e.label)}</text></g>`,
    );
    x += w;
  }
  const heightPx = y + rowH;
  return {
    markup: `<g class="legend" font-size="${round2(font)}">${items.join("")}</g>`,
    heightPx,
  };
}

/** Options of {@link composeGrid}. */
export interface GridLayout {
  /** Panels per row. */
  columns: number;
  /** Titles above the first row, one per column. */
  columnTitles?: readonly string[];
  /** Figure title (drawn when the preset shows titles; always kept in the metadata). */
  title?: string;
  /** Smaller second title line (e.g. a note on labels or word limits). */
  subtitle?: string;
  /** Legend entries, drawn under the title (or under the panels, as the preset says). */
  legend?: readonly LegendEntry[];
  /** Extra SVG (e.g. a colour ramp) drawn under the panels. */
  footer?: SvgSource;
  /** Space between panels in px (default: the preset's). */
  gapPx?: number;
  /** Attributes per panel (`data-*`), in panel order; written on each panel's wrapper `<g class="panel">`. */
  panelAttributes?: readonly Record<string, string>[];
  /**
   * Rows of `columns` panels placed side by side in one row of the figure (default 1): with 2, a metrics ×
   * {factual, creative} grid is drawn two metrics per row, the column titles repeated over each pair.
   */
  rowsSideBySide?: number;
}

/**
 * Composes panels (Plot SVGs or markup) into one SVG: panel i at row ⌊i / columns⌋, column i mod columns, each
 * wrapped in `<g class="panel">` (nested `<svg>` positioned with x/y). Columns are as wide as the widest panel,
 * each row as high as its highest.
 *
 * With a paper preset the figure is exactly the preset's width: panels narrower than it are centred, a row of
 * panels too wide for it wraps onto more rows (when there are no column titles to keep aligned) or is scaled
 * down, titles wrap, and the height is rounded up to 1/12 in (so PDF page sizes are exact). The preset and the
 * titles are recorded in `<metadata>` ({@link import("./preset.ts").readFigureMetadata}).
 */
export function composeGrid(panels: readonly SvgSource[], layout: GridLayout): string {
  const p = activeFigurePreset();
  const gap = layout.gapPx ?? p.gapPx;
  const logicalCols = Math.max(1, layout.columns);
  const inner = panels.map((x) => svgToString(x));
  const sizes = inner.map(svgSizePx);
  const cellW = Math.max(1, ...sizes.map((s) => s.width));
  const logicalRows = Math.ceil(inner.length / logicalCols);
  const side = Math.max(1, Math.min(layout.rowsSideBySide ?? 1, logicalRows));
  const titlesShown = p.showTitles;
  const hasColumnTitles = !!layout.columnTitles && layout.columnTitles.length > 0;
  // Physical grid: columns of panels in one row of the figure, and where panel i goes.
  let physCols = Math.min(logicalCols * side, Math.max(1, inner.length));
  let place = (i: number) => {
    const r = Math.floor(i / logicalCols), c = i % logicalCols;
    return { row: Math.floor(r / side), col: (r % side) * logicalCols + c };
  };
  const rowWidth = (cols: number) => cols * cellW + (cols - 1) * gap;
  let scale = 1;
  let width: number;
  if (p.widthPx !== null) {
    width = p.widthPx;
    const avail = width - 2 * gap;
    if (rowWidth(physCols) > avail + 0.5 && !hasColumnTitles && side === 1) {
      physCols = Math.max(1, Math.floor((avail + gap) / (cellW + gap)));
      const cols = physCols;
      place = (i: number) => ({ row: Math.floor(i / cols), col: i % cols });
    }
    if (rowWidth(physCols) > avail + 0.5) scale = avail / rowWidth(physCols);
  } else {
    const titleW = (t: string | undefined, px: number, bold: boolean) =>
      t && titlesShown ? textWidthPx(t, px, { bold }) + 2 * gap : 0;
    width = Math.max(
      rowWidth(physCols) + 2 * gap,
      titleW(layout.title, p.fontPx.title, true),
      titleW(layout.subtitle, p.fontPx.label, false),
    );
  }
  const physRows = inner.length === 0 ? 0 : Math.max(...inner.map((_, i) => place(i).row)) + 1;
  // Each row as high as its highest panel (a grid's bottom row may carry the x labels the others leave out).
  const rowH = Array.from({ length: physRows }, () => 1);
  inner.forEach((_, i) => {
    const r = place(i).row;
    rowH[r] = Math.max(rowH[r], sizes[i].height);
  });
  const rowTop = (r: number) => rowH.slice(0, r).reduce((a, h) => a + h + gap, 0);
  const left = gap + (width - 2 * gap - rowWidth(physCols) * scale) / 2;
  const parts: string[] = [];
  let y = gap;
  const textBlock = (text: string, cls: string, px: number, attrs: string, bold: boolean) => {
    const lines = p.widthPx === null ? [text] : wrapText(text, width - 2 * gap, px, { bold });
    for (const line of lines) {
      y += px;
      parts.push(
        `<text class="${cls}" x="${round2(width / 2)}" y="${round2(y)}" text-anchor="middle" font-size="${
          round2(px)
        }"${attrs}>${escapeMarkup(line)}</text>`,
      );
      y += px * 0.25;
    }
    y += Math.max(2, px * 0.3);
  };
  if (layout.title && titlesShown) {
    textBlock(layout.title, "figure-title", p.fontPx.title, ' font-weight="bold"', true);
  }
  if (layout.subtitle && titlesShown) {
    textBlock(layout.subtitle, "figure-subtitle", p.fontPx.label, ' font-style="italic"', false);
  }
  const legend = layout.legend && layout.legend.length
    ? legendSvg(layout.legend, width - 2 * gap)
    : undefined;
  if (legend && p.legend === "top") {
    parts.push(`<g transform="translate(${gap},${round2(y + 4)})">${legend.markup}</g>`);
    y += legend.heightPx + 8;
  }
  if (hasColumnTitles) {
    const px = p.fontPx.panelTitle;
    y += px + 4;
    const blocks = Math.max(1, Math.round(physCols / logicalCols));
    for (let b = 0; b < blocks; b++) {
      layout.columnTitles!.forEach((t, c) => {
        const col = b * logicalCols + c;
        if (col >= physCols) return;
        const cx = left + (col * (cellW + gap) + cellW / 2) * scale;
        parts.push(
          `<text class="column-title" x="${round2(cx)}" y="${round2(y)}" text-anchor="middle" font-size="${
            round2(px)
          }" font-weight="bold">${escapeMarkup(t)}</text>`,
        );
      });
    }
    y += 6;
  }
  const top = y;
  const placed: string[] = [];
  inner.forEach((svg, i) => {
    const { row, col } = place(i);
    const px = scale === 1 ? left + col * (cellW + gap) : col * (cellW + gap);
    const py = scale === 1 ? top + rowTop(row) : rowTop(row);
    const attrs = Object.entries(layout.panelAttributes?.[i] ?? {})
      .map(([k, v]) => ` ${k}="${escapeMarkup(v)}"`).join("");
    const positioned = svg.replace(/^<svg/, `<svg x="${round2(px)}" y="${round2(py)}"`);
    placed.push(`<g class="panel"${attrs}>${positioned}</g>`);
  });
  parts.push(
    scale === 1
      ? placed.join("")
      : `<g class="panels" transform="translate(${round2(left)},${round2(top)}) scale(${scale.toFixed(5)})">${
        placed.join("")
      }</g>`,
  );
  y = top + (physRows > 0 ? rowTop(physRows - 1) + rowH[physRows - 1] : 0) * scale + gap;
  if (layout.footer !== undefined) {
    const f = svgToString(layout.footer);
    const fs = svgSizePx(f);
    const fScale = p.widthPx !== null && fs.width > width - 2 * gap ? (width - 2 * gap) / fs.width : 1;
    const fx = p.widthPx !== null ? (width - fs.width * fScale) / 2 : gap;
    parts.push(
      fScale === 1
        ? `<g class="footer">${f.replace(/^<svg/, `<svg x="${round2(fx)}" y="${round2(y)}"`)}</g>`
        : `<g class="footer" transform="translate(${round2(fx)},${round2(y)}) scale(${
          fScale.toFixed(5)
        })">${f}</g>`,
    );
    y += fs.height * fScale + gap;
  }
  if (legend && p.legend === "bottom") {
    parts.push(`<g transform="translate(${gap},${round2(y)})">${legend.markup}</g>`);
    y += legend.heightPx + gap;
  }
  // Paper presets: height a whole number of 1/12 in (8 px), which print engines reproduce exactly.
  const height = p.widthPx !== null ? Math.ceil(y / 8) * 8 : Math.ceil(y);
  const w = p.widthPx !== null ? width : Math.ceil(width);
  const meta: FigureMetadata = {
    format: "figure-meta/1",
    preset: p.name,
    widthPx: w,
    heightPx: height,
    widthIn: Math.round((w / PX_PER_IN) * 1000) / 1000,
    heightIn: Math.round((height / PX_PER_IN) * 1000) / 1000,
    fontFamily: p.fontFamily,
    ...(layout.title ? { title: layout.title } : {}),
    ...(layout.subtitle ? { subtitle: layout.subtitle } : {}),
  };
  return `<svg xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" width="${w}" height="${height}" viewBox="0 0 ${w} ${height}" font-family="${p.fontFamily}" font-size="${
    round2(p.fontPx.tick)
  }" fill="black" data-preset="${escapeMarkup(p.name)}">${
    figureMetadataElement(meta)
  }<rect class="background" width="${w}" height="${height}" fill="white"/>${parts.join("")}</svg>`;
}

/**
 * Gives a finished figure SVG the active preset's metadata when it has none (figures drawn without
 * {@link composeGrid}, e.g. the Vega-Lite fallback): `data-preset` and `<metadata>` on the root.
 */
export function withFigureMetadata(svg: string, extra: { title?: string; subtitle?: string } = {}): string {
  const s = svgToString(svg);
  if (s.includes('class="figure-metadata"')) return s;
  const p = activeFigurePreset();
  const { width, height } = svgSizePx(s);
  const meta: FigureMetadata = {
    format: "figure-meta/1",
    preset: p.name,
    widthPx: width,
    heightPx: height,
    widthIn: Math.round((width / PX_PER_IN) * 1000) / 1000,
    heightIn: Math.round((height / PX_PER_IN) * 1000) / 1000,
    fontFamily: p.fontFamily,
    ...extra,
  };
  const end = s.indexOf(">");
  return `${s.slice(0, end)} data-preset="${escapeMarkup(p.name)}">${figureMetadataElement(meta)}${
    s.slice(end + 1)
  }`;
}
