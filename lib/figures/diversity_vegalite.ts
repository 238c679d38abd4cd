/**
 * An interactive Vega-Lite version of the F1 diversity grid (same data as {@link diversityGridData}): rows =
 * metrics, columns = prompt sets, independent y scales per row, ±2·SE error bands, tooltips, and a legend
 * selection that highlights one model. Comes with its static SVG rendering (vega, headless), and displays as
 * `{ "application/vnd.vegalite.v5+json": spec, "image/svg+xml": fallback }`.
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { type DiversitySeries, metricLabel } from "./diversity_data.ts";
import { type DiversityGridData, diversityGridData, type DiversityGridOptions } from "./diversity_grid.ts";
import { JUPYTER_DISPLAY, type MimeBundle, VEGALITE_MIME } from "./display.ts";
import { FONT_FAMILY, FONT_SIZE_PX, PANEL_SIZE_PX } from "./style.ts";
import { svgToString } from "./svg.ts";

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

/** The long-format rows of grid data. */
export function vegaGridRows(data: DiversityGridData): VegaGridRow[] {
  const rows: VegaGridRow[] = [];
  for (const p of data.panels) {
    const column = data.columns[p.column].title;
    for (const l of p.lines) {
      for (const pt of l.points) {
        rows.push({
          metric: p.metric,
          metricLabel: metricLabel(p.metric),
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

/** The Vega-Lite spec of grid data. */
export function diversityGridSpec(data: DiversityGridData, title?: string): Record<string, unknown> {
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
    mark: { type: "line", point: true },
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
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: title ?? "Output diversity across temperature",
    data: { values: rows },
    facet: {
      row: {
        field: "metricLabel",
        type: "nominal",
        title: null,
        sort: data.metrics.map(metricLabel),
        header: { labelAngle: 0, labelAlign: "left", labelFontSize: FONT_SIZE_PX.label },
      },
      column: {
        field: "column",
        type: "nominal",
        title: null,
        sort: data.columns.map((c) => c.title),
        header: { labelFontSize: FONT_SIZE_PX.panelTitle, labelFontWeight: "bold" },
      },
    },
    spec: { width: PANEL_SIZE_PX.width - 60, height: PANEL_SIZE_PX.height - 80, layer: layers },
    resolve: { scale: { y: "independent" } },
    config: { font: FONT_FAMILY, background: "white" },
  };
}

/** Renders a Vega-Lite spec to SVG headlessly (vega View, renderer "none"). */
export async function vegaLiteToSvg(spec: Record<string, unknown>): Promise<string> {
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return svgToString(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** The interactive F1 grid with its SVG fallback (same options as the static grid). */
export async function diversityGridVegaLite(
  series: readonly DiversitySeries[],
  options: DiversityGridOptions = {},
): Promise<VegaLiteFigure> {
  const data = diversityGridData(series, options);
  const spec = diversityGridSpec(data, options.title);
  const svg = await vegaLiteToSvg(spec);
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
