/**
 * Top-k next-token distributions of several models side by side (the Mode_Collapse notebook's top-50 plots,
 * SEED.md §6.4): one horizontal bar panel per model, each labelled with ITS OWN tokens (the original labelled
 * every model's curve with the SFT model's token order, §9 item 24). Whitespace in tokens is made visible
 * (space → "␣", newline → "\n", tab → "\t").
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type Figure, makeFigure } from "./figure.ts";
import { assignModelStyles, basePlotOptions, FONT_SIZE_PX, type ModelRole } from "./style.ts";
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

/** Token text with whitespace made visible. */
export function visibleToken(text: string): string {
  return text.replaceAll(" ", "␣").replaceAll("\n", "\\n").replaceAll("\t", "\\t").replaceAll("\r", "\\r");
}

/** Top-k bars per model (shared probability axis), panels side by side. */
export function topKFigure(
  inputs: readonly TopKInput[],
  options: {
    k?: number;
    title?: string;
    roles?: Readonly<Record<string, ModelRole>>;
    panelWidthPx?: number;
  } = {},
): Figure<TopKData> {
  const k = options.k ?? 20;
  const styles = assignModelStyles(inputs.map((i) => i.model), options.roles);
  const panels = inputs.map((i) => {
    const sorted = [...i.tokens].sort((a, b) => b.prob - a.prob).slice(0, k);
    const tokens = sorted.map((t, r) => ({
      rank: r + 1,
      text: t.text,
      label: `${r + 1}. ${visibleToken(t.text)}`,
      prob: t.prob,
    }));
    return { model: i.model, tokens, mass: tokens.reduce((a, t) => a + t.prob, 0) };
  });
  const xMax = Math.max(0.01, ...panels.flatMap((p) => p.tokens.map((t) => t.prob)));
  const svgs = panels.map((p) => {
    const colour = styles.get(p.model)!.colour;
    const el = Plot.plot({
      ...basePlotOptions(),
      width: options.panelWidthPx ?? 300,
      height: 70 + 18 * k,
      marginLeft: 110,
      marginRight: 44,
      marginTop: 28,
      marginBottom: 40,
      x: {
        domain: [0, xMax * 1.1],
        label: "Probability",
        labelArrow: "none",
        labelAnchor: "center",
        grid: true,
      },
      y: { domain: p.tokens.map((t) => t.label), label: null },
      marks: [
        Plot.barX(p.tokens, { y: "label", x: "prob", fill: colour }),
        Plot.text(p.tokens, {
          y: "label",
          x: "prob",
          text: (t: { prob: number }) => t.prob.toFixed(3),
          dx: 3,
          textAnchor: "start",
        }),
        Plot.text([`${p.model} (top ${p.tokens.length}: ${p.mass.toFixed(3)})`], {
          frameAnchor: "top",
          dy: -20,
          fontSize: FONT_SIZE_PX.panelTitle - 1,
          fontWeight: "bold",
        }),
      ],
    });
    return svgToString(el as unknown as { outerHTML: string });
  });
  const svg = composeGrid(svgs, {
    columns: Math.max(1, svgs.length),
    title: options.title ?? `Top-${k} next-token probabilities`,
    panelAttributes: panels.map((p) => ({ "data-model": p.model })),
  });
  return makeFigure(svg, { k, panels });
}
