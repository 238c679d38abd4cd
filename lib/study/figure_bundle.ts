/**
 * A figure bundle: every figure of a finished study redrawn from its result files — `scores/<model>.json` (and
 * the `.meandist.npy` beside each), `completions/<model>/<pack>.json`, `diversity/<model>/<pack>.json`, and the
 * paper's stored results when the study names a `paperDir` — without recomputing anything, in one preset, as
 * PDF + PNG + SVG, with `index.json` (`figure-bundle/1`) and `index.md`: each figure's name, caption, files, size
 * and the data files it came from with their sha256. What `deno task analyse figures` writes, and what a study run
 * calls for `deno task reproduce --figures <preset>`.
 *
 * Not redrawn: the qualitative top-k and integer figures (they need the models themselves) and the Vega-Lite grid (an
 * interactive view of the diversity grid, which is in the bundle).
 * @module
 */
import { existsSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import type { CompletionsDoc } from "../io/completions_doc.ts";
import { parseCompletionsJson } from "../io/completions_json.ts";
import { sha256File } from "../io/sha256.ts";
import { sampledEntropyFigure } from "../figures/sweep_entropy.ts";
import { TOOLKIT_VERSION } from "../version.ts";
import { cdfFigure } from "../figures/cdf.ts";
import {
  type DiversitySeries,
  loadDiversityFiles,
  loadPaperDiversity,
  PAPER_F1_MODELS,
  withPaperLabels,
} from "../data/diversity_series.ts";
import { metricLabel } from "../figures/metric_labels.ts";
import { diversityDifferenceGrid, diversityGrid, F3_MIXED_WORDS } from "../figures/diversity_grid.ts";
import { diversityHeatmap } from "../figures/diversity_heatmap.ts";
import { saveFigure } from "../figures/export.ts";
import { confidenceHistogramFigure, entropyHistogramFigure } from "../figures/histograms.ts";
import { klFigure, klRowFromScore } from "../figures/kl.ts";
import { ChromiumPdf, pdfExportAvailable } from "../figures/pdf.ts";
import {
  type FigurePreset,
  type FigurePresetName,
  readFigureMetadata,
  resolveFigurePreset,
  withFigurePreset,
} from "../figures/preset.ts";
import { reliabilityFigure } from "../figures/reliability.ts";
import {
  readScoreFigureInput,
  type ScoreFigureInput,
  toCdfInput,
  toConfidenceHistogramInput,
  toEntropyHistogramInput,
  toReliabilityInput,
} from "../figures/score_input.ts";
import { baseFirstOrder, type StudyConfig } from "./config.ts";
import { fineTuneEffectSeries } from "./diversity_stats.ts";
import { epochModels } from "./epoch_models.ts";
import { availableMetrics, effectRoles, figureRoles, mainWords } from "./figure_selection.ts";
import { studyPackNames, studyPaths } from "./steps.ts";

/** Format tag of `index.json`. */
export const FIGURE_BUNDLE_FORMAT = "figure-bundle/1";

/** A data file a figure was drawn from. */
export interface BundleSource {
  /** Relative to the bundle folder when inside the study's results, else absolute. */
  path: string;
  sha256: string;
}

/** One figure of a bundle. */
export interface BundleFigure {
  name: string;
  caption: string;
  /** File names in the bundle folder (pdf: null when no PDF could be made). */
  files: { pdf: string | null; png: string; svg: string };
  widthIn: number;
  heightIn: number;
  pngDpi: number;
  sources: BundleSource[];
}

/** `index.json` of a bundle. */
export interface FigureBundleIndex {
  format: typeof FIGURE_BUNDLE_FORMAT;
  study: string;
  resultsDir: string;
  preset: string;
  presetDescription: string;
  fontFamily: string;
  toolkit: string;
  written: string;
  /** Why there are no PDFs (Chromium missing), when so. */
  pdfSkipped?: string;
  figures: BundleFigure[];
  /** Figures of the study that are not in the bundle, and why. */
  skipped: { name: string; reason: string }[];
}

/** Options of {@link writeFigureBundle}. */
export interface FigureBundleOptions {
  /** Preset (default paper-double). */
  preset?: FigurePresetName | FigurePreset;
  /** Folder (default `<resultsDir>/figures/<preset>`). */
  outDir?: string;
  /** PDFs: true (default; an error when Chromium is missing), or "auto" (skipped, with the reason, when it is). */
  pdf?: true | "auto";
  /** PNG resolution (default: the preset's; 300 for the paper presets). */
  pngDpi?: number;
  /** The paper's result files to redraw its figures from (default: the study's `paperDir`; "" = none). */
  paperDir?: string;
  /** Only figures whose names contain one of these. */
  only?: readonly string[];
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What {@link writeFigureBundle} wrote. */
export interface FigureBundleResult {
  outDir: string;
  indexJson: string;
  indexMd: string;
  index: FigureBundleIndex;
}

interface Job {
  name: string;
  caption: (meta: { title?: string; subtitle?: string }) => string;
  sources: string[];
  draw: () => { svg: string };
}

const list = (xs: readonly string[]) =>
  xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
const sentence = (s: string | undefined) => (s ? s.replace(/\s*$/, "").replace(/([^.])$/, "$1.") : "");

/** Reads the score files of every study model; the missing ones are named. */
async function readScores(study: StudyConfig) {
  const inputs: ScoreFigureInput[] = [];
  const missing: string[] = [];
  for (const m of baseFirstOrder(study)) {
    const path = studyPaths.score(study, m.name);
    if (!existsSync(path)) missing.push(path);
    else inputs.push(await readScoreFigureInput(path, m.name));
  }
  return { inputs, missing };
}

function scoreSources(inputs: readonly ScoreFigureInput[], withDistribution: boolean): string[] {
  return inputs.flatMap((i) => {
    const dist = i.score.mean_distribution_file
      ? join(resolve(i.path, ".."), i.score.mean_distribution_file)
      : "";
    return withDistribution && dist && existsSync(dist) ? [i.path, dist] : [i.path];
  });
}

/** The figure jobs of a study, and the figures that cannot be drawn from what is on disk. */
async function studyJobs(study: StudyConfig, paperDir: string) {
  const jobs: Job[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const roles = figureRoles(study);
  const corpus = basename(study.corpus.path);

  // Next-token statistics (notebook 01).
  const scores = await readScores(study);
  if (scores.missing.length > 0) {
    skipped.push({
      name: "next_token_*",
      reason: `score files missing: ${scores.missing.join(", ")} (run the study first)`,
    });
  } else {
    const s = scores.inputs;
    const cdfTitle = `CDF of average token probability on ${corpus}`;
    const full = s.every((i) => i.sortedCumulative !== null);
    const marks = "dashed verticals: the tokens needed for 70% and 90% of the mass per model";
    jobs.push({
      name: "next_token_cdf",
      sources: scoreSources(s, true),
      caption: () =>
        `Sorted cumulative mean next-token probability on ${corpus} against the number of tokens, one line per ` +
        `model (${list(s.map((i) => i.model))}); ${marks}.` +
        (full ? "" : " Downsampled CDF points (a mean-distribution file is missing)."),
      draw: () => cdfFigure(s.map((i) => toCdfInput(i)), { roles, title: cdfTitle }),
    });
    jobs.push({
      name: "next_token_cdf_zoom",
      sources: scoreSources(s, true),
      caption: () =>
        `As the CDF figure, cumulative probability 0.8–1 (zoom): the tail of the mean next-token distribution on ${corpus}; ${marks}.`,
      draw: () => cdfFigure(s.map((i) => toCdfInput(i)), { roles, zoom: true, title: `${cdfTitle} (zoom)` }),
    });
    jobs.push({
      name: "next_token_entropy_histogram",
      sources: scoreSources(s, false),
      caption: () =>
        `Next-token entropy (nats) of every scored position of ${corpus}: share of positions per bin, one line per model.`,
      draw: () => entropyHistogramFigure(s.map(toEntropyHistogramInput), { roles }),
    });
    jobs.push({
      name: "next_token_confidence_histogram",
      sources: scoreSources(s, false),
      caption: () =>
        `Next-token confidence (the largest predicted probability) on ${corpus}: share of positions per bin, one line per model.`,
      draw: () => confidenceHistogramFigure(s.map(toConfidenceHistogramInput), { roles }),
    });
    jobs.push({
      name: "next_token_reliability",
      sources: scoreSources(s, false),
      caption: () =>
        `Reliability diagrams on ${corpus}: accuracy of the top-1 prediction against mean confidence per confidence ` +
        "bin, one panel per model; dashed diagonal: perfect calibration; ECE: expected calibration error.",
      draw: () => reliabilityFigure(s.map(toReliabilityInput), { roles }),
    });
    const tuned = s.filter((i) => study.models.find((m) => m.name === i.model)?.base !== undefined);
    const withKl = tuned.filter((i) =>
      typeof i.score.kl_from_base === "number" && !Number.isNaN(i.score.kl_from_base)
    );
    if (withKl.length > 0) {
      jobs.push({
        name: "next_token_kl",
        sources: scoreSources(withKl, false),
        caption: () =>
          `Mean KL divergence (nats per token) of each fine-tune's next-token distribution from its base model's on ${corpus}.`,
        draw: () =>
          klFigure(
            withKl.map((i) => ({
              ...klRowFromScore(i.score, i.model),
              base: study.models.find((m) => m.name === i.model)!.base,
            })),
            { roles },
          ),
      });
    } else skipped.push({ name: "next_token_kl", reason: "no model of the study was scored against a base" });
    jobs.push({
      name: "next_token_cdf_paper_weighting",
      sources: scoreSources(s, false),
      caption: () =>
        `As the CDF figure, with the paper's window-weighted mean distribution (its quirk) instead of the token-weighted one; ${marks}.`,
      draw: () =>
        cdfFigure(s.map((i) => toCdfInput(i, { paperCompat: true })), {
          roles,
          title: `${cdfTitle}: window-weighted, as the paper`,
        }),
    });
  }

  // Sampling entropy of the completions (notebook 02).
  const packs = studyPackNames(study);
  const completions: { model: string; pack: string; path: string }[] = [];
  for (const m of study.models) {
    for (const pack of packs) {
      completions.push({ model: m.name, pack, path: studyPaths.completions(study, m.name, pack) });
    }
  }
  const missingCompletions = completions.filter((c) => !existsSync(c.path));
  if (missingCompletions.length > 0) {
    skipped.push({
      name: "completions_sampling_entropy",
      reason: `completion files missing: ${missingCompletions.map((c) => c.path).join(", ")}`,
    });
  } else {
    const docs: { model: string; pack: string; doc: CompletionsDoc }[] = [];
    for (const c of completions) {
      docs.push({
        model: c.model,
        pack: c.pack,
        doc: parseCompletionsJson(await Deno.readTextFile(c.path), c.path),
      });
    }
    jobs.push({
      name: "completions_sampling_entropy",
      sources: completions.map((c) => c.path),
      caption: () =>
        "Mean entropy (nats per token) of the distributions the completions were sampled from, against temperature: " +
        `one panel per prompt pack (${
          list(packs)
        }), one line per model, mean over prompts with ±2 standard errors.`,
      draw: () => sampledEntropyFigure(docs, { roles }),
    });
  }

  // Output diversity (notebooks 03 and 04).
  const diversity: { model: string; pack: string; path: string }[] = [];
  for (const m of study.models) {
    for (const pack of packs) {
      diversity.push({ model: m.name, pack, path: studyPaths.diversity(study, m.name, pack) });
    }
  }
  const missingDiversity = diversity.filter((d) => !existsSync(d.path));
  if (missingDiversity.length > 0) {
    skipped.push({
      name: "03_*, 04_*",
      reason: `diversity files missing: ${missingDiversity.map((d) => d.path).join(", ")}`,
    });
  } else {
    const all = await loadDiversityFiles(diversity.map((d) => d.path), diversity.map((d) => d.model));
    const words = mainWords(study);
    const metrics = availableMetrics(all);
    const sourcesOf = (ps: readonly string[], models?: readonly string[]) =>
      diversity.filter((d) => ps.includes(d.pack) && (!models || models.includes(d.model))).map((d) =>
        d.path
      );
    const wanted = ["factual", "creative"].filter((p) => packs.includes(p));
    const shown = wanted.length > 0 ? wanted : packs;
    const both = packs.includes("creative") && packs.includes("factual");
    const metricList = list(metrics.map(metricLabel));
    const models = list(study.models.map((m) => m.name));
    jobs.push({
      name: "03_diversity_grid",
      sources: sourcesOf(shown),
      caption: (m) =>
        `Output diversity of ${models} against sampling temperature: ${metricList} (rows) on the ${
          list(shown)
        } ` +
        `prompts (columns), one line per model. ${sentence(m.subtitle)}`,
      draw: () =>
        diversityGrid(all, {
          metrics,
          words,
          roles,
          promptSets: shown,
          title: `Output diversity — ${study.name}`,
        }),
    });
    if (both) {
      jobs.push({
        name: "03_creative_minus_factual",
        sources: sourcesOf(["creative", "factual"]),
        caption: (m) =>
          "Creative minus factual prompts, per prompt, of each diversity metric (rows) at each word limit (columns), " +
          `one line per model. ${sentence(m.subtitle)}`,
        draw: () => diversityDifferenceGrid(all, { metrics, roles }),
      });
    } else {skipped.push({
        name: "03_creative_minus_factual",
        reason: "the study does not sample both creative and factual",
      });}
    const effects = fineTuneEffectSeries(all, study);
    if (effects.length > 0) {
      jobs.push({
        name: "03_finetune_effect",
        sources: sourcesOf(shown),
        caption: (m) =>
          "Effect of fine-tuning: per-prompt difference fine-tune − base of each diversity metric against temperature " +
          `(below zero: less diverse than the base for a diversity measure, more for a similarity). ${
            sentence(m.subtitle)
          }`,
        draw: () =>
          diversityGrid(effects, {
            metrics,
            words,
            promptSets: shown,
            roles: effectRoles(study),
            title: "Effect of fine-tuning: fine-tune − base, per prompt",
          }),
      });
    } else skipped.push({ name: "03_finetune_effect", reason: "no model of the study names a base model" });
    const heatMetric = metrics[0];
    const heatPacks = [
      ...(packs.includes("creative") ? ["creative"] : packs.filter((p) => p !== "factual").slice(0, 1)),
      ...(packs.includes("factual") ? ["factual"] : []),
    ];
    for (const pack of heatMetric ? heatPacks : []) {
      jobs.push({
        name: `03_heatmap_${pack}`,
        sources: sourcesOf([pack]),
        caption: () =>
          `${
            metricLabel(heatMetric)
          } of every prompt (rows) at every temperature (columns) on the ${pack} prompts, ` +
          `${words} words, one panel per model; one colour scale (viridis) for all panels.`,
        draw: () => diversityHeatmap(all, { metric: heatMetric, promptSet: pack, words }),
      });
    }
    if (packs.includes("seen") && packs.includes("creative")) {
      jobs.push({
        name: "04_seen_vs_creative",
        sources: sourcesOf(["seen", "creative"]),
        caption: (m) =>
          `Output diversity on prompts seen in fine-tuning against new creative prompts, ${metricList} (rows). ${
            sentence(m.subtitle)
          }`,
        draw: () =>
          diversityGrid(all, {
            metrics,
            words,
            roles,
            promptSets: ["seen", "creative"],
            title: `Seen vs creative prompts — ${study.name}`,
          }),
      });
      jobs.push({
        name: "04_seen_minus_creative",
        sources: sourcesOf(["seen", "creative"]),
        caption: (m) =>
          `Seen minus creative prompts, per prompt, of each diversity metric. ${sentence(m.subtitle)}`,
        draw: () => diversityDifferenceGrid(all, { metrics, roles, minuend: "seen", subtrahend: "creative" }),
      });
    } else {skipped.push({
        name: "04_seen_*",
        reason: "the study does not sample both the seen and the creative pack",
      });}
    const epochs = epochModels(study);
    if (epochs.length > 0) {
      const names = [
        ...new Set([
          ...epochs.map((e) => e.model),
          ...study.models.filter((m) => m.role === "base").map((m) => m.name),
        ]),
      ];
      jobs.push({
        name: "04_epochs",
        sources: sourcesOf(packs, names),
        caption: (m) => `Output diversity by fine-tuning epoch (${list(names)}). ${sentence(m.subtitle)}`,
        draw: () =>
          diversityGrid(all.filter((s) => names.includes(s.model)), {
            metrics,
            words,
            models: names,
            promptSets: shown,
            title: "Diversity by fine-tuning epoch",
          }),
      });
    }
  }
  skipped.push({
    name: "qualitative_topk_*, qualitative_integers",
    reason:
      "drawn from the models' next-token distributions, which no result file holds (notebook 05 draws them)",
  });

  // The paper's own stored results (notebook 06).
  const cf = paperDir ? join(paperDir, "creative_factual") : "";
  if (cf && existsSync(cf)) {
    const files = PAPER_F1_MODELS.flatMap((m) => [20, 5].map((w) => join(cf, `${m}_results_${w}_words.npy`)));
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length > 0) {
      skipped.push({ name: "06_paper_*", reason: `paper files missing: ${missing.join(", ")}` });
    } else {
      const correct: DiversitySeries[] = await loadPaperDiversity(cf, PAPER_F1_MODELS, [20, 5]);
      const swapped = withPaperLabels(correct);
      const f20 = files.filter((f) => f.includes("_20_words"));
      const pythia = "the paper's stored results for Pythia-2.8B (PLM, SFT, DPO)";
      jobs.push({
        name: "06_paper_F1_correct_labels",
        sources: f20,
        caption: (m) =>
          `Figure F1 redrawn from ${pythia} with correct creative/factual labels. ${sentence(m.subtitle)}`,
        draw: () =>
          diversityGrid(correct, {
            words: 20,
            title: "Pythia-2.8B — paper's stored results, CORRECT labels",
          }),
      });
      jobs.push({
        name: "06_paper_F1_paper_labels",
        sources: f20,
        caption: (m) =>
          `Figure F1 as published: ${pythia} with the paper's swapped labels (its "Factual" column holds the creative ` +
          `prompts). ${sentence(m.subtitle)}`,
        draw: () =>
          diversityGrid(swapped, { words: 20, title: "Pythia-2.8B — as published: PAPER'S SWAPPED labels" }),
      });
      jobs.push({
        name: "06_paper_F1_5_words",
        sources: files.filter((f) => f.includes("_5_words")),
        caption: (m) => `As F1 at 5 words, from ${pythia}, correct labels. ${sentence(m.subtitle)}`,
        draw: () => diversityGrid(correct, { words: 5, title: "Pythia-2.8B — CORRECT labels (5 words)" }),
      });
      jobs.push({
        name: "06_paper_creative_minus_factual",
        sources: files,
        caption: (m) =>
          `Creative minus factual per prompt, from ${pythia}, correct labels. ${sentence(m.subtitle)}`,
        draw: () =>
          diversityDifferenceGrid(correct, { title: "Pythia-2.8B — creative − factual per prompt" }),
      });
      jobs.push({
        name: "06_paper_F3_mixed_words_MISTAKE",
        sources: files,
        caption: (m) =>
          "The original's F3 mistake, reproduced: factual column from 20-word results, creative column from 5-word " +
          `results, swapped labels. ${sentence(m.subtitle)}`,
        draw: () =>
          diversityGrid(swapped, {
            wordsByColumn: F3_MIXED_WORDS,
            title: "THE ORIGINAL'S MISTAKE (F3): factual 20 words, creative 5 words, swapped labels",
          }),
      });
    }
  } else {
    skipped.push({
      name: "06_paper_*",
      reason: paperDir
        ? `${cf} does not exist`
        : "the study names no paperDir (pass --paper-dir to redraw the paper's figures)",
    });
  }
  return { jobs, skipped };
}

function latexName(name: string): string {
  return name.replaceAll("_", "\\_");
}

/** `index.md` of a bundle. */
function bundleIndexMarkdown(index: FigureBundleIndex): string {
  const lines = [
    `# Figures — ${index.study}`,
    "",
    `Preset **${index.preset}**: ${index.presetDescription}. Written ${index.written} by mode-collapse ${index.toolkit} ` +
    `from the results in \`${index.resultsDir}\` (nothing recomputed).`,
    "",
    index.preset === "paper-double"
      ? "In LaTeX (a `figure*` spanning both columns):"
      : index.preset === "paper-single"
      ? "In LaTeX (a one-column `figure`):"
      : "In LaTeX:",
    "",
    "```latex",
    `\\includegraphics[width=${index.preset === "paper-double" ? "\\textwidth" : "\\columnwidth"}]{${
      index.figures[0]?.files.pdf ?? index.figures[0]?.files.png ?? "figure.pdf"
    }}`,
    "```",
    "",
    ...(index.pdfSkipped ? [`**No PDFs**: ${index.pdfSkipped}.`, ""] : []),
    "| figure | size (in) | files | caption | data (sha256) |",
    "| --- | --- | --- | --- | --- |",
    ...index.figures.map((f) => {
      const files = [f.files.pdf, f.files.png, f.files.svg].filter((x) => x !== null).map((x) =>
        `[${x!.replace(/^.*\./, "")}](${x})`
      )
        .join(" ");
      const data = f.sources.map((s) => `\`${s.path}\` ${s.sha256.slice(0, 12)}…`).join("<br>");
      return `| ${f.name} | ${f.widthIn} × ${f.heightIn} | ${files} | ${
        f.caption.replaceAll("|", "\\|")
      } | ${data} |`;
    }),
    "",
    ...(index.skipped.length
      ? ["Not in this bundle:", "", ...index.skipped.map((s) => `- ${s.name}: ${s.reason}`), ""]
      : []),
    "Captions for LaTeX (`\\caption{…}`):",
    "",
    ...index.figures.map((f) => `- \`${latexName(f.name)}\`: ${f.caption}`),
    "",
  ];
  return lines.join("\n");
}

/**
 * Redraws every figure of a finished study from its result files into `outDir` as PDF + PNG + SVG in one
 * preset, with `index.json` and `index.md`. Figures whose result files are missing are listed as skipped, with
 * the reason; nothing is recomputed.
 */
export async function writeFigureBundle(
  study: StudyConfig,
  options: FigureBundleOptions = {},
): Promise<FigureBundleResult> {
  const preset = resolveFigurePreset(options.preset ?? "paper-double");
  const outDir = resolve(options.outDir ?? join(study.resultsDir, "figures", preset.name));
  const log = options.log ?? ((l: string) => console.error(l));
  const paperDir = options.paperDir ?? study.paperDir ?? "";
  const { jobs: allJobs, skipped } = await studyJobs(study, paperDir);
  const jobs = options.only && options.only.length
    ? allJobs.filter((j) => options.only!.some((o) => j.name.includes(o)))
    : allJobs;
  const available = pdfExportAvailable();
  const pdfMode = options.pdf ?? true;
  if (!available.ok && pdfMode === true) throw new Error(available.reason);
  await Deno.mkdir(outDir, { recursive: true });
  const renderer = available.ok ? await ChromiumPdf.start({ chromium: available.chromium }) : undefined;
  const figures: BundleFigure[] = [];
  const hashes = new Map<string, string>();
  const hashOf = async (p: string) => {
    if (!hashes.has(p)) hashes.set(p, await sha256File(p));
    return hashes.get(p)!;
  };
  const resultsDir = resolve(study.resultsDir);
  const shown = (p: string) => {
    const abs = resolve(p);
    return abs.startsWith(resultsDir + "/") ? relative(outDir, abs) : abs;
  };
  try {
    for (const job of jobs) {
      const t0 = performance.now();
      const figure = withFigurePreset(preset, job.draw);
      const meta = readFigureMetadata(figure.svg) ?? {};
      const caption = job.caption(meta);
      const saved = await saveFigure(figure, job.name, outDir, {
        pdf: renderer ? true : false,
        pdfRenderer: renderer,
        pngDpi: options.pngDpi,
        title: (meta as { title?: string }).title ?? job.name,
        caption,
      });
      const m = readFigureMetadata(figure.svg);
      figures.push({
        name: job.name,
        caption,
        files: {
          pdf: saved.pdfPath ? basename(saved.pdfPath) : null,
          png: basename(saved.pngPath!),
          svg: basename(saved.svgPath),
        },
        widthIn: m?.widthIn ?? 0,
        heightIn: m?.heightIn ?? 0,
        pngDpi: saved.pngDpi,
        sources: await Promise.all(
          job.sources.map(async (p) => ({ path: shown(p), sha256: await hashOf(p) })),
        ),
      });
      log(
        `figures: ${job.name}: ${m?.widthIn} × ${m?.heightIn} in, ${
          saved.pdfPath ? "pdf, " : ""
        }png ${saved.pngDpi} dpi, ` +
          `svg (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    await renderer?.close();
  }
  const index: FigureBundleIndex = {
    format: FIGURE_BUNDLE_FORMAT,
    study: study.name,
    resultsDir,
    preset: preset.name,
    presetDescription: preset.description,
    fontFamily: preset.fontFamily,
    toolkit: TOOLKIT_VERSION,
    written: new Date().toISOString(),
    ...(available.ok ? {} : { pdfSkipped: available.reason }),
    figures,
    skipped,
  };
  const indexJson = join(outDir, "index.json");
  const indexMd = join(outDir, "index.md");
  await writeJsonAtomic(indexJson, index);
  await writeFileAtomic(indexMd, bundleIndexMarkdown(index));
  return { outDir, indexJson, indexMd, index };
}

/**
 * For the study run (`deno task reproduce --figures <preset>`): writes the bundle into
 * `<resultsDir>/figures/<preset>/` (PDFs skipped, with the reason, when Chromium is missing) and returns one
 * line for the run's step log.
 */
export async function studyFigureBundle(
  study: StudyConfig,
  preset: FigurePresetName | string,
  log?: (line: string) => void,
): Promise<string> {
  const r = await writeFigureBundle(study, { preset: resolveFigurePreset(preset), pdf: "auto", log });
  const i = r.index;
  return `figures (${i.preset}): ${i.figures.length} figures as ${
    i.pdfSkipped ? "" : "PDF + "
  }PNG + SVG in ${r.outDir} ` +
    `(index: ${r.indexMd})${i.pdfSkipped ? `; no PDF: ${i.pdfSkipped}` : ""}`;
}
