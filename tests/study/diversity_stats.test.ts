// The study-level computations behind notebooks 03, 04 and 06 (lib/study/diversity_stats.ts, figure_selection.ts,
// epoch_models.ts, paper_dir.ts, paper_f1_check.ts), on synthetic series, and the F1 check against the paper's
// stored arrays (skipped without the shared folder).
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type DiversitySeries,
  loadPaperDiversity,
  PAPER_F1_MODELS,
  withPaperLabels,
} from "../../lib/data/diversity_series.ts";
import { PLOTTED_METRICS } from "../../lib/figures/metric_labels.ts";
import { metricDirection } from "../../lib/metrics/registry.ts";
import { embeddedStudy, type StudyConfig } from "../../lib/study/config.ts";
import {
  fineTuneEffectSeries,
  lessDiverseAcrossPacks,
  lessDiverseShare,
  spearman,
  temperatureTracking,
} from "../../lib/study/diversity_stats.ts";
import { epochModels } from "../../lib/study/epoch_models.ts";
import { availableMetrics, effectRoles, figureRoles, mainWords } from "../../lib/study/figure_selection.ts";
import { resolvePaperDir } from "../../lib/study/paper_dir.ts";
import { checkRedrawnF1, compareWithPublished } from "../../lib/study/paper_f1_check.ts";
import { gridRecords } from "../../lib/views/grid_records.ts";
import { diversityGridData } from "../../lib/figures/diversity_grid.ts";
import { sharedPath, sharedTest } from "../helpers/shared.ts";

const T = [0.5, 1, 1.5];

/** A series whose every metric is `f(t, p)` over 3 temperatures × 2 prompts. */
function series(
  model: string,
  promptSet: string,
  f: (metric: string, t: number, p: number) => number,
  metrics = ["selfBleuSmoothed", "average_pairwise_ncd", "avg_compression_ratio_target"],
): DiversitySeries {
  return {
    model,
    promptSet,
    words: "20",
    temperatures: [...T],
    values: Object.fromEntries(metrics.map((k) => [k, T.map((_, t) => [0, 1].map((p) => f(k, t, p)))])),
    labels: "correct",
    source: `${model}/${promptSet}`,
  };
}

// A base whose similarity metrics fall and diversity metrics rise with temperature; a "collapsed" copy that
// is less diverse everywhere (similarities up, NCD down).
const base = (ps: string) =>
  series(
    "m-base",
    ps,
    (k, t, p) => k === "average_pairwise_ncd" ? 0.3 + 0.1 * t + 0.01 * p : 0.9 - 0.2 * t + 0.01 * p,
  );
const tuned = (ps: string) =>
  series(
    "m-tuned",
    ps,
    (k, t, p) => k === "average_pairwise_ncd" ? 0.2 + 0.1 * t + 0.01 * p : 0.95 - 0.2 * t + 0.01 * p,
  );
const ALL = [base("creative"), base("factual"), tuned("creative"), tuned("factual")];

const STUDY: StudyConfig = {
  ...embeddedStudy("ci", "/tmp/unused"),
  models: [
    { name: "m-base", role: "base", source: "/x" },
    { name: "m-tuned", role: "collapsed", source: "/y", base: "m-base" },
  ],
};

Deno.test("spearman: ranks with ties, undefined cases", () => {
  assert.equal(spearman([1, 2, 3], [10, 20, 30]), 1);
  assert.equal(spearman([1, 2, 3], [3, 2, 1]), -1);
  assert.equal(spearman([1, 2, 3], [0.5, 0, 0]), -0.8660254037844387, "ties share their average rank");
  assert.ok(Number.isNaN(spearman([1, 2, 3], [1, 1, 1])));
  assert.ok(Number.isNaN(spearman([1, 2], [NaN, 1])));
  assert.equal(spearman([1, 2, 3, 4], [1, NaN, 2, 3]), 1, "pairs with NaN left out");
});

