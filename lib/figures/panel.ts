/**
 * One line-chart panel with Observable Plot in the project style: lines with optional ±bands (areas) and
 * markers, optional vertical/horizontal reference rules, explicit axis labels. Used by the diversity grids, the
 * CDF and the histogram figures. Returns serialised SVG.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { BAND_OPACITY, basePlotOptions, FONT_SIZE_PX, type MarkerSymbol, PANEL_SIZE_PX } from "./style.ts";
import { svgToString } from "./svg.ts";

/** One point of a panel line (`lower`/`upper`: the band, when drawn). */
export interface PanelPoint {
  x: number;
  y: number;
  lower?: number;
  upper?: number;
}

/** One line of a panel. */
export interface PanelLine {
  points: readonly PanelPoint[];
  colour: string;
  /** SVG stroke-dasharray. */
  dash?: string;
  marker?: MarkerSymbol;
  /** Draw the lower/upper band. */
  band?: boolean;
  /** Plot curve (default "linear"; "step-after" for histograms). */
  curve?: "linear" | "step-after" | "step";
  /** Stroke width (default 1.5). */
  strokeWidthPx?: number;
}

/** A reference rule: vertical at `x` or horizontal at `y`. */
export interface PanelRule {
  x?: number;
  y?: number;
  colour?: string;
  dash?: string;
  /** Text drawn next to the rule. */
  label?: string;
}

/** Options of {@link linePanel}. */
export interface LinePanelOptions {
  lines: readonly PanelLine[];
  xLabel: string;
  yLabel: string;
  title?: string;
  widthPx?: number;
  heightPx?: number;
  xDomain?: [number, number];
  yDomain?: [number, number];
  xType?: "linear" | "log";
  rules?: readonly PanelRule[];
  /** Clip marks to the frame (for zoomed domains). */
  clip?: boolean;
}

/** Renders one panel to standalone SVG markup. */
export function linePanel(options: LinePanelOptions): string {
  const marks: Plot.Markish[] = [Plot.frame({ stroke: "#444" })];
  const clip = options.clip ?? false;
  for (const line of options.lines) {
    const pts = line.points.map((p) => ({ ...p }));
    const curve = line.curve ?? "linear";
    if (line.band) {
      marks.push(
        Plot.areaY(pts, {
          x: "x",
          y1: "lower",
          y2: "upper",
          fill: line.colour,
          fillOpacity: BAND_OPACITY,
          curve,
          clip,
        }),
      );
    }
    marks.push(
      Plot.line(pts, {
        x: "x",
        y: "y",
        stroke: line.colour,
        strokeWidth: line.strokeWidthPx ?? 1.5,
        strokeDasharray: line.dash,
        curve,
        clip,
      }),
    );
    if (line.marker) {
      marks.push(
        Plot.dot(pts.filter((p) => Number.isFinite(p.y)), {
          x: "x",
          y: "y",
          symbol: line.marker,
          stroke: line.colour,
          fill: line.marker === "plus" || line.marker === "cross" ? "none" : line.colour,
          r: 3,
          clip,
        }),
      );
    }
  }
  for (const r of options.rules ?? []) {
    const colour = r.colour ?? "#555";
    if (r.x !== undefined) {
      marks.push(Plot.ruleX([r.x], { stroke: colour, strokeDasharray: r.dash ?? "3,3" }));
      if (r.label) {
        marks.push(
          Plot.text([r.x], {
            x: (d: number) => d,
            frameAnchor: "top",
            dy: 4,
            dx: 3,
            textAnchor: "start",
            text: () => r.label!,
            fill: colour,
          }),
        );
      }
    }
    if (r.y !== undefined) {
      marks.push(Plot.ruleY([r.y], { stroke: colour, strokeDasharray: r.dash ?? "3,3" }));
      if (r.label) {
        marks.push(
          Plot.text([r.y], {
            y: (d: number) => d,
            frameAnchor: "right",
            dy: -6,
            dx: -3,
            textAnchor: "end",
            text: () => r.label!,
            fill: colour,
          }),
        );
      }
    }
  }
  const el = Plot.plot({
    ...basePlotOptions(),
    width: options.widthPx ?? PANEL_SIZE_PX.width,
    height: options.heightPx ?? PANEL_SIZE_PX.height,
    marginLeft: 62,
    marginBottom: 40,
    marginTop: options.title ? 26 : 12,
    marginRight: 14,
    title: undefined,
    grid: true,
    x: {
      label: options.xLabel,
      labelArrow: "none",
      labelAnchor: "center",
      domain: options.xDomain,
      type: options.xType ?? "linear",
      inset: 6,
    },
    y: {
      label: options.yLabel,
      labelArrow: "none",
      labelAnchor: "center",
      domain: options.yDomain,
    },
    marks: options.title
      ? [
        ...marks,
        Plot.text([options.title], {
          frameAnchor: "top",
          dy: -18,
          fontSize: FONT_SIZE_PX.panelTitle - 1,
          fontWeight: "bold",
        }),
      ]
      : marks,
  });
  return svgToString(el as unknown as { outerHTML: string });
}
