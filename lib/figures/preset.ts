/**
 * Figure presets: `screen` (the notebooks' and report's look), `paper-single` and `paper-double` (a LaTeX paper's
 * column widths, 3.25 in and 6.75 in, with 8–9 pt text in a Times-metric serif that matches a Times body text,
 * thinner lines, smaller markers, no drawn titles: the caption carries them). Every figure builder reads the
 * active preset when it draws; it is chosen
 *
 * - per call: the builders' `preset` option (or {@link withFigurePreset} around any drawing code);
 * - per process: {@link setFigurePreset}, e.g. in a notebook cell;
 * - per environment: `MODE_COLLAPSE_FIGURE_PRESET=paper-single` (a notebook kernel inherits it from
 *   `deno task notebooks` / `deno task reproduce`), read when no preset was set in code.
 *
 * Sizes are CSS px (96 per inch; 1 pt = 4/3 px), so an SVG `width` of 312 is 3.25 in and its PDF page 234 pt.
 * @module
 */

/** Names of the built-in presets. */
export type FigurePresetName = "screen" | "paper-single" | "paper-double";

/** Every built-in preset name. */
export const FIGURE_PRESET_NAMES: readonly FigurePresetName[] = ["screen", "paper-single", "paper-double"];

/** Environment variable naming the preset when none is set in code. */
export const FIGURE_PRESET_ENV = "MODE_COLLAPSE_FIGURE_PRESET";

/** CSS px per inch. */
export const PX_PER_IN = 96;
/** CSS px per typographic point. */
export const PX_PER_PT = 96 / 72;

/** Font sizes of a preset, in px. */
export interface PresetFontSizes {
  /** Tick labels, legend entries, in-panel notes. */
  tick: number;
  /** Axis labels. */
  label: number;
  /** Panel and column titles. */
  panelTitle: number;
  /** Figure titles. */
  title: number;
}

/** Everything a figure's look depends on. */
export interface FigurePreset {
  name: string;
  /** One line for listings and metadata. */
  description: string;
  /** Total figure width in px (the PDF page width), or null: each figure's natural width (screen). */
  widthPx: number | null;
  /** SVG font-family value (a list: the first installed family is used). */
  fontFamily: string;
  /** Family whose glyph widths {@link textWidthPx} uses to lay out labels. */
  metrics: "dejavu-sans" | "times";
  fontPx: PresetFontSizes;
  /** Data line width. */
  lineWidthPx: number;
  /** Marker radius. */
  markerRadiusPx: number;
  /** Panel frame and rule width. */
  frameWidthPx: number;
  /** Gap between panels and around the figure. */
  gapPx: number;
  /** Panel size when a builder has nothing better (screen: today's 360 × 220). */
  panel: { width: number; height: number };
  /** Height of a figure's one full-width panel (CDF, histograms) in the paper presets. */
  singlePanelHeightPx: number;
  /** Smallest and largest panel height of a grid (paper presets: heights follow the width, within these). */
  gridPanelHeightPx: { min: number; max: number };
  /** Where the legend goes. */
  legend: "top" | "bottom";
  /** Length of a legend entry's line sample. */
  legendSamplePx: number;
  /** Draw figure titles and subtitles (paper presets leave them to the caption; they stay in the metadata). */
  showTitles: boolean;
  /** Dash of the creative prompt set's lines. */
  creativeDash: string;
  /** Default PNG resolution (dots per inch of the figure's physical size). */
  pngDpi: number;
  /**
   * Diversity grids (metrics × prompt sets or word limits): panels per row of the figure that the grid's rows
   * are placed side by side to reach (0: one grid row per figure row). paper-double: 4, so the 8 × 2 F1 grid is
   * drawn 4 × 4 (two metrics per row, column titles repeated); paper-single: 2.
   */
  gridPanelsPerRow: number;
}

const pt = (x: number) => x * PX_PER_PT;
const TIMES_FAMILY = "Liberation Serif, Times New Roman, Times, DejaVu Serif, serif";

