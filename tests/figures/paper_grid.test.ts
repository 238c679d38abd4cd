/**
 * The F1 diversity grid against the paper's stored results (paper/creative_factual of the shared folder): the
 * plotted means and standard errors equal an independent recomputation from the .npy values read by
 * lib/data/paper.ts, the correct labels reproduce the paper's published summary numbers, paperLabels swaps the
 * two columns exactly, and the SVGs have the expected panels, lines and labels.
 */
import assert from "node:assert/strict";
import { readPaperResults } from "../../lib/data/paper.ts";
import { loadPaperDiversity, PAPER_F1_MODELS, PAPER_TEMPERATURES } from "../../lib/data/diversity_series.ts";
import { PLOTTED_METRICS } from "../../lib/figures/metric_labels.ts";
import {
  diversityDifferenceGrid,
  diversityGrid,
  diversityGridData,
  F3_MIXED_WORDS,
} from "../../lib/figures/diversity_grid.ts";
import { diversityHeatmap } from "../../lib/figures/diversity_heatmap.ts";
import { diversityGridVegaLite } from "../../lib/figures/diversity_vegalite.ts";
import { JUPYTER_DISPLAY, VEGALITE_MIME } from "../../lib/figures/display.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";
import { count, parseSvg, texts } from "./svg_dom.ts";

const dir = () => sharedPath("paper", "creative_factual");

/** Independent nanmean / nanstd(ddof 0) / SE over the P prompts of stored cell (t, ·, 0). */
function reference(flat: Float32Array, t: number, P: number) {
  const xs = Array.from({ length: P }, (_, p) => flat[t * P + p]).filter((v) => !Number.isNaN(v));
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = xs.map((x) => (x - mean) ** 2).reduce((a, b) => a + b, 0) / n; // ddof 0 (np.std default)
  return { mean, se: Math.sqrt(variance) / Math.sqrt(n), n };
}

function close(a: number, b: number, what: string) {
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

sharedTest("F1 grid data = independent means and SEs over the 20 prompts (correct labels)", async () => {
  const series = await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20]);
  const data = diversityGridData(series);
  assert.equal(data.labels, "correct");
  assert.deepEqual(data.metrics, PLOTTED_METRICS);
  assert.equal(data.panels.length, 16);
  let checked = 0;
  for (const model of PAPER_F1_MODELS) {
    // stored "creative" = factual completions; stored "factual" = creative completions
    // (docs/PAPER_QUIRKS.md, creative/factual swap)
    const raw = await readPaperResults(`${dir()}/${model}_results_20_words.npy`, { paperLabels: true });
    assert.deepEqual(raw.shape, [15, 20, 1]);
    for (const panel of data.panels) {
      const storedGroup = panel.columnKey === "factual" ? "creative" : "factual";
      const flat = raw.groups[storedGroup]![panel.metric];
      const line = panel.lines.find((l) => l.model === model)!;
      assert.equal(line.points.length, 15);
      line.points.forEach((pt, t) => {
        assert.equal(pt.temperature, PAPER_TEMPERATURES[t]);
        const ref = reference(flat, t, 20);
        assert.equal(pt.n, ref.n);
        close(pt.mean, ref.mean, `${model} ${panel.metric} ${panel.columnKey} t=${t} mean`);
        close(pt.se, ref.se, `${model} ${panel.metric} ${panel.columnKey} t=${t} se`);
        close(pt.upper - pt.lower, 4 * ref.se, "band width");
        checked++;
      });
    }
  }
  assert.equal(checked, 3 * 16 * 15);
});

