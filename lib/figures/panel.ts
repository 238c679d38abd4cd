/**
 * One line-chart panel with Observable Plot in the project style: lines with optional ±bands (areas) and
 * markers, optional vertical/horizontal reference rules, explicit axis labels. Used by the diversity grids, the
 * CDF and the histogram figures. Returns serialised SVG. Sizes, fonts, line widths and markers come from the
 * active preset; the margins are computed from the tick labels' widths, so no label is clipped.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { activeFigurePreset, isPaperPreset, linearTicks, niceDomain, textWidthPx } from "./preset.ts";
import { BAND_OPACITY, basePlotOptions, type MarkerSymbol, round2 } from "./style.ts";
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
  /** Stroke width (default: the preset's, 1.5 px on screen). */
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
  /** x axis label ("" = none, e.g. a grid's upper rows). */
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
  /**
   * Put the y label above the axis, horizontally (default: under a paper preset, when it is longer than the
   * panel is high). A grid decides once for all its panels.
   */
  yLabelOnTop?: boolean;
}

/** Plot's symbol for a marker: "cross" is drawn as an × (Plot's "times"), as in the legends. */
function plotSymbol(marker: MarkerSymbol): string {
  return marker === "cross" ? "times" : marker;
}

/** Whether a y label is drawn above a panel of this height (paper presets, label longer than the frame is high). */
export function yLabelNeedsTop(yLabel: string, heightPx: number, title = false): boolean {
  const p = activeFigurePreset();
  if (!isPaperPreset(p)) return false;
  const m = panelMargins({ widthPx: 100, heightPx, title });
  return textWidthPx(yLabel, p.fontPx.tick) > heightPx - m.marginTop - m.marginBottom - 2;
}

/** Tick marks' length and gap to their labels, per preset kind (spread into a Plot axis's options). */
export function tickGeometry(): { tickSize: number; tickPadding: number } {
  return isPaperPreset() ? { tickSize: 4, tickPadding: 2 } : { tickSize: 6, tickPadding: 3 };
}

/** About how many y ticks a frame this high gets (Plot's count: height / spacing; at least 2 on paper). */
function yTickCount(innerHeightPx: number): number {
  const n = innerHeightPx / tickSpacing("y");
  return isPaperPreset() ? Math.max(2, Math.round(n)) : n;
}

/** Plot's pixels per tick on each axis: its defaults (80 on x, 35 on y) on screen, denser on the paper presets' small panels. */
export function tickSpacing(axis: "x" | "y"): number {
  return isPaperPreset() ? (axis === "x" ? 45 : 22) : axis === "x" ? 80 : 35;
}