/** The built-in presets. */
export const FIGURE_PRESETS: Readonly<Record<FigurePresetName, FigurePreset>> = {
  screen: {
    name: "screen",
    description: "notebooks and the HTML report: natural size, DejaVu Sans 11–16 px, PNG at 2× (192 dpi)",
    widthPx: null,
    fontFamily: "DejaVu Sans",
    metrics: "dejavu-sans",
    fontPx: { tick: 11, label: 12, panelTitle: 14, title: 16 },
    lineWidthPx: 1.5,
    markerRadiusPx: 3,
    frameWidthPx: 1,
    gapPx: 12,
    panel: { width: 360, height: 220 },
    singlePanelHeightPx: 360,
    gridPanelHeightPx: { min: 220, max: 220 },
    legend: "top",
    legendSamplePx: 28,
    showTitles: true,
    creativeDash: "6,4",
    pngDpi: 192,
    gridPanelsPerRow: 0,
  },
  "paper-single": {
    name: "paper-single",
    description: "one column of a two-column paper: 3.25 in wide, Times-metric serif 8/9 pt, PNG 300 dpi",
    widthPx: 3.25 * PX_PER_IN,
    fontFamily: TIMES_FAMILY,
    metrics: "times",
    fontPx: { tick: pt(8), label: pt(9), panelTitle: pt(9), title: pt(9) },
    lineWidthPx: 1.2,
    markerRadiusPx: 2.2,
    frameWidthPx: 0.75,
    gapPx: 6,
    panel: { width: 3.25 * PX_PER_IN - 12, height: 150 },
    singlePanelHeightPx: 200,
    gridPanelHeightPx: { min: 84, max: 200 },
    legend: "top",
    legendSamplePx: 18,
    showTitles: false,
    creativeDash: "3.5,2",
    pngDpi: 300,
    gridPanelsPerRow: 2,
  },
  "paper-double": {
    name: "paper-double",
    description: "both columns (figure*): 6.75 in wide, Times-metric serif 8/9 pt, PNG 300 dpi",
    widthPx: 6.75 * PX_PER_IN,
    fontFamily: TIMES_FAMILY,
    metrics: "times",
    fontPx: { tick: pt(8), label: pt(9), panelTitle: pt(9), title: pt(9) },
    lineWidthPx: 1.2,
    markerRadiusPx: 2.2,
    frameWidthPx: 0.75,
    gapPx: 6,
    panel: { width: (6.75 * PX_PER_IN - 18) / 2, height: 190 },
    singlePanelHeightPx: 260,
    gridPanelHeightPx: { min: 112, max: 190 },
    legend: "top",
    legendSamplePx: 18,
    showTitles: false,
    creativeDash: "3.5,2",
    pngDpi: 300,
    gridPanelsPerRow: 4,
  },
};

/** True for a built-in preset name. */
export function isFigurePresetName(name: string): name is FigurePresetName {
  return (FIGURE_PRESET_NAMES as readonly string[]).includes(name);
}

/** The preset of a name (an error naming the choices for any other), or the preset object itself. */
export function resolveFigurePreset(preset: FigurePresetName | string | FigurePreset): FigurePreset {
  if (typeof preset !== "string") return preset;
  if (!isFigurePresetName(preset)) {
    throw new Error(`unknown figure preset "${preset}"; known: ${FIGURE_PRESET_NAMES.join(", ")}`);
  }
  return FIGURE_PRESETS[preset];
}

let processPreset: FigurePreset | undefined;
const stack: FigurePreset[] = [];

/**
 * Sets the preset every later figure of this process uses (`undefined`: back to the environment's, else
 * screen). Also sets {@link FIGURE_PRESET_ENV} for processes started later (notebook kernels) unless
 * `env: false`.
 */
export function setFigurePreset(
  preset: FigurePresetName | string | FigurePreset | undefined,
  options: { env?: boolean } = {},
): FigurePreset {
  processPreset = preset === undefined || preset === "" ? undefined : resolveFigurePreset(preset);
  if (options.env !== false) {
    if (processPreset === undefined) Deno.env.delete(FIGURE_PRESET_ENV);
    else if (isFigurePresetName(processPreset.name)) Deno.env.set(FIGURE_PRESET_ENV, processPreset.name);
  }
  return activeFigurePreset();
}

/** The preset figures are drawn with now: the innermost {@link withFigurePreset}, else the process's, else the environment's, else screen. */
export function activeFigurePreset(): FigurePreset {
  if (stack.length > 0) return stack[stack.length - 1];
  if (processPreset !== undefined) return processPreset;
  const env = Deno.env.get(FIGURE_PRESET_ENV);
  if (env) return resolveFigurePreset(env);
  return FIGURE_PRESETS.screen;
}

