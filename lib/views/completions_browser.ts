/**
 * Looking at `completions/1` sweeps in a notebook: a summary row per (model, pack) — cells, samples, tokens,
 * mean sampled entropy and factual accuracy per temperature — and a browser for one (temperature, prompt) cell:
 * the model input (template applied), every sample as an HTML table row, and one sample's tokens coloured by
 * their probability.
 * @module
 */
import type { CompletionCell, CompletionsDoc } from "../io/completions_doc.ts";
import { applyTemplate } from "../data/prompts.ts";
import { factualAccuracy } from "../metrics/factual_accuracy.ts";
import { escapeMarkup } from "../figures/escape.ts";
import { recordsToHtml } from "../figures/table.ts";
import { formatNumber } from "../numeric/number_format.ts";
import { tokenProbabilityHtml, tokensFromSample } from "../figures/token_colours.ts";

/** A loaded sweep and what it is. */
export interface SweepDoc {
  model: string;
  pack: string;
  doc: CompletionsDoc;
}

/** Token-weighted mean of the samples' sampling entropies (nats) in `cells`; null without any. */
export function meanSampledEntropy(cells: readonly CompletionCell[]): number | null {
  let sum = 0, n = 0;
  for (const c of cells) {
    for (const s of c.samples) {
      for (const e of s.entropies_nats ?? []) {
        sum += e;
        n++;
      }
    }
  }
  return n === 0 ? null : sum / n;
}

const tLabel = (t: number) => `T=${formatNumber(t)}`;

/**
 * One summary record per sweep: model, pack, cells, samples, generated tokens, then `entropy T=…` (mean
 * sampling entropy, nats per token) for each temperature of any sweep and, for packs with answer keys,
 * `accuracy T=…` (share of samples containing an answer, mean over prompts). Missing values are null.
 */
export function sweepSummaryRecords(sweeps: readonly SweepDoc[]): {
  records: Record<string, unknown>[];
  columns: string[];
} {
  const temps = [...new Set(sweeps.flatMap((s) => s.doc.sampling.temperatures))].sort((a, b) => a - b);
  const withAnswers = sweeps.some((s) => s.doc.prompts.some((p) => (p.answers?.length ?? 0) > 0));
  const columns = [
    "model",
    "pack",
    "cells",
    "samples",
    "tokens",
    ...temps.map((t) => `entropy ${tLabel(t)}`),
    ...(withAnswers ? temps.map((t) => `accuracy ${tLabel(t)}`) : []),
  ];
  const records = sweeps.map(({ model, pack, doc }) => {
    const samples = doc.cells.reduce((a, c) => a + c.samples.length, 0);
    const tokens = doc.cells.reduce(
      (a, c) => a + c.samples.reduce((b, s) => b + (s.token_ids?.length ?? 0), 0),
      0,
    );
    const r: Record<string, unknown> = { model, pack, cells: doc.cells.length, samples, tokens };
    const hasAnswers = doc.prompts.some((p) => (p.answers?.length ?? 0) > 0);
    const acc = hasAnswers ? factualAccuracy(doc) : undefined;
    for (const t of temps) {
      const ti = doc.sampling.temperatures.indexOf(t);
      r[`entropy ${tLabel(t)}`] = ti < 0
        ? null
        : meanSampledEntropy(doc.cells.filter((c) => c.temperature_index === ti));
      if (withAnswers) r[`accuracy ${tLabel(t)}`] = acc && ti >= 0 ? acc.byTemperature[ti] : null;
    }
    return r;
  });
  return { records, columns };
}

/** The summary as an HTML table (see {@link sweepSummaryRecords}). */
export function sweepSummaryHtml(sweeps: readonly SweepDoc[], caption?: string): string {
  const { records, columns } = sweepSummaryRecords(sweeps);
  return recordsToHtml(records, {
    columns,
    caption: caption ??
      "Sweeps: mean sampling entropy (nats/token) and factual accuracy (share of samples with an answer) per temperature",
  });
}

/** Which cell to browse. */
export interface CellChoice {
  /** Index into the sweep's temperatures. */
  temperatureIndex: number;
  /** Index into its prompts. */
  promptIndex: number;
}

/**
 * The cell of `doc` nearest to `temperature` (ties: the lower one; a negative value = the highest temperature)
 * for prompt `promptIndex`; throws a RangeError naming the valid range for a prompt index out of range.
 */
