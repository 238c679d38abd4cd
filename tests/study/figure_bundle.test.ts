/**
 * The figure bundle of a finished study (`deno task analyse figures`): every figure redrawn from the result files
 * of a small synthetic study (score/1 with its mean distribution, completions, diversity/1 computed by the
 * toolkit), in a paper preset, as PDF (when Chromium is there) + PNG + SVG, with an index whose data files and
 * sha256 are right; missing result files make a figure skipped with the reason; the CLI command.
 */
import { scoreDoc } from "../helpers/score_doc.ts";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { command } from "../../cli/figures.ts";
import { analyseCompletions } from "../../lib/diversity/analyse.ts";
import {
  FIGURE_BUNDLE_FORMAT,
  type FigureBundleIndex,
  writeFigureBundle,
} from "../../lib/study/figure_bundle.ts";
import { pdfExportAvailable } from "../../lib/figures/pdf.ts";
import { readFigureMetadata } from "../../lib/figures/preset.ts";
import { writeJsonAtomic } from "../../lib/io/atomic.ts";
import { completionsFromPaperNpy } from "../../lib/data/paper_completions.ts";
import { loadCompletions } from "../../lib/data/load_completions.ts";
import { writeCompletionsJson } from "../../lib/io/completions_json.ts";
import { writeDiversityFile } from "../../lib/io/diversity_format.ts";
import { writeNpy } from "../../lib/io/npy.ts";
import { NdArray } from "../../lib/io/py_value.ts";
import { sha256File } from "../../lib/io/sha256.ts";
import { selectMetrics } from "../../lib/metrics/registry.ts";
import { cdfRanks, sortedCumulative } from "../../lib/scoring/corpus_stats.ts";
import { embeddedStudy, type StudyConfig } from "../../lib/study/config.ts";
import { studyPackNames, studyPaths } from "../../lib/study/steps.ts";

const WORDS = "the a whale sea ship captain white deep long voyage storm harpoon crew sail night".split(" ");

/** A seeded pseudo-random number in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes the result files of a finished study (scores, completions, diversity) under `study.resultsDir`. */
async function writeFinishedStudy(study: StudyConfig): Promise<void> {
  const V = 500;
  for (const [i, m] of study.models.entries()) {
    const path = studyPaths.score(study, m.name);
    await Deno.mkdir(resolve(path, ".."), { recursive: true });
    const a = 1 + 0.4 * i;
    const dist = new Float64Array(V).map((_, k) => 1 / (k + 1) ** a);
    const z = dist.reduce((x, y) => x + y, 0);
    dist.forEach((x, k) => (dist[k] = x / z));
    const distFile = `${m.name}.meandist.npy`;
    await writeNpy(join(resolve(path, ".."), distFile), new NdArray("<f8", [V], dist));
    const c = sortedCumulative(dist);
    const ranks = cdfRanks(V, 50);
    const bins = Array.from({ length: 10 }, (_, b) => ({
      lower: b / 10,
      upper: (b + 1) / 10,
      count: 10 + b,
      mean_confidence: b / 10 + 0.05,
      accuracy: Math.min(1, (b / 10 + 0.05) * (1 - 0.2 * i)),
    }));
    await writeJsonAtomic(
      path,
      scoreDoc({
        model: { name: m.name, source: m.source },
        base: m.base ? { name: m.base, source: m.base } : null,
        vocab: V,
        mean_distribution_file: distFile,
        cdf: { ranks, cumulative: ranks.map((r) => c[r - 1]) },
        paper_compat: { cdf: { ranks, cumulative: ranks.map((r) => c[r - 1]) } },
        entropy_histogram: { lower: 0, upper: Math.log(V), counts: [1, 4, 9, 6, 2].map((x) => x * (i + 1)) },
        confidence_histogram: { lower: 0, upper: 1, counts: [5, 4, 3, 2, 1].map((x) => x + 3 * i) },
        calibration: bins,
        ece: 0.01 + 0.1 * i,
        ...(m.base ? { kl_from_base: 0.25, js_with_base: 0.05, argmax_changed: 0.1 } : {}),
      }),
    );
    const r = rng(17 + i);
    for (const pack of studyPackNames(study)) {
      const temperatures = [0.5, 1, 1.5];
      const doc = completionsFromPaperNpy(
        temperatures.map((t) =>
          Array.from(
            { length: 4 },
            () =>
              Array.from({ length: 4 }, () =>
                Array.from({ length: 12 }, () =>
                  WORDS[Math.floor(r() * (3 + t * 8 * (1 - 0.5 * i)))]).join(" ")),
          )
        ),
        {
          promptSet: pack,
          modelId: m.name,
          family: "pythia",
          temperatures,
          created: "2024-05-01T12:00:00.000Z",
        },
      );
      for (const cell of doc.cells) {
        for (const s of cell.samples) {
          s.entropies_nats = Array.from(
            { length: 12 },
            () => temperatures[cell.temperature_index] * (2 - i) * r(),
          );
        }
      }
      const completions = studyPaths.completions(study, m.name, pack);
      await Deno.mkdir(resolve(completions, ".."), { recursive: true });
      await writeCompletionsJson(completions, doc);
      const file = await analyseCompletions(await loadCompletions(completions), {
        promptSet: pack,
        words: [20],
        metrics: selectMetrics("deterministic"),
        seed: 0,
        model: m.name,
      });
      const diversity = studyPaths.diversity(study, m.name, pack);
      await Deno.mkdir(resolve(diversity, ".."), { recursive: true });
      await writeDiversityFile(diversity, file);
    }
  }
}

