/**
 * A generation's tokens coloured by their probability, as HTML with a legend — the HTML version of the
 * Mode_Collapse notebook's ANSI `colour_text` (the paper's qualitative notebook): the same 10 probability
 * bins and colour ramp (dark green ≥ 0.99 … dark red < 0.01). Newlines are shown as a visible "\n" followed
 * by a line break; every token's text is HTML-escaped and its probability is in the `title` tooltip.
 * @module
 */
import type { Sample } from "../io/completions_doc.ts";
import { DisplayBundle } from "./display.ts";
import { escapeMarkup } from "./escape.ts";
import { formatFixed } from "../numeric/number_format.ts";
import { FONT_FAMILY } from "./style.ts";

/** One probability bin: tokens with `lower ≤ p < upper` (the last bin includes 1). */
export interface ProbabilityBin {
  lower: number;
  upper: number;
  background: string;
  foreground: string;
}

/** The original's bins, lowest first. */
export const PROBABILITY_BINS: readonly ProbabilityBin[] = [
  { lower: 0, upper: 0.01, background: "#8b0000", foreground: "#ffffff" },
  { lower: 0.01, upper: 0.05, background: "#ff6666", foreground: "#ffffff" },
  { lower: 0.05, upper: 0.1, background: "#e00000", foreground: "#ffffff" },
  { lower: 0.1, upper: 0.2, background: "#ff7800", foreground: "#000000" },
  { lower: 0.2, upper: 0.5, background: "#ff9632", foreground: "#000000" },
  { lower: 0.5, upper: 0.8, background: "#ffff00", foreground: "#000000" },
  { lower: 0.8, upper: 0.9, background: "#999900", foreground: "#000000" },
  { lower: 0.9, upper: 0.95, background: "#00b000", foreground: "#000000" },
  { lower: 0.95, upper: 0.99, background: "#5cd65c", foreground: "#ffffff" },
  { lower: 0.99, upper: 1, background: "#006400", foreground: "#ffffff" },
];

/** One token to colour: its text and natural-log probability. */
export interface TokenLogprob {
  text: string;
  logprob: number;
}

/** A coloured token. */
export interface ColouredToken {
  text: string;
  logprob: number;
  /** exp(logprob). */
  prob: number;
  /** Index into {@link PROBABILITY_BINS}. */
  bin: number;
}

/** The bin index of a probability (values outside [0, 1] are clamped; NaN → lowest bin). */
export function probabilityBin(p: number): number {
  if (!(p >= PROBABILITY_BINS[0].upper)) return 0;
  for (let i = PROBABILITY_BINS.length - 1; i >= 0; i--) if (p >= PROBABILITY_BINS[i].lower) return i;
  return 0;
}

function formatProb(p: number): string {
  return formatFixed(p, 4, "n/a");
}

function tokenHtml(text: string): string {
  // The container keeps white space (pre-wrap), so the newline itself breaks the line; no <br> as well.
  return escapeMarkup(text).replaceAll("\n", '<span class="nl">\\n</span>\n');
}

/** The legend: one swatch per bin with its range. */
export function probabilityLegendHtml(): string {
  const items = PROBABILITY_BINS.map((b, i) => {
    const range = i === PROBABILITY_BINS.length - 1 ? `[${b.lower}, ${b.upper}]` : `[${b.lower}, ${b.upper})`;
    return `<span class="bin" style="background:${b.background};color:${b.foreground};padding:1px 4px;margin-right:2px">${
      escapeMarkup(range)
    }</span>`;
  });
  return `<div class="token-prob-legend" style="margin-top:6px;font-size:11px">token probability: ${
    items.join("")
  }</div>`;
}

/** Options of {@link tokenProbabilityHtml}. */
export interface TokenColourOptions {
  /** Text before the generation (e.g. the prompt), shown uncoloured. */
  prefix?: string;
  /** Heading. */
  title?: string;
  /** Include the legend (default true). */
  legend?: boolean;
}

/** A coloured generation: HTML (displayable as text/html) and the tokens with their probabilities and bins. */
export interface TokenColouring extends DisplayBundle {
  html: string;
  tokens: ColouredToken[];
}

/** Colours each token by exp(logprob); returns the HTML (with legend) and the per-token data. */
export function tokenProbabilityHtml(
  tokens: readonly TokenLogprob[],
  options: TokenColourOptions = {},
): TokenColouring {
  const coloured: ColouredToken[] = tokens.map((t) => {
    const prob = Math.exp(t.logprob);
    return { text: t.text, logprob: t.logprob, prob, bin: probabilityBin(prob) };
  });
  const spans = coloured.map((t) => {
    const b = PROBABILITY_BINS[t.bin];
    return `<span class="tok" title="p=${
      formatProb(t.prob)
    }" style="background:${b.background};color:${b.foreground}">${tokenHtml(t.text)}</span>`;
  }).join("");
  const title = options.title
    ? `<div class="title" style="font-weight:bold">${escapeMarkup(options.title)}</div>`
    : "";
  const prefix = options.prefix
    ? `<span class="prefix" style="color:#555">${tokenHtml(options.prefix)}</span>`
    : "";
  const html =
    `<div class="token-probs" style="font-family:'${FONT_FAMILY}',monospace;font-size:13px;line-height:1.7">${title}<div class="text" style="white-space:pre-wrap">${prefix}${spans}</div>${
      options.legend === false ? "" : probabilityLegendHtml()
    }</div>`;
  const bundle = new DisplayBundle({ "text/html": html, "text/plain": tokens.map((t) => t.text).join("") });
  return Object.assign(bundle, { html, tokens: coloured });
}

/**
 * Tokens of a `completions/1` sample: `tokenTexts[i]` (decoded text of `sample.token_ids[i]`, from the model's
 * tokenizer) with `sample.logprobs[i]`. Throws when the sample has no log-probs or the lengths differ.
 */
export function tokensFromSample(sample: Sample, tokenTexts: readonly string[]): TokenLogprob[] {
  if (!sample.logprobs) throw new Error("tokensFromSample: the sample has no logprobs");
  if (sample.logprobs.length !== tokenTexts.length) {
    throw new Error(
      `tokensFromSample: ${tokenTexts.length} token texts for ${sample.logprobs.length} log-probs`,
    );
  }
  return tokenTexts.map((text, i) => ({ text, logprob: sample.logprobs![i] }));
}
