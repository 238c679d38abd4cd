/**
 * Base → fine-tune divergences from `score/1` files scored with `--base`: mean KL(base ‖ tuned) per position
 * (nats), and with them the Jensen–Shannon divergence and the share of positions whose argmax changed, as a bar
 * figure and a table.
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { ScoreFile } from "../io/score_format.ts";
import { type Figure, makeFigure } from "./figure.ts";
import { singlePanelSize, tickGeometry, tickSpacing } from "./panel.ts";
import {
  activeFigurePreset,
  isPaperPreset,
  type PresetOption,
  textWidthPx,
  withFigurePreset,
} from "./preset.ts";
import { assignModelStyles, basePlotOptions, type FigureRole } from "./style.ts";
import { formatFixed } from "../numeric/number_format.ts";
import { composeGrid, svgToString } from "./svg.ts";
import { recordsToHtml, type TableOptions } from "./table.ts";

/** One fine-tuned model's divergence from its base. */
export interface KlRow {
  model: string;
  /** The base model's name, when known. */
  base?: string;
  /** Mean KL(base ‖ tuned) per position, nats. */
  klFromBaseNats: number;
  /** Mean JS divergence per position, nats. */
  jsWithBaseNats?: number;
  /** Share of positions whose argmax differs from the base's. */
  argmaxChangedShare?: number;
}

/** A row from a score file (throws when it was scored without a base). */
export function klRowFromScore(score: ScoreFile, model: string): KlRow {
  // null in the file reads back as NaN: either way there is no divergence to draw.
  if (typeof score.kl_from_base !== "number" || Number.isNaN(score.kl_from_base)) {
    throw new Error(`${model}: the score file has no kl_from_base (scored without --base)`);
  }
  const base = score.base as Record<string, unknown> | null;
  const baseName = base ? String(base.name ?? base.preset ?? base.id ?? base.source ?? "") : undefined;
  return {
    model,
    base: baseName || undefined,
    klFromBaseNats: score.kl_from_base,
    jsWithBaseNats: score.js_with_base,
    argmaxChangedShare: score.argmax_changed,
  };
}

/** Horizontal bars of mean KL(base ‖ tuned) per model, coloured by role, value printed at each bar. */
export function klFigure(
  rows: readonly KlRow[],
  options: { title?: string; widthPx?: number; roles?: Readonly<Record<string, FigureRole>> } & PresetOption =
    {},
): Figure<KlRow[]> {
  return withFigurePreset(options.preset, () => drawKl(rows, options));
}

function drawKl(
  rows: readonly KlRow[],
  options: { title?: string; widthPx?: number; roles?: Readonly<Record<string, FigureRole>> },
): Figure<KlRow[]> {
  const data = rows.map((r) => ({ ...r }));
  const styles = assignModelStyles(data.map((r) => r.model), options.roles);
  const p = activeFigurePreset();
  const paper = isPaperPreset(p);
  const font = p.fontPx.tick;
  const nameW = Math.max(0, ...data.map((r) => textWidthPx(r.model, font)));
  const valueW = Math.max(0, ...data.map((r) => textWidthPx(formatFixed(r.klFromBaseNats, 4), font)));
  const el = Plot.plot({
    ...basePlotOptions(),
    width: options.widthPx ?? singlePanelSize({ width: 560, height: 0 }).width,
    height: paper ? Math.round(font * 4.2 + font * 2.2 * data.length) : 60 + 34 * data.length,
    marginLeft: paper ? Math.ceil(nameW + 10) : Math.max(150, Math.ceil(nameW + 12)),
    marginRight: paper ? Math.ceil(valueW + 8) : Math.max(70, Math.ceil(valueW + 10)),
    marginBottom: paper ? Math.ceil(font * 3.1) : 40,
    marginTop: paper ? 6 : 20,
    x: {
      label: paper
        ? "Mean KL divergence from the base (nats per token)"
        : "Mean KL(base ‖ fine-tuned) per token (nats)",
      labelArrow: "none",
      labelAnchor: "center",
      grid: true,
      ...tickGeometry(),
      tickSpacing: tickSpacing("x"),
    },
    y: { label: null, domain: data.map((r) => r.model) },
    marks: [
      Plot.barX(data, {
        y: "model",
        x: "klFromBaseNats",
        fill: (r: KlRow) => styles.get(r.model)!.colour,
      }),
      Plot.text(data, {
        y: "model",
        x: "klFromBaseNats",
        text: (r: KlRow) => formatFixed(r.klFromBaseNats, 4),
        dx: 4,
        textAnchor: "start",
      }),
      Plot.ruleX([0]),
    ],
  });
  const svg = composeGrid([svgToString(el as unknown as { outerHTML: string })], {
    columns: 1,
    title: options.title ?? "Divergence of each fine-tune from its base model",
  });
  return makeFigure(svg, data);
}

/** The rows as an HTML table (KL and JS in nats, argmax changed as a share). */
export function klTableHtml(rows: readonly KlRow[], options: TableOptions = {}): string {
  return recordsToHtml(
    rows.map((r) => ({
      model: r.model,
      base: r.base ?? "",
      "KL(base ‖ model), nats": r.klFromBaseNats,
      "JS, nats": r.jsWithBaseNats ?? NaN,
      "argmax changed": r.argmaxChangedShare ?? NaN,
    })),
    { caption: "Per-token divergence from the base model", ...options },
  );
}
