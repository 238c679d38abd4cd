/**
 * `deno task analyse diversity`: output-diversity metrics of completions files (the paper's `.npy` or this
 * project's `completions/1` or `/2` JSON) at one or more word limits, each written as a `diversity/1` JSON file.
 * Several files (`--completions` repeated) go through one process: one start-up, one worker pool, one embedder.
 * Start-up: only what `--help` needs is imported up front; the worker threads start loading their code before
 * this thread imports the metrics and loads the files, and an embedder is opened only for the cosine metrics.
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandLine, shellQuote } from "./options.ts";
import { onInterrupt } from "./interrupt.ts";
import { type DiversityJob, planDiversityJobs } from "./diversity_jobs.ts";
import { defaultWorkerCount, DiversityWorkerPool } from "../lib/diversity/pool.ts";
import type { WordLimit } from "../lib/diversity/cell.ts";
import type { LoadedCompletions } from "../lib/data/load_completions.ts";
import type { SentenceEmbedder } from "../lib/embeddings/embedder.ts";
import type { MetricDefinition } from "../lib/metrics/definition.ts";
import type { ShardSpec } from "../lib/io/shards.ts";

function usage(defaultEmbedder: string): string {
  return `usage: deno task analyse diversity --completions <file.npy|file.json> --out <file.json> [options]
       deno task analyse diversity --completions <A> --completions <B> … (--out <A.json> --out <B.json> … |
                                   --out-dir <dir>) [options]
  --completions <file>     completions to measure; repeat it for several files in one process (one start-up, one
                           worker pool, one embedder), measured in the order given
  --out <file.json>        where the results go: once per --completions, in the same order
  --out-dir <dir>          instead of --out: <dir>/<name>.diversity.json for each file, <name> being its file name
                           without .npy/.json (with --shard I/N: <name>.diversity.shard-I-of-N.json)
  [--prompt-set creative|factual|seen|<name>]  which prompts the completions answer (default: from the file);
                           with several files, once per --completions in the same order, or not at all
  [--words 5,20]           word limits to truncate to ("all" = no truncation; default 5,20)
  [--metrics all|paper|deterministic|extras|<key,...>]   (default all)
  [--seed N]               seed of the order-q draws (default 0; numpy-compatible per cell)
  [--embedder <name|dir>]  for the cosine family (default ${defaultEmbedder})
  [--workers N]            threads for text metrics (default: all cores)
  [--gzip auto|libz|pako]  compressor for NCD and compression ratios (default auto: exact system zlib, else pako)
  [--model <name>]         model name to record: once for every file, or once per --completions
  [--shard I/N]            only shard I of N of the cells: t·P+p when (t·P+p) mod N = I−1; <out> is then a
                           diversity-shard/1 file; analyse merge joins the N shards into the diversity/1 file
writes each <out>; when a run stops part-way (an error, Ctrl-C), what was computed goes to <out>.partial.json with
the missing cells marked "pending" (removed again by the next complete run); with several files, those before it
are written and the ones after it are named as not measured.`;
}

/** Parses `"5,20"` / `"all"` into word limits. */
export function parseWordLimits(spec: string): WordLimit[] {
  const out = spec.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    if (s === "all") return null;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--words: "${s}" is not a positive integer or "all"`);
    return n;
  });
  if (out.length === 0) throw new Error("--words: no word limit given");
  return out;
}

/** `<out>.partial.json`: what a stopped run computed. */
export function partialDiversityPath(out: string): string {
  return out.replace(/\.json$/i, "") + ".partial.json";
}

/**
 * Refuses a completions JSON file whose cells disagree with its `sampling.samples_per_prompt`: a `completions/2`
 * file (what `generate` writes) holds exactly that many samples in every cell; a `completions/1` file (converted
 * from the paper's ragged files) holds at most that many, and at least one cell holds that many. Diversity over
 * cells of another size than the file declares would be compared as if equal.
 */
export async function checkSampleCounts(path: string): Promise<void> {
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

/** The `diversity` command. */
export const command: Command = {
  summary: "output-diversity metrics of completions files (.npy or .json) → diversity/1 JSON",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({
      args,
      options: {
        completions: { type: "string", multiple: true },
        out: { type: "string", multiple: true },
        "out-dir": { type: "string" },
        "prompt-set": { type: "string", multiple: true },
        words: { type: "string", default: "5,20" },
        metrics: { type: "string", default: "all" },
        seed: { type: "string", default: "0" },
        embedder: { type: "string" },
        workers: { type: "string" },
        gzip: { type: "string", default: "auto" },
        model: { type: "string", multiple: true },
        shard: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      const { DEFAULT_EMBEDDER, listEmbedders } = await import("../lib/embeddings/registry.ts");
      const embedders = listEmbedders().map((e) =>
        `  ${e.name}${e.isDefault ? " (default)" : ""}: ${e.description}`
      );
      console.log(`${usage(DEFAULT_EMBEDDER)}\n\nembedders:\n${embedders.join("\n")}\n  or a model folder`);
      return 0;
    }
    if (!values.completions?.length || (!values.out?.length && values["out-dir"] === undefined)) {
      const { DEFAULT_EMBEDDER } = await import("../lib/embeddings/registry.ts");
      console.error(usage(DEFAULT_EMBEDDER));
      return 2;
    }
    const seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`--seed must be an integer in [0, 2^32 − 1], got "${values.seed}"`);
    }
    const gzip = values.gzip as "auto" | "libz" | "pako";
    if (!["auto", "libz", "pako"].includes(gzip)) throw new Error(`--gzip must be auto, libz or pako`);
    const workers = values.workers === undefined ? undefined : Number(values.workers);
    if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
      throw new Error(`--workers must be a non-negative integer`);
    }
    let shard: ShardSpec | undefined;
    if (values.shard !== undefined) shard = (await import("../lib/io/shards.ts")).parseShard(values.shard);
    const jobs = planDiversityJobs({
      completions: values.completions,
      out: values.out,
      outDir: values["out-dir"],
      promptSets: values["prompt-set"],
      models: values.model,
      shard,
    });
    const words = parseWordLimits(values.words!);

    // The workers load their code (and open zlib) while this thread loads its own and the files; the pool is cut
    // to what the cells need once they are known (or closed: a small job runs on this thread).
    let pool = workers === undefined || workers > 1
      ? new DiversityWorkerPool(workers ?? defaultWorkerCount()).start(gzip)
      : undefined;
    try {
      const [
        { selectMetrics },
        { loadCompletions },
        { resolvePromptSet },
        { runCellCount, workerCountFor },
        paths,
      ] = await Promise.all([
        import("../lib/metrics/registry.ts"),
        import("../lib/data/load_completions.ts"),
        import("../lib/diversity/analyse.ts"),
        import("../lib/diversity/run.ts"),
        import("../lib/io/output_paths.ts"),
      ]);
      const metrics = selectMetrics(values.metrics!);
      const needsEmbedder = metrics.some((m) => m.needsEmbeddings);
      const embedderName = needsEmbedder
        ? values.embedder ?? (await import("../lib/embeddings/registry.ts")).DEFAULT_EMBEDDER
        : undefined;
      const partials = jobs.map((j) => partialDiversityPath(j.out));
      paths.checkOutputPaths(
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
        await paths.ensureWritableDir(dirname(paths.realPathOf(job.out)));
        console.error(`diversity: writes ${paths.realPathOf(job.out)} (${job.partial} if it stops part-way)`);
      }
      if (pool !== undefined) {
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
        embedder = await (await import("../lib/embeddings/registry.ts")).openEmbedder(embedderName);
      }
      const controller = new AbortController();
      const stopListening = onInterrupt("diversity", controller, "stopping at the next finished cell");
      try {
        let status = 0;
        for (const [i, job] of loadedJobs.entries()) {
          const outcome = await measureFile(job, {
            words,
            wordsText: values.words!,
            metrics,
            seed,
            embedder,
            workers,
            pool,
            gzip,
            shard,
            controller,
          });
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
    } finally {
      pool?.close();
    }
  },
};

/** What one file's run shares with the others. */
interface RunSettings {
  words: WordLimit[];
  wordsText: string;
  metrics: readonly MetricDefinition[];
  seed: number;
  embedder?: SentenceEmbedder;
  workers?: number;
  pool?: DiversityWorkerPool;
  gzip: "auto" | "libz" | "pako";
  shard?: ShardSpec;
  controller: AbortController;
}

/**
 * Measures one file and writes its results (or its partial results). `code`: the exit status it calls for;
 * `stop`: the files after it are not to be measured (an interrupt or a failed run; a results file that could not
 * be written is kept elsewhere and the next file goes on).
 */
async function measureFile(job: LoadedJob, s: RunSettings): Promise<{ code: number; stop: boolean }> {
  const [analyse, { writeDiversityShardFile }, { DiversityRunError }, format, { writeFileAtomic }, paths] =
    await Promise.all([
      import("../lib/diversity/analyse.ts"),
      import("../lib/diversity/merge.ts"),
      import("../lib/diversity/run.ts"),
      import("../lib/io/diversity_format.ts"),
      import("../lib/io/atomic.ts"),
      import("../lib/io/output_paths.ts"),
    ]);
  const { loaded, out, partial: partialPath } = job;
  const progress = (await import("../lib/progress/terminal_sink.ts")).terminalProgress();
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
      const file = await analyse.analyseCompletionsShard(loaded, options, s.shard);
      await paths.writingTo(out, () => writeDiversityShardFile(out, file));
      await Deno.remove(partialPath).catch(() => {});
      const { shardLabel } = await import("../lib/io/shards.ts");
      console.error(
        `diversity: wrote shard ${shardLabel(s.shard)} → ${out} (analyse merge joins the shards)`,
      );
      return { code: 0, stop: false };
    }
    const file = await analyse.analyseCompletions(loaded, options);
    try {
      await paths.writingTo(out, () => format.writeDiversityFile(out, file));
    } catch (e) {
      // Computed, but not written: keep the results where a file can be written, and say how to finish.
      const { tmpdir } = await import("node:os");
      const kept = join(tmpdir(), "mode-collapse-results", `${Deno.pid}.${basename(out)}`);
      await format.writeDiversityFile(kept, file);
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
      const file = analyse.buildDiversityFile(
        loaded,
        options,
        e.partial,
        (performance.now() - started) / 1000,
        false,
      );
      await paths.writingTo(
        partialPath,
        () => writeFileAtomic(partialPath, format.stringifyDiversityFile(file)),
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
