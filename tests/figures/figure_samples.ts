/**
 * Test helper: one figure of every type the toolkit draws, on small synthetic data that looks like a study's
 * (a base, an SFT and a DPO model; a collapsed copy; three prompt packs; 15 temperatures × 20 prompts), drawn
 * with a given preset.
 */
import { cdfFigure } from "../../lib/figures/cdf.ts";
import { PLOTTED_METRICS } from "../../lib/figures/metric_labels.ts";
import type { DiversitySeries } from "../../lib/data/diversity_series.ts";
import { diversityDifferenceGrid, diversityGrid } from "../../lib/figures/diversity_grid.ts";
import { diversityHeatmap } from "../../lib/figures/diversity_heatmap.ts";
import { diversityGridVegaLite } from "../../lib/figures/diversity_vegalite.ts";
import { confidenceHistogramFigure, entropyHistogramFigure } from "../../lib/figures/histograms.ts";
import { klFigure } from "../../lib/figures/kl.ts";
import type { FigurePresetName } from "../../lib/figures/preset.ts";
import { withFigurePreset } from "../../lib/figures/preset.ts";
import { reliabilityFigure } from "../../lib/figures/reliability.ts";
import { topKFigure } from "../../lib/figures/topk.ts";
import { integerMassFigure } from "../../lib/figures/integer_mass.ts";
import { summariseIntegerMass } from "../../lib/sampling/integer_mass.ts";
import type { CompletionsDoc } from "../../lib/io/completions_doc.ts";
import { completionsFromPaperNpy } from "../../lib/data/paper_completions.ts";
import { sampledEntropyFigure } from "../../lib/figures/sweep_entropy.ts";
import { sortedCumulative } from "../../lib/scoring/corpus_stats.ts";

/** The figure types (builder names). */
export const FIGURE_TYPES = [
  "cdf",
  "cdfZoom",
  "entropyHistogram",
  "confidenceHistogram",
  "reliability",
  "kl",
  "topK",
  "integerMass",
  "diversityGrid",
  "differenceGrid",
  "heatmap",
  "vegaLiteGrid",
  "samplingEntropy",
] as const;

/** A figure type. */
export type FigureType = typeof FIGURE_TYPES[number];

function zipf(V: number, a: number): Float64Array {
  const p = new Float64Array(V).map((_, i) => 1 / Math.pow(i + 1, a));
  const z = p.reduce((x, y) => x + y, 0);
  return p.map((x) => x / z);
}

/** A seeded pseudo-random number in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MODELS = ["pythia-2.8b", "pythia-2.8b-sft", "pythia-2.8b-dpo"];
const TEMPERATURES = Array.from({ length: 15 }, (_, t) => (t + 1) / 10);

/** Diversity series of the three models on creative and factual prompts, 20 words. */
export function sampleSeries(): DiversitySeries[] {
  const r = rng(7);
  const out: DiversitySeries[] = [];
  MODELS.forEach((model, mi) => {
    for (const promptSet of ["factual", "creative"]) {
      const values: Record<string, number[][]> = {};
      PLOTTED_METRICS.forEach((metric, k) => {
        const scale = metric.startsWith("avg_compression") ? 3 : 1;
        values[metric] = TEMPERATURES.map((t) =>
          Array.from(
            { length: 20 },
            () => scale * (0.9 * Math.exp(-2 * t) + 0.1 * mi + 0.03 * k + 0.05 * r()),
          )
        );
      });
      out.push({
        model,
        promptSet,
        words: "20",
        temperatures: [...TEMPERATURES],
        values,
        labels: "correct",
        source: "x",
      });
    }
  });
  return out;
}

