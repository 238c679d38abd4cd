/**
 * Reliability diagram from `score/1` calibration bins: accuracy against mean confidence per bin, bars over the
 * bins' confidence ranges, the diagonal of perfect calibration, and the expected calibration error in the title
 * (the file's `ece`, cross-checked against Σ_b (n_b / N)·|accuracy_b − confidence_b| of the bins).
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { CalibrationBin } from "../io/score_stats.ts";
import { type Figure, makeFigure } from "./figure.ts";
import { columnsThatFit, gridPanelSize, panelMargins, tickGeometry, tickSpacing } from "./panel.ts";
import {
  activeFigurePreset,
  isPaperPreset,
  type PresetOption,
  textWidthPx,
  withFigurePreset,
} from "./preset.ts";
import { assignModelStyles, basePlotOptions, type FigureRole, round2 } from "./style.ts";
import { composeGrid, svgToString } from "./svg.ts";
import { formatFixed } from "../numeric/number_format.ts";

/** One model's calibration. */
export interface ReliabilityInput {
  model: string;
  calibration: readonly CalibrationBin[];
  /** ECE as stored; recomputed from the bins when absent. */
  ece?: number;
}

/** The data behind {@link reliabilityFigure}. */
export interface ReliabilityData {
  panels: {
    model: string;
    bins: CalibrationBin[];
    /** The ECE shown (stored, else recomputed). */
    ece: number;
    /** Σ_b (n_b / N)·|accuracy_b − confidence_b| over non-empty bins. */
    eceFromBins: number;
    positions: number;
  }[];
}

/** Expected calibration error of reliability bins: Σ_b (n_b / N)·|accuracy_b − confidence_b| (empty bins skipped). */
export function eceFromBins(bins: readonly CalibrationBin[]): number {
  const n = bins.reduce((a, b) => a + b.count, 0);
  if (n === 0) return NaN;
  let e = 0;
  for (const b of bins) if (b.count > 0) e += (b.count / n) * Math.abs(b.accuracy - b.mean_confidence);
  return e;
}

/** Formats an ECE for titles: 4 decimals, "n/a" when undefined (no bins). */
function formatEce(ece: number): string {
  return formatFixed(ece, 4, "n/a");
}

/** Reliability diagram, one panel per model, titled "<model> — ECE = …". */
export function reliabilityFigure(
  inputs: readonly ReliabilityInput[],
  options: { title?: string; sizePx?: number; roles?: Readonly<Record<string, FigureRole>> } & PresetOption =
    {},
): Figure<ReliabilityData> {
  return withFigurePreset(options.preset, () => drawReliability(inputs, options));
}

function drawReliability(
  inputs: readonly ReliabilityInput[],
  options: { title?: string; sizePx?: number; roles?: Readonly<Record<string, FigureRole>> },
): Figure<ReliabilityData> {
  const preset = activeFigurePreset();
  const paper = isPaperPreset(preset);
  const styles = assignModelStyles(inputs.map((i) => i.model), options.roles);
  const panels = inputs.map((i) => {
    const recomputed = eceFromBins(i.calibration);
    return {
      model: i.model,
      bins: i.calibration.map((b) => ({ ...b })),
      ece: i.ece ?? recomputed,
      eceFromBins: recomputed,
      positions: i.calibration.reduce((a, b) => a + b.count, 0),
    };
  });
  const columns = paper ? columnsThatFit(panels.length, 140) : Math.min(3, Math.max(1, panels.length));
  const size = options.sizePx ??
    (paper ? Math.min(gridPanelSize(columns, { width: 340, height: 340 }).width, 240) : 340);
  const titleFont = paper ? preset.fontPx.panelTitle : preset.fontPx.panelTitle - 1;
  const svgs = panels.map((p) => {
    const colour = styles.get(p.model)!.colour;
    const filled = p.bins.filter((b) => b.count > 0);
    // One title line when it fits the panel, else the model and the ECE on two lines.
    const oneLine = `${p.model} — ECE = ${formatEce(p.ece)}`;
    const title = textWidthPx(oneLine, titleFont, { bold: true }) <= size - 8
      ? oneLine
      : `${p.model}\nECE = ${formatEce(p.ece)}`;
    const lines = title.split("\n").length;
    const margins = paper
      ? {
        ...panelMargins({ yDomain: [0, 1], xDomain: [0, 1], widthPx: size, heightPx: size, xInset: 0 }),
        marginTop: Math.ceil(titleFont * (1.25 * lines + 0.5)),
      }
      : { marginLeft: 52, marginBottom: 42, marginTop: 28 + (lines - 1) * 16, marginRight: 20 };
    const el = Plot.plot({
      ...basePlotOptions(),
      width: size,
      height: size + (paper ? 0 : (lines - 1) * 16),
      ...margins,
      x: {
        domain: [0, 1],
        label: "Confidence",
        labelArrow: "none",
        labelAnchor: "center",
        ...tickGeometry(),
        tickSpacing: tickSpacing("x"),
      },
      y: {
        domain: [0, 1],
        label: "Accuracy",
        labelArrow: "none",
        labelAnchor: "center",
        ...tickGeometry(),
        tickSpacing: tickSpacing("y"),
      },
      grid: true,
      marks: [
        Plot.frame({ stroke: "#444", strokeWidth: preset.frameWidthPx }),
        Plot.rectY(filled, {
          x1: "lower",
          x2: "upper",
          y1: 0,
          y2: "accuracy",
          fill: colour,
          fillOpacity: 0.35,
          inset: 0.5,
        }),
        Plot.link([{ a: 0, b: 1 }], {
          x1: "a",
          y1: "a",
          x2: "b",
          y2: "b",
          stroke: "#555",
          strokeDasharray: paper ? "3,2" : "4,3",
          strokeWidth: preset.frameWidthPx,
        }),
        Plot.line(filled, {
          x: "mean_confidence",
          y: "accuracy",
          stroke: colour,
          strokeWidth: preset.lineWidthPx,
        }),
        Plot.dot(filled, { x: "mean_confidence", y: "accuracy", fill: colour, r: preset.markerRadiusPx }),
        Plot.text([title], {
          frameAnchor: "top",
          lineAnchor: "bottom",
          dy: -Math.round(titleFont * 0.45),
          fontSize: round2(titleFont),
          fontWeight: "bold",
        }),
      ],
    });
    return svgToString(el as unknown as { outerHTML: string });
  });
  const title = options.title ?? (panels.length === 1 ? undefined : "Reliability diagrams");
  const svg = composeGrid(svgs, {
    columns,
    title,
    panelAttributes: panels.map((p) => ({ "data-model": p.model, "data-ece": String(p.ece) })),
  });
  return makeFigure(svg, { panels });
}
