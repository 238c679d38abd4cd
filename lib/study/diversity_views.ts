/**
 * What the output-diversity notebooks (03 output diversity, 04 seen prompts, 06 the paper's results) compute
 * beyond drawing: a study's diversity series (run or reuse, with each step's cache note), the effect of each
 * fine-tuning step, how each metric tracks temperature, the direction-aware "less diverse than its base"
 * share, epoch models, where the paper's files are, and the check of the redrawn F1 against the stored arrays.
 * Thin notebooks call these; the tests call them too.
 * @module
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { readPaperResults } from "../data/paper.ts";
import {
  type DiversitySeries,
  findSeries,
  loadDiversityFiles,
  PLOTTED_METRICS,
} from "../figures/diversity_data.ts";
import { type DiversityGridData, diversityGridData } from "../figures/diversity_grid.ts";
import { escapeMarkup } from "../figures/escape.ts";
import { saveFigure } from "../figures/export.ts";
import { type Figure, makeFigure } from "../figures/figure.ts";
import { type ModelRole as FigureRole, ROLE_STYLES } from "../figures/style.ts";
import type { MetricDirection } from "../metrics/definition.ts";
import { metricDirection } from "../metrics/registry.ts";
import { PROJECT_ROOT, SHARED_DIR_ENV } from "../shared_dir.ts";
import type { StudyConfig } from "./config.ts";
import { ensureDiversity, ensureSweep, StudyModels } from "./steps.ts";

/** A step's outcome line, for the notebook to show. */
export interface StepNote {
  model: string;
  pack: string;
  step: "sweep" | "diversity";
  reused: boolean;
  note: string;
}

/** The diversity series of every study model on some packs, and what each step did. */
export interface StudyDiversity {
  series: DiversitySeries[];
  notes: StepNote[];
  /** `diversity/1` files read, per model and pack. */
  files: { model: string; pack: string; path: string }[];
}

/** The packs of `wanted` that the study samples (in `wanted` order). */
export function studyPacks(study: StudyConfig, wanted: readonly string[]): string[] {
  return wanted.filter((p) => study.sweep.packs.includes(p));
}

/**
 * Runs or reuses the sweep and diversity steps of every study model on `packs` (one shared model loader), and
 * reads the results into series. With `force` both steps are recomputed (one note per diversity step then).
 */
export async function studyDiversity(
  study: StudyConfig,
  packs: readonly string[],
  opts: { force?: boolean; log?: (line: string) => void; models?: readonly string[] } = {},
): Promise<StudyDiversity> {
  const loader = new StudyModels(study);
  const notes: StepNote[] = [];
  const files: StudyDiversity["files"] = [];
  const names = opts.models ?? study.models.map((m) => m.name);
  try {
    for (const model of names) {
      for (const pack of packs) {
        if (!opts.force) {
          const s = await ensureSweep(study, model, pack, { models: loader, log: opts.log });
          notes.push({ model, pack, step: "sweep", reused: s.reused, note: s.note });
        }
        const d = await ensureDiversity(study, model, pack, {
          models: loader,
          log: opts.log,
          force: opts.force,
        });
        notes.push({ model, pack, step: "diversity", reused: d.reused, note: d.note });
        files.push({ model, pack, path: d.value.path });
      }
    }
  } finally {
    await loader.dispose();
  }
  const series = await loadDiversityFiles(files.map((f) => f.path), files.map((f) => f.model));
  return { series, notes, files };
}

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

/** How a metric reads: "similarity" = higher is less diverse, "diversity" = higher is more diverse. */
export type Direction = MetricDirection;

/**
 * The direction of a metric key: the registry's table (lib/metrics/registry.ts), the only one. Both gzip
 * compression ratios are similarities there (lib/metrics/defs/compression.ts): each is large when a sample
 * compresses away against the others. METRICS.md §4–5 annotate them "higher = more diverse", which the paper's
 * own data contradicts: the target ratio falls with temperature in all 12 Pythia-2.8B series (Spearman ρ −0.85
 * to −1; 20-word creative PLM 0.684 → 0.468 from T = 0.1 to 1.5) and is highest for the most collapsed model
 * (llama2-chat 0.927 vs llama2 0.751 at T = 0.1, SEED.md §8.3). The full ratio is tiny (≈ 0.003) and not
 * monotone in temperature in the paper's data (ρ from −0.96 to +0.95), so its "wrong sign" rows in the
 * temperature check are expected.
 */