Deno.test("directions: both compression ratios read as similarities in the registry", () => {
  assert.equal(metricDirection("avg_compression_ratio_target"), "similarity");
  assert.equal(metricDirection("avg_compression_ratio_full"), "similarity");
  assert.equal(metricDirection("selfBleuSmoothed"), "similarity");
  assert.equal(metricDirection("average_pairwise_ncd"), "diversity");
  assert.equal(metricDirection("vendi_jaccard_2"), "diversity");
  assert.equal(metricDirection("nope"), undefined);
});

Deno.test("temperatureTracking: expected sign per direction, flags", () => {
  const rows = temperatureTracking([base("creative")], [
    "selfBleuSmoothed",
    "average_pairwise_ncd",
    "avg_compression_ratio_target",
  ]);
  assert.deepEqual(rows.map((r) => [r.metric, r.expectedSign, r.rho, r.flag]), [
    ["selfBleuSmoothed", "−", -1, "ok"],
    ["average_pairwise_ncd", "+", 1, "ok"],
    ["avg_compression_ratio_target", "−", -1, "ok"],
  ]);
  const wrong = temperatureTracking([series("x", "creative", (_k, t) => 0.1 * t)], ["selfBleuSmoothed"]);
  assert.equal(wrong[0].flag, "WRONG SIGN");
  const flat = temperatureTracking([series("x", "creative", () => 0)], ["selfBleuSmoothed"]);
  assert.equal(flat[0].flag, "flat");
});

Deno.test("lessDiverseShare: direction-aware, ties and NaN left out", () => {
  const metrics = ["selfBleuSmoothed", "average_pairwise_ncd", "avg_compression_ratio_target"];
  const r = lessDiverseShare(ALL, "m-tuned", "m-base", ["creative", "factual"], metrics);
  assert.deepEqual([r.less, r.more, r.ties, r.undefinedPoints, r.share], [18, 0, 0, 0, 1]);
  const reg = lessDiverseShare(ALL, "m-tuned", "m-base", ["creative", "factual"], metrics, metricDirection);
  assert.deepEqual([reg.less, reg.more], [18, 0], "the registry reads the target ratio the same way");
  const same = lessDiverseShare(
    [base("creative"), { ...base("creative"), model: "copy" }],
    "copy",
    "m-base",
    ["creative"],
    metrics,
  );
  assert.deepEqual([same.ties, same.less, Number.isNaN(same.share)], [9, 0, true]);
  const withNan = series("m-tuned", "creative", () => NaN);
  assert.equal(
    lessDiverseShare([base("creative"), withNan], "m-tuned", "m-base", ["creative"], metrics).undefinedPoints,
    9,
  );
});

Deno.test("lessDiverseAcrossPacks: one model, pack a against pack b", () => {
  const seen = series(
    "m-base",
    "seen",
    (k, t, p) => k === "average_pairwise_ncd" ? 0.1 : 0.95 - 0.0 * t + 0 * p,
  );
  const r = lessDiverseAcrossPacks(
    [seen, base("creative"), tuned("creative")],
    "m-base",
    "seen",
    "creative",
    ["selfBleuSmoothed", "average_pairwise_ncd"],
  );
  assert.deepEqual([r.tuned, r.base, r.less, r.more], ["m-base (seen)", "m-base (creative)", 6, 0]);
});