sharedTest(
  "F1 grid with correct labels reproduces the published numbers (creative = stored 'factual')",
  async () => {
    const series = await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20, 5]);
    const at = (grid: ReturnType<typeof diversityGridData>, metric: string, col: string, model: string) => {
      const line = grid.panels.find((p) => p.metric === metric && p.columnKey === col)!.lines.find((l) =>
        l.model === model
      )!;
      return [0, 4, 9, 14].map((t) => line.points[t].mean.toFixed(3)).join("/");
    };
    const g20 = diversityGridData(series, { metrics: ["selfBleuSmoothed", "average_pairwise_ncd"] });
    assert.equal(at(g20, "selfBleuSmoothed", "creative", "pythia-2.8b"), "0.909/0.323/0.070/0.030");
    assert.equal(at(g20, "selfBleuSmoothed", "creative", "pythia-2.8b-sft"), "0.900/0.343/0.090/0.041");
    assert.equal(at(g20, "selfBleuSmoothed", "creative", "pythia-2.8b-dpo"), "0.888/0.393/0.124/0.049");
    assert.equal(at(g20, "average_pairwise_ncd", "creative", "pythia-2.8b"), "0.325/0.537/0.594/0.619");
    // F1's other column (published: PLM self-BLEU 0.957 → 0.051), which is the factual prompts
    const f = g20.panels[1].lines[0];
    assert.equal(g20.panels[1].columnKey, "creative");
    assert.equal(g20.panels[0].columnKey, "factual");
    const plmFactual = g20.panels[0].lines[0].points;
    assert.equal(plmFactual[0].mean.toFixed(3), "0.957");
    assert.equal(plmFactual[14].mean.toFixed(3), "0.051");
    assert.equal(f.points[0].mean.toFixed(3), "0.909");
    const g5 = diversityGridData(series, { words: 5, metrics: ["selfBleuSmoothed"] });
    assert.equal(at(g5, "selfBleuSmoothed", "factual", "pythia-2.8b"), "0.989/0.741/0.342/0.134");
    assert.equal(at(g5, "selfBleuSmoothed", "factual", "pythia-2.8b-dpo"), "0.987/0.917/0.695/0.401");
  },
);

sharedTest("paperLabels: the creative and factual columns swap exactly", async () => {
  const correct = diversityGridData(await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20]));
  const paper = diversityGridData(
    await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20], { paperLabels: true }),
  );
  assert.equal(paper.labels, "paper");
  const swap = (c: string) => (c === "factual" ? "creative" : "factual");
  for (const p of paper.panels) {
    const q = correct.panels.find((x) => x.metric === p.metric && x.columnKey === swap(p.columnKey))!;
    assert.deepEqual(
      p.lines.map((l) => [l.model, l.points]),
      q.lines.map((l) => [l.model, l.points]),
      `${p.metric} ${p.columnKey}`,
    );
  }
  // not trivially equal: the two prompt sets differ
  assert.notDeepEqual(correct.panels[0].lines[0].points, correct.panels[1].lines[0].points);
  const svg =
    diversityGrid(await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20], { paperLabels: true })).svg;
  assert.ok(svg.includes("PAPER&#39;S SWAPPED creative/factual labels"));
});

sharedTest("F1 SVG: 16 panels, 3 lines and 3 bands each, axis and column labels", async () => {
  const fig = diversityGrid(await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20]));
  const doc = parseSvg(fig.svg);
  assert.equal(doc.documentElement.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
  assert.equal(count(doc, "g.panel"), 16);
  assert.equal(count(doc, 'g[aria-label="line"] path'), 48);
  assert.equal(count(doc, 'g[aria-label="area"] path'), 48);
  const t = texts(doc);
  assert.equal(t.filter((x) => x === "Temperature").length, 16);
  for (const m of ["Self Bleu Smoothed", "Average Pairwise NCD", "Cosine Similarity"]) {
    assert.equal(t.filter((x) => x === m).length, 2, m);
  }
  assert.deepEqual(t.filter((x) => x.endsWith("Prompts")), ["Factual Prompts", "Creative Prompts"]);
  for (const l of ["PLM", "SFT", "DPO"]) assert.ok(t.includes(l), `legend ${l}`);
  // creative lines dashed, factual solid
  const panels = [...doc.querySelectorAll("g.panel")];
  const dashed = (g: Element) => g.querySelector('g[aria-label="line"]')!.getAttribute("stroke-dasharray");
  assert.equal(panels[0].getAttribute("data-column"), "factual");
  assert.equal(dashed(panels[0]), null);
  assert.equal(dashed(panels[1]), "6,4");
  assert.ok(fig.svg.includes("20 words"));
  assert.equal(fig[JUPYTER_DISPLAY]()["image/svg+xml"], fig.svg);
});

