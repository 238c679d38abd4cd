/**
 * The next-token mass over the integers after a "random integer between 0 and 100" prompt, one bar panel per
 * model (lib/sampling/integer_mass.ts): each integer's share of the model's integer mass, so that a base that
 * spreads its mass over many numbers and a tune that piles it on a few read side by side on one axis. Each
 * panel's title gives the integer mass and the integers effectively in play; up to three of the most likely
 * integers with 5 % of the mass or more, at least four apart so that labels do not collide, are labelled.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type Figure, makeFigure } from "./figure.ts";
import { columnsThatFit, gridPanelSize, tickGeometry } from "./panel.ts";
import { activeFigurePreset, isPaperPreset, type PresetOption, withFigurePreset } from "./preset.ts";
import { assignModelStyles, basePlotOptions, type FigureRole, round2 } from "./style.ts";
import { formatFixed } from "../numeric/number_format.ts";
import { composeGrid, svgToString } from "./svg.ts";
import type { IntegerMass } from "../sampling/integer_mass.ts";

/** Bars below this share of the integer mass get no label. */
const LABEL_SHARE = 0.05;

/** One model's integer mass. */
export interface IntegerMassInput {
  model: string;
  mass: IntegerMass;
}

/** The data behind {@link integerMassFigure}: per model, each integer's share of its integer mass. */
export interface IntegerMassData {
  panels: {
    model: string;
    /** Mass on the integers (of the whole next token). */
    total: number;
    effective: number;
    top: number;
    bars: { integer: number; share: number }[];
    /** The labelled integers: the most likely with ≥ 5 % each, at least four apart, three at most; most likely first. */
    labelled: number[];
  }[];
}

/** Options of {@link integerMassFigure}. */
export interface IntegerMassOptions extends PresetOption {
  title?: string;
  roles?: Readonly<Record<string, FigureRole>>;
}

/** Bars of each integer's share of the integer mass, one panel per model, shared share axis. */
export function integerMassFigure(
  inputs: readonly IntegerMassInput[],
  options: IntegerMassOptions = {},
): Figure<IntegerMassData> {
  return withFigurePreset(options.preset, () => draw(inputs, options));
}

function draw(inputs: readonly IntegerMassInput[], options: IntegerMassOptions): Figure<IntegerMassData> {
  const preset = activeFigurePreset();
  const paper = isPaperPreset(preset);
  const font = preset.fontPx.tick;
  const styles = assignModelStyles(inputs.map((i) => i.model), options.roles);
  const panels = inputs.map(({ model, mass }) => {
    const bars = mass.integers.map((integer, i) => ({
      integer,
      share: mass.total > 0 ? mass.probs[i] / mass.total : 0,
    }));
    const labelled: number[] = [];
    for (const b of [...bars].sort((x, y) => y.share - x.share || x.integer - y.integer)) {
      if (labelled.length === 3 || b.share < LABEL_SHARE) break;
      if (labelled.every((n) => Math.abs(n - b.integer) >= 4)) labelled.push(b.integer);
    }
    return { model, total: mass.total, effective: mass.effectiveCount, top: mass.top, bars, labelled };
  });
  const yMax = Math.max(0.01, ...panels.flatMap((p) => p.bars.map((b) => b.share)));
  const columns = paper ? columnsThatFit(panels.length, 150) : Math.max(1, panels.length);
  const { width } = gridPanelSize(columns, { width: 320, height: 0 });
  const titleFont = paper ? preset.fontPx.panelTitle : preset.fontPx.panelTitle - 1;
  const ticks = tickGeometry();
  const svgs = panels.map((p) => {
    const colour = styles.get(p.model)!.colour;
    const subtitle = `mass ${formatFixed(p.total, 3)}, ≈${formatFixed(p.effective, 1)} in play`;
    const top = p.bars.filter((b) => p.labelled.includes(b.integer));
    const el = Plot.plot({
      ...basePlotOptions(),
      width,
      height: paper ? Math.ceil(font * 14) : 220,
      marginLeft: paper ? Math.ceil(font * 3.2) : 44,
      marginRight: 8,
      marginTop: paper ? Math.ceil(titleFont * 3.4) : 52,
      marginBottom: paper ? Math.ceil(font * 3.1) : 40,
      x: {
        domain: [p.bars[0].integer - 0.5, p.bars[p.bars.length - 1].integer + 0.5],
        label: "Integer",
        labelArrow: "none",
        labelAnchor: "center",
        ...ticks,
      },
      y: {
        domain: [0, yMax * 1.15],
        label: null,
        grid: true,
        ...ticks,
      },
      marks: [
        Plot.rectY(p.bars, {
          x1: (b: { integer: number }) => b.integer - 0.45,
          x2: (b: { integer: number }) => b.integer + 0.45,
          y: "share",
          fill: colour,
        }),
        Plot.text(top, {
          x: "integer",
          y: "share",
          text: (b: { integer: number }) => String(b.integer),
          dy: -Math.round(font * 0.7),
          fontSize: round2(font),
        }),
        Plot.text([p.model], {
          frameAnchor: "top",
          lineAnchor: "bottom",
          dy: -Math.round(titleFont * 1.9),
          fontSize: round2(titleFont),
          fontWeight: "bold",
        }),
        Plot.text([subtitle], {
          frameAnchor: "top",
          lineAnchor: "bottom",
          dy: -Math.round(titleFont * 0.6),
          fontSize: round2(font),
        }),
      ],
    });
    return svgToString(el as unknown as { outerHTML: string });
  });
  const svg = composeGrid(svgs, {
    columns,
    title: options.title ?? "Next-token mass over the integers (bars: each integer's share of it)",
    panelAttributes: panels.map((p) => ({ "data-model": p.model })),
  });
  return makeFigure(svg, { panels });
}
