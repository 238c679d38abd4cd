/**
 * Reliability diagram from `score/1` calibration bins: accuracy against mean confidence per bin, bars over the
 * bins' confidence ranges, the diagonal of perfect calibration, and the expected calibration error in the title
 * (the file's `ece`, cross-checked against Σ_b (n_b / N)·|accuracy_b − confidence_b| of the bins).
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { CalibrationBin } from "../scoring/corpus_stats.ts";
import { type Figure, makeFigure } from "./figure.ts";
import { assignModelStyles, basePlotOptions, FONT_SIZE_PX, type ModelRole } from "./style.ts";
import { composeGrid, svgToString } from "./svg.ts";

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

/** Formats an ECE for titles (4 decimals). */
export function formatEce(ece: number): string {
  return Number.isFinite(ece) ? ece.toFixed(4) : "n/a";
}

/** Reliability diagram, one panel per model, titled "<model> — ECE = …". */
export function reliabilityFigure(
  inputs: readonly ReliabilityInput[],
  options: { title?: string; sizePx?: number; roles?: Readonly<Record<string, ModelRole>> } = {},
): Figure<ReliabilityData> {
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
  const size = options.sizePx ?? 340;
  const svgs = panels.map((p) => {
    const colour = styles.get(p.model)!.colour;
    const filled = p.bins.filter((b) => b.count > 0);
    const el = Plot.plot({
      ...basePlotOptions(),
      width: size,
      height: size,
      marginLeft: 52,
      marginBottom: 42,
      marginTop: 28,
      x: { domain: [0, 1], label: "Confidence", labelArrow: "none", labelAnchor: "center" },
      y: { domain: [0, 1], label: "Accuracy", labelArrow: "none", labelAnchor: "center" },
      grid: true,
      marks: [
        Plot.frame({ stroke: "#444" }),
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
          strokeDasharray: "4,3",
        }),
        Plot.line(filled, { x: "mean_confidence", y: "accuracy", stroke: colour, strokeWidth: 1.5 }),
        Plot.dot(filled, { x: "mean_confidence", y: "accuracy", fill: colour, r: 3 }),
        Plot.text([`${p.model} — ECE = ${formatEce(p.ece)}`], {
          frameAnchor: "top",
          dy: -20,
          fontSize: FONT_SIZE_PX.panelTitle - 1,
          fontWeight: "bold",
        }),
      ],
    });
    return svgToString(el as unknown as { outerHTML: string });
  });
  const title = options.title ?? (panels.length === 1 ? undefined : "Reliability diagrams");
  const svg = composeGrid(svgs, {
    columns: Math.min(3, Math.max(1, svgs.length)),
    title,
    panelAttributes: panels.map((p) => ({ "data-model": p.model, "data-ece": String(p.ece) })),
  });
  return makeFigure(svg, { panels });
}