sharedTest("word limits: one limit for both columns by default; the F3 mix only when asked", async () => {
  const series = await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20, 5]);
  const def = diversityGridData(series);
  assert.deepEqual(def.columns.map((c) => c.words), ["20", "20"]);
  const mixed = diversityGrid(series, { wordsByColumn: F3_MIXED_WORDS });
  assert.deepEqual(mixed.data.columns.map((c) => [c.key, c.words]), [["factual", "20"], ["creative", "5"]]);
  assert.deepEqual(mixed.data.columns.map((c) => c.title), [
    "Factual Prompts (20 words)",
    "Creative Prompts (5 words)",
  ]);
  assert.ok(mixed.svg.includes("MIXED word limits"));
  const five = diversityGridData(series, { words: 5 });
  const creative5 = five.panels.find((p) => p.columnKey === "creative")!;
  const mixedCreative = mixed.data.panels.find((p) => p.columnKey === "creative")!;
  assert.deepEqual(mixedCreative.lines.map((l) => l.points), creative5.lines.map((l) => l.points));
});

sharedTest(
  "difference grid: mean of per-prompt creative − factual = difference of means (no NaN)",
  async () => {
    const series = await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20, 5]);
    const diff = diversityDifferenceGrid(series, { metrics: ["selfBleuSmoothed", "average_pairwise_ncd"] });
    assert.deepEqual(diff.data.columns.map((c) => c.key), ["20", "5"]);
    assert.equal(diff.data.panels.length, 4);
    for (const w of ["20", "5"]) {
      const g = diversityGridData(series, {
        words: w,
        metrics: ["selfBleuSmoothed", "average_pairwise_ncd"],
      });
      for (const metric of ["selfBleuSmoothed", "average_pairwise_ncd"]) {
        const c = g.panels.find((p) => p.metric === metric && p.columnKey === "creative")!;
        const f = g.panels.find((p) => p.metric === metric && p.columnKey === "factual")!;
        const d = diff.data.panels.find((p) => p.metric === metric && p.columnKey === w)!;
        d.lines.forEach((l, i) =>
          l.points.forEach((pt, t) => {
            assert.equal(pt.n, 20);
            close(
              pt.mean,
              c.lines[i].points[t].mean - f.lines[i].points[t].mean,
              `${metric} ${w} ${l.model} ${t}`,
            );
          })
        );
      }
    }
    assert.equal(count(parseSvg(diff.svg), 'g[aria-label="line"] path'), 12);
  },
);

sharedTest("per-prompt heatmap: one cell per model × temperature × prompt", async () => {
  const series = await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20]);
  const fig = diversityHeatmap(series, { metric: "selfBleuSmoothed", promptSet: "creative" });
  assert.equal(fig.data.cells.length, 3 * 15 * 20);
  const doc = parseSvg(fig.svg);
  assert.equal(count(doc, 'g[aria-label="cell"] rect'), 900);
  const raw = await readPaperResults(`${dir()}/pythia-2.8b-sft_results_20_words.npy`);
  const cell = fig.data.cells.find((c) =>
    c.model === "pythia-2.8b-sft" && c.temperature === 0.3 && c.prompt === 7
  )!;
  assert.equal(cell.value, raw.groups.creative!.selfBleuSmoothed[2 * 20 + 7]);
});

sharedTest("Vega-Lite grid: spec with its data, SVG fallback in the same bundle", async () => {
  const series = await loadPaperDiversity(dir(), PAPER_F1_MODELS, [20]);
  const fig = await diversityGridVegaLite(series, { metrics: ["selfBleuSmoothed", "cosine_similarity"] });
  assert.equal(fig.rows.length, 2 * 2 * 3 * 15);
  const bundle = fig[JUPYTER_DISPLAY]();
  assert.deepEqual(Object.keys(bundle).sort(), ["image/svg+xml", VEGALITE_MIME].sort());
  assert.equal(bundle[VEGALITE_MIME], fig.spec);
  const spec = fig.spec as { data: { values: unknown[] }; resolve: unknown };
  assert.equal(spec.data.values.length, fig.rows.length);
  assert.deepEqual(spec.resolve, { scale: { y: "independent" } });
  const row = fig.rows.find((r) =>
    r.model === "pythia-2.8b" && r.column === "Creative Prompts" && r.temperature === 0.1 &&
    r.metric === "selfBleuSmoothed"
  )!;
  assert.equal(row.mean!.toFixed(3), "0.909");
  const doc = parseSvg(fig.svg);
  assert.equal(doc.documentElement.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
  assert.ok(texts(doc).includes("Creative Prompts"));
  JSON.stringify(fig.spec); // serialisable (no NaN)
});
