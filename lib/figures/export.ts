/**
 * Saving figures: `<name>.svg` (standalone, with xmlns) and `<name>.png` (rendered by resvg with DejaVu Sans as
 * the default font), each written atomically (temp file + rename, lib/io/atomic.ts).
 * @module
 */
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { writeFileAtomic } from "../io/atomic.ts";
import { FONT_FAMILY } from "./style.ts";
import { type SvgSource, svgToString } from "./svg.ts";

/** Where figures go by default (relative to the working directory). */
export const DEFAULT_FIGURE_DIR = "results/figures";

/** Options of {@link saveFigure}. */
export interface SaveFigureOptions {
  /** PNG pixels per SVG px (default 2). */
  pngScale?: number;
  /** Skip the PNG. */
  svgOnly?: boolean;
}

/** Paths written by {@link saveFigure}. */
export interface SavedFigure {
  svgPath: string;
  /** Null with `svgOnly`. */
  pngPath: string | null;
  /** PNG size in px (0 × 0 with `svgOnly`). */
  pngWidthPx: number;
  pngHeightPx: number;
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

/**
 * Writes `<dir>/<name>.svg` and `<dir>/<name>.png` atomically and returns their paths. `figure` is SVG markup,
 * an SVG element, or a {@link import("./figure.ts").Figure} (its `svg`). `name` must be a plain file stem.
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
  if (options.svgOnly) {
    await writeFileAtomic(svgPath, svg);
    return { svgPath, pngPath: null, pngWidthPx: 0, pngHeightPx: 0 };
  }
  const { png, widthPx, heightPx } = svgToPng(svg, options.pngScale ?? 2); // render first: no half-saved pair
  const pngPath = join(dir, `${name}.png`);
  await writeFileAtomic(svgPath, svg);
  await writeFileAtomic(pngPath, png);
  return { svgPath, pngPath, pngWidthPx: widthPx, pngHeightPx: heightPx };
}