export { metricDirection };

/** The same function as {@link metricDirection} (kept for callers that name the registry explicitly). */
export const registryDirection: (key: string) => Direction | undefined = metricDirection;

/** Mean of the finite values; NaN when none. */
function nanMean(values: readonly number[]): number {
  let s = 0, n = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return n === 0 ? NaN : s / n;
}

/** Ranks 1…n with ties given their average rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) out[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation (Pearson on average ranks) of the pairs where both are finite; NaN if undefined. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const keep = x.map((_, i) => i).filter((i) => Number.isFinite(x[i]) && Number.isFinite(y[i]));
  if (keep.length < 2) return NaN;
  const rx = ranks(keep.map((i) => x[i]));
  const ry = ranks(keep.map((i) => y[i]));
  const mx = rx.reduce((a, b) => a + b, 0) / rx.length;
  const my = ry.reduce((a, b) => a + b, 0) / ry.length;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** One row of the temperature-tracking check. */
export interface TemperatureTrackingRow {
  model: string;
  promptSet: string;
  words: string;
  metric: string;
  /** The registry's direction and the one expected here ({@link metricDirection}). */
  registryDirection: Direction | "?";
  direction: Direction | "?";
  /** Expected sign of the correlation with temperature: "+" for diversity, "−" for similarity metrics. */
  expectedSign: "+" | "−" | "?";
  /** Spearman's ρ of the per-temperature mean over prompts with temperature. */
  rho: number;
  /** Per-temperature means, lowest to highest temperature. */
  means: number[];
  /** "ok", "WRONG SIGN", "flat" (ρ = 0 or undefined), or "registry disagrees" when only the override agrees. */
  flag: string;
}

/**
 * How each metric tracks temperature: per series and metric, Spearman's ρ of the mean over prompts at each
 * temperature against temperature, with the expected sign (diversity metrics rise, similarity metrics fall).
 */
export function temperatureTracking(
  series: readonly DiversitySeries[],
  metrics: readonly string[],
): TemperatureTrackingRow[] {
  const rows: TemperatureTrackingRow[] = [];
  for (const s of series) {
    for (const metric of metrics) {
      const grid = s.values[metric];
      if (!grid) continue;
      const means = grid.map((row) => nanMean(row));
      const rho = spearman(s.temperatures, means);
      const reg = registryDirection(metric);
      const dir = metricDirection(metric);
      const sign = (d: Direction | undefined) => d === undefined ? 0 : d === "diversity" ? 1 : -1;
      const want = sign(dir);
      let flag: string;
      if (!Number.isFinite(rho) || rho === 0) flag = "flat";
      else if (want === 0) flag = "?";
      else if (Math.sign(rho) !== want) flag = "WRONG SIGN";
      else if (sign(reg) !== want) flag = "ok (registry direction disagrees)";
      else flag = "ok";
      rows.push({
        model: s.model,
        promptSet: s.promptSet,
        words: s.words,
        metric,
        registryDirection: reg ?? "?",
        direction: dir ?? "?",
        expectedSign: want === 0 ? "?" : want > 0 ? "+" : "−",
        rho,
        means,
        flag,
      });
    }
  }
  return rows;
}

/** Result of {@link lessDiverseShare}. */
export interface LessDiverseShare {
  tuned: string;
  base: string;
  /** (prompt set, words, metric, temperature) points where the fine-tune's mean is less / more diverse. */
  less: number;
  more: number;
  /** Equal means (e.g. both 0), left out of the share. */
  ties: number;
  /** Points with an undefined mean or an unknown direction, left out. */
  undefinedPoints: number;
  /** less / (less + more); NaN when no point counts. */
  share: number;
  /** The same per metric. */
  byMetric: Record<string, { less: number; more: number; share: number }>;
  /** The directions used. */
  directions: Record<string, Direction | "?">;
}

/**
 * Direction-aware comparison of a fine-tune with its base: on how many (prompt set, words, metric, temperature)
 * points is the fine-tune's mean over prompts less diverse. `direction` picks the directions (default
 * the registry's, {@link metricDirection}).
 */
