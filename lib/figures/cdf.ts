/**
 * Figure F4 (the paper's CDF plots): the sorted cumulative mean next-token probability against the number of
 * tokens, one line per model, with a zoom variant on cumulative probability 0.8–1, and marks where each model's
 * cumulative mass first exceeds 0.7 and 0.9 (the paper's vocabulary fractions).
 *
 * The paper plotted entry i (mass of the i + 1 likeliest tokens) at x = i; here x = i + 1 = the number of tokens,
 * as its axis label says. The marks sit at the number of tokens needed (first index with mass > threshold, + 1);
 * the data also gives the paper's fraction (that index / V, as `vocab_mass_fraction` in score/1).
 * @module
 */
import type { CdfPoints } from "../io/score_stats.ts";
import { cdfRanks } from "../scoring/corpus_stats.ts";
import { type Figure, makeFigure } from "./figure.ts";
import { linePanel, type PanelRule, singlePanelSize } from "./panel.ts";
import { type PresetOption, withFigurePreset } from "./preset.ts";
import { assignModelStyles, type FigureRole, type ModelStyle } from "./style.ts";
import { formatNumber } from "../numeric/number_format.ts";
import { composeGrid } from "./svg.ts";

/** One model's CDF: the full sorted cumulative distribution, or score/1's downsampled `cdf` points. */
export interface CdfInput {
  model: string;
  /** Full descending-sorted cumulative distribution (entry k = mass of the k + 1 likeliest tokens). */
  sortedCumulative?: ArrayLike<number>;
  /** Downsampled points (`ranks` 1-based) when the full vector is not available. */
  points?: CdfPoints;
  /** Vocabulary size (needed with `points` only; else the vector's length). */
  vocab?: number;
}

/** Where a model's cumulative mass first exceeds a threshold. */
export interface CdfThresholdMark {
  threshold: number;
  /** Tokens needed: 0-based index of the first entry > threshold, + 1 (NaN when never exceeded). */
  tokens: number;
  /** The paper's fraction: that 0-based index / V. */
  paperFraction: number;
  /** tokens / V. */
  fraction: number;
  /** False when only downsampled points were available (the mark is then the first point above). */
  exact: boolean;
}

/** One plotted model. */
export interface CdfLine {
  model: string;
  style: ModelStyle;
  vocab: number;
  /** Plotted points (x = number of tokens, downsampled). */
  points: { tokens: number; cumulative: number }[];
  marks: CdfThresholdMark[];
}

/** The data behind {@link cdfFigure}. */
export interface CdfData {
  lines: CdfLine[];
  zoom: boolean;
  yDomain: [number, number];
  thresholds: number[];
}

/** Options of {@link cdfFigure}. */
export interface CdfOptions extends PresetOption {
  /** y from `zoomMin` (default 0.8) to 1, as the paper's `-zoom` figures. */
  zoom?: boolean;
  zoomMin?: number;
  /** Thresholds marked (default [0.7, 0.9]; those below the y range are left out). */
  thresholds?: readonly number[];
  /** Approximate points per line (default 600). */
  maxPoints?: number;
  /** Log-scaled x (not in the paper; shows the head of the distribution). */
  logX?: boolean;
  title?: string;
  roles?: Readonly<Record<string, FigureRole>>;
  widthPx?: number;
  heightPx?: number;
}

/** The paper's title of F4. */
const CDF_TITLE = "Sorted cumulative mean next-token probability";

function thresholdMark(input: CdfInput, vocab: number, threshold: number): CdfThresholdMark {
  if (input.sortedCumulative) {
    const c = input.sortedCumulative;
    for (let i = 0; i < c.length; i++) {
      if (c[i] > threshold) {
        return { threshold, tokens: i + 1, paperFraction: i / vocab, fraction: (i + 1) / vocab, exact: true };
      }
    }
  } else if (input.points) {
    const k = input.points.cumulative.findIndex((v) => v > threshold);
    if (k >= 0) {
      const r = input.points.ranks[k];
      return { threshold, tokens: r, paperFraction: (r - 1) / vocab, fraction: r / vocab, exact: false };
    }
  }
  return { threshold, tokens: NaN, paperFraction: NaN, fraction: NaN, exact: !!input.sortedCumulative };
}

