/**
 * Jupyter display bundles for the Deno kernel: objects with a `[Symbol.for("Jupyter.display")]()` method that
 * returns a MIME bundle, so a notebook cell can simply end with one of them. Vega-Lite bundles always carry an
 * SVG fallback (JupyterLab renders the Vega-Lite MIME type; the classic notebook and nbconvert HTML do not).
 * @module
 */
import { type SvgSource, svgToString } from "./svg.ts";

/** The symbol the Deno Jupyter kernel looks for on a cell's result. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** MIME type of Vega-Lite v5 specs (what JupyterLab renders; Vega-Lite 6 specs use the same schema family). */
export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";

/** A MIME bundle: MIME type → content. */
export type MimeBundle = Record<string, unknown>;

/** Something a notebook cell can return to display a rich value. */
export interface Displayable {
  [JUPYTER_DISPLAY](): MimeBundle;
}

/** A displayable wrapper around a fixed bundle. */
export class DisplayBundle implements Displayable {
  /** The bundle shown. */
  readonly bundle: MimeBundle;
  constructor(bundle: MimeBundle) {
    this.bundle = bundle;
  }
  /** The bundle, for the kernel. */
  [JUPYTER_DISPLAY](): MimeBundle {
    return this.bundle;
  }
}

/** `{ "image/svg+xml": svg }` (namespaced) as a displayable. */
export function svgDisplay(svg: SvgSource): DisplayBundle {
  return new DisplayBundle({ "image/svg+xml": svgToString(svg) });
}

/** `{ "text/html": html, "text/plain": plain? }` as a displayable. */
export function htmlDisplay(html: string, plain?: string): DisplayBundle {
  const bundle: MimeBundle = { "text/html": html };
  if (plain !== undefined) bundle["text/plain"] = plain;
  return new DisplayBundle(bundle);
}

/**
 * A Vega-Lite spec with its static SVG rendering in the same bundle:
 * `{ "application/vnd.vegalite.v5+json": spec, "image/svg+xml": fallbackSvg }`.
 */
export function vegaLiteDisplay(spec: unknown, fallbackSvg: SvgSource): DisplayBundle {
  return new DisplayBundle({ [VEGALITE_MIME]: spec, "image/svg+xml": svgToString(fallbackSvg) });
}