/**
 * Runs `fn` with `preset` active (undefined: the active one), restoring the previous one afterwards. `fn` must
 * draw synchronously (an async builder takes the preset at its start and passes it on).
 */
export function withFigurePreset<T>(
  preset: FigurePresetName | string | FigurePreset | undefined,
  fn: () => T,
): T {
  if (preset === undefined) return fn();
  stack.push(resolveFigurePreset(preset));
  try {
    return fn();
  } finally {
    stack.pop();
  }
}

/** True for a preset with a fixed page width (the paper presets). */
export function isPaperPreset(p: FigurePreset = activeFigurePreset()): boolean {
  return p.widthPx !== null;
}

// Advance widths (1/1000 em) of the printable ASCII characters, read from DejaVuSans.ttf and
// LiberationSerif-Regular.ttf (Times New Roman metrics); other characters below.
const ASCII_DEJAVU = [
  318,
  401,
  460,
  838,
  636,
  950,
  780,
  275,
  390,
  390,
  500,
  838,
  318,
  361,
  318,
  337,
  636,
  636,
  636,
  636,
  636,
  636,
  636,
  636,
  636,
  636,
  337,
  337,
  838,
  838,
  838,
  531,
  1000,
  684,
  686,
  698,
  770,
  632,
  575,
  775,
  752,
  295,
  295,
  656,
  557,
  863,
  748,
  787,
  603,
  787,
  695,
  635,
  611,
  732,
  684,
  989,
  685,
  611,
  685,
  390,
  337,
  390,
  838,
  500,
  500,
  613,
  635,
  550,
  635,
  615,
  352,
  635,
  634,
  278,
  278,
  579,
  278,
  974,
  634,
  612,
  635,
  635,
  411,
  521,
  392,
  634,
  592,
  818,
  592,
  592,
  525,
  636,
  337,
  636,
  838,
];
const ASCII_TIMES = [
  250,
  333,
  408,
  500,
  500,
  833,
  778,
  180,
  333,
  333,
  500,
  564,
  250,
  333,
  250,
  278,
  500,
  500,
  500,
  500,
  500,
  500,
  500,
  500,
  500,
  500,
  278,
  278,
  564,
  564,
  564,
  444,
  921,
  722,
  667,
  667,
  722,
  611,
  556,
  722,
  722,
  333,
  389,
  722,
  611,
  889,
  722,
  722,
  556,
  722,
  667,
  556,
  611,
  722,
  722,
  944,
  722,
  722,
  611,
  333,
  278,
  333,
  469,
  500,
  333,
  444,
  500,
  444,
  500,
  444,
  333,
  500,
  500,
  278,
  278,
  500,
  278,
  778,
  500,
  500,
  500,
  500,
  333,
  389,
  278,
  500,
  500,
  722,
  500,
  500,
  444,
  480,
  200,
  480,
  541,
];
const OTHER_DEJAVU: Record<string, number> = {
  "−": 838,
  "±": 838,
  "·": 318,
  "Δ": 684,
  "‖": 500,
  "␣": 635,
  "–": 500,
  "—": 1000,
  "×": 838,
  "…": 1000,
  "’": 318,
  "‘": 318,
};
// Liberation Serif has no ‖ or ␣: the renderer falls back to a sans font (DejaVu widths).
const OTHER_TIMES: Record<string, number> = {
  "−": 564,
  "±": 549,
  "·": 250,
  "Δ": 643,
  "‖": 500,
  "␣": 635,
  "–": 500,
  "—": 1000,
  "×": 564,
  "…": 1000,
  "’": 333,
  "‘": 333,
};

/**
 * Width in px of `text` at `fontPx` in the preset's font (sum of the font's advance widths; bold adds 8%).
 * Characters the tables do not hold count as 0.62 em (0.7 em for letters outside Latin-1, e.g. CJK is wider).
 */
