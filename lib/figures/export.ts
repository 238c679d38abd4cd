/**
 * Saving figures: `<name>.svg` (standalone, with xmlns and the figure's preset in its metadata), `<name>.png`
 * (rendered by resvg, at the preset's resolution — 300 dpi for the paper presets, 2 × (192 dpi) on screen — with
 * that resolution recorded in the PNG's pHYs chunk, so LaTeX and viewers know its physical size) and, for the
 * paper presets or when asked, `<name>.pdf` (vector, lib/figures/pdf.ts), each written atomically (temp file +
 * rename, lib/io/atomic.ts).
 * @module
 */
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { writeFileAtomic } from "../io/atomic.ts";
import { type ChromiumPdf, pdfExportAvailable, type PdfInfo, svgToPdf } from "./pdf.ts";
import { FIGURE_PRESETS, isFigurePresetName, PX_PER_IN, readFigureMetadata } from "./preset.ts";
import { FONT_FAMILY } from "./style.ts";
import { type SvgSource, svgToString } from "./svg.ts";

/** Where figures go by default (relative to the working directory). */
export const DEFAULT_FIGURE_DIR = "results/figures";

/** Options of {@link saveFigure}. */
export interface SaveFigureOptions {
  /** PNG pixels per SVG px (default: the figure preset's dpi / 96; 2 on screen). */
  pngScale?: number;
  /** PNG resolution in dots per inch (overrides `pngScale`; default: the preset's, 300 for print). */
  pngDpi?: number;
  /** Skip the PNG (and the PDF). */
  svgOnly?: boolean;
  /**
   * Write `<name>.pdf`: true (an error when Chromium is missing), false, or "auto" (default): for figures drawn
   * with a paper preset, when Chromium is there (otherwise the PDF is skipped and `pdfSkipped` says why).
   */
  pdf?: boolean | "auto";
  /** The browser to print with (a batch's); default: one shared by the process (lib/figures/pdf.ts). */
  pdfRenderer?: ChromiumPdf;
  /** Title and caption for the PDF's document information (default title: the figure's title, else its name). */
  title?: string;
  caption?: string;
}

/** Paths written by {@link saveFigure}. */
export interface SavedFigure {
  svgPath: string;
  /** Null with `svgOnly`. */
  pngPath: string | null;
  /** PNG size in px (0 × 0 with `svgOnly`). */
  pngWidthPx: number;
  pngHeightPx: number;
  /** The PNG's resolution (0 with `svgOnly`). */
  pngDpi: number;
  /** Null when no PDF was written. */
  pdfPath: string | null;
  /** Why a PDF that "auto" would have written was not. */
  pdfSkipped?: string;
  /** The preset the figure was drawn with ("screen" for SVGs without metadata). */
  preset: string;
}

