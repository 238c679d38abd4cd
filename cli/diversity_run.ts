/**
 * The work of `analyse diversity` once its command line is read (cli/diversity.ts): loads and checks every
 * completions file before measuring any, says where each result goes, cuts the worker pool to what the cells
 * need, opens the embedder for the cosine metrics only, then measures the files in order, each written as soon as
 * it is done (a stopped run keeps its partial results and names the files not measured).
 * @module
 */
import { basename, dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { shellQuote } from "./options.ts";
import { onInterrupt } from "./interrupt.ts";
import { importLater } from "./import_later.ts";
import type { DiversityJob } from "./diversity_jobs.ts";
import type { DiversityWorkerPool } from "../lib/diversity/pool.ts";
import type { WordLimit } from "../lib/diversity/cell.ts";
import {
  analyseCompletions,
  analyseCompletionsShard,
  buildDiversityFile,
  resolvePromptSet,
} from "../lib/diversity/analyse.ts";
import { writeDiversityShardFile } from "../lib/diversity/merge.ts";
import { DiversityRunError, runCellCount, workerCountFor } from "../lib/diversity/run.ts";
import { loadCompletions, type LoadedCompletions } from "../lib/data/load_completions.ts";
import { stringifyDiversityFile, writeDiversityFile } from "../lib/io/diversity_format.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { checkOutputPaths, ensureWritableDir, realPathOf, writingTo } from "../lib/io/output_paths.ts";
import { shardLabel, type ShardSpec } from "../lib/io/shards.ts";
import type { MetricDefinition } from "../lib/metrics/definition.ts";
import { selectMetrics } from "../lib/metrics/registry.ts";
import { terminalProgress } from "../lib/progress/terminal_sink.ts";
import type { SentenceEmbedder } from "../lib/embeddings/embedder.ts";

type EmbedderRegistry = typeof import("../lib/embeddings/registry.ts");

/** The settings every file of a call shares, as read from the command line. */
export interface DiversityCallSettings {
  words: WordLimit[];
  /** `--words` as given, for the log line. */
  wordsText: string;
  /** `--metrics` as given. */
  metrics: string;
  seed: number;
  /** `--embedder`, if given. */
  embedder?: string;
  workers?: number;
  gzip: "auto" | "libz" | "pako";
  shard?: ShardSpec;
}

/** `<out>.partial.json`: what a stopped run computed. */
function partialDiversityPath(out: string): string {
  return out.replace(/\.json$/i, "") + ".partial.json";
}

/**
 * Refuses a completions JSON file whose cells disagree with its `sampling.samples_per_prompt`: a `completions/2`
 * file (what `generate` writes) holds exactly that many samples in every cell; a `completions/1` file (converted
 * from the paper's ragged files) holds at most that many, and at least one cell holds that many. Diversity over
 * cells of another size than the file declares would be compared as if equal.
 */
async function checkSampleCounts(path: string): Promise<void> {
  if (!path.toLowerCase().endsWith(".json")) return;
  let doc: { format?: unknown; sampling?: { samples_per_prompt?: unknown }; cells?: unknown };
  try {
    doc = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return; // the loader names what is wrong with the file
  }
  const declared = doc?.sampling?.samples_per_prompt;
  if (!Array.isArray(doc?.cells) || typeof declared !== "number") return;
  const counts = (doc.cells as { samples?: unknown[] }[]).map((c) =>
    Array.isArray(c?.samples) ? c.samples.length : 0
  );
  if (counts.length === 0) return;
  if (doc.format === "completions/2") {
    const bad = counts.findIndex((n) => n !== declared);
    if (bad >= 0) {
      throw new Error(
        `${path}: cells[${bad}] holds ${
          counts[bad]
        } samples, but sampling.samples_per_prompt is ${declared} ` +
          `(${
            counts.filter((n) => n !== declared).length
          } of ${counts.length} cells disagree); a completions/2 ` +
          "file holds that many samples in every cell",
      );
    }
  } else if (Math.max(...counts) !== declared) {
    throw new Error(
      `${path}: sampling.samples_per_prompt is ${declared}, but no cell holds that many samples (the largest ` +
        `holds ${Math.max(...counts)})`,
    );
  }
}

/** A file to measure, loaded and checked. */
interface LoadedJob extends DiversityJob {
  loaded: LoadedCompletions;
  promptSet: string;
  cells: number;
  partial: string;
}

/**
 * Measures `jobs` (see the module comment) on `pool` (started by the caller, which closes it; this may cut it
 * down or close it early); returns the exit status.
 */
export async function runDiversityJobs(
  jobs: readonly DiversityJob[],
  settings: DiversityCallSettings,
  startedPool: DiversityWorkerPool | undefined,
): Promise<number> {
  let pool = startedPool;
  const { words, shard, workers } = settings;
  const metrics = selectMetrics(settings.metrics);
  const registry = new URL("../lib/embeddings/registry.ts", import.meta.url);
  const embedderName = metrics.some((m) => m.needsEmbeddings)
    ? settings.embedder ?? (await importLater<EmbedderRegistry>(registry)).DEFAULT_EMBEDDER
    : undefined;
  const partials = jobs.map((j) => partialDiversityPath(j.out));
  checkOutputPaths(
    jobs.flatMap((j, i) => [
      { what: "--out", path: j.out },
      { what: "the partial results", path: partials[i] },
    ]),
    [
      ...jobs.map((j) => ({ what: "--completions", path: j.input })),
      ...(embedderName !== undefined ? [{ what: "--embedder", path: embedderName }] : []),
    ],
  );

  const loadedJobs: LoadedJob[] = [];
  for (const [i, job] of jobs.entries()) {
    const loaded = await loadCompletions(job.input);
    await checkSampleCounts(job.input);
    const cells = loaded.cells.length * (loaded.cells[0]?.length ?? 0);
    if (cells === 0) throw new Error(`${job.input} holds no completion cell: nothing to measure`);
    const promptSet = resolvePromptSet(job.input, job.promptSet, loaded.promptSet);
    loadedJobs.push({ ...job, loaded, promptSet, cells, partial: partials[i] });
  }
  for (const job of loadedJobs) {
    await ensureWritableDir(dirname(realPathOf(job.out)));
    console.error(`diversity: writes ${realPathOf(job.out)} (${job.partial} if it stops part-way)`);
  }
  if (pool !== undefined) {
    // As many workers as the largest file uses on its own (one per 20 cells at most).
    const needed = Math.max(
      ...loadedJobs.map((j) => workerCountFor(runCellCount(j.cells, words.length, shard), workers)),
    );
    if (needed <= 1 || !metrics.some((m) => !m.needsEmbeddings)) {
      pool.close();
      pool = undefined;
    } else pool.shrink(needed);
  }

  let embedder: SentenceEmbedder | undefined;
  if (embedderName !== undefined) {
    console.error(`diversity: opening embedder ${embedderName}`);
    embedder = await (await importLater<EmbedderRegistry>(registry)).openEmbedder(embedderName);
  }
  const controller = new AbortController();
  const stopListening = onInterrupt("diversity", controller, "stopping at the next finished cell");
  try {
    let status = 0;
    for (const [i, job] of loadedJobs.entries()) {
      const outcome = await measureFile(job, { ...settings, metrics, embedder, pool, controller });
      if (outcome.stop) {
        const rest = loadedJobs.slice(i + 1).map((j) => j.input);
        if (rest.length > 0) console.error(`diversity: not measured: ${rest.join(", ")}`);
        return outcome.code;
      }
      status = Math.max(status, outcome.code);
    }
    return status;
  } finally {
    stopListening();
    await embedder?.dispose();
  }
}

/** What one file's run shares with the others. */
interface RunSettings extends Omit<DiversityCallSettings, "metrics" | "embedder"> {
  metrics: readonly MetricDefinition[];
  embedder?: SentenceEmbedder;
  pool?: DiversityWorkerPool;
  controller: AbortController;
}

/**
 * Measures one file and writes its results (or its partial results). `code`: the exit status it calls for;
 * `stop`: the files after it are not to be measured (an interrupt or a failed run; a results file that could not
 * be written is kept elsewhere and the next file goes on).
 */
async function measureFile(job: LoadedJob, s: RunSettings): Promise<{ code: number; stop: boolean }> {
  const { loaded, out, partial: partialPath } = job;
  const progress = terminalProgress();
  const options = {
    promptSet: job.promptSet,
    words: s.words,
    metrics: s.metrics,
    seed: s.seed,
    embedder: s.embedder,
    workers: s.workers,
    pool: s.pool,
    gzip: s.gzip,
    model: job.model ?? loaded.model,
    onProgress: (p: { phase: string; done: number; total: number }) => {
      // The metrics take no signal: a Ctrl-C ends the run at the next finished cell (or embedding batch).
      s.controller.signal.throwIfAborted();
      progress.count(p.phase, p.done, p.total, p.phase === "embedding" ? "sentences" : "cells");
    },
  };
  console.error(
    `diversity: ${job.input} (${job.promptSet}, ${loaded.cells.length} temperatures × ` +
      `${loaded.cells[0]?.length ?? 0} prompts = ${job.cells} cells), ${s.metrics.length} metrics, ` +
      `words ${s.wordsText}`,
  );
  const started = performance.now();
  try {
    if (s.shard !== undefined) {
      const file = await analyseCompletionsShard(loaded, options, s.shard);
      await writingTo(out, () => writeDiversityShardFile(out, file));
      await Deno.remove(partialPath).catch(() => {});
      console.error(
        `diversity: wrote shard ${shardLabel(s.shard)} → ${out} (analyse merge joins the shards)`,
      );
      return { code: 0, stop: false };
    }
    const file = await analyseCompletions(loaded, options);
    try {
      await writingTo(out, () => writeDiversityFile(out, file));
    } catch (e) {
      // Computed, but not written: keep the results where a file can be written, and say how to finish.
      const kept = join(tmpdir(), "mode-collapse-results", `${Deno.pid}.${basename(out)}`);
      await writeDiversityFile(kept, file);
      console.error(
        `diversity: stopped: ${
          (e as Error).message
        }\ndiversity: the complete results are saved in ${kept}; ` +
          `to finish, fix the problem above, then run:\n  cp ${shellQuote(kept)} ${shellQuote(out)}`,
      );
      return { code: 1, stop: false };
    }
    await Deno.remove(partialPath).catch(() => {});
    const nans = Object.values(file.nan_counts).flatMap((m) => Object.values(m)).reduce((a, b) => a + b, 0);
    console.error(`diversity: wrote ${out} (${nans} undefined values, reasons in nan_reasons)`);
    return { code: 0, stop: false };
  } catch (e) {
    const interrupted = s.controller.signal.aborted;
    if (e instanceof DiversityRunError) {
      // Keep what was computed: a partial file with the missing cells marked "pending".
      const file = buildDiversityFile(
        loaded,
        options,
        e.partial,
        (performance.now() - started) / 1000,
        false,
      );
      await writingTo(
        partialPath,
        () => writeFileAtomic(partialPath, stringifyDiversityFile(file)),
      );
      console.error(
        `diversity: ${
          interrupted ? "interrupted" : e.message
        }\ndiversity: results so far saved to ${partialPath}`,
      );
      return { code: interrupted ? 130 : 1, stop: true };
    }
    if (interrupted) {
      console.error("diversity: interrupted before any cell was finished; nothing to keep");
      return { code: 130, stop: true };
    }
    throw e;
  }
}
