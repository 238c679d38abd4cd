/**
 * `deno task analyse diversity`: output-diversity metrics of a completions file (the paper's `.npy` or this
 * project's `completions/1` or `/2` JSON) at one or more word limits, written as a `diversity/1` JSON file.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { tmpdir } from "node:os";
import type { Command } from "./command.ts";
import { parseCommandLine, shellQuote } from "./options.ts";
import { onInterrupt } from "./interrupt.ts";
import { terminalProgress } from "../lib/progress/terminal_sink.ts";
import {
  analyseCompletions,
  analyseCompletionsShard,
  buildDiversityFile,
  resolvePromptSet,
} from "../lib/diversity/analyse.ts";
import { writeDiversityShardFile } from "../lib/diversity/merge.ts";
import { parseShard, shardLabel } from "../lib/io/shards.ts";
import { DiversityRunError } from "../lib/diversity/run.ts";
import type { WordLimit } from "../lib/diversity/cell.ts";
import { loadCompletions } from "../lib/data/load_completions.ts";
import { stringifyDiversityFile, writeDiversityFile } from "../lib/io/diversity_format.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { checkOutputPaths, ensureWritableDir, realPathOf, writingTo } from "../lib/io/output_paths.ts";
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
  [--model <name>]         model name to record
  [--shard I/N]            only shard I of N of the cells: t·P+p when (t·P+p) mod N = I−1; <out> is then a
                           diversity-shard/1 file; analyse merge joins the N shards into the diversity/1 file
writes <out>; when a run stops part-way (an error, Ctrl-C), what was computed goes to <out>.partial.json with the
missing cells marked "pending" (removed again by the next complete run).`;

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

/** The `diversity` command. */
export const command: Command = {
  summary: "output-diversity metrics of a completions file (.npy or .json) → diversity/1 JSON",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({
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
        shard: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      const embedders = listEmbedders().map((e) =>
        `  ${e.name}${e.isDefault ? " (default)" : ""}: ${e.description}`
      );
      console.log(`${USAGE}\n\nembedders:\n${embedders.join("\n")}\n  or a model folder`);
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
    const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
    const words = parseWordLimits(values.words!);
    const metrics = selectMetrics(values.metrics!);
    const out = values.out;
    const partialPath = partialDiversityPath(out);
    checkOutputPaths(
      [{ what: "--out", path: out }, { what: "the partial results", path: partialPath }],
      [
        { what: "--completions", path: values.completions },
        ...(metrics.some((m) => m.needsEmbeddings) ? [{ what: "--embedder", path: values.embedder! }] : []),
      ],
    );

    const loaded = await loadCompletions(values.completions);
    await checkSampleCounts(values.completions);
    const cells = loaded.cells.length * (loaded.cells[0]?.length ?? 0);
    if (cells === 0) throw new Error(`${values.completions} holds no completion cell: nothing to measure`);
    await ensureWritableDir(dirname(realPathOf(out)));
    console.error(`diversity: writes ${realPathOf(out)} (${partialPath} if it stops part-way)`);
    const promptSet = resolvePromptSet(values.completions, values["prompt-set"], loaded.promptSet);
    let embedder: SentenceEmbedder | undefined;
    if (metrics.some((m) => m.needsEmbeddings)) {
      console.error(`diversity: opening embedder ${values.embedder}`);
      embedder = await openEmbedder(values.embedder!);
    }
    const progress = terminalProgress();
    const controller = new AbortController();
    const options = {
      promptSet,
      words,
      metrics,
      seed,
      embedder,
      workers,
      gzip,
      model: values.model ?? loaded.model,
      onProgress: (p: { phase: string; done: number; total: number }) => {
        // The metrics take no signal: a Ctrl-C ends the run at the next finished cell (or embedding batch).
        controller.signal.throwIfAborted();
        progress.count(p.phase, p.done, p.total, p.phase === "embedding" ? "sentences" : "cells");
      },
    };
    console.error(
      `diversity: ${values.completions} (${promptSet}, ${loaded.cells.length} temperatures × ` +
        `${loaded.cells[0]?.length ?? 0} prompts = ${cells} cells), ${metrics.length} metrics, ` +
        `words ${values.words}`,
    );
    const started = performance.now();
    const stopListening = onInterrupt("diversity", controller, "stopping at the next finished cell");
    try {
      if (shard !== undefined) {
        const file = await analyseCompletionsShard(loaded, options, shard);
        await writingTo(out, () => writeDiversityShardFile(out, file));
        await Deno.remove(partialPath).catch(() => {});
        console.error(
          `diversity: wrote shard ${shardLabel(shard)} → ${out} (analyse merge joins the shards)`,
        );
        return 0;
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
        return 1;
      }
      await Deno.remove(partialPath).catch(() => {});
      const nans = Object.values(file.nan_counts).flatMap((m) => Object.values(m)).reduce((a, b) => a + b, 0);
      console.error(`diversity: wrote ${out} (${nans} undefined values, reasons in nan_reasons)`);
      return 0;
    } catch (e) {
      const interrupted = controller.signal.aborted;
      if (e instanceof DiversityRunError) {
        // Keep what was computed: a partial file with the missing cells marked "pending".
        const file = buildDiversityFile(
          loaded,
          options,
          e.partial,
          (performance.now() - started) / 1000,
          false,
        );
        await writingTo(partialPath, () => writeFileAtomic(partialPath, stringifyDiversityFile(file)));
        console.error(
          `diversity: ${
            interrupted ? "interrupted" : e.message
          }\ndiversity: results so far saved to ${partialPath}`,
        );
        return interrupted ? 130 : 1;
      }
      if (interrupted) {
        console.error("diversity: interrupted before any cell was finished; nothing to keep");
        return 130;
      }
      throw e;
    } finally {
      stopListening();
      await embedder?.dispose();
    }
  },
};