export function chooseCell(doc: CompletionsDoc, temperature: number, promptIndex: number): CellChoice {
  const temps = doc.sampling.temperatures;
  if (!Number.isInteger(promptIndex) || promptIndex < 0 || promptIndex >= doc.prompts.length) {
    throw new RangeError(`prompt index ${promptIndex} is not in 0…${doc.prompts.length - 1}`);
  }
  let best = temps.length - 1;
  if (temperature >= 0) {
    best = 0;
    for (let i = 1; i < temps.length; i++) {
      if (Math.abs(temps[i] - temperature) < Math.abs(temps[best] - temperature)) best = i;
    }
  }
  return { temperatureIndex: best, promptIndex };
}

/**
 * The model input of a prompt as the sweep sampled from it: the recorded input text (a chat template's rendering
 * included), else its named template applied.
 */
export function promptInput(doc: CompletionsDoc, promptIndex: number): string {
  const recorded = doc.provenance?.template_inputs;
  if (Array.isArray(recorded) && typeof recorded[promptIndex] === "string") return recorded[promptIndex];
  const p = doc.prompts[promptIndex];
  const text = p.text ?? "";
  return doc.template && doc.template.name !== "model"
    ? applyTemplate(doc.template.text, text, p.guide ?? "")
    : text;
}

/** Options of {@link cellBrowserHtml}. */
export interface CellBrowserOptions {
  /** Model name shown in the heading. */
  model: string;
  /** Decodes one token id to its text (the model's tokenizer), for the coloured sample. */
  decodeToken: (id: number) => string;
  /** Which sample to colour (default 0). */
  colourSample?: number;
}

/**
 * HTML of one cell: heading (model, pack, temperature, prompt), the model input, the answer keys (factual
 * prompts), a table of all samples (text with whitespace visible, tokens, finish, mean log-prob, answer hit),
 * and the chosen sample's tokens coloured by probability with a legend.
 */
export function cellBrowserHtml(
  doc: CompletionsDoc,
  choice: CellChoice,
  options: CellBrowserOptions,
): string {
  const cell = doc.cells.find((c) =>
    c.temperature_index === choice.temperatureIndex && c.prompt_index === choice.promptIndex
  );
  const t = doc.sampling.temperatures[choice.temperatureIndex];
  const heading = `${options.model} · ${doc.prompt_set} · ${tLabel(t)} · prompt ${choice.promptIndex}`;
  const parts: string[] = [`<h4>${escapeMarkup(heading)}</h4>`];
  const input = promptInput(doc, choice.promptIndex);
  parts.push(
    `<div><b>model input</b> (template <code>${escapeMarkup(doc.template?.name ?? "none")}</code>):</div>`,
    `<pre style="white-space:pre-wrap;background:#f4f4f4;padding:4px">${escapeMarkup(input)}</pre>`,
  );
  const answers = doc.prompts[choice.promptIndex].answers;
  if (answers?.length) parts.push(`<div><b>answers</b>: ${escapeMarkup(answers.join(" | "))}</div>`);
  if (cell === undefined || cell.samples.length === 0) {
    parts.push("<p>This cell has no samples.</p>");
    return parts.join("\n");
  }
  const hay = (s: string) => s.toLowerCase();
  const records = cell.samples.map((s, i) => {
    const lp = s.logprobs ?? [];
    return {
      "#": i,
      text: s.text.replaceAll("\n", "\\n"),
      tokens: s.token_ids?.length ?? null,
      finish: s.finish ?? "",
      "mean log p": lp.length ? lp.reduce((a, b) => a + b, 0) / lp.length : null,
      ...(answers?.length
        ? { answer: answers.some((a) => a !== "" && hay(s.text).includes(hay(a))) ? "yes" : "no" }
        : {}),
    };
  });
  parts.push(recordsToHtml(records, {
    caption: `${cell.samples.length} samples` +
      (cell.answer_accuracy != null ? `, accuracy ${formatNumber(cell.answer_accuracy)}` : ""),
  }));
  const k = options.colourSample ?? 0;
  const sample = cell.samples[Math.min(k, cell.samples.length - 1)];
  if (sample.token_ids && sample.logprobs) {
    const texts = sample.token_ids.map((id) => options.decodeToken(id));
    parts.push(
      tokenProbabilityHtml(tokensFromSample(sample, texts), {
        title: `sample ${Math.min(k, cell.samples.length - 1)}, tokens coloured by the model's probability`,
        prefix: input,
      }).html,
    );
  } else {
    parts.push("<p>This sample has no token ids or log-probabilities to colour.</p>");
  }
  return parts.join("\n");
}
