/**
 * The paper's figure F1: 8 diversity metrics (rows) × prompt set {factual, creative} (columns) against
 * temperature, one line per model (PLM/SFT/DPO…), mean over prompts with ±2·SE bands (SE = std(ddof 0)/√n,
 * the bands of the paper's Llama notebook). Factual lines solid, creative dashed, colours and markers per model
 * role as in the paper.
 *
 * Fixed relative to the original: correct creative/factual labels by default (the series carry their labels;
 * load with `paperLabels: true` to draw the paper's swapped labelling, which the subtitle then states), and one
 * word limit for both columns (default 20 words). The paper's F3 silently plotted the factual column from
 * 20-word and the creative column from 5-word results (docs/PAPER_QUIRKS.md, F3 word limits); `wordsByColumn`
 * reproduces that only when asked ({@link F3_MIXED_WORDS}), and the column titles then name each column's word
 * limit.
 * @module
 */
import { type DiversitySeries, findSeries, modelsOf } from "../data/diversity_series.ts";
import { metricLabel, metricShortLabel, PLOTTED_METRICS } from "./metric_labels.ts";
import { type Figure, makeFigure } from "./figure.ts";
import { gridPanelSize, linePanel, yLabelNeedsTop } from "./panel.ts";
import { activeFigurePreset, isPaperPreset, type PresetOption, withFigurePreset } from "./preset.ts";
import { meanAndStandardError, type NanPolicy } from "./stats.ts";
import { assignModelStyles, dashForPromptSet, type FigureRole, type ModelStyle } from "./style.ts";
import { composeGrid, type LegendEntry } from "./svg.ts";

/** The paper's F3 word-limit mix (factual 20 words, creative 5 words), for `wordsByColumn` when comparing. */
export const F3_MIXED_WORDS: Readonly<Record<string, string>> = { factual: "20", creative: "5" };

/** One plotted point: mean over prompts at one temperature, its SE and the band mean ± 2·SE. */
export interface GridPoint {
  temperature: number;
  mean: number;
  /** Standard error std(ddof)/√n. */
  se: number;
  /** Prompts counted (finite values under the "omit" policy). */
  n: number;
  lower: number;
  upper: number;
}

/** One line of a panel. */
export interface GridLine {
  model: string;
  /** What the line shows: a prompt set, or "creative − factual" in the difference grid. */
  promptSet: string;
  words: string;
  style: ModelStyle;
  dash?: string;
  points: GridPoint[];
}

/** One panel (metric × column). */
export interface GridPanel {
  metric: string;
  row: number;
  column: number;
  /** Column key: the prompt set (F1 grid) or word limit (difference grid). */
  columnKey: string;
  lines: GridLine[];
}

/** The data behind a grid figure. */
export interface DiversityGridData {
  metrics: string[];
  columns: { key: string; title: string; words: string }[];
  models: string[];
  panels: GridPanel[];
  /** "paper" when the series carried the paper's swapped labels. */
  labels: "correct" | "paper";
  nan: NanPolicy;
  ddof: number;
  bands: boolean;
}

/** Options shared by the grid builders. */
export interface GridCommonOptions extends PresetOption {
  /** Metric rows (default the paper's 8, {@link PLOTTED_METRICS}). */
  metrics?: readonly string[];
  /** Models in legend order (default: order of first appearance). */
  models?: readonly string[];
  /** Role per model, overriding the name-based role (colour/marker). */
  roles?: Readonly<Record<string, FigureRole>>;
  /** Draw mean ± 2·SE bands (default true). */
  bands?: boolean;
  /** NaN policy over prompts (default "omit" = nanmean). */
  nan?: NanPolicy;
  /** ddof of the std behind the SE (default 0, as the original's np.std). */
  ddof?: number;
  /** Panel size in px (default: 360 × 220 on screen; under a paper preset, what fills its width). */
  panelWidthPx?: number;
  panelHeightPx?: number;
  /** Figure title. */
  title?: string;
}

/** Options of {@link diversityGrid}. */
export interface DiversityGridOptions extends GridCommonOptions {
  /** Word limit of every column (default "20", F1). */
  words?: string | number;
  /** Per-column word limit, overriding `words` (e.g. {@link F3_MIXED_WORDS}). */
  wordsByColumn?: Readonly<Record<string, string | number>>;
  /** Prompt-set columns, left to right (default ["factual", "creative"], as F1). */
  promptSets?: readonly string[];
}