const EXPECTED = [
  "next_token_cdf",
  "next_token_cdf_zoom",
  "next_token_entropy_histogram",
  "next_token_confidence_histogram",
  "next_token_reliability",
  "next_token_kl",
  "next_token_cdf_paper_weighting",
  "completions_sampling_entropy",
  "03_diversity_grid",
  "03_creative_minus_factual",
  "03_finetune_effect",
  "03_heatmap_creative",
  "03_heatmap_factual",
  "04_seen_vs_creative",
  "04_seen_minus_creative",
];

Deno.test("figure bundle: every figure of a finished study from its result files, with an index", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const study: StudyConfig = {
      ...embeddedStudy("ci"),
      name: "bundle test",
      resultsDir: dir,
      paperDir: null,
    };
    await writeFinishedStudy(study);
    const before = new Map<string, number>();
    for (const sub of ["scores", "completions", "diversity"]) {
      for await (const e of Deno.readDir(join(dir, sub))) before.set(`${sub}/${e.name}`, 1);
    }
    const r = await writeFigureBundle(study, { preset: "paper-single", pdf: "auto", log: () => {} });
    assert.equal(r.outDir, join(dir, "figures", "paper-single"));
    const index = JSON.parse(await Deno.readTextFile(r.indexJson)) as FigureBundleIndex;
    assert.equal(index.format, FIGURE_BUNDLE_FORMAT);
    assert.equal(index.preset, "paper-single");
    assert.deepEqual(index.figures.map((f) => f.name), EXPECTED);
    const pdf = pdfExportAvailable().ok;
    assert.equal(index.pdfSkipped === undefined, pdf);
    for (const f of index.figures) {
      assert.ok(f.caption.length > 40 && f.caption.endsWith("."), `${f.name}: caption "${f.caption}"`);
      assert.equal(f.widthIn, 3.25, f.name);
      assert.equal(f.pngDpi, 300, f.name);
      const svg = await Deno.readTextFile(join(r.outDir, f.files.svg));
      assert.equal(readFigureMetadata(svg)?.preset, "paper-single");
      assert.ok(existsSync(join(r.outDir, f.files.png)), f.name);
      if (pdf) assert.ok(f.files.pdf && existsSync(join(r.outDir, f.files.pdf)), f.name);
      else assert.equal(f.files.pdf, null);
      assert.ok(f.sources.length > 0, f.name);
      for (const s of f.sources) {
        assert.ok(!s.path.startsWith("/"), `${f.name}: ${s.path} is not relative to the bundle`);
        assert.equal(s.sha256, await sha256File(resolve(r.outDir, s.path)), `${f.name}: ${s.path}`);
      }
    }
    // Where each figure's data came from.
    const sourcesOf = (name: string) =>
      index.figures.find((f) => f.name === name)!.sources.map((s) => s.path);
    assert.deepEqual(sourcesOf("next_token_cdf"), [
      "../../scores/micro-base.json",
      "../../scores/micro-base.meandist.npy",
      "../../scores/micro-sft.json",
      "../../scores/micro-sft.meandist.npy",
      "../../scores/micro-dpo.json",
      "../../scores/micro-dpo.meandist.npy",
    ]);
    assert.deepEqual(sourcesOf("next_token_kl"), [
      "../../scores/micro-sft.json",
      "../../scores/micro-dpo.json",
    ]);
    assert.deepEqual(sourcesOf("03_heatmap_factual"), [
      "../../diversity/micro-base/factual.json",
      "../../diversity/micro-sft/factual.json",
      "../../diversity/micro-dpo/factual.json",
    ]);
    assert.ok(
      index.skipped.some((s) => s.name.startsWith("qualitative_topk") && s.reason.includes("models")),
    );
    assert.ok(index.skipped.some((s) => s.name === "06_paper_*" && s.reason.includes("--paper-dir")));
    const md = await Deno.readTextFile(r.indexMd);
    assert.ok(md.includes("\\includegraphics[width=\\columnwidth]{next_token_cdf."), md.slice(0, 600));
    for (const name of EXPECTED) assert.ok(md.includes(`| ${name} |`), name);
    // Nothing was recomputed or rewritten.
    for (const sub of ["scores", "completions", "diversity"]) {
      for await (const e of Deno.readDir(join(dir, sub))) assert.ok(before.has(`${sub}/${e.name}`), e.name);
    }

    // A missing result file: its figures are skipped, with the file named.
    await Deno.remove(studyPaths.diversity(study, "micro-dpo", "seen"));
    const partial = await writeFigureBundle(study, {
      preset: "paper-double",
      pdf: "auto",
      only: ["03_", "04_", "next_token_kl"],
      log: () => {},
    });
    assert.deepEqual(partial.index.figures.map((f) => f.name), ["next_token_kl"]);
    const why = partial.index.skipped.find((s) => s.name === "03_*, 04_*")!.reason;
    assert.ok(why.includes("micro-dpo/seen.json"), why);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyse figures: --study <results folder>, --preset, --out, --only, --dpi; usage errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const study: StudyConfig = { ...embeddedStudy("ci"), name: "cli test", resultsDir: dir, paperDir: null };
    await writeFinishedStudy(study);
    await writeJsonAtomic(join(dir, "study.json"), study);
    const out = join(dir, "paper");
    const args = [
      "--study",
      dir,
      "--preset",
      "paper-double",
      "--out",
      out,
      "--only",
      "next_token_cdf",
      "--dpi",
      "150",
    ];
    assert.equal(await command.run([...args, "--no-pdf-ok"]), 0);
    const index = JSON.parse(await Deno.readTextFile(join(out, "index.json"))) as FigureBundleIndex;
    assert.deepEqual(index.figures.map((f) => f.name), [
      "next_token_cdf",
      "next_token_cdf_zoom",
      "next_token_cdf_paper_weighting",
    ]);
    assert.equal(index.preset, "paper-double");
    assert.equal(index.figures[0].widthIn, 6.75);
    assert.equal(index.figures[0].pngDpi, 150);
    await assert.rejects(
      () => command.run(["--study", dir, "--preset", "poster"]),
      /unknown preset "poster"/,
    );
    await assert.rejects(() => command.run(["--study", dir, "--dpi", "many"]), /--dpi/);
    await assert.rejects(() => command.run(["--study", join(dir, "scores")]), /without a study.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
