/**
 * The main job: a whole study end to end — corpus, next-token scores, completion sweeps, diversity metrics,
 * the notebooks executed headlessly, and an HTML report — each step reused when its inputs have not changed.
 * What `deno task reproduce` runs.
 * @module
 */
import { studyFigureBundle } from "./figure_bundle.ts";
import { resolveFigurePreset } from "../figures/preset.ts";
import { join } from "node:path";
import { existsSync, readdirSync } from "node:fs";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { parseDiversityFile } from "../io/diversity_format.ts";
import type { DiversityFile } from "../io/diversity_format.ts";
import { listNotebooks, notebookName } from "../jupyter/notebook_list.ts";
import { runNotebooks } from "../jupyter/run_notebooks.ts";
import { readNotebook } from "../jupyter/ipynb.ts";
import { notebookParameters } from "../jupyter/params.ts";
import { notebooksAvailable, probeNotebookTools } from "../setup/jupyter.ts";
import { runtimeDescription, TOOLKIT_VERSION } from "../version.ts";
import { baseFirstOrder, type StudyConfig } from "./config.ts";
import {
  checkStudyCompatibility,
  ensureDiversity,
  ensureScore,
  ensureStudyCorpus,
  type ScoreHeadline,
  StudyModels,
  studyPackNames,
} from "./steps.ts";
import { resolvePromptPackPath } from "../data/prompts.ts";
import { resolveModelSource } from "../models/model_source.ts";
import { checkOutputPaths, type NamedPath, realPathOf, writingTo } from "../io/output_paths.ts";
import { type CollapseVerdict, collapseVerdict } from "./verdict.ts";
import { renderReport } from "./report.ts";
import { LineSink, LOG_INTERVAL_MS } from "../progress/line_sink.ts";
import { ProgressReporter } from "../progress/reporter.ts";
import { scoreProgressText } from "../scoring/progress_text.ts";
import { formatPercent } from "../numeric/number_format.ts";

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  /** Recompute every step (default: reuse what is still valid). */
  force?: boolean;
  /** Execute the notebooks: `true` (an error when Jupyter is missing), `false`, or `auto` (default: when available). */
  notebooks?: boolean | "auto";
  /** Only these notebooks (names). */
  onlyNotebooks?: string[];
  /** Progress lines. */
  log?: (line: string) => void;
  /** The study file the user gave (never overwritten: the study written for the notebooks goes elsewhere then). */
  studySource?: string;
  /** Stops the run at the next check of the current step; finished steps stay cached, a stopped one resumes. */
  signal?: AbortSignal;
  /** Also redraw every figure with this preset (`paper-single`, `paper-double`) into `<results>/figures/<preset>/`. */
  figures?: string;
}

/** What a study run produced. */
export interface StudyRunResult {
  /** The study file written for the notebooks (`<results>/study.json`). */
  studyFile: string;
  /** `<results>/summary.json`. */
  summaryFile: string;
  /** `<results>/report.html`. */
  reportFile: string;
  /** Score headline per model. */
  scores: Record<string, ScoreHeadline>;
  /** Verdict per fine-tune. */
  verdicts: CollapseVerdict[];
  /** Notebooks that failed (empty when all ran or none were run). */
  notebookFailures: string[];
  /** True when the signal stopped the notebooks (the report covers what was done). */
  interrupted: boolean;
}

/** The report's figure order: next-token figures, completions, output diversity, qualitative, the paper's. */
const FIGURE_ORDER = ["next_token", "completions", "03_", "04_", "qualitative", "06_"];