/** Computes the data of {@link cdfFigure} without drawing. */
function cdfData(inputs: readonly CdfInput[], options: CdfOptions = {}): CdfData {
  const zoom = options.zoom ?? false;
  const yDomain: [number, number] = zoom ? [options.zoomMin ?? 0.8, 1] : [0, 1];
  const thresholds = [...(options.thresholds ?? [0.7, 0.9])];
  const styles = assignModelStyles(inputs.map((i) => i.model), options.roles);
  const lines = inputs.map((input): CdfLine => {
    let vocab: number;
    let points: { tokens: number; cumulative: number }[];
    if (input.sortedCumulative) {
      const c = input.sortedCumulative;
      vocab = c.length;
      const ranks = new Set(cdfRanks(vocab, options.maxPoints ?? 600));
      for (let r = 1; r <= Math.min(vocab, 50); r++) ranks.add(r);
      points = [...ranks].sort((a, b) => a - b).map((r) => ({ tokens: r, cumulative: c[r - 1] }));
    } else if (input.points) {
      vocab = input.vocab ?? input.points.ranks[input.points.ranks.length - 1];
      points = input.points.ranks.map((r, k) => ({ tokens: r, cumulative: input.points!.cumulative[k] }));
    } else {
      throw new Error(`cdf: model ${input.model} has neither sortedCumulative nor points`);
    }
    const marks = thresholds.map((t) => thresholdMark(input, vocab, t));
    for (const m of marks) {
      if (Number.isFinite(m.tokens) && !points.some((p) => p.tokens === m.tokens) && input.sortedCumulative) {
        points.push({ tokens: m.tokens, cumulative: input.sortedCumulative[m.tokens - 1] });
      }
    }
    points.sort((a, b) => a.tokens - b.tokens);
    return { model: input.model, style: styles.get(input.model)!, vocab, points, marks };
  });
  return { lines, zoom, yDomain, thresholds };
}

/**
 * F4: sorted cumulative mean next-token probability vs number of tokens, one line per model, dashed marks at
 * the tokens needed for 70% / 90% of the mass (and horizontal guides at those levels).
 */
export function cdfFigure(inputs: readonly CdfInput[], options: CdfOptions = {}): Figure<CdfData> {
  return withFigurePreset(options.preset, () => drawCdf(inputs, options));
}

function drawCdf(inputs: readonly CdfInput[], options: CdfOptions): Figure<CdfData> {
  const data = cdfData(inputs, options);
  const size = singlePanelSize({ width: 560, height: 400 });
  const rules: PanelRule[] = [];
  for (const t of data.thresholds) {
    if (t < data.yDomain[0] || t > data.yDomain[1]) continue;
    rules.push({ y: t, colour: "#888", label: `${Math.round(t * 100)}% of mass` });
    for (const l of data.lines) {
      const m = l.marks.find((k) => k.threshold === t);
      if (m && Number.isFinite(m.tokens)) rules.push({ x: m.tokens, colour: l.style.colour, dash: "2,3" });
    }
  }
  const panel = linePanel({
    lines: data.lines.map((l) => ({
      points: l.points.map((p) => ({ x: p.tokens, y: p.cumulative })),
      colour: l.style.colour,
    })),
    xLabel: "Number of tokens",
    yLabel: "Cumulative average probability",
    yDomain: data.yDomain,
    xType: options.logX ? "log" : "linear",
    rules,
    clip: true,
    widthPx: options.widthPx ?? size.width,
    heightPx: options.heightPx ?? size.height,
  });
  const legend = data.lines.map((l) => {
    const fr = l.marks.map((m) => `${Math.round(m.threshold * 100)}%: ${formatNumber(m.tokens)}`).join(", ");
    return { label: `${l.style.label} (${fr} tokens)`, colour: l.style.colour };
  });
  const svg = composeGrid([panel], {
    columns: 1,
    title: options.title ?? CDF_TITLE + (data.zoom ? " (zoom)" : ""),
    legend,
  });
  return makeFigure(svg, data);
}
