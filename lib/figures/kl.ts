/**
 * Base → fine-tune divergences from `score/1` files scored with `--base`: mean KL(base ‖ tuned) per position
 * (nats), and with them the Jensen–Shannon divergence and the share of positions whose argmax changed, as a bar
 * figure and a table.
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { ScoreFile } from "../io/score_format.ts";
import { type Figure, makeFigure } from "./figure.ts";
import { assignModelStyles, basePlotOptions, type ModelRole } from "./style.ts";
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
  if (score.kl_from_base === undefined || score.kl_from_base === null) {
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
  options: { title?: string; widthPx?: number; roles?: Readonly<Record<string, ModelRole>> } = {},
): Figure<KlRow[]> {
  const data = rows.map((r) => ({ ...r }));
  const styles = assignModelStyles(data.map((r) => r.model), options.roles);
  const el = Plot.plot({
    ...basePlotOptions(),
    width: options.widthPx ?? 560,
    height: 60 + 34 * data.length,
    marginLeft: 150,
    marginRight: 70,
    marginBottom: 40,
    x: {
      label: "Mean KL(base ‖ fine-tuned) per token (nats)",
      labelArrow: "none",
      labelAnchor: "center",
      grid: true,
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
        text: (r: KlRow) => r.klFromBaseNats.toFixed(4),
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