Deno.test("fineTuneEffectSeries: per-prompt fine-tune − base, named and styled after the fine-tune", () => {
  const effects = fineTuneEffectSeries(ALL, STUDY);
  assert.deepEqual(effects.map((e) => `${e.model}/${e.promptSet}`), [
    "m-tuned − m-base/creative",
    "m-tuned − m-base/factual",
  ]);
  assert.ok(Math.abs(effects[0].values.selfBleuSmoothed[2][1] - 0.05) < 1e-12);
  assert.ok(Math.abs(effects[0].values.average_pairwise_ncd[0][0] + 0.1) < 1e-12);
  assert.deepEqual(effectRoles(STUDY), { "m-tuned − m-base": "collapsed" });
  assert.deepEqual(figureRoles(STUDY), { "m-base": "base", "m-tuned": "collapsed" });
  assert.deepEqual(figureRoles({ ...STUDY, models: [{ name: "x", role: "weird" as never, source: "/x" }] }), {
    x: "other",
  });
  const data = diversityGridData(effects, { metrics: ["selfBleuSmoothed", "average_pairwise_ncd"] });
  const rows = gridRecords(data, { effect: true });
  assert.equal(rows.length, 4);
  assert.equal(rows[0]["less diverse at"], "3/3 T");
  assert.equal(rows[0]["T=0.5"], "0.050 ± 0.000");
});

Deno.test("withPaperLabels swaps creative and factual and marks the series", () => {
  const s = withPaperLabels([base("creative"), base("seen")]);
  assert.deepEqual(s.map((x) => [x.promptSet, x.labels]), [["factual", "paper"], ["seen", "paper"]]);
});

Deno.test("epochModels: epoch markers and the paper's revision suffixes", () => {
  const names = [
    "pythia-2.8b",
    "pythia-2.8b-sft3_2",
    "pythia-2.8b-sfted1-dpo3_3",
    "m-sft-epoch2",
    "m-sft-epoch10",
    "tiny-base",
    "llama2",
  ];
  const s: StudyConfig = { ...STUDY, models: names.map((name) => ({ name, role: "sft", source: "/x" })) };
  assert.deepEqual(epochModels(s).map((e) => [e.model, e.run, e.epoch]), [
    ["m-sft-epoch2", "m-sft", 2],
    ["m-sft-epoch10", "m-sft", 10],
    ["pythia-2.8b-sft3_2", "pythia-2.8b-sft3", 2],
    ["pythia-2.8b-sfted1-dpo3_3", "pythia-2.8b-sfted1-dpo3", 3],
  ]);
  assert.deepEqual(epochModels(embeddedStudy("ci")), []);
});

Deno.test("mainWords, availableMetrics", () => {
  assert.equal(mainWords(embeddedStudy("ci")), "20");
  assert.equal(mainWords({ ...STUDY, diversity: { ...STUDY.diversity, words: [5] } }), "5");
  assert.deepEqual(availableMetrics(ALL), [
    "selfBleuSmoothed",
    "average_pairwise_ncd",
    "avg_compression_ratio_target",
  ]);
  assert.deepEqual(availableMetrics([]), []);
});

Deno.test("resolvePaperDir: none, explicit, missing", async () => {
  assert.equal(resolvePaperDir("none").dir, undefined);
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(resolvePaperDir(dir).dir, dir);
    assert.throws(() => resolvePaperDir(join(dir, "nope")), /does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

sharedTest(
  "paper F1: redrawn grid means equal the stored arrays' nanmeans (both labellings) and the published values",
  async () => {
    const dir = sharedPath("paper", "creative_factual");
    const correct = await loadPaperDiversity(dir, PAPER_F1_MODELS, [20]);
    const paper = await loadPaperDiversity(dir, PAPER_F1_MODELS, [20], { paperLabels: true });
    const r = await checkRedrawnF1(dir, PAPER_F1_MODELS, 20, { correct, paper });
    assert.deepEqual(r.mismatches, []);
    assert.equal(r.points, 2 * 3 * 2 * PLOTTED_METRICS.length * 15);
    assert.equal(r.maxAbsDiff, 0);
    const pub = [...compareWithPublished(correct, "correct"), ...compareWithPublished(paper, "paper")];
    assert.equal(pub.length, 240);
    assert.deepEqual(pub.filter((p) => !p.ok), []);
    // Reading the correct series as if they carried the paper's labels must fail: the check has teeth.
    assert.ok(compareWithPublished(correct, "paper").some((p) => !p.ok));
  },
);