export function textWidthPx(
  text: string,
  fontPx: number,
  options: { bold?: boolean; preset?: FigurePreset } = {},
): number {
  const p = options.preset ?? activeFigurePreset();
  const ascii = p.metrics === "times" ? ASCII_TIMES : ASCII_DEJAVU;
  const other = p.metrics === "times" ? OTHER_TIMES : OTHER_DEJAVU;
  let units = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c >= 32 && c < 127) units += ascii[c - 32];
    else units += other[ch] ?? (c > 0x2e80 ? 1000 : 620);
  }
  return (units / 1000) * fontPx * (options.bold ? 1.08 : 1);
}

/**
 * Splits `text` into lines no wider than `widthPx` at `fontPx` (at spaces; a single word longer than the width
 * is kept whole on its own line).
 */
export function wrapText(
  text: string,
  widthPx: number,
  fontPx: number,
  options: { bold?: boolean; preset?: FigurePreset } = {},
): string[] {
  const words = text.split(/\s+/).filter((w) => w !== "");
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    const candidate = line === "" ? w : `${line} ${w}`;
    if (line !== "" && textWidthPx(candidate, fontPx, options) > widthPx) {
      lines.push(line);
      line = w;
    } else line = candidate;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/**
 * Nice tick values of a linear scale over `domain` (d3's `ticks`: steps of 1, 2 or 5 × 10^k, about `count`
 * of them) and their labels as Plot prints them (fixed decimals from the step, thousands separators, − for
 * minus).
 */
export function linearTicks(
  domain: readonly [number, number],
  count: number,
): { values: number[]; labels: string[] } {
  let [lo, hi] = domain;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { values: [], labels: [] };
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) return { values: [lo], labels: [formatTick(lo, 1)] };
  const step = tickStep([lo, hi], count);
  const values: number[] = [];
  for (let i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) values.push(i * step);
  return { values, labels: values.map((v) => formatTick(v, step)) };
}

/** The tick step d3 picks for about `count` ticks over `domain` (1, 2 or 5 × 10^k). */
function tickStep(domain: readonly [number, number], count: number): number {
  const raw = Math.abs(domain[1] - domain[0]) / Math.max(1, count);
  if (!(raw > 0)) return 1;
  const power = Math.floor(Math.log10(raw));
  const error = raw / 10 ** power;
  const factor = error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1;
  return factor * 10 ** power;
}

/** `domain` extended outwards to whole tick steps (d3's `nice`, as Plot's `nice: true` does). */
export function niceDomain(domain: readonly [number, number], count: number): [number, number] {
  let [lo, hi] = domain[0] <= domain[1] ? domain : [domain[1], domain[0]];
  for (let i = 0; i < 10; i++) {
    const step = tickStep([lo, hi], count);
    const nlo = Math.floor(lo / step) * step, nhi = Math.ceil(hi / step) * step;
    if (nlo === lo && nhi === hi) break;
    [lo, hi] = [nlo, nhi];
  }
  return [lo, hi];
}

function formatTick(v: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const s = Math.abs(v).toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  return (v < 0 && Number(s.replace(/,/g, "")) !== 0 ? "−" : "") + s;
}

/** The figure metadata written into every SVG (`<metadata>`), the PDF's info and the bundle's index. */
export interface FigureMetadata {
  format: "figure-meta/1";
  preset: string;
  widthPx: number;
  heightPx: number;
  widthIn: number;
  heightIn: number;
  fontFamily: string;
  /** Title and subtitle as given to the builder (drawn only when the preset shows titles). */
  title?: string;
  subtitle?: string;
}

const META_RE = /<metadata class="figure-metadata">([^<]*)<\/metadata>/;

/** Reads the {@link FigureMetadata} of an SVG drawn by this module's builders (undefined when absent). */
export function readFigureMetadata(svg: string): FigureMetadata | undefined {
  const m = META_RE.exec(svg);
  if (!m) return undefined;
  const json = m[1].replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll(
    "&#39;",
    "'",
  ).replaceAll("&amp;", "&");
  return JSON.parse(json) as FigureMetadata;
}

/** The `<metadata>` element of {@link FigureMetadata}. */
export function figureMetadataElement(meta: FigureMetadata): string {
  const json = JSON.stringify(meta).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  return `<metadata class="figure-metadata">${json}</metadata>`;
}

/** The `preset` option every figure builder takes: draws that one figure with this preset. */
export interface PresetOption {
  /** Preset of this figure (default: the active one, see {@link activeFigurePreset}). */
  preset?: FigurePresetName | FigurePreset;
}
