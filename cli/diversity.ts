/**
 * `deno task analyse diversity`: output-diversity metrics of a completions file (the paper's `.npy` or this
 * project's `completions/1` JSON) at one or more word limits, written as a `diversity/1` JSON file.
 * @module
 */
import { parseArgs } from "node:util";
import type { Command } from "./analyse.ts";
import { ProgressPrinter } from "./progress.ts";
import { analyseCompletions, buildDiversityFile, resolvePromptSet } from "../lib/diversity/analyse.ts";
import { DiversityRunError } from "../lib/diversity/run.ts";
import type { WordLimit } from "../lib/diversity/cell.ts";
import { loadCompletions } from "../lib/io/completions_format.ts";
import { stringifyDiversityFile, writeDiversityFile } from "../lib/io/diversity_format.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { selectMetrics } from "../lib/metrics/registry.ts";
import { DEFAULT_EMBEDDER, listEmbedders, openEmbedder } from "../lib/embeddings/registry.ts";
import type { SentenceEmbedder } from "../lib/embeddings/embedder.ts";

const USAGE = `usage: deno task analyse diversity --completions <file.npy|file.json> --out <file.json>
  [--prompt-set creative|factual|seen|<name>]  which prompts the completions answer (default: from the file)
  [--words 5,20]           word limits to truncate to ("all" = no truncation; default 5,20)
  [--metrics all|paper|deterministic|extras|<key,...>]   (default all)
  [--seed N]               seed of the order-q draws (default 0; numpy-compatible per cell)
  [--embedder <name|dir>]  for the cosine family (default ${DEFAULT_EMBEDDER})
  [--workers N]            threads for text metrics (default: all cores)
  [--gzip auto|libz|pako]  compressor for NCD and compression ratios (default auto: exact system zlib, else pako)
  [--model <name>]         model name to record`;

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

/** The `diversity` command. */
export const command: Command = {
  summary: "output-diversity metrics of a completions file (.npy or .json) → diversity/1 JSON",
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        completions: { type: "string" },
        out: { type: "string" },
        "prompt-set": { type: "string" },
        words: { type: "string", default: "5,20" },
        metrics: { type: "string", default: "all" },
        seed: { type: "string", default: "0" },
        embedder: { type: "string", default: DEFAULT_EMBEDDER },
        workers: { type: "string" },
        gzip: { type: "string", default: "auto" },
        model: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE + `\n\nembedders: ${listEmbedders().join(", ")}, or a model folder`);
      return 0;
    }
    if (!values.completions || !values.out) {
      console.error(USAGE);
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
    const words = parseWordLimits(values.words!);
    const metrics = selectMetrics(values.metrics!);

    const loaded = await loadCompletions(values.completions);
    const promptSet = resolvePromptSet(values.completions, values["prompt-set"], loaded.promptSet);
    let embedder: SentenceEmbedder | undefined;
    if (metrics.some((m) => m.needsEmbeddings)) {
      console.error(`diversity: opening embedder ${values.embedder}`);
      embedder = await openEmbedder(values.embedder!);
    }
    const progress = new ProgressPrinter();
    const options = {
      promptSet,
      words,
      metrics,
      seed,
      embedder,
      workers,
      gzip,
      model: values.model ?? loaded.model,
      onProgress: (p: { phase: string; done: number; total: number }) =>
        progress.update(p.phase, p.done, p.total, p.phase === "embedding" ? "sentences" : "cells"),
    };
    const cells = loaded.cells.length * (loaded.cells[0]?.length ?? 0);
    console.error(
      `diversity: ${values.completions} (${promptSet}, ${loaded.cells.length} temperatures × ` +
        `${
          loaded.cells[0]?.length ?? 0
        } prompts = ${cells} cells), ${metrics.length} metrics, words ${values.words}`,
    );
    const started = performance.now();
    try {
      const file = await analyseCompletions(loaded, options);
      await writeDiversityFile(values.out, file);
      const nans = Object.values(file.nan_counts).flatMap((m) => Object.values(m)).reduce((a, b) => a + b, 0);
      console.error(`diversity: wrote ${values.out} (${nans} undefined values, reasons in nan_reasons)`);
      return 0;
    } catch (e) {
      if (e instanceof DiversityRunError) {
        // Keep what was computed: a partial file with the missing cells marked "pending".
        const partialPath = values.out.replace(/\.json$/i, "") + ".partial.json";
        const file = buildDiversityFile(
          loaded,
          options,
          e.partial,
          (performance.now() - started) / 1000,
          false,
        );
        await writeFileAtomic(partialPath, stringifyDiversityFile(file));
        console.error(`diversity: ${e.message}\ndiversity: results so far saved to ${partialPath}`);
        return 1;
      }
      throw e;
    } finally {
      await embedder?.dispose();
    }
  },
};
