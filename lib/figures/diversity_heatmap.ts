/**
 * Per-prompt heatmap of one diversity metric: prompt × temperature, one facet per model, one shared colour
 * scale (ramp legend under the panels). Shows what the means of the F1 grid average over.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type DiversitySeries, findSeries, modelsOf } from "../data/diversity_series.ts";
import { metricLabel, metricShortLabel } from "./metric_labels.ts";
import { type Figure, makeFigure } from "./figure.ts";
import { tickGeometry } from "./panel.ts";
import {
  activeFigurePreset,
  isPaperPreset,
  type PresetOption,
  textWidthPx,
  withFigurePreset,
} from "./preset.ts";
import { basePlotOptions } from "./style.ts";
import { composeGrid, svgToString } from "./svg.ts";

/** One heatmap cell. */
export interface HeatmapCell {
  model: string;
  temperature: number;
  prompt: number;
  value: number;
}

/** The data behind {@link diversityHeatmap}. */
export interface HeatmapData {
  metric: string;
  promptSet: string;
  words: string;
  models: string[];
  cells: HeatmapCell[];
  /** Colour domain [min, max] over the finite values. */
  domain: [number, number];
}

/** Options of {@link diversityHeatmap}. */
export interface HeatmapOptions extends PresetOption {
  metric?: string;
  promptSet?: string;
  words?: string | number;
  models?: readonly string[];
  /** Colour scheme (Plot/d3 name, default "viridis"). */
  scheme?: string;
  title?: string;
}

/**
 * Per-prompt heatmap of one metric: prompt (rows) × temperature (columns), one facet per model, one shared
 * colour scale with its ramp legend under the panels.
 */
export function diversityHeatmap(
  series: readonly DiversitySeries[],
  options: HeatmapOptions = {},
): Figure<HeatmapData> {
  return withFigurePreset(options.preset, () => drawHeatmap(series, options));
}

function drawHeatmap(series: readonly DiversitySeries[], options: HeatmapOptions): Figure<HeatmapData> {
  const preset = activeFigurePreset();
  const paper = isPaperPreset(preset);
  const metric = options.metric ?? "selfBleuSmoothed";
  const promptSet = options.promptSet ?? "creative";
  const words = String(options.words ?? "20");
  const models = [...(options.models ?? modelsOf(series))];
  const cells: HeatmapCell[] = [];
  for (const model of models) {
    const s = findSeries(series, model, promptSet, words);
    if (!s) continue;
    const grid = s.values[metric];
    if (!grid) throw new Error(`${s.source}: no metric '${metric}'`);
    grid.forEach((row, t) =>
      row.forEach((value, p) => cells.push({ model, temperature: s.temperatures[t], prompt: p, value }))
    );
  }
  const present = models.filter((m) => cells.some((c) => c.model === m));
  const scheme = (options.scheme ?? "viridis") as Plot.ColorScheme;
  const finite = cells.map((c) => c.value).filter(Number.isFinite);
  const domain: [number, number] = finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
  const doc = basePlotOptions();
  const temperatureCount = new Set(cells.map((c) => c.temperature)).size;
  const temperatures = [...new Set(cells.map((c) => c.temperature))].sort((a, b) => a - b);
  const prompts = [...new Set(cells.map((c) => c.prompt))].sort((a, b) => a - b);
  const promptCount = prompts.length;
  const font = preset.fontPx.tick;
  const width = preset.widthPx !== null
    ? preset.widthPx - 2 * preset.gapPx
    : Math.max(320, 260 * present.length + 80);
  const marginLeft = paper
    ? Math.ceil(textWidthPx(String(Math.max(0, promptCount - 1)), font) + font * 1.2 + 14)
    : 56;
  const facetW = (width - marginLeft - 10) / Math.max(1, present.length);
  // Every temperature when the labels fit (a study's short grid), else every 0.5.
  const allFit = temperatureCount <= 8 &&
    facetW / Math.max(1, temperatureCount) >= textWidthPx("0.00", font) + 2;
  const plot = Plot.plot({
    ...doc,
    width,
    height: paper ? Math.max(140, Math.min(260, Math.round(facetW * 0.9))) : 360,
    marginLeft,
    marginBottom: paper ? Math.ceil(font * 3.1) : 40,
    marginTop: paper ? Math.ceil(font * 1.8) : undefined,
    marginRight: paper ? 4 : undefined,
    padding: 0,
    fx: { domain: present, label: null, ...(paper ? { fontSize: font } : {}) },
    x: {
      type: "band",
      label: "Temperature",
      labelArrow: "none",
      labelAnchor: "center",
      tickFormat: (t: number) => allFit || Math.round(t * 10) % 5 === 0 ? String(t) : "",
      // Paper presets: ticks only where there is a label.
      ...(paper ? { ticks: temperatures.filter((t) => allFit || Math.round(t * 10) % 5 === 0) } : {}),
      ...tickGeometry(),
    },
    y: {
      type: "band",
      label: "Prompt",
      labelArrow: "none",
      labelAnchor: "center",
      // Paper presets: every prompt index when they fit, else every 5th.
      ...(paper ? { ticks: prompts.filter((p) => promptCount <= 12 || p % 5 === 0) } : {}),
      ...tickGeometry(),
    },
    color: { type: "linear", scheme, domain, unknown: "#ddd" },
    marks: [
      Plot.cell(cells, {
        fx: "model",
        x: "temperature",
        y: "prompt",
        fill: "value",
        inset: paper ? 0 : 0.2,
      }),
    ],
  });
  const steps = 64;
  const ramp = Array.from({ length: steps }, (_, i) => {
    const x1 = domain[0] + ((domain[1] - domain[0]) * i) / steps;
    const x2 = domain[0] + ((domain[1] - domain[0]) * (i + 1)) / steps;
    return { x1, x2, mid: (x1 + x2) / 2 };
  });
  const legend = Plot.plot({
    ...doc,
    width: paper ? Math.min(width, 260) : 340,
    height: paper ? Math.ceil(font * 4.4) : 62,
    marginLeft: 16,
    marginRight: 16,
    marginTop: 4,
    marginBottom: paper ? Math.ceil(font * 3) : 36,
    x: {
      domain,
      label: paper
        ? `${metricShortLabel(metric)} (${promptSet}, ${words} words)`
        : `${metricLabel(metric)} (${promptSet}, ${words} words)`,
      labelArrow: "none",
      labelAnchor: "center",
      ticks: paper ? 4 : 5,
      ...tickGeometry(),
    },
    y: { axis: null },
    color: { type: "linear", scheme, domain },
    marks: [Plot.rect(ramp, { x1: "x1", x2: "x2", y1: 0, y2: 1, fill: "mid" })],
  });
  const svg = composeGrid([svgToString(plot as unknown as { outerHTML: string })], {
    columns: 1,
    title: options.title ?? `${metricLabel(metric)} per prompt — ${promptSet} prompts, ${words} words`,
    subtitle: series.some((s) => s.labels === "paper")
      ? "PAPER'S SWAPPED creative/factual labels"
      : undefined,
    footer: legend as unknown as { outerHTML: string },
  });
  return makeFigure(svg, { metric, promptSet, words, models: present, cells, domain });
}
