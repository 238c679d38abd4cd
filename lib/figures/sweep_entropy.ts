/**
 * How spread out each model's sampling distributions were across temperature: mean sampling entropy per token
 * (nats) against temperature, one panel per prompt pack, one line per model, ±2 standard errors over the
 * pack's prompts. A collapsed model samples from sharper distributions at every temperature, so its line sits
 * lower.
 * @module
 */
import type { CompletionsDoc } from "../io/completions_doc.ts";
import { type Figure, makeFigure } from "../figures/figure.ts";
import { linePanel } from "../figures/panel.ts";
import { assignModelStyles, type FigureRole, type ModelStyle } from "../figures/style.ts";
import { composeGrid } from "../figures/svg.ts";

/** One plotted point: a temperature's mean over prompts of each prompt's token-weighted mean entropy. */
export interface EntropyPoint {
  temperature: number;
  /** Mean over prompts (nats per token). */
  mean: number;
  /** 2 · standard error over prompts (population std / √n, as the paper's bands; 0 for one prompt). */
  twoSe: number;
  /** Prompts with at least one sampled token. */
  prompts: number;
}

/** The data behind {@link sampledEntropyFigure}. */
export interface SampledEntropyData {
  packs: string[];
  lines: { model: string; pack: string; style: ModelStyle; points: EntropyPoint[] }[];
}

/** Per temperature of `doc`: mean (over prompts) of each prompt's mean sampling entropy per token. */
export function sampledEntropyByTemperature(doc: CompletionsDoc): EntropyPoint[] {
  return doc.sampling.temperatures.map((temperature, ti) => {
    const perPrompt: number[] = [];
    for (const cell of doc.cells) {
      if (cell.temperature_index !== ti) continue;
      let sum = 0, n = 0;
      for (const s of cell.samples) {
        for (const e of s.entropies_nats ?? []) {
          sum += e;
          n++;
        }
      }
      if (n > 0) perPrompt.push(sum / n);
    }
    const k = perPrompt.length;
    const mean = k ? perPrompt.reduce((a, b) => a + b, 0) / k : NaN;
    const sd = k ? Math.sqrt(perPrompt.reduce((a, b) => a + (b - mean) ** 2, 0) / k) : NaN;
    return { temperature, mean, twoSe: k ? (2 * sd) / Math.sqrt(k) : NaN, prompts: k };
  });
}

/** Mean sampling entropy vs temperature, a panel per pack (in first-seen order), a line per model with bands. */
export function sampledEntropyFigure(
  sweeps: readonly { model: string; pack: string; doc: CompletionsDoc }[],
  options: { roles?: Readonly<Record<string, FigureRole>>; title?: string } = {},
): Figure<SampledEntropyData> {
  const packs = [...new Set(sweeps.map((s) => s.pack))];
  const styles = assignModelStyles([...new Set(sweeps.map((s) => s.model))], options.roles);
  const lines = sweeps.map((s) => ({
    model: s.model,
    pack: s.pack,
    style: styles.get(s.model)!,
    points: sampledEntropyByTemperature(s.doc),
  }));
  const all = lines.flatMap((l) => l.points).filter((p) => Number.isFinite(p.mean));
  const yMax = Math.max(0.1, ...all.map((p) => p.mean + (Number.isFinite(p.twoSe) ? p.twoSe : 0)));
  const panels = packs.map((pack) =>
    linePanel({
      title: pack,
      lines: lines.filter((l) => l.pack === pack).map((l) => ({
        points: l.points.filter((p) => Number.isFinite(p.mean)).map((p) => ({
          x: p.temperature,
          y: p.mean,
          lower: p.mean - p.twoSe,
          upper: p.mean + p.twoSe,
        })),
        colour: l.style.colour,
        marker: l.style.marker,
        band: true,
      })),
      xLabel: "Temperature",
      yLabel: "Mean sampling entropy (nats/token)",
      yDomain: [0, yMax * 1.05],
    })
  );
  const svg = composeGrid(panels, {
    columns: Math.min(3, Math.max(1, panels.length)),
    title: options.title ?? "Entropy of the sampling distributions across temperature",
    subtitle: "mean over prompts, bands ±2 standard errors over prompts",
    legend: [...styles.entries()].map(([, st]) => ({
      label: st.label,
      colour: st.colour,
      marker: st.marker,
    })),
  });
  return makeFigure(svg, { packs, lines });
}
