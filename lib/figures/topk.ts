/**
 * Top-k next-token distributions of several models side by side (the Mode_Collapse notebook's top-50 plots,
 * docs/PAPER_QUIRKS.md): one horizontal bar panel per model, each labelled with ITS OWN tokens (the original
 * labelled every model's curve with the SFT model's token order). Whitespace in tokens is made visible
 * (space → "␣", newline → "\n", tab → "\t").
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type Figure, makeFigure } from "./figure.ts";
import { columnsThatFit, gridPanelSize, tickGeometry } from "./panel.ts";
import {
  activeFigurePreset,
  isPaperPreset,
  type PresetOption,
  textWidthPx,
  withFigurePreset,
} from "./preset.ts";
import { assignModelStyles, basePlotOptions, type FigureRole, round2 } from "./style.ts";
import { formatFixed } from "../numeric/number_format.ts";
import { composeGrid, svgToString } from "./svg.ts";

/** One candidate next token. */
export interface TokenProb {
  text: string;
  prob: number;
}

/** One model's next-token distribution (any order; the top k are taken). */
export interface TopKInput {
  model: string;
  tokens: readonly TokenProb[];
}

/** The data behind {@link topKFigure}. */
export interface TopKData {
  k: number;
  panels: {
    model: string;
    tokens: { rank: number; text: string; label: string; prob: number }[];
    mass: number;
  }[];
}

/**
 * Token text with whitespace made visible (space → "␣", newline → "\n", tab → "\t"). `space` replaces the "␣"
 * (the paper presets use "·": their Times-metric serif has no ␣, and a renderer that falls back to another font
 * for a whole label would print it in a different face).
 */
export function visibleToken(text: string, space = "␣"): string {
  return text.replaceAll(" ", space).replaceAll("\n", "\\n").replaceAll("\t", "\\t").replaceAll("\r", "\\r");
}

/** `text` cut with "…" so that it is at most `widthPx` wide at `fontPx`. */
function truncateToWidth(text: string, widthPx: number, fontPx: number): string {
  if (textWidthPx(text, fontPx) <= widthPx) return text;
  const chars = [...text];
  while (chars.length > 1 && textWidthPx(chars.join("") + "…", fontPx) > widthPx) chars.pop();
  return chars.join("") + "…";
}

/** Options of {@link topKFigure}. */
export interface TopKOptions extends PresetOption {
  k?: number;
  title?: string;
  roles?: Readonly<Record<string, FigureRole>>;
  panelWidthPx?: number;
}

/**
 * Top-k bars per model (shared probability axis), panels side by side (under a paper preset, as many per row
 * as fit at 150 px or more). Token labels longer than the label column are cut with "…".
 */
export function topKFigure(inputs: readonly TopKInput[], options: TopKOptions = {}): Figure<TopKData> {
  return withFigurePreset(options.preset, () => drawTopK(inputs, options));
}

function drawTopK(inputs: readonly TopKInput[], options: TopKOptions): Figure<TopKData> {
  const k = options.k ?? 20;
  const preset = activeFigurePreset();
  const paper = isPaperPreset(preset);
  const font = preset.fontPx.tick;
  const styles = assignModelStyles(inputs.map((i) => i.model), options.roles);
  const panels = inputs.map((i) => {
    const sorted = [...i.tokens].sort((a, b) => b.prob - a.prob).slice(0, k);
    const tokens = sorted.map((t, r) => ({
      rank: r + 1,
      text: t.text,
      label: `${r + 1}. ${visibleToken(t.text, paper ? "·" : "␣")}`,
      prob: t.prob,
    }));
    return { model: i.model, tokens, mass: tokens.reduce((a, t) => a + t.prob, 0) };
  });
  const xMax = Math.max(0.01, ...panels.flatMap((p) => p.tokens.map((t) => t.prob)));
  const columns = paper ? columnsThatFit(panels.length, 150) : Math.max(1, panels.length);
  const width = options.panelWidthPx ?? gridPanelSize(columns, { width: 300, height: 0 }).width;
  const titleFont = paper ? preset.fontPx.panelTitle : preset.fontPx.panelTitle - 1;
  const marginLeft = paper ? Math.round(width * 0.36) : 110;
  const marginRight = Math.ceil(textWidthPx("0.000", font) + 6);
  const rowH = paper ? Math.ceil(font * 1.35) : 18;
  const svgs = panels.map((p) => {
    const colour = styles.get(p.model)!.colour;
    // Labels cut to the label column (the tick and its gap take tickSize + tickPadding + 2).
    const ticks = tickGeometry();
    const labelRoom = marginLeft - ticks.tickSize - ticks.tickPadding - 3;
    const shown = new Map<string, string>();
    for (const t of p.tokens) shown.set(t.label, truncateToWidth(t.label, labelRoom, font));
    const title = truncateToWidth(
      `${p.model} (top ${p.tokens.length}: ${formatFixed(p.mass, 3)})`,
      width - 4,
      titleFont,
    );
    const el = Plot.plot({
      ...basePlotOptions(),
      width,
      height: (paper ? Math.ceil(font * 5.2) : 70) + rowH * k,
      marginLeft,
      marginRight,
      marginTop: paper ? Math.ceil(titleFont * 1.7) : 28,
      marginBottom: paper ? Math.ceil(font * 3.1) : 40,
      x: {
        domain: [0, xMax * 1.1],
        label: "Probability",
        labelArrow: "none",
        labelAnchor: "center",
        grid: true,
        ticks: paper ? Math.max(2, Math.floor((width - marginLeft - marginRight) / 45)) : undefined,
        ...ticks,
      },
      y: {
        domain: p.tokens.map((t) => t.label),
        label: null,
        tickFormat: (l: string) => shown.get(l) ?? l,
        ...ticks,
      },
      marks: [
        Plot.barX(p.tokens, { y: "label", x: "prob", fill: colour }),
        Plot.text(p.tokens, {
          y: "label",
          x: "prob",
          text: (t: { prob: number }) => formatFixed(t.prob, 3),
          dx: 3,
          textAnchor: "start",
        }),
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
  const svg = composeGrid(svgs, {
    columns,
    title: options.title ?? `Top-${k} next-token probabilities`,
    panelAttributes: panels.map((p) => ({ "data-model": p.model })),
  });
  return makeFigure(svg, { k, panels });
}
