/**
 * What a study's figures show and how: the figure role (colour, marker) of each model and of each fine-tuning
 * effect, the word limit the grids show, and the plotted metrics the series have.
 * @module
 */
import type { DiversitySeries } from "../data/diversity_series.ts";
import { PLOTTED_METRICS } from "../figures/metric_labels.ts";
import { type FigureRole, ROLE_STYLES } from "../figures/style.ts";
import type { StudyConfig } from "./config.ts";

/** The figure role (colour, marker) of each study model: its study role where the figures style it, else "other". */
export function figureRoles(study: StudyConfig): Record<string, FigureRole> {
  const known = new Set<string>(Object.keys(ROLE_STYLES).filter((r) => r !== "other"));
  return Object.fromEntries(
    study.models.map((m) => [m.name, known.has(m.role as FigureRole) ? m.role as FigureRole : "other"]),
  );
}

/** The word limit the grids show: 20 when computed (the paper's F1), else the first one. */
export function mainWords(study: StudyConfig): string {
  const words = study.diversity.words.map(String);
  return words.includes("20") ? "20" : words[0];
}

/** The metrics of `preferred` (default the paper's 8 plotted ones) that every series has. */
export function availableMetrics(
  series: readonly DiversitySeries[],
  preferred: readonly string[] = PLOTTED_METRICS,
): string[] {
  return preferred.filter((k) => series.length > 0 && series.every((s) => s.values[k] !== undefined));
}

/** Figure roles of effect series (the fine-tune's role). */
export function effectRoles(study: StudyConfig): Record<string, FigureRole> {
  const roles = figureRoles(study);
  return Object.fromEntries(
    study.models.filter((m) => m.base !== undefined).map((m) => [`${m.name} − ${m.base}`, roles[m.name]]),
  );
}