export function lessDiverseShare(
  series: readonly DiversitySeries[],
  tuned: string,
  base: string,
  promptSets: readonly string[],
  metrics: readonly string[],
  direction: (key: string) => Direction | undefined = metricDirection,
): LessDiverseShare {
  const out: LessDiverseShare = {
    tuned,
    base,
    less: 0,
    more: 0,
    ties: 0,
    undefinedPoints: 0,
    share: NaN,
    byMetric: {},
    directions: Object.fromEntries(metrics.map((m) => [m, direction(m) ?? "?"])),
  };
  for (const metric of metrics) {
    const dir = direction(metric);
    const m = { less: 0, more: 0, share: NaN };
    for (const ts of series.filter((s) => s.model === tuned && promptSets.includes(s.promptSet))) {
      const bs = findSeries(series, base, ts.promptSet, ts.words);
      if (!bs || !ts.values[metric] || !bs.values[metric]) continue;
      ts.values[metric].forEach((row, t) => {
        const bt = bs.temperatures.indexOf(ts.temperatures[t]);
        const a = nanMean(row), b = bt < 0 ? NaN : nanMean(bs.values[metric][bt]);
        if (dir === undefined || !Number.isFinite(a) || !Number.isFinite(b)) out.undefinedPoints++;
        else if (a === b) out.ties++;
        else if ((dir === "similarity") === (a > b)) m.less++;
        else m.more++;
      });
    }
    m.share = m.less + m.more > 0 ? m.less / (m.less + m.more) : NaN;
    out.byMetric[metric] = m;
    out.less += m.less;
    out.more += m.more;
  }
  out.share = out.less + out.more > 0 ? out.less / (out.less + out.more) : NaN;
  return out;
}

/**
 * The effect of each fine-tuning step: for every study model with a base, a series "<model> − <base>" of the
 * per-prompt differences (fine-tune minus base) on each prompt set and word limit both have.
 */
export function fineTuneEffectSeries(
  series: readonly DiversitySeries[],
  study: StudyConfig,
): DiversitySeries[] {
  const out: DiversitySeries[] = [];
  for (const m of study.models) {
    if (m.base === undefined) continue;
    for (const ts of series.filter((s) => s.model === m.name)) {
      const bs = findSeries(series, m.base, ts.promptSet, ts.words);
      if (!bs) continue;
      if (bs.temperatures.join() !== ts.temperatures.join()) {
        throw new Error(`${m.name} and ${m.base} were sampled at different temperatures`);
      }
      const values: Record<string, number[][]> = {};
      for (const [k, grid] of Object.entries(ts.values)) {
        const bg = bs.values[k];
        if (!bg) continue;
        values[k] = grid.map((row, t) => row.map((v, p) => v - bg[t][p]));
      }
      out.push({ ...ts, model: `${m.name} − ${m.base}`, values, source: `${ts.source} − ${bs.source}` });
    }
  }
  return out;
}

/** Figure roles of effect series (the fine-tune's role). */
export function effectRoles(study: StudyConfig): Record<string, FigureRole> {
  const roles = figureRoles(study);
  return Object.fromEntries(
    study.models.filter((m) => m.base !== undefined).map((m) => [`${m.name} − ${m.base}`, roles[m.name]]),
  );
}

/** A study model that marks a fine-tuning epoch. */
export interface EpochModel {
  model: string;
  /** Name with the epoch marker removed (models of one run share it). */
  run: string;
  epoch: number;
}

/**
 * Models whose names mark a fine-tuning epoch: `…-epoch2`, `…_ep3`, `…-e1`, or the paper's HF revision suffix
 * `…sft3_1` (run `sft3`, epoch 1; SEED.md §8.4).
 */
export function epochModels(study: StudyConfig): EpochModel[] {
  const out: EpochModel[] = [];
  for (const m of study.models) {
    const a = /^(.*?)[-_.]?(?:epoch|ep|e)[-_]?(\d+)$/i.exec(m.name);
    const b = /^(.*(?:sft|dpo)\d*)_(\d+)$/i.exec(m.name);
    const hit = a ?? b;
    if (hit && hit[1] !== "") out.push({ model: m.name, run: hit[1], epoch: Number(hit[2]) });
  }
  return out.sort((x, y) => x.run.localeCompare(y.run) || x.epoch - y.epoch);
}

/** Where the paper's result files are, and how that was decided. */
export interface PaperDirChoice {
  dir: string | undefined;
  how: string;
}

/**
 * The paper's files: none when `param` is "none"; `param` when given (relative to the project root, whatever the
 * working folder; an error if it does not exist), else the study's `paperDir`, else `$MODE_COLLAPSE_SHARED/paper`,
 * else `shared/paper` beside the project; undefined when none exists.
 */
