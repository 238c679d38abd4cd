/**
 * A notebook figure shown and saved in one call: a figure cell ends with `await show(fig, "name", figuresDir);`.
 * @module
 */
import { saveFigure } from "../figures/export.ts";

/**
 * Saves `figure` as `<dir>/<name>.svg` and `.png`, and `.pdf` where its preset asks for one (the paper presets,
 * when Chromium is there), then returns it, so that as a cell's last expression it is shown inline. A
 * placeholder from {@link import("./skipped_figure.ts").skippedFigure} is shown but not saved.
 */
export async function show<F extends { svg: string; data: unknown }>(
  figure: F,
  name: string,
  dir: string,
): Promise<F> {
  const d = figure.data as Record<string, unknown> | null;
  const skipped = d !== null && typeof d === "object" && "skipped" in d;
  if (!skipped) await saveFigure(figure, name, dir);
  return figure;
}
