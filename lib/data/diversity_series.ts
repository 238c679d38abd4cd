/**
 * Diversity results in one shape, from the paper's stored `.npy` results (lib/data/paper.ts, correct
 * creative/factual labels by default) or from this project's `diversity/1` files (lib/io/diversity_format.ts).
 * One {@link DiversitySeries} = one model × prompt set × word limit, with every metric as `values[t][p]`
 * (temperature × prompt). The figures draw these; the study's statistics and verdict count over them.
 * @module
 */
import { basename, join } from "node:path";
import { type PaperResults, readPaperResults } from "./paper.ts";
import type { PaperPack } from "./packs.ts";
import { type DiversityFile, parseDiversityFile } from "../io/diversity_format.ts";

/** The paper's temperatures: T = (t + 1) / 10 for t = 0 … 14. */
export const PAPER_TEMPERATURES: readonly number[] = Array.from({ length: 15 }, (_, t) => (t + 1) / 10);

/** The paper's Pythia-2.8B models of figure F1 (file stems in results/creative_factual). */
export const PAPER_F1_MODELS: readonly string[] = ["pythia-2.8b", "pythia-2.8b-sft", "pythia-2.8b-dpo"];

/** Which labelling a series carries. */
export type LabelConvention = "correct" | "paper";

/** One model × prompt set × word limit. */
export interface DiversitySeries {
  /** Model name (file stem or the diversity file's model). */
  model: string;
  /** "creative", "factual", "seen" or a custom name. */
  promptSet: string;
  /** Word limit as a results key ("5", "20", "all"). */
  words: string;
  /** Temperatures, one per row of every metric grid. */
  temperatures: number[];
  /** `values[metric][t][p]`, NaN where undefined. */
  values: Record<string, number[][]>;
  /** "paper" when the creative/factual labels are the paper's swapped ones. */
  labels: LabelConvention;
  /** File read. */
  source: string;
}

/** Options of {@link seriesFromPaperResults} and {@link loadPaperDiversity}. */
export interface PaperDiversityOptions {
  /**
   * Keep the paper's swapped creative/factual labels (its figures' labelling) instead of the correct ones.
   * Default false.
   */
  paperLabels?: boolean;
}

/** The series of one paper results file (both groups), given its model and word limit. */
function seriesFromPaperResults(
  results: PaperResults,
  model: string,
  words: string,
): DiversitySeries[] {
  const [T, P, S] = results.shape;
  if (results.shape.length !== 3) throw new Error(`${results.path}: expected shape (T, P, S)`);
  const temperatures = T === PAPER_TEMPERATURES.length
    ? [...PAPER_TEMPERATURES]
    : Array.from({ length: T }, (_, t) => (t + 1) / 10);
  const out: DiversitySeries[] = [];
  for (const group of Object.keys(results.groups) as PaperPack[]) {
    const metrics = results.groups[group]!;
    const values: Record<string, number[][]> = {};
    for (const key of results.keyOrder) {
      const flat = metrics[key];
      values[key] = Array.from(
        { length: T },
        (_, t) => Array.from({ length: P }, (_, p) => flat[(t * P + p) * S]),
      );
    }
    out.push({
      model,
      promptSet: group,
      words,
      temperatures,
      values,
      labels: results.relabelled ? "correct" : "paper",
      source: results.path,
    });
  }
  return out;
}

/**
 * Reads `<dir>/<model>_results_<w>_words.npy` for each model and word limit (default: the F1 models, 20 words)
 * into series, with correct labels unless `paperLabels`.
 */
export async function loadPaperDiversity(
  dir: string,
  models: readonly string[] = PAPER_F1_MODELS,
  words: readonly (string | number)[] = [20],
  options: PaperDiversityOptions = {},
): Promise<DiversitySeries[]> {
  const out: DiversitySeries[] = [];
  for (const model of models) {
    for (const w of words) {
      const path = join(dir, `${model}_results_${w}_words.npy`);
      const results = await readPaperResults(path, { paperLabels: options.paperLabels ?? false });
      out.push(...seriesFromPaperResults(results, model, String(w)));
    }
  }
  return out;
}

/**
 * The series of a `diversity/1` file: one per word limit, prompt set from `input.prompt_set` (always correct
 * labels), model from `model` or `input.model` or the file name.
 */
export function seriesFromDiversityFile(file: DiversityFile, model?: string): DiversitySeries[] {
  const name = model ?? file.input.model ?? basename(file.input.path).replace(/\.[^.]+$/, "");
  return Object.entries(file.results).map(([words, byKey]) => ({
    model: name,
    promptSet: file.input.prompt_set,
    words,
    temperatures: [...file.temperatures],
    values: Object.fromEntries(
      Object.entries(byKey).map(([k, grid]) => [k, grid.map((row) => row.map((v) => v ?? NaN))]),
    ),
    labels: "correct" as const,
    source: file.input.path,
  }));
}

/** Reads and parses `diversity/1` files into series (model names optional, one per path). */
export async function loadDiversityFiles(
  paths: readonly string[],
  models: readonly (string | undefined)[] = [],
): Promise<DiversitySeries[]> {
  const out: DiversitySeries[] = [];
  for (let i = 0; i < paths.length; i++) {
    const file = parseDiversityFile(await Deno.readTextFile(paths[i]), paths[i]);
    out.push(...seriesFromDiversityFile(file, models[i]));
  }
  return out;
}

/** Models in first-seen order. */
export function modelsOf(series: readonly DiversitySeries[]): string[] {
  return [...new Set(series.map((s) => s.model))];
}

/** The series for (model, prompt set, words), or undefined. */
export function findSeries(
  series: readonly DiversitySeries[],
  model: string,
  promptSet: string,
  words: string | number,
): DiversitySeries | undefined {
  return series.find((s) => s.model === model && s.promptSet === promptSet && s.words === String(words));
}

/**
 * The paper's labelling of series with correct labels: "creative" and "factual" swapped (what the original's
 * metric script stored; docs/PAPER_QUIRKS.md, creative/factual swap), marked `labels: "paper"` so figures say so.
 */
export function withPaperLabels(series: readonly DiversitySeries[]): DiversitySeries[] {
  const swap: Record<string, string> = { creative: "factual", factual: "creative" };
  return series.map((s) => ({
    ...s,
    promptSet: swap[s.promptSet] ?? s.promptSet,
    labels: s.labels === "paper" ? "correct" : "paper",
  }));
}