/** Renders SVG markup to PNG bytes (white background, DejaVu Sans default font). */
export function svgToPng(svg: SvgSource, scale = 2): { png: Uint8Array; widthPx: number; heightPx: number } {
  const r = new Resvg(svgToString(svg), {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  const img = r.render();
  return { png: new Uint8Array(img.asPng()), widthPx: img.width, heightPx: img.height };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Sets a PNG's resolution (its pHYs chunk, replacing one that is there) to `dpi`. */
export function setPngDpi(png: Uint8Array, dpi: number): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Uint8Array[] = [png.subarray(0, 8)];
  const ppm = Math.round(dpi / 0.0254);
  const phys = new Uint8Array(21);
  const pv = new DataView(phys.buffer);
  pv.setUint32(0, 9);
  phys.set([0x70, 0x48, 0x59, 0x73], 4); // "pHYs"
  pv.setUint32(8, ppm);
  pv.setUint32(12, ppm);
  phys[16] = 1; // unit: metre
  pv.setUint32(17, crc32(phys.subarray(4, 17)));
  let at = 8;
  while (at + 8 <= png.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const end = at + 12 + len;
    if (type !== "pHYs") chunks.push(png.subarray(at, end));
    if (type === "IHDR") chunks.push(phys);
    at = end;
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** The resolution a PNG's pHYs chunk states (dots per inch), or undefined. */
export function pngDpi(png: Uint8Array): number | undefined {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  while (at + 8 <= png.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === "pHYs" && png[at + 16] === 1) return Math.round(view.getUint32(at + 8) * 0.0254 * 100) / 100;
    if (type === "IDAT") return undefined;
    at += 12 + len;
  }
  return undefined;
}

/** The preset name and default PNG resolution of a finished SVG (screen when it carries no metadata). */
function presetOf(svg: string): { preset: string; dpi: number; paper: boolean } {
  const meta = readFigureMetadata(svg);
  const name = meta?.preset ?? "screen";
  const p = isFigurePresetName(name) ? FIGURE_PRESETS[name] : undefined;
  return { preset: name, dpi: p?.pngDpi ?? 192, paper: p ? p.widthPx !== null : false };
}

let warnedNoPdf = false;

/**
 * Writes `<dir>/<name>.svg`, `<dir>/<name>.png` and (see {@link SaveFigureOptions.pdf}) `<dir>/<name>.pdf`
 * atomically and returns their paths. `figure` is SVG markup, an SVG element, or a
 * {@link import("./figure.ts").Figure} (its `svg`). `name` must be a plain file stem.
 */
export async function saveFigure(
  figure: SvgSource | { svg: string },
  name: string,
  dir: string = DEFAULT_FIGURE_DIR,
  options: SaveFigureOptions = {},
): Promise<SavedFigure> {
  if (!name || /[/\\]/.test(name) || name.startsWith(".")) {
    throw new Error(`saveFigure: name must be a plain file stem, got ${JSON.stringify(name)}`);
  }
  const source: SvgSource = typeof figure === "object" && "svg" in figure ? figure.svg : figure;
  const svg = svgToString(source);
  const svgPath = join(dir, `${name}.svg`);
  const kind = presetOf(svg);
  if (options.svgOnly) {
    await writeFileAtomic(svgPath, svg);
    return {
      svgPath,
      pngPath: null,
      pngWidthPx: 0,
      pngHeightPx: 0,
      pngDpi: 0,
      pdfPath: null,
      preset: kind.preset,
    };
  }
  const dpi = options.pngDpi ?? (options.pngScale !== undefined ? options.pngScale * PX_PER_IN : kind.dpi);
  const scale = options.pngScale !== undefined && options.pngDpi === undefined
    ? options.pngScale
    : dpi / PX_PER_IN;
  // Render everything first: no half-saved set.
  const { png, widthPx, heightPx } = svgToPng(svg, scale);
  const wantPdf = options.pdf ?? "auto";
  let pdf: Uint8Array | undefined;
  let pdfSkipped: string | undefined;
  if (wantPdf === true || (wantPdf === "auto" && kind.paper)) {
    const available = options.pdfRenderer ? { ok: true as const } : pdfExportAvailable();
    if (!available.ok) {
      if (wantPdf === true) throw new Error(`saveFigure ${name}: ${available.reason}`);
      pdfSkipped = available.reason;
      if (!warnedNoPdf) console.warn(`saveFigure: no PDF: ${available.reason}`);
      warnedNoPdf = true;
    } else {
      const meta = readFigureMetadata(svg);
      const info: PdfInfo = {
        title: options.title ?? meta?.title ?? name,
        subject: options.caption,
        keywords: `preset=${kind.preset}; width=${meta?.widthIn ?? ""}in; height=${meta?.heightIn ?? ""}in`,
      };
      pdf = options.pdfRenderer ? await options.pdfRenderer.render(svg, info) : await svgToPdf(svg, info);
    }
  }
  const pngPath = join(dir, `${name}.png`);
  await writeFileAtomic(svgPath, svg);
  await writeFileAtomic(pngPath, setPngDpi(png, dpi));
  let pdfPath: string | null = null;
  if (pdf) {
    pdfPath = join(dir, `${name}.pdf`);
    await writeFileAtomic(pdfPath, pdf);
  }
  return {
    svgPath,
    pngPath,
    pngWidthPx: widthPx,
    pngHeightPx: heightPx,
    pngDpi: dpi,
    pdfPath,
    ...(pdfSkipped ? { pdfSkipped } : {}),
    preset: kind.preset,
  };
}
