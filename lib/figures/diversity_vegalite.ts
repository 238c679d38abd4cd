/**
 * An interactive Vega-Lite version of the F1 diversity grid (same data as {@link diversityGridData}): rows =
 * metrics, columns = prompt sets, independent y scales per row, ±2·SE error bands, tooltips, and a legend
 * selection that highlights one model. Comes with its static SVG rendering (vega, headless), and displays as
 * `{ "application/vnd.vegalite.v5+json": spec, "image/svg+xml": fallback }`.
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import type { DiversitySeries } from "../data/diversity_series.ts";
import { metricLabel, metricShortLabel } from "./metric_labels.ts";
import { type DiversityGridData, diversityGridData, type DiversityGridOptions } from "./diversity_grid.ts";
import { JUPYTER_DISPLAY, type MimeBundle, VEGALITE_MIME } from "./display.ts";
import {
  activeFigurePreset,
  type FigurePreset,
  isPaperPreset,
  resolveFigurePreset,
  withFigurePreset,
} from "./preset.ts";
import { round2 } from "./style.ts";
import { svgSizePx, svgToString, withFigureMetadata } from "./svg.ts";

/** One row of the spec's inline data (long format). */
export interface VegaGridRow {
  metric: string;
  metricLabel: string;
  column: string;
  model: string;
  modelLabel: string;
  temperature: number;
  /** null where the mean is undefined (NaN is not valid JSON). */
  mean: number | null;
  lower: number | null;
  upper: number | null;
  se: number | null;
  n: number;
}

/** The interactive grid: spec, fallback SVG, the grid data, displayable. */
export interface VegaLiteFigure {
  spec: Record<string, unknown>;
  svg: string;
  data: DiversityGridData;
  rows: VegaGridRow[];
  [JUPYTER_DISPLAY](): MimeBundle;
}

const num = (x: number) => (Number.isFinite(x) ? x : null);

/** The long-format rows of grid data (metric labels: the preset's, short under the paper presets). */
function vegaGridRows(data: DiversityGridData): VegaGridRow[] {
  const label = isPaperPreset() ? metricShortLabel : metricLabel;
  const rows: VegaGridRow[] = [];
  for (const p of data.panels) {
    const column = data.columns[p.column].title;
    for (const l of p.lines) {
      for (const pt of l.points) {
        rows.push({
          metric: p.metric,
          metricLabel: label(p.metric),
          column,
          model: l.model,
          modelLabel: l.style.label,
          temperature: pt.temperature,
          mean: num(pt.mean),
          lower: num(pt.lower),
          upper: num(pt.upper),
          se: num(pt.se),
          n: pt.n,
        });
      }
    }
  }
  return rows;
}

/** The Vega-Lite spec of grid data, sized and styled by the active preset (`cellWidthPx` overrides the panels' width). */
function diversityGridSpec(
  data: DiversityGridData,
  title?: string,
  cellWidthPx?: number,
): Record<string, unknown> {
  const p = activeFigurePreset();
  const paper = isPaperPreset(p);
  const label = paper ? metricShortLabel : metricLabel;
  const rows = vegaGridRows(data);
  const models = data.models.filter((m) => rows.some((r) => r.model === m));
  const labels = models.map((m) => rows.find((r) => r.model === m)!.modelLabel);
  const colours = models.map((m) =>
    data.panels.flatMap((p) => p.lines).find((l) => l.model === m)!.style.colour
  );
  const x = { field: "temperature", type: "quantitative", title: "Temperature" };
  const color = {
    field: "modelLabel",
    type: "nominal",
    title: "Model",
    scale: { domain: labels, range: colours },
  };
  const opacity = { condition: { param: "model", value: 1 }, value: 0.15 };
  const layers: Record<string, unknown>[] = [];
  if (data.bands) {
    layers.push({
      mark: { type: "errorband", opacity: 0.2 },
      encoding: {
        x,
        y: { field: "lower", type: "quantitative", title: null },
        y2: { field: "upper" },
        color,
      },
    });
  }
  layers.push({
    mark: {
      type: "line",
      strokeWidth: p.lineWidthPx,
      point: { size: round2(Math.PI * p.markerRadiusPx ** 2) },
    },
    params: [{ name: "model", select: { type: "point", fields: ["modelLabel"] }, bind: "legend" }],
    encoding: {
      x,
      y: { field: "mean", type: "quantitative", title: null, scale: { zero: false } },
      color,
      opacity,
      tooltip: [
        { field: "modelLabel", title: "model" },
        { field: "metricLabel", title: "metric" },
        { field: "column", title: "prompts" },
        { field: "temperature" },
        { field: "mean", format: ".4f" },
        { field: "se", format: ".4f" },
        { field: "n" },
      ],
    },
  });
  const f = p.fontPx;
  const titleText = title ?? "Output diversity across temperature";
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    ...(p.showTitles ? { title: titleText } : { description: titleText }),
    data: { values: rows },
    facet: {
      row: {
        field: "metricLabel",
        type: "nominal",
        title: null,
        sort: data.metrics.map(label),
        header: { labelAngle: 0, labelAlign: "left", labelFontSize: round2(paper ? f.tick : f.label) },
      },
      column: {
        field: "column",
        type: "nominal",
        title: null,
        sort: data.columns.map((c) => c.title),
        header: { labelFontSize: round2(f.panelTitle), labelFontWeight: "bold" },
      },
    },
    spec: {
      width: cellWidthPx ?? (paper ? 120 : p.panel.width - 60),
      height: paper ? 70 : p.panel.height - 80,
      layer: layers,
    },
    resolve: { scale: { y: "independent" } },
    config: {
      font: p.fontFamily,
      background: "white",
      padding: paper ? 4 : 5,
      ...(paper ? { facet: { spacing: 6 } } : {}),
      axis: { labelFontSize: round2(f.tick), titleFontSize: round2(f.tick), tickSize: paper ? 4 : 5 },
      legend: { labelFontSize: round2(f.tick), titleFontSize: round2(f.tick), symbolSize: paper ? 40 : 100 },
      title: { fontSize: round2(f.title) },
    },
  };
}