/** Mean/SE points over prompts for one `values[t][p]` grid. */
function summariseOverPrompts(
  grid: readonly (readonly number[])[],
  temperatures: readonly number[],
  nan: NanPolicy = "omit",
  ddof = 0,
): GridPoint[] {
  return grid.map((row, t) => {
    const s = meanAndStandardError(row, { nan, ddof });
    return {
      temperature: temperatures[t],
      mean: s.mean,
      se: s.se,
      n: s.n,
      lower: s.mean - 2 * s.se,
      upper: s.mean + 2 * s.se,
    };
  });
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function labelsOf(series: readonly DiversitySeries[]): "correct" | "paper" {
  const set = new Set(series.map((s) => s.labels));
  if (set.size > 1) throw new Error("diversity grid: series mix correct and paper (swapped) labels");
  return set.has("paper") ? "paper" : "correct";
}

/** Computes the data of {@link diversityGrid} without drawing. */
export function diversityGridData(
  series: readonly DiversitySeries[],
  options: DiversityGridOptions = {},
): DiversityGridData {
  const metrics = [...(options.metrics ?? PLOTTED_METRICS)];
  const promptSets = [...(options.promptSets ?? ["factual", "creative"])];
  const nan = options.nan ?? "omit";
  const ddof = options.ddof ?? 0;
  const bands = options.bands ?? true;
  const models = [...(options.models ?? modelsOf(series))];
  const styles = assignModelStyles(models, options.roles);
  const labels = labelsOf(series);
  const wordsOf = (ps: string) => String(options.wordsByColumn?.[ps] ?? options.words ?? "20");
  const mixed = new Set(promptSets.map(wordsOf)).size > 1;
  const columns = promptSets.map((ps) => ({
    key: ps,
    words: wordsOf(ps),
    title: `${capitalise(ps)} Prompts` + (mixed ? ` (${wordsOf(ps)} words)` : ""),
  }));
  const panels: GridPanel[] = [];
  metrics.forEach((metric, row) => {
    columns.forEach((col, column) => {
      const lines: GridLine[] = [];
      for (const model of models) {
        const s = findSeries(series, model, col.key, col.words);
        if (!s) continue;
        const grid = s.values[metric];
        if (!grid) throw new Error(`${s.source}: no metric '${metric}'`);
        lines.push({
          model,
          promptSet: col.key,
          words: col.words,
          style: styles.get(model)!,
          dash: dashForPromptSet(col.key),
          points: summariseOverPrompts(grid, s.temperatures, nan, ddof),
        });
      }
      panels.push({ metric, row, column, columnKey: col.key, lines });
    });
  });
  return { metrics, columns, models, panels, labels, nan, ddof, bands };
}

function legendFor(data: DiversityGridData): LegendEntry[] {
  const lines = data.panels.flatMap((p) => p.lines);
  const entries: LegendEntry[] = [];
  for (const m of data.models) {
    const s = lines.find((l) => l.model === m)?.style;
    if (s) entries.push({ label: s.label, colour: s.colour, marker: s.marker });
  }
  const dashes = new Map<string, string | undefined>();
  for (const l of lines) dashes.set(l.promptSet, l.dash);
  if (new Set(dashes.values()).size > 1) {
    for (const [ps, dash] of dashes) entries.push({ label: `${ps} prompts`, colour: "#333", dash });
  }
  return entries;
}

/**
 * Draws grid data (shared by the F1 grid and the difference grid). Under the paper presets, metric rows share a
 * row of the figure up to the preset's panels per row (paper-double: the 8 × 2 grid becomes 4 × 4, column titles
 * repeated), and the y axes carry the metrics' short labels.
 */
function drawGrid(
  data: DiversityGridData,
  options: { title?: string; subtitle?: string; yLabel?: (metric: string) => string } & GridCommonOptions,
): string {
  return withFigurePreset(options.preset, () => {
    const p = activeFigurePreset();
    const cols = Math.max(1, data.columns.length);
    const side = Math.max(1, Math.min(Math.floor(p.gridPanelsPerRow / cols), data.metrics.length));
    // Eight metric rows must fit a page: flat panels under paper-single.
    const size = gridPanelSize(cols * side, { width: 360, height: 220 }, side === 1 ? 0.58 : 0.72);
    const label = options.yLabel ?? (isPaperPreset(p) ? metricShortLabel : metricLabel);
    const heightPx = options.panelHeightPx ?? size.height;
    // One y label position for the whole grid.
    const onTop = data.panels.some((panel) => yLabelNeedsTop(label(panel.metric), heightPx));
    // Paper presets: "Temperature" under each column's last panel only (those are taller by the label).
    const paper = isPaperPreset(p);
    // A panel with no panel under it (the next figure row's panel of its column is i + cols · side).
    const bottom = (i: number) => i + cols * side >= data.panels.length;
    const xLabelSpace = Math.ceil(p.fontPx.tick * 1.1);
    const panels = data.panels.map((panel, i) =>
      linePanel({
        yLabelOnTop: onTop,
        lines: panel.lines.map((l) => ({
          points: l.points.map((pt) => ({ x: pt.temperature, y: pt.mean, lower: pt.lower, upper: pt.upper })),
          colour: l.style.colour,
          dash: l.dash,
          marker: l.style.marker,
          band: data.bands,
        })),
        xLabel: !paper || bottom(i) ? "Temperature" : "",
        yLabel: label(panel.metric),
        widthPx: options.panelWidthPx ?? size.width,
        heightPx: paper && bottom(i) ? heightPx + xLabelSpace : heightPx,
      })
    );
    return composeGrid(panels, {
      columns: cols,
      columnTitles: data.columns.map((c) => c.title),
      title: options.title,
      subtitle: options.subtitle,
      legend: legendFor(data),
      rowsSideBySide: side,
      panelAttributes: data.panels.map((panel) => ({
        "data-metric": panel.metric,
        "data-column": panel.columnKey,
        "data-lines": String(panel.lines.length),
      })),
    });
  });
}

function subtitleOf(data: DiversityGridData): string {
  const parts: string[] = [];
  const words = [...new Set(data.columns.map((c) => c.words))];
  parts.push(
    words.length === 1 ? `${words[0]} words` : "MIXED word limits per column (paper F3 compatibility)",
  );
  parts.push(`mean over prompts${data.nan === "omit" ? " (NaN omitted)" : ""}`);
  if (data.bands) parts.push(`bands ±2·SE (std ddof ${data.ddof})`);
  if (data.labels === "paper") parts.push("PAPER'S SWAPPED creative/factual labels");
  return parts.join("; ");
}

/**
 * Figure F1: metrics × prompt sets across temperature, one line per model with ±2·SE bands.
 * `series` from {@link import("../data/diversity_series.ts").loadPaperDiversity} or `loadDiversityFiles`.
 */
export function diversityGrid(
  series: readonly DiversitySeries[],
  options: DiversityGridOptions = {},
): Figure<DiversityGridData> {
  return withFigurePreset(options.preset, () => {
    const data = diversityGridData(series, options);
    const svg = drawGrid(data, { ...options, title: options.title, subtitle: subtitleOf(data) });
    return makeFigure(svg, data);
  });
}

/** Options of {@link diversityDifferenceGrid}. */
export interface DifferenceGridOptions extends GridCommonOptions {
  /** Word-limit columns (default: every word limit present, descending, e.g. ["20", "5"]). */
  words?: readonly (string | number)[];
  /** Minuend and subtrahend prompt sets (default "creative" − "factual"). */
  minuend?: string;
  subtrahend?: string;
}

/**
 * Per-prompt differences (creative − factual by default) of each metric, mean over prompts with ±2·SE of the
 * paired differences; rows = metrics, columns = word limits (the Llama notebook's cell 12 / Pythia cell 14).
 */
function diversityDifferenceGridData(
  series: readonly DiversitySeries[],
  options: DifferenceGridOptions = {},
): DiversityGridData {
  const metrics = [...(options.metrics ?? PLOTTED_METRICS)];
  const a = options.minuend ?? "creative";
  const b = options.subtrahend ?? "factual";
  const nan = options.nan ?? "omit";
  const ddof = options.ddof ?? 0;
  const bands = options.bands ?? true;
  const models = [...(options.models ?? modelsOf(series))];
  const styles = assignModelStyles(models, options.roles);
  const words =
    (options.words ?? [...new Set(series.map((s) => s.words))].sort((x, y) => Number(y) - Number(x)))
      .map(String);
  const columns = words.map((w) => ({ key: w, words: w, title: `n=${w} words` }));
  const panels: GridPanel[] = [];
  metrics.forEach((metric, row) => {
    columns.forEach((col, column) => {
      const lines: GridLine[] = [];
      for (const model of models) {
        const sa = findSeries(series, model, a, col.words);
        const sb = findSeries(series, model, b, col.words);
        if (!sa || !sb) continue;
        const ga = sa.values[metric];
        const gb = sb.values[metric];
        if (!ga || !gb) throw new Error(`no metric '${metric}' for ${model}`);
        const diff = ga.map((r, t) => r.map((v, p) => v - gb[t][p]));
        lines.push({
          model,
          promptSet: `${a} − ${b}`,
          words: col.words,
          style: styles.get(model)!,
          points: summariseOverPrompts(diff, sa.temperatures, nan, ddof),
        });
      }
      panels.push({ metric, row, column, columnKey: col.key, lines });
    });
  });
  return { metrics, columns, models, panels, labels: labelsOf(series), nan, ddof, bands };
}

/** The creative − factual difference grid (metrics × word limits). */
export function diversityDifferenceGrid(
  series: readonly DiversitySeries[],
  options: DifferenceGridOptions = {},
): Figure<DiversityGridData> {
  return withFigurePreset(options.preset, () => {
    const data = diversityDifferenceGridData(series, options);
    const a = options.minuend ?? "creative";
    const b = options.subtrahend ?? "factual";
    const sub = subtitleOf(data).replace(/^[^;]*; /, "");
    const label = isPaperPreset() ? metricShortLabel : metricLabel;
    const svg = drawGrid(data, {
      ...options,
      title: options.title ?? `Δ = ${a} − ${b}, per prompt`,
      subtitle: sub,
      yLabel: (m) => `Δ ${label(m)}`,
    });
    return makeFigure(svg, data);
  });
}