export function resolvePaperDir(param: string, study?: StudyConfig): PaperDirChoice {
  if (param === "none") return { dir: undefined, how: 'skipped on request (paperDir = "none")' };
  if (param !== "") {
    const dir = isAbsolute(param) ? param : join(PROJECT_ROOT, param);
    if (!existsSync(dir)) throw new Error(`paperDir ${param} (${dir}) does not exist`);
    return { dir, how: `the paperDir parameter (${dir})` };
  }
  if (study?.paperDir) {
    if (!existsSync(study.paperDir)) throw new Error(`the study's paperDir ${study.paperDir} does not exist`);
    return { dir: study.paperDir, how: `the study's paperDir (${study.paperDir})` };
  }
  const env = Deno.env.get(SHARED_DIR_ENV);
  if (env && existsSync(join(env, "paper"))) {
    return { dir: resolve(env, "paper"), how: `$${SHARED_DIR_ENV}/paper (${resolve(env, "paper")})` };
  }
  const beside = join(PROJECT_ROOT, "..", "shared", "paper");
  if (existsSync(beside)) {
    return { dir: resolve(beside), how: `shared/paper beside the project (${resolve(beside)})` };
  }
  return {
    dir: undefined,
    how: `not found: no paperDir parameter, no study paperDir, no $${SHARED_DIR_ENV}/paper, no ${
      resolve(beside)
    }`,
  };
}