/** The extent of finite numbers (undefined when there are none). */
function extent(values: Iterable<number | undefined>): [number, number] | undefined {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v === undefined || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** Margins of a panel with these axes: room for the tick labels (estimated from the font) and axis labels. */
export function panelMargins(options: {
  /** y domain and the panel's inner height (for the tick count); undefined: no y tick labels known. */
  yDomain?: [number, number];
  xDomain?: [number, number];
  widthPx: number;
  heightPx: number;
  title?: boolean;
  xLog?: boolean;
  yLabel?: boolean;
  /** False: no x label (a grid's upper rows). */
  xLabel?: boolean;
  /** Plot's x inset (default 6, as {@link linePanel}'s). */
  xInset?: number;
}): { marginLeft: number; marginRight: number; marginTop: number; marginBottom: number } {
  const p = activeFigurePreset();
  const paper = isPaperPreset(p);
  const { tickSize, tickPadding } = tickGeometry();
  // Plot draws axis labels at the tick labels' size.
  const tick = p.fontPx.tick, label = p.fontPx.tick;
  const marginTop = options.title ? Math.ceil(p.fontPx.panelTitle * (paper ? 1.7 : 1.85)) : paper ? 8 : 12;
  const withX = options.xLabel !== false;
  const marginBottom = paper
    ? Math.ceil(tickSize + tickPadding + tick * 1.15 + 2 + (withX ? label * 1.1 : 0))
    : withX
    ? 40
    : 26;
  const innerH = options.heightPx - marginTop - marginBottom;
  const yLabels = options.yDomain ? linearTicks(options.yDomain, yTickCount(innerH)).labels : ["0.00"];
  const yTickW = Math.max(0, ...yLabels.map((l) => textWidthPx(l, tick)));
  const needLeft = Math.ceil(
    yTickW + tickSize + tickPadding + (options.yLabel === false ? 2 : label * 1.15 + 5),
  );
  const marginLeft = paper ? needLeft : Math.max(62, needLeft);
  // The last x tick label is centred on its tick, the x inset inside the frame.
  const inset = options.xInset ?? 6;
  let marginRight = paper ? 6 : 14;
  if (options.xDomain && !options.xLog) {
    const innerW = options.widthPx - marginLeft - marginRight - 2 * inset;
    const xs = linearTicks(options.xDomain, innerW / tickSpacing("x"));
    if (
      xs.values.length &&
      Math.abs(xs.values[xs.values.length - 1] - options.xDomain[1]) <
        1e-9 * (1 + Math.abs(options.xDomain[1]))
    ) {
      const half = textWidthPx(xs.labels[xs.labels.length - 1], tick) / 2;
      marginRight = Math.max(marginRight, Math.ceil(half - inset + 2));
    }
  }
  return { marginLeft, marginRight, marginTop, marginBottom };
}

/** Renders one panel to standalone SVG markup. */
export function linePanel(options: LinePanelOptions): string {
  const p = activeFigurePreset();
  const frameWidth = p.frameWidthPx;
  const marks: Plot.Markish[] = [Plot.frame({ stroke: "#444", strokeWidth: frameWidth })];
  const clip = options.clip ?? false;
  for (const line of options.lines) {
    const pts = line.points.map((pt) => ({ ...pt }));
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
        strokeWidth: line.strokeWidthPx ?? p.lineWidthPx,
        strokeDasharray: line.dash,
        curve,
        clip,
      }),
    );
    if (line.marker) {
      const open = line.marker === "plus" || line.marker === "cross";
      marks.push(
        Plot.dot(pts.filter((pt) => Number.isFinite(pt.y)), {
          x: "x",
          y: "y",
          symbol: plotSymbol(line.marker),
          stroke: line.colour,
          strokeWidth: open ? p.lineWidthPx : Math.min(1, p.lineWidthPx),
          fill: open ? "none" : line.colour,
          r: p.markerRadiusPx,
          clip,
        }),
      );
    }
  }
  for (const r of options.rules ?? []) {
    const colour = r.colour ?? "#555";
    const dash = r.dash ?? (isPaperPreset(p) ? "2,2" : "3,3");
    if (r.x !== undefined) {
      marks.push(Plot.ruleX([r.x], { stroke: colour, strokeDasharray: dash, strokeWidth: frameWidth }));
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
      marks.push(Plot.ruleY([r.y], { stroke: colour, strokeDasharray: dash, strokeWidth: frameWidth }));
      if (r.label) {
        marks.push(
          Plot.text([r.y], {
            y: (d: number) => d,
            frameAnchor: "right",
            dy: -p.fontPx.tick * 0.55,
            dx: -3,
            textAnchor: "end",
            text: () => r.label!,
            fill: colour,
          }),
        );
      }
    }
  }
  const width = options.widthPx ?? p.panel.width;
  const height = options.heightPx ?? p.panel.height;
  const dataY = extent([
    ...options.lines.flatMap((l) => l.points.flatMap((pt) => l.band ? [pt.y, pt.lower, pt.upper] : [pt.y])),
    ...(options.rules ?? []).map((r) => r.y),
  ]);
  // Paper presets: a y domain rounded out to whole ticks, so the small panels have labelled ends.
  const paperNice = isPaperPreset(p) && options.yDomain === undefined && dataY !== undefined;
  const yDomain = options.yDomain ??
    (paperNice ? niceDomain(dataY!, Math.max(4, yTickCount(height - 50))) : dataY);
  const xDomain = options.xDomain ?? extent([
    ...options.lines.flatMap((l) => l.points.map((pt) => pt.x)),
    ...(options.rules ?? []).map((r) => r.x),
  ]);
  let margins = panelMargins({
    yDomain,
    xDomain,
    widthPx: width,
    heightPx: height,
    title: !!options.title,
    xLog: options.xType === "log",
    xLabel: options.xLabel !== "",
  });
  // A y label longer than a small panel is high goes above the axis, horizontally (paper presets).
  const yLabelOnTop = options.yLabelOnTop ?? yLabelNeedsTop(options.yLabel, height, !!options.title);
  const labelSpace = Math.ceil(p.fontPx.tick * 1.3);
  if (yLabelOnTop) {
    margins = panelMargins({
      yDomain,
      xDomain,
      widthPx: width,
      heightPx: height,
      title: !!options.title,
      xLog: options.xType === "log",
      yLabel: false,
      xLabel: options.xLabel !== "",
    });
    margins.marginTop += labelSpace;
    marks.push(
      Plot.text([options.yLabel], {
        frameAnchor: "top-left",
        textAnchor: "start",
        lineAnchor: "bottom",
        dx: 2 - margins.marginLeft,
        dy: -Math.ceil(p.fontPx.tick * 0.55),
      }),
    );
  }
  const ticks = tickGeometry();
  const paper = isPaperPreset(p);
  const el = Plot.plot({
    ...basePlotOptions(),
    width,
    height,
    ...margins,
    title: undefined,
    grid: true,
    x: {
      label: options.xLabel === "" ? null : options.xLabel,
      labelArrow: "none",
      labelAnchor: "center",
      domain: options.xDomain,
      type: options.xType ?? "linear",
      inset: 6,
      ...ticks,
      tickSpacing: tickSpacing("x"),
    },
    y: {
      label: yLabelOnTop ? null : options.yLabel,
      labelArrow: "none",
      labelAnchor: "center",
      domain: paperNice ? yDomain : options.yDomain,
      ...ticks,
      tickSpacing: tickSpacing("y"),
      ...(isPaperPreset(p) ? { ticks: yTickCount(height - margins.marginTop - margins.marginBottom) } : {}),
    },
    marks: options.title
      ? [
        ...marks,
        Plot.text([options.title], {
          frameAnchor: "top",
          dy: -Math.round((margins.marginTop - (yLabelOnTop ? labelSpace : 0)) * 0.62) -
            (yLabelOnTop ? labelSpace : 0),
          fontSize: round2(paper ? p.fontPx.panelTitle : p.fontPx.panelTitle - 1),
          fontWeight: "bold",
        }),
      ]
      : marks,
  });
  return svgToString(el as unknown as { outerHTML: string });
}

