/**
 * The one figure style of the project: a fixed colour, marker and label per model role (base/PLM, SFT, DPO, PPO,
 * the Llama-2 chat model, …) in every figure and every preset, from the Okabe–Ito palette (colour-blind safe:
 * every pair of role colours stays ≥ 10 ΔE₀₀ apart under simulated protanopia, deuteranopia and tritanopia, and
 * the base model is black so that each fine-tune differs from it by ≥ 45 L* in a grey-scale print; each role also
 * has its own marker, so lines stay apart when colours do not — tests/figures/palette.test.ts checks this);
 * factual prompts solid, creative prompts dashed (as the paper). Fonts and sizes come from the active preset
 * (lib/figures/preset.ts); the constants below are the screen preset's. Also the headless `document` that
 * Observable Plot needs (linkedom).
 * @module
 */
import { parseHTML } from "linkedom";
import { activeFigurePreset } from "./preset.ts";
import type { ModelRole } from "../models/roles.ts";

/** Font family of the screen preset (and the PNG renderer's default). */
export const FONT_FAMILY = "DejaVu Sans";

/** Opacity of ±2·SE bands. */
export const BAND_OPACITY = 0.2;

/** How a figure draws a model: by its role, or as "other" (a neutral style) when it has none the figures know. */
export type FigureRole = ModelRole | "other";

/** Observable Plot symbol names used as line markers. */
export type MarkerSymbol =
  | "plus"
  | "circle"
  | "diamond"
  | "square"
  | "triangle"
  | "star"
  | "cross"
  | "wye"
  | "hexagon";

/** How one model is drawn. */
export interface ModelStyle {
  /** Legend label (e.g. "PLM", "SFT"). */
  label: string;
  /** CSS colour. */
  colour: string;
  /** Marker symbol. */
  marker: MarkerSymbol;
  /** The role the style came from. */
  role: FigureRole;
}

/** The Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), by its colour names. */
export const OKABE_ITO = {
  black: "#000000",
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
} as const;

/**
 * The fixed style per role: Okabe–Ito colours, one marker per role. The base model (PLM) is black, so every
 * fine-tune stands apart from it in grey-scale too; the deliberately collapsed copy of the embedded default is
 * vermillion.
 */
export const ROLE_STYLES: Readonly<Record<FigureRole, ModelStyle>> = {
  base: { label: "PLM", colour: OKABE_ITO.black, marker: "plus", role: "base" },
  sft: { label: "SFT", colour: OKABE_ITO.blue, marker: "circle", role: "sft" },
  dpo: { label: "DPO", colour: OKABE_ITO.orange, marker: "diamond", role: "dpo" },
  ppo: { label: "PPO", colour: OKABE_ITO.reddishPurple, marker: "square", role: "ppo" },
  chat: { label: "Chat", colour: OKABE_ITO.bluishGreen, marker: "triangle", role: "chat" },
  kto: { label: "KTO", colour: OKABE_ITO.skyBlue, marker: "star", role: "kto" },
  slic: { label: "SLiC", colour: OKABE_ITO.yellow, marker: "wye", role: "slic" },
  // The embedded default's deliberately sharpened copy of its base.
  collapsed: { label: "collapsed", colour: OKABE_ITO.vermillion, marker: "cross", role: "collapsed" },
  other: { label: "other", colour: "#444444", marker: "hexagon", role: "other" },
};

/**
 * Colours handed out, in order, to further models of a role already taken within one figure (Paul Tol's
 * "muted" scheme, also colour-blind safe; such lines keep their role's marker and are labelled by name).
 */
const EXTRA_COLOURS: readonly string[] = [
  "#332288",
  "#882255",
  "#44AA99",
  "#999933",
  "#CC6677",
  "#117733",
  "#88CCEE",
  "#AA4499",
];

/** Stroke dash array per prompt set (the paper: factual solid, creative dashed, scaled to the preset); others solid. */
export function dashForPromptSet(promptSet: string): string | undefined {
  return promptSet === "creative" ? activeFigurePreset().creativeDash : undefined;
}

/**
 * The role of a model from its name: `-dpo` before `-sft` (so `sfted0-dpo3_1` is DPO), then `-ppo`, `-kto`,
 * `-slic`, `-chat`, `-sft`/`-sfted`, `-collapsed`; anything else (e.g. `pythia-2.8b`, `llama2`) is the base model (PLM).
 */
export function roleOfModel(name: string): ModelRole {
  const n = name.toLowerCase();
  if (/(^|[-_/])dpo/.test(n)) return "dpo";
  if (/(^|[-_/])ppo/.test(n)) return "ppo";
  if (/(^|[-_/])kto/.test(n)) return "kto";
  if (/(^|[-_/])slic/.test(n)) return "slic";
  if (/(^|[-_/])chat/.test(n)) return "chat";
  if (/(^|[-_/])sft/.test(n)) return "sft";
  if (/(^|[-_/])collapsed/.test(n)) return "collapsed";
  return "base";
}

/**
 * Styles for the models of one figure, in order: each model gets its role's style; a second model of a role
 * already used gets the next {@link EXTRA_COLOURS} colour and its own name as label. `roles` overrides the
 * name-based role of a model.
 */
export function assignModelStyles(
  models: readonly string[],
  roles: Readonly<Record<string, FigureRole>> = {},
): Map<string, ModelStyle> {
  const used = new Set<FigureRole>();
  const out = new Map<string, ModelStyle>();
  let extra = 0;
  for (const m of models) {
    if (out.has(m)) continue;
    const role = roles[m] ?? roleOfModel(m);
    const base = ROLE_STYLES[role];
    if (!used.has(role) && role !== "other") {
      used.add(role);
      out.set(m, { ...base });
    } else {
      out.set(m, { ...base, label: m, colour: EXTRA_COLOURS[extra++ % EXTRA_COLOURS.length] });
    }
  }
  // Labels like "PLM" are only unambiguous when every model has a distinct role; otherwise use names.
  if (new Set([...out.values()].map((s) => s.label)).size !== out.size) {
    for (const [m, s] of out) s.label = m;
  }
  return out;
}

/** A fresh headless DOM document (linkedom) for Observable Plot (`Plot.plot({ document, … })`). */
export function createDocument(): Document {
  return parseHTML("<!DOCTYPE html><html><head></head><body></body></html>").document as unknown as Document;
}

/** Options every Plot panel shares: the document, the active preset's font and tick size (spread into `Plot.plot`). */
export function basePlotOptions(document: Document = createDocument()): {
  document: Document;
  style: { fontFamily: string; fontSize: string; background: string };
} {
  const p = activeFigurePreset();
  return {
    document,
    style: { fontFamily: p.fontFamily, fontSize: `${round2(p.fontPx.tick)}px`, background: "white" },
  };
}

/** `x` rounded to 2 decimals (for SVG attributes). */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
