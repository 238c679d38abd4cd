/**
 * The value every figure builder returns: the SVG markup plus the data it plotted (so tests and notebooks can
 * check the numbers), displayable in a notebook as it is.
 * @module
 */
import { type Displayable, JUPYTER_DISPLAY, type MimeBundle } from "./display.ts";

/** A built figure: standalone SVG markup (with xmlns) and the data behind it. */
export interface Figure<D> extends Displayable {
  /** Standalone SVG document. */
  readonly svg: string;
  /** What was plotted (means, bands, bins, …), in plain numbers. */
  readonly data: D;
}

/** Wraps SVG markup and data as a {@link Figure} (displayed as `image/svg+xml`). */
export function makeFigure<D>(svg: string, data: D): Figure<D> {
  return {
    svg,
    data,
    [JUPYTER_DISPLAY](): MimeBundle {
      return { "image/svg+xml": svg };
    },
  };
}