/**
 * Panel size of a grid with `columns` panels per row: the screen size given on screen; under a paper preset,
 * the width that fills the preset's width exactly and a height of `aspect` × width within the preset's grid limits.
 */
export function gridPanelSize(
  columns: number,
  screen: { width: number; height: number },
  aspect = 0.72,
): { width: number; height: number } {
  const p = activeFigurePreset();
  if (p.widthPx === null) return screen;
  const cols = Math.max(1, columns);
  const width = Math.floor((p.widthPx - 2 * p.gapPx - (cols - 1) * p.gapPx) / cols);
  const { min, max } = p.gridPanelHeightPx;
  return { width, height: Math.round(Math.min(max, Math.max(min, width * aspect))) };
}

/** The size of a figure's only panel: the screen size given, or the paper preset's full width × its single-panel height. */
export function singlePanelSize(
  screen: { width: number; height: number },
): { width: number; height: number } {
  const p = activeFigurePreset();
  if (p.widthPx === null) return screen;
  return { width: p.widthPx - 2 * p.gapPx, height: p.singlePanelHeightPx };
}

/** Panels per row that fit the paper preset's width at `minWidthPx` each (at most `wanted`); `wanted` on screen. */
export function columnsThatFit(wanted: number, minWidthPx: number): number {
  const p = activeFigurePreset();
  if (p.widthPx === null) return Math.max(1, wanted);
  const fit = Math.floor((p.widthPx - 2 * p.gapPx + p.gapPx) / (minWidthPx + p.gapPx));
  return Math.max(1, Math.min(wanted, fit));
}
