/**
 * Factual accuracy of sampled answers: the share of samples that contain one of the prompt's answer keys,
 * compared case-insensitively as substrings (the check of the paper's factual prompts).
 * @module
 */
import { answerMatches } from "../data/prompts.ts";
import type { CompletionsDoc } from "../io/completions_doc.ts";

/** Share of `texts` containing any of `answers`; null when there are no texts. */
export function answerAccuracy(texts: readonly string[], answers: readonly string[]): number | null {
  if (texts.length === 0) return null;
  let hits = 0;
  for (const t of texts) if (answerMatches(t, answers)) hits++;
  return hits / texts.length;
}

/** Accuracy of a document: per temperature and prompt, and per temperature over its prompts. */
export interface FactualAccuracy {
  /** Temperatures, one per row. */
  temperatures: number[];
  /** `byCell[t][p]`: share of the cell's samples that contain an answer; null without answers or samples. */
  byCell: (number | null)[][];
  /** Per temperature: the mean of its prompts' shares (prompts without answers or samples left out). */
  byTemperature: (number | null)[];
}

/** Factual accuracy of every cell of a document, from its texts and its prompts' answer keys. */
export function factualAccuracy(doc: CompletionsDoc): FactualAccuracy {
  const T = doc.sampling.temperatures.length, P = doc.prompts.length;
  const byCell: (number | null)[][] = Array.from({ length: T }, () => new Array(P).fill(null));
  for (const cell of doc.cells) {
    const answers = doc.prompts[cell.prompt_index].answers;
    if (answers === undefined || answers.length === 0) continue;
    byCell[cell.temperature_index][cell.prompt_index] = answerAccuracy(
      cell.samples.map((s) => s.text),
      answers,
    );
  }
  const byTemperature = byCell.map((row) => {
    const known = row.filter((x): x is number => x !== null);
    return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
  });
  return { temperatures: [...doc.sampling.temperatures], byCell, byTemperature };
}
