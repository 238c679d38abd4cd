/**
 * Statistics over a study's diversity series: how each metric tracks temperature (Spearman's ρ), the
 * direction-aware "less diverse than its base" share (the completions part of the collapse rule,
 * ./verdict.ts), the same across two packs of one model, and the per-prompt effect of each fine-tuning step.
 * Each metric is read in the registry's direction (lib/metrics/registry.ts, `metricDirection`). No drawing.
 * @module
 */
import { type DiversitySeries, findSeries } from "../data/diversity_series.ts";
import type { MetricDirection } from "../metrics/definition.ts";
import { metricDirection } from "../metrics/registry.ts";
import type { StudyConfig } from "./config.ts";

/** Mean of the finite values; NaN when none. */
export function nanMean(values: readonly number[]): number {
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
  /** The metric's direction in the registry ({@link metricDirection}). */
  direction: MetricDirection | "?";
  /** Expected sign of the correlation with temperature: "+" for diversity, "−" for similarity metrics. */
  expectedSign: "+" | "−" | "?";
  /** Spearman's ρ of the per-temperature mean over prompts with temperature. */
  rho: number;
  /** Per-temperature means, lowest to highest temperature. */
  means: number[];
  /** "ok", "WRONG SIGN", "flat" (ρ = 0 or undefined), or "?" (no direction). */
  flag: string;
}

/**
 * How each metric tracks temperature: per series and metric, Spearman's ρ of the mean over prompts at each
 * temperature against temperature, with the expected sign (diversity metrics rise, similarity metrics fall).
 * Both gzip compression ratios read as similarities (the registry's direction; docs/METRICS.md, compression
 * ratios): the target ratio falls with temperature in all 12 of the paper's Pythia-2.8B series (Spearman ρ
 * −0.85 to −1). The full ratio is tiny (≈ 0.003) and not monotone in temperature even in the paper's data
 * (ρ from −0.96 to +0.95), so its "WRONG SIGN" rows are expected.
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
      const dir = metricDirection(metric);
      const sign = (d: MetricDirection | undefined) => d === undefined ? 0 : d === "diversity" ? 1 : -1;
      const want = sign(dir);
      let flag: string;
      if (!Number.isFinite(rho) || rho === 0) flag = "flat";
      else if (want === 0) flag = "?";
      else if (Math.sign(rho) !== want) flag = "WRONG SIGN";
      else flag = "ok";
      rows.push({
        model: s.model,
        promptSet: s.promptSet,
        words: s.words,
        metric,
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
  directions: Record<string, MetricDirection | "?">;
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
  direction: (key: string) => MetricDirection | undefined = metricDirection,
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
 * Is `model` less diverse on pack `a` than on pack `b`? {@link lessDiverseShare} over (metric, temperature)
 * points, with prompt i of `a` against prompt i of `b` at the same temperature (means over prompts).
 */
export function lessDiverseAcrossPacks(
  series: readonly DiversitySeries[],
  model: string,
  a: string,
  b: string,
  metrics: readonly string[],
  direction: (key: string) => MetricDirection | undefined = metricDirection,
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