/** Completions documents with sampling entropies, for the sampling-entropy figure. */
export function sampleSweeps(): { model: string; pack: string; doc: CompletionsDoc }[] {
  const r = rng(11);
  const out: { model: string; pack: string; doc: CompletionsDoc }[] = [];
  for (const model of ["tiny-base", "tiny-collapsed"]) {
    for (const pack of ["creative", "factual", "seen"]) {
      const temperatures = [0.5, 1, 1.5];
      const doc = completionsFromPaperNpy(
        temperatures.map(() => Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => "a b c"))),
        {
          promptSet: pack,
          modelId: model,
          family: "pythia",
          temperatures,
          created: "2024-05-01T12:00:00.000Z",
        },
      );
      for (const cell of doc.cells) {
        for (const s of cell.samples) {
          s.entropies_nats = Array.from(
            { length: 5 },
            () => (model.includes("collapsed") ? 0.5 : 1) * temperatures[cell.temperature_index] * (1 + r()),
          );
        }
      }
      out.push({ model, pack, doc });
    }
  }
  return out;
}

/** Every figure type drawn with `preset` (SVG markup by type). */
export async function drawEveryFigure(preset: FigurePresetName): Promise<Record<FigureType, string>> {
  const series = sampleSeries();
  const cal = (s: number) =>
    Array.from({ length: 10 }, (_, i) => ({
      lower: i / 10,
      upper: (i + 1) / 10,
      count: 100 + i,
      mean_confidence: i / 10 + 0.05,
      accuracy: Math.min(1, (i / 10 + 0.05) * s),
    }));
  const hist = (a: number) => ({
    lower: 0,
    upper: 10,
    counts: Array.from({ length: 40 }, (_, i) => Math.round(1000 * Math.exp(-((i - a) ** 2) / 30))),
  });
  const cdfInputs = [
    { model: "tiny-base", sortedCumulative: sortedCumulative(zipf(5000, 1)) },
    { model: "tiny-collapsed", sortedCumulative: sortedCumulative(zipf(5000, 1.3)) },
  ];
  // Integer mass 0 … 100: flat (a = 0) or piled on 7 and 42 (a > 0), `total` of the next token.
  const integers = (a: number, total: number) => {
    const w = Array.from({ length: 101 }, (_, n) => 1 + a * 40 * (n === 7 ? 2 : n === 42 ? 1 : 0));
    const z = w.reduce((x, y) => x + y, 0);
    return summariseIntegerMass(w.map((_, n) => n), w.map((x) => (total * x) / z));
  };
  const tokens = (model: string, a: number) => ({
    model,
    tokens: Array.from({ length: 30 }, (_, i) => ({
      text: i % 4 === 3 ? "\na-rather-long-token-text" : ` tok${i}`,
      prob: 0.5 / (i + 1) ** a,
    })),
  });
  const sync = withFigurePreset(preset, () => ({
    cdf: cdfFigure(cdfInputs, { title: "CDF of average token probability" }).svg,
    cdfZoom: cdfFigure(cdfInputs, { zoom: true }).svg,
    entropyHistogram: entropyHistogramFigure([
      { model: "tiny-base", histogram: hist(15) },
      { model: "tiny-collapsed", histogram: hist(8) },
    ]).svg,
    confidenceHistogram: confidenceHistogramFigure([
      { model: "tiny-base", histogram: hist(20) },
      { model: "tiny-collapsed", histogram: hist(30) },
    ]).svg,
    reliability: reliabilityFigure([
      { model: "tiny-base", calibration: cal(1) },
      { model: "tiny-collapsed", calibration: cal(0.8) },
    ]).svg,
    kl: klFigure([
      { model: "pythia-2.8b-sft", klFromBaseNats: 0.05 },
      { model: "pythia-2.8b-dpo", klFromBaseNats: 0.1234 },
    ]).svg,
    topK: topKFigure([tokens("tiny-base", 1), tokens("tiny-collapsed", 2)], { k: 20 }).svg,
    integerMass: integerMassFigure([
      { model: "pythia-2.8b-sft", mass: integers(0, 0.5) },
      { model: "pythia-2.8b-dpo", mass: integers(1.5, 0.6) },
    ]).svg,
    diversityGrid: diversityGrid(series, { title: "Output diversity" }).svg,
    differenceGrid: diversityDifferenceGrid(series).svg,
    heatmap: diversityHeatmap(series, { metric: "selfBleuSmoothed", promptSet: "creative" }).svg,
    samplingEntropy: sampledEntropyFigure(sampleSweeps()).svg,
  }));
  const vega = await diversityGridVegaLite(series, { preset });
  return { ...sync, vegaLiteGrid: vega.svg };
}