function byReadingOrder(a: string, b: string): number {
  const rank = (f: string) => {
    const i = FIGURE_ORDER.findIndex((p) => f.startsWith(p));
    return i < 0 ? FIGURE_ORDER.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Runs a study (see the module comment). */
export async function runStudy(study: StudyConfig, opts: RunStudyOptions = {}): Promise<StudyRunResult> {
  if (opts.figures) resolveFigurePreset(opts.figures); // an unknown preset fails before hours of work
  const log = opts.log ?? ((l: string) => console.error(l));
  const steps: string[] = [];
  const step = (line: string) => {
    steps.push(line);
    log(line);
  };
  // Before any step: names that become file names, tokenizers of fine-tunes and bases, window sizes.
  await checkStudyCompatibility(study);
  // The files written at the top of the results folder: never one of the study's inputs. The study file the
  // notebooks read is study.json, unless that is the user's own study file.
  let studyFile = join(study.resultsDir, "study.json");
  if (opts.studySource !== undefined && realPathOf(opts.studySource) === realPathOf(studyFile)) {
    studyFile = join(study.resultsDir, "study.resolved.json");
    log(
      `the study file ${opts.studySource} is the results folder's study.json: the resolved study goes to ${studyFile}`,
    );
  }
  const inputs: NamedPath[] = [
    ...(opts.studySource !== undefined ? [{ what: "the study file", path: opts.studySource }] : []),
    { what: "the corpus", path: study.corpus.path },
    ...study.sweep.packs.map((p) => ({ what: `the prompt pack ${p}`, path: resolvePromptPackPath(p) })),
    ...study.models.flatMap((m) => {
      try {
        const folder = resolveModelSource(m.source).folder;
        return folder !== undefined ? [{ what: `model "${m.name}"`, path: folder }] : [];
      } catch {
        return [];
      }
    }),
  ];
  checkOutputPaths(
    ["study file for the notebooks", "summary.json", "report.html"].map((what, i) => ({
      what: `the results' ${what}`,
      path: i === 0 ? studyFile : join(study.resultsDir, what),
    })),
    inputs,
  );
  await Deno.mkdir(study.resultsDir, { recursive: true });
  await writingTo(studyFile, () => writeJsonAtomic(studyFile, study));

  const corpus = await ensureStudyCorpus(study);
  step(`corpus: ${corpus}`);
  const models = new StudyModels(study);
  const scores: Record<string, ScoreHeadline> = {};
  const diversity: Record<string, DiversityFile[]> = {};
  try {
    for (const { name } of baseFirstOrder(study)) {
      // Progress goes into the study's log, so a line every few seconds (not one rewritten line).
      const progress = new ProgressReporter(new LineSink(log, LOG_INTERVAL_MS), { label: `score ${name}` });
      const r = await ensureScore(study, name, {
        models,
        force: opts.force,
        signal: opts.signal,
        log: (l) => progress.message(l),
        onProgress: (p) => progress.update(scoreProgressText(p)),
      });
      scores[name] = r.value.headline;
      step(`score ${name}: ${r.note}`);
    }
    for (const { name } of baseFirstOrder(study)) {
      diversity[name] = [];
      for (const pack of studyPackNames(study)) {
        const r = await ensureDiversity(study, name, pack, {
          models,
          force: opts.force,
          signal: opts.signal,
          log: (l) => log(`${name} ${pack}: ${l}`),
        });
        step(`diversity ${name} ${pack}: ${r.note}`);
        diversity[name].push(parseDiversityFile(await Deno.readTextFile(r.value.path), r.value.path));
      }
    }
  } finally {
    await models.dispose();
  }

  const verdicts = study.models.filter((m) => m.base !== undefined).map((m) =>
    collapseVerdict(m.name, m.base!, { base: scores[m.base!], tuned: scores[m.name] }, {
      base: diversity[m.base!],
      tuned: diversity[m.name],
    })
  );
  for (const v of verdicts) {
    step(
      `verdict ${v.model} vs ${v.base}: ${v.collapsed ? "mode collapse detected" : "no collapse detected"} ` +
        `(less diverse on ${formatPercent(v.lessDiverseShare)} of ` +
        `${v.diversityPoints} points)`,
    );
  }

  // Notebooks, on the same study file, so they reuse every result above.
  const notebookRows: { name: string; html?: string; ok: boolean; note?: string }[] = [];
  const notebookFailures: string[] = [];
  let runNotebooksNow = opts.notebooks ?? "auto";
  if (runNotebooksNow !== false) {
    const tools = await probeNotebookTools();
    if (!notebooksAvailable(tools)) {
      const why = tools.problems.join("; ");
      if (runNotebooksNow === true) throw new Error(`cannot execute the notebooks: ${why}`);
      step(`notebooks: skipped (${why})`);
      runNotebooksNow = false;
    }
  }
  if (runNotebooksNow !== false) {
    const paths = listNotebooks(undefined, opts.onlyNotebooks ?? []);
    const wanted: Record<string, unknown> = {
      study: studyFile,
      recompute: false,
      ...(study.paperDir !== null ? { paperDir: study.paperDir } : {}),
    };
    const r = await runNotebooks(paths, {
      outDir: join(study.resultsDir, "notebooks"),
      log,
      signal: opts.signal,
      paramsFor: async (p) => {
        const declared = new Set(notebookParameters(await readNotebook(p), p).map((d) => d.name));
        return Object.fromEntries(Object.entries(wanted).filter(([k]) => declared.has(k)));
      },
    });
    for (const ok of r.results) {
      notebookRows.push({ name: ok.name, html: ok.html, ok: true, note: `${ok.seconds.toFixed(0)} s` });
      step(`notebook ${ok.name}: executed in ${ok.seconds.toFixed(1)} s`);
    }
    for (const f of r.failures) {
      notebookRows.push({ name: notebookName(f.source), ok: false, note: f.message.split("\n")[0] });
      notebookFailures.push(notebookName(f.source));
      step(`notebook ${notebookName(f.source)}: FAILED: ${f.message.split("\n")[0]}`);
    }
  }

  if (opts.figures) step(await studyFigureBundle(study, opts.figures, opts.log));

  const figuresDir = join(study.resultsDir, "figures");
  const figures = existsSync(figuresDir)
    ? readdirSync(figuresDir).filter((f) => f.endsWith(".svg")).sort(byReadingOrder).map((f) =>
      join(figuresDir, f)
    )
    : [];
  const provenance = {
    toolkit: TOOLKIT_VERSION,
    runtime: runtimeDescription(),
    written: new Date().toISOString(),
  };
  const summaryFile = join(study.resultsDir, "summary.json");
  await writingTo(summaryFile, () =>
    writeJsonAtomic(summaryFile, {
      format: "study-summary/1",
      study: study.name,
      scores,
      verdicts,
      notebooks: notebookRows,
      steps,
      provenance,
    }));
  const reportFile = join(study.resultsDir, "report.html");
  const report = await renderReport(
    { study, scores, verdicts, figures, notebooks: notebookRows, steps, provenance },
    reportFile,
  );
  await writingTo(reportFile, () => writeFileAtomic(reportFile, report));
  log(`report: ${reportFile}`);
  return {
    studyFile,
    summaryFile,
    reportFile,
    scores,
    verdicts,
    notebookFailures,
    interrupted: opts.signal?.aborted ?? false,
  };
}
