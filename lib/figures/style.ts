/**
 * The one figure style of the project: font (DejaVu Sans, the only family installed for the PNG renderer),
 * font sizes, panel sizes, and a fixed colour, marker and label per model role (base/PLM, SFT, DPO, PPO, the
 * Llama-2 chat model, …), following the paper's figures (PLM red '+', SFT blue 'o', DPO orchid 'D', chat green,
 * PPO orange; factual prompts solid, creative prompts dashed). Also the headless `document` that Observable Plot
 * needs (linkedom).
 * @module
 */
import { parseHTML } from "linkedom";

/** Font family of every figure (the SVG attribute and the PNG renderer's default). */
export const FONT_FAMILY = "DejaVu Sans";

/** Font sizes in px. */
export const FONT_SIZE_PX = {
  /** Tick labels and legend entries. */
  tick: 11,
  /** Axis labels. */
  label: 12,
  /** Panel and column titles. */
  panelTitle: 14,
  /** Figure titles. */
  title: 16,
} as const;

/** Default panel size in px. */
export const PANEL_SIZE_PX = { width: 360, height: 220 } as const;

/** Opacity of ±2·SE bands. */
export const BAND_OPACITY = 0.2;

/** Model roles that get a fixed colour. */
export type ModelRole = "base" | "sft" | "dpo" | "ppo" | "chat" | "kto" | "slic" | "collapsed" | "other";

/** Observable Plot symbol names used as line markers. */
export type MarkerSymbol = "plus" | "circle" | "diamond" | "square" | "triangle" | "star" | "cross" | "wye";

/** How one model is drawn. */
export interface ModelStyle {
  /** Legend label (e.g. "PLM", "SFT"). */
  label: string;
  /** CSS colour. */
  colour: string;
  /** Marker symbol. */
  marker: MarkerSymbol;
  /** The role the style came from. */
  role: ModelRole;
}

/** The fixed style per role (colours as in the paper's F1/F3). */
export const ROLE_STYLES: Readonly<Record<ModelRole, ModelStyle>> = {
  base: { label: "PLM", colour: "#d62728", marker: "plus", role: "base" },
  sft: { label: "SFT", colour: "#1f3fbf", marker: "circle", role: "sft" },
  dpo: { label: "DPO", colour: "#da70d6", marker: "diamond", role: "dpo" },
  ppo: { label: "PPO", colour: "#ff8c00", marker: "diamond", role: "ppo" },
  chat: { label: "Chat", colour: "#2ca02c", marker: "plus", role: "chat" },
  kto: { label: "KTO", colour: "#8c564b", marker: "square", role: "kto" },
  slic: { label: "SLiC", colour: "#17becf", marker: "triangle", role: "slic" },
  // The embedded default's deliberately sharpened copy of its base.
  collapsed: { label: "collapsed", colour: "#111111", marker: "cross", role: "collapsed" },
  other: { label: "other", colour: "#7f7f7f", marker: "star", role: "other" },
};

/** Colours handed out, in order, to further models of a role already taken within one figure. */
export const EXTRA_COLOURS: readonly string[] = [
  "#9467bd",
  "#e377c2",
  "#bcbd22",
  "#7f7f7f",
  "#ff9896",
  "#98df8a",
  "#aec7e8",
  "#c49c94",
];

/** Stroke dash array per prompt set (the paper: factual solid, creative dashed); others solid. */
export function dashForPromptSet(promptSet: string): string | undefined {
  return promptSet === "creative" ? "6,4" : undefined;
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
  roles: Readonly<Record<string, ModelRole>> = {},
): Map<string, ModelStyle> {
  const used = new Set<ModelRole>();
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

/** Options every Plot panel shares: the document, font and sizes (spread into `Plot.plot`). */
export function basePlotOptions(document: Document = createDocument()): {
  document: Document;
  style: { fontFamily: string; fontSize: string; background: string };
} {
  return {
    document,
    style: { fontFamily: FONT_FAMILY, fontSize: `${FONT_SIZE_PX.tick}px`, background: "white" },
  };
}
