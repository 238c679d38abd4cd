/**
 * `deno task analyse diversity`: output-diversity metrics of completions files (the paper's `.npy` or this
 * project's `completions/1` or `/2` JSON) at one or more word limits, each written as a `diversity/1` JSON file.
 * Several files (`--completions` repeated) go through one process: one start-up, one worker pool, one embedder.
 * Start-up: this module imports only what reading the command line needs; the worker threads start loading their
 * code before this thread loads ./diversity_run.ts (metrics, loaders, writers), and the embedders load only for
 * `--help` and the cosine metrics.
 * @module
 */
import type { Command } from "./command.ts";
import { parseCommandLine } from "./options.ts";
import { importLater } from "./import_later.ts";
import { planDiversityJobs } from "./diversity_jobs.ts";
import { defaultWorkerCount, DiversityWorkerPool } from "../lib/diversity/pool.ts";
import type { WordLimit } from "../lib/diversity/cell.ts";
import type { ShardSpec } from "../lib/io/shards.ts";

type EmbedderRegistry = typeof import("../lib/embeddings/registry.ts");
type DiversityRun = typeof import("./diversity_run.ts");

const EMBEDDER_REGISTRY = new URL("../lib/embeddings/registry.ts", import.meta.url);

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
the missing cells marked "pending" (removed again by the next complete run); with several files, the files
finished before the stop are written and the ones not started are named.`;
}

/** Parses `"5,20"` / `"all"` into word limits. */
function parseWordLimits(spec: string): WordLimit[] {
  const out = spec.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    if (s === "all") return null;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--words: "${s}" is not a positive integer or "all"`);
    return n;
  });
  if (out.length === 0) throw new Error("--words: no word limit given");
  return out;
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
      const { DEFAULT_EMBEDDER, listEmbedders } = await importLater<EmbedderRegistry>(EMBEDDER_REGISTRY);
      const embedders = listEmbedders().map((e) =>
        `  ${e.name}${e.isDefault ? " (default)" : ""}: ${e.description}`
      );
      console.log(`${usage(DEFAULT_EMBEDDER)}\n\nembedders:\n${embedders.join("\n")}\n  or a model folder`);
      return 0;
    }
    if (!values.completions?.length || (!values.out?.length && values["out-dir"] === undefined)) {
      const { DEFAULT_EMBEDDER } = await importLater<EmbedderRegistry>(EMBEDDER_REGISTRY);
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
    if (values.shard !== undefined) {
      const shards = new URL("../lib/io/shards.ts", import.meta.url);
      shard = (await importLater<typeof import("../lib/io/shards.ts")>(shards)).parseShard(values.shard);
    }
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
    const pool = workers === undefined || workers > 1
      ? new DiversityWorkerPool(workers ?? defaultWorkerCount()).start(gzip)
      : undefined;
    try {
      const { runDiversityJobs } = await importLater<DiversityRun>(
        new URL("./diversity_run.ts", import.meta.url),
      );
      return await runDiversityJobs(jobs, {
        words,
        wordsText: values.words!,
        metrics: values.metrics!,
        seed,
        embedder: values.embedder,
        workers,
        gzip,
        shard,
      }, pool);
    } finally {
      pool?.close();
    }
  },
};
