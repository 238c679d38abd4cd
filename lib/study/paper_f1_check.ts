/**
 * Checks of the paper's figure F1 as redrawn from its stored results: every grid mean against the stored
 * arrays it comes from, and against the published values (lib/data/paper_diversity_numbers.ts).
 * @module
 */
import { join } from "node:path";
import { readPaperResults } from "../data/paper.ts";
import { type DiversitySeries, findSeries } from "../data/diversity_series.ts";
import { PUBLISHED_F1_20_WORDS } from "../data/paper_diversity_numbers.ts";
import { diversityGridData } from "../figures/diversity_grid.ts";
import { PLOTTED_METRICS } from "../figures/metric_labels.ts";
import { nanMean } from "./diversity_stats.ts";

/** Result of {@link checkRedrawnF1}. */
export interface F1Check {
  /** (convention, model, column, metric, temperature) points compared. */
  points: number;
  /** Largest |grid mean − stored mean| over them. */
  maxAbsDiff: number;
  /** Points that differ by more than the tolerance (first 10). */
  mismatches: string[];
}

/**
 * Checks the F1 grid data against the stored arrays: for both label conventions, every grid mean equals the
 * nanmean over prompts of the stored float32 array it should come from — with correct labels, column
 * "creative" ← stored "factual" and "factual" ← stored "creative"; with the paper's labels, as stored.
 */
export async function checkRedrawnF1(
  dir: string,
  models: readonly string[],
  words: string | number,
  series: { correct: readonly DiversitySeries[]; paper: readonly DiversitySeries[] },
  metrics: readonly string[] = PLOTTED_METRICS,
  tolerance = 1e-12,
): Promise<F1Check> {
  const check: F1Check = { points: 0, maxAbsDiff: 0, mismatches: [] };
  for (const conv of ["correct", "paper"] as const) {
    const data = diversityGridData(series[conv], { words, metrics, models });
    for (const model of models) {
      const stored = await readPaperResults(join(dir, `${model}_results_${words}_words.npy`), {
        paperLabels: true,
      });
      const [T, P, S] = stored.shape;
      for (const p of data.panels) {
        const line = p.lines.find((l) => l.model === model);
        if (!line) throw new Error(`F1 check: no ${model} line in panel ${p.metric}/${p.columnKey}`);
        const group = conv === "paper" ? p.columnKey : p.columnKey === "creative" ? "factual" : "creative";
        const flat = stored.groups[group as "creative" | "factual"]![p.metric];
        for (let t = 0; t < T; t++) {
          const vals: number[] = [];
          for (let q = 0; q < P; q++) vals.push(flat[(t * P + q) * S]);
          const want = nanMean(vals);
          const got = line.points[t].mean;
          const d = Number.isNaN(want) && Number.isNaN(got) ? 0 : Math.abs(got - want);
          check.points++;
          if (!(d <= tolerance)) {
            if (check.mismatches.length < 10) {
              check.mismatches.push(`${conv} ${model} ${p.columnKey} ${p.metric} t=${t}: ${got} vs ${want}`);
            }
            check.maxAbsDiff = Number.isNaN(d) ? NaN : Math.max(check.maxAbsDiff, d);
          } else check.maxAbsDiff = Math.max(check.maxAbsDiff, d);
        }
      }
    }
  }
  return check;
}

/** One comparison of a redrawn grid mean with a published value. */
export interface PublishedComparison {
  labels: "correct" | "paper";
  column: string;
  model: string;
  metric: string;
  temperature: number;
  published: number;
  redrawn: number;
  ok: boolean;
}

/**
 * Compares F1 grid data (20 words) with {@link PUBLISHED_F1_20_WORDS} at T = 0.1, 0.5, 1.0, 1.5: a point is ok
 * when the redrawn mean rounds to the published 3-decimal value (|Δ| ≤ 0.0005 + 1e-9). With the paper's labels
 * the published columns are the other way round (its figure's "Factual" column shows the creative prompts).
 */
export function compareWithPublished(
  series: readonly DiversitySeries[],
  labels: "correct" | "paper",
): PublishedComparison[] {
  const temps = [0.1, 0.5, 1.0, 1.5];
  const out: PublishedComparison[] = [];
  for (const [actual, byModel] of Object.entries(PUBLISHED_F1_20_WORDS)) {
    const column = labels === "correct" ? actual : actual === "creative" ? "factual" : "creative";
    for (const [model, byMetric] of Object.entries(byModel)) {
      const s = findSeries(series, model, column, 20);
      if (!s) throw new Error(`no series ${model} ${column} 20 words`);
      for (const [metric, values] of Object.entries(byMetric)) {
        temps.forEach((T, i) => {
          const t = s.temperatures.findIndex((x) => Math.abs(x - T) < 1e-9);
          const redrawn = nanMean(s.values[metric][t]);
          out.push({
            labels,
            column,
            model,
            metric,
            temperature: T,
            published: values[i],
            redrawn,
            ok: Math.abs(redrawn - values[i]) <= 0.0005 + 1e-9,
          });
        });
      }
    }
  }
  return out;
}