/** Renders a Vega-Lite spec to SVG headlessly (vega View, renderer "none"). */
async function vegaLiteToSvg(spec: Record<string, unknown>): Promise<string> {
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return svgToString(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * The interactive F1 grid with its SVG fallback (same options as the static grid). Under a paper preset the
 * panels' width is fitted so that the fallback is the preset's width (one re-render), and scaled when it still
 * differs.
 */
export async function diversityGridVegaLite(
  series: readonly DiversitySeries[],
  options: DiversityGridOptions = {},
): Promise<VegaLiteFigure> {
  const preset: FigurePreset = options.preset !== undefined
    ? resolveFigurePreset(options.preset)
    : activeFigurePreset();
  const inPreset = <T>(fn: () => T) => withFigurePreset(preset, fn);
  const data = inPreset(() => diversityGridData(series, options));
  let spec = inPreset(() => diversityGridSpec(data, options.title));
  let svg = await vegaLiteToSvg(spec);
  if (preset.widthPx !== null) {
    const target = preset.widthPx;
    const cells = Math.max(1, data.columns.length);
    const cell = (spec.spec as { width: number }).width;
    const fitted = Math.max(40, Math.floor(cell + (target - svgSizePx(svg).width) / cells));
    spec = inPreset(() => diversityGridSpec(data, options.title, fitted));
    svg = fitToWidth(await vegaLiteToSvg(spec), target);
  }
  svg = inPreset(() =>
    withFigureMetadata(svg, { title: options.title ?? "Output diversity across temperature" })
  );
  return {
    spec,
    svg,
    data,
    rows: vegaGridRows(data),
    [JUPYTER_DISPLAY](): MimeBundle {
      return { [VEGALITE_MIME]: spec, "image/svg+xml": svg };
    },
  };
}

/** Scales a standalone SVG (with a viewBox) uniformly to `widthPx` wide, when it is not already. */
function fitToWidth(svg: string, widthPx: number): string {
  const { width, height } = svgSizePx(svg);
  if (Math.abs(width - widthPx) < 0.01) return svg;
  const end = svg.indexOf(">");
  let open = svg.slice(0, end);
  if (!/\sviewBox="/.test(open)) open += ` viewBox="0 0 ${width} ${height}"`;
  const h = Math.ceil((height * widthPx) / width / 8) * 8;
  open = open.replace(/\swidth="[\d.]+"/, ` width="${widthPx}"`).replace(
    /\sheight="[\d.]+"/,
    ` height="${h}"`,
  );
  // The viewBox keeps the drawing; the extra height (rounding to 1/12 in) is white space at the bottom.
  return `${open} preserveAspectRatio="xMidYMin meet"${svg.slice(end)}`;
}
