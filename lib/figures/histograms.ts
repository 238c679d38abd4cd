/**
 * Entropy and confidence histograms from `score/1` files (`entropy_histogram` over [0, ln V] nats,
 * `confidence_histogram` over [0, 1]): one step line per model of the share of scored positions per bin.
 * @module
 */
import type { Histogram } from "../io/score_stats.ts";
import { type Figure, makeFigure } from "./figure.ts";
import { linePanel, singlePanelSize } from "./panel.ts";
import { type PresetOption, withFigurePreset } from "./preset.ts";
import { assignModelStyles, type FigureRole, type ModelStyle } from "./style.ts";
import { formatNumber } from "../numeric/number_format.ts";
import { composeGrid } from "./svg.ts";

/** One model's histogram. */
export interface HistogramInput {
  model: string;
  histogram: Histogram;
}

/** One bin as plotted. */
export interface HistogramBin {
  lower: number;
  upper: number;
  count: number;
  /** count / total count of the model (0 when the total is 0). */
  share: number;
}

/** The data behind a histogram figure. */
export interface HistogramData {
  lines: { model: string; style: ModelStyle; total: number; bins: HistogramBin[] }[];
  xLabel: string;
}

/** Options of the histogram figures. */
export interface HistogramOptions extends PresetOption {
  title?: string;
  xLabel?: string;
  roles?: Readonly<Record<string, FigureRole>>;
  widthPx?: number;
  heightPx?: number;
}

/** Bins of a histogram with their shares. */
function histogramBins(h: Histogram): HistogramBin[] {
  const total = h.counts.reduce((a, b) => a + b, 0);
  const w = (h.upper - h.lower) / h.counts.length;
  return h.counts.map((count, i) => ({
    lower: h.lower + i * w,
    upper: i === h.counts.length - 1 ? h.upper : h.lower + (i + 1) * w,
    count,
    share: total > 0 ? count / total : 0,
  }));
}

/** A histogram figure: share of positions per bin, one step line per model. */
function histogramFigure(
  inputs: readonly HistogramInput[],
  options: HistogramOptions & { xLabel: string },
): Figure<HistogramData> {
  return withFigurePreset(options.preset, () => drawHistogram(inputs, options));
}

function drawHistogram(
  inputs: readonly HistogramInput[],
  options: HistogramOptions & { xLabel: string },
): Figure<HistogramData> {
  const size = singlePanelSize({ width: 560, height: 360 });
  const styles = assignModelStyles(inputs.map((i) => i.model), options.roles);
  const lines = inputs.map((i) => {
    const bins = histogramBins(i.histogram);
    return {
      model: i.model,
      style: styles.get(i.model)!,
      total: bins.reduce((a, b) => a + b.count, 0),
      bins,
    };
  });
  const panel = linePanel({
    lines: lines.map((l) => ({
      // step-after through each bin's lower edge, closed at the last upper edge
      points: [
        ...l.bins.map((b) => ({ x: b.lower, y: b.share })),
        ...(l.bins.length
          ? [{ x: l.bins[l.bins.length - 1].upper, y: l.bins[l.bins.length - 1].share }]
          : []),
      ],
      colour: l.style.colour,
      curve: "step-after" as const,
    })),
    xLabel: options.xLabel,
    yLabel: "Share of positions",
    widthPx: options.widthPx ?? size.width,
    heightPx: options.heightPx ?? size.height,
  });
  const svg = composeGrid([panel], {
    columns: 1,
    title: options.title,
    legend: lines.map((l) => ({
      label: `${l.style.label} (n = ${formatNumber(l.total)})`,
      colour: l.style.colour,
    })),
  });
  return makeFigure(svg, { lines, xLabel: options.xLabel });
}

/** Histogram of next-token entropy (nats) per model. */
export function entropyHistogramFigure(
  inputs: readonly HistogramInput[],
  options: HistogramOptions = {},
): Figure<HistogramData> {
  return histogramFigure(inputs, {
    ...options,
    xLabel: options.xLabel ?? "Next-token entropy (nats)",
    title: options.title ?? "Next-token entropy",
  });
}

/** Histogram of next-token confidence (max probability) per model. */
export function confidenceHistogramFigure(
  inputs: readonly HistogramInput[],
  options: HistogramOptions = {},
): Figure<HistogramData> {
  return histogramFigure(inputs, {
    ...options,
    xLabel: options.xLabel ?? "Confidence (max next-token probability)",
    title: options.title ?? "Next-token confidence",
  });
}