/** A small SVG figure that says a figure was skipped and why (keeps a `figure` cell's output contract). */
export function skippedFigure(reason: string): Figure<{ skipped: string }> {
  const lines = reason.match(/.{1,90}(\s|$)/g) ?? [reason];
  const h = 40 + 18 * lines.length;
  const text = lines.map((l, i) =>
    `<text x="16" y="${48 + 18 * i}" font-size="13" fill="#555">${escapeMarkup(l.trim())}</text>`
  ).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="${h}" viewBox="0 0 720 ${h}" ` +
    `font-family="DejaVu Sans"><rect width="720" height="${h}" fill="#f6f6f6"/>` +
    `<text x="16" y="26" font-size="15" font-weight="bold">Skipped</text>${text}</svg>`;
  return makeFigure(svg, { skipped: reason });
}

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

/**
 * Published values of the paper's Pythia-2.8B results at 20 words (SEED.md §8.3, nanmean over prompts, 3
 * decimals) at T = 0.1 / 0.5 / 1.0 / 1.5, keyed by the ACTUAL prompt set (correct labels): what the redrawn
 * F1 must show.
 */
export const PUBLISHED_F1_20_WORDS: Readonly<Record<string, Record<string, Record<string, number[]>>>> = {
  creative: {
    "pythia-2.8b": {
      selfBleuSmoothed: [0.909, 0.323, 0.070, 0.030],
      average_pairwise_ncd: [0.325, 0.537, 0.594, 0.619],
      average_pairwise_jaccard_2: [0.447, 0.067, 0.010, 0.003],
      avg_compression_ratio_target: [0.684, 0.554, 0.509, 0.468],
      cosine_similarity: [0.777, 0.496, 0.342, 0.268],
    },
    "pythia-2.8b-sft": {
      selfBleuSmoothed: [0.900, 0.343, 0.090, 0.041],
      average_pairwise_ncd: [0.333, 0.537, 0.586, 0.613],
      average_pairwise_jaccard_2: [0.397, 0.066, 0.015, 0.005],
      avg_compression_ratio_target: [0.757, 0.588, 0.527, 0.480],
      cosine_similarity: [0.745, 0.496, 0.385, 0.308],
    },
    "pythia-2.8b-dpo": {
      selfBleuSmoothed: [0.888, 0.393, 0.124, 0.049],
      average_pairwise_ncd: [0.286, 0.512, 0.580, 0.610],
      average_pairwise_jaccard_2: [0.488, 0.089, 0.020, 0.005],
      avg_compression_ratio_target: [0.773, 0.610, 0.537, 0.481],
      cosine_similarity: [0.793, 0.541, 0.424, 0.344],
    },
  },
  factual: {
    "pythia-2.8b": {
      selfBleuSmoothed: [0.957, 0.534, 0.161, 0.051],
      average_pairwise_ncd: [0.212, 0.449, 0.565, 0.603],
      average_pairwise_jaccard_2: [0.638, 0.171, 0.036, 0.006],
      avg_compression_ratio_target: [0.848, 0.710, 0.586, 0.526],
      cosine_similarity: [0.902, 0.709, 0.491, 0.359],
    },
    "pythia-2.8b-sft": {
      selfBleuSmoothed: [0.959, 0.629, 0.266, 0.101],
      average_pairwise_ncd: [0.214, 0.417, 0.524, 0.593],
      average_pairwise_jaccard_2: [0.589, 0.202, 0.066, 0.017],
      avg_compression_ratio_target: [0.905, 0.770, 0.646, 0.551],
      cosine_similarity: [0.901, 0.762, 0.633, 0.476],
    },
    "pythia-2.8b-dpo": {
      selfBleuSmoothed: [0.960, 0.657, 0.351, 0.157],
      average_pairwise_ncd: [0.188, 0.408, 0.503, 0.572],
      average_pairwise_jaccard_2: [0.671, 0.222, 0.101, 0.034],
      avg_compression_ratio_target: [0.957, 0.797, 0.676, 0.580],
      cosine_similarity: [0.921, 0.793, 0.688, 0.564],
    },
  },
};

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

/**
 * The paper's labelling of series with correct labels: "creative" and "factual" swapped (what the original's
 * metric script stored, SEED.md §9 item 13), marked `labels: "paper"` so figures say so.
 */
export function withPaperLabels(series: readonly DiversitySeries[]): DiversitySeries[] {
  const swap: Record<string, string> = { creative: "factual", factual: "creative" };
  return series.map((s) => ({
    ...s,
    promptSet: swap[s.promptSet] ?? s.promptSet,
    labels: s.labels === "paper" ? "correct" : "paper",
  }));
}

/**
 * Grid data as table rows: one per (metric, column, line) with "mean ± 2·SE" per temperature (columns
 * `T=<t>`), and `less diverse` = at how many temperatures the mean points towards less diversity (for
 * difference/effect grids: Δ > 0 for similarity metrics, Δ < 0 for diversity metrics).
 */
export function gridRecords(
  data: DiversityGridData,
  opts: { effect?: boolean; digits?: number } = {},
): Record<string, string | number>[] {
  const d = opts.digits ?? 3;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(d) : "–");
  const rows: Record<string, string | number>[] = [];
  for (const p of data.panels) {
    for (const l of p.lines) {
      const row: Record<string, string | number> = {
        metric: p.metric,
        column: data.columns[p.column].title,
        line: l.model,
      };
      for (const pt of l.points) row[`T=${pt.temperature}`] = `${f(pt.mean)} ± ${f(2 * pt.se)}`;
      if (opts.effect) {
        const dir = metricDirection(p.metric);
        const less = l.points.filter((pt) =>
          Number.isFinite(pt.mean) && pt.mean !== 0 && (dir === "similarity") === (pt.mean > 0)
        ).length;
        row["less diverse at"] = `${less}/${l.points.length} T`;
      }
      rows.push(row);
    }
  }
  return rows;
}

/**
 * Is `model` less diverse on pack `a` than on pack `b`? {@link lessDiverseShare} over (metric, temperature)
 * points, with prompt i of `a` against prompt i of `b` at the same temperature (means over prompts).
 */
export function lessDiverseAcrossPacks(
  series: readonly DiversitySeries[],
  model: string,
  a: string,
  b: string,
  metrics: readonly string[],
  direction: (key: string) => Direction | undefined = metricDirection,
): LessDiverseShare {
  const tag = `${model} @ ${a}`;
  const view = series.flatMap((s) =>
    s.model !== model
      ? []
      : s.promptSet === a
      ? [{ ...s, model: tag, promptSet: b }]
      : s.promptSet === b
      ? [s]
      : []
  );
  return {
    ...lessDiverseShare(view, tag, model, [b], metrics, direction),
    tuned: `${model} (${a})`,
    base: `${model} (${b})`,
  };
}

/** Saves a figure as SVG and PNG unless it is a {@link skippedFigure} placeholder; returns the SVG path or null. */
export async function saveDrawn(
  figure: { svg: string; data: unknown },
  name: string,
  dir: string,
): Promise<string | null> {
  const d = figure.data as Record<string, unknown> | null;
  if (d !== null && typeof d === "object" && "skipped" in d) return null;
  return (await saveFigure(figure, name, dir)).svgPath;
}
