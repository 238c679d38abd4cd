/**
 * From loaded completions to a `diversity/1` file: picks the prompt set, runs the metrics, and records inputs and
 * provenance. The CLI and notebooks call this; it holds no I/O besides what its arguments do.
 * @module
 */
import { basename } from "node:path";
import { PAPER_PACK_PATTERN } from "../data/packs.ts";
import type { SentenceEmbedder } from "../embeddings/embedder.ts";
import type { LoadedCompletions } from "../data/load_completions.ts";
import { DIVERSITY_FORMAT, type DiversityFile } from "../io/diversity_format.ts";
import { ORDER_Q_GROUPS } from "../metrics/order_q.ts";
import type { MetricDefinition } from "../metrics/definition.ts";
import { runtimeDescription, TOOLKIT_VERSION } from "../version.ts";
import type { WordLimit } from "./cell.ts";
import type { ShardSpec } from "../io/shards.ts";
import { type DiversityShardFile, diversityShardFile } from "./merge.ts";
import { computeDiversity, type DiversityProgress, type DiversityTables, wordLimitKey } from "./run.ts";
import type { DiversityWorkerPool } from "./pool.ts";

/** How each stochastic (metric, cell) is seeded; also written into every results file. */
export const SEED_DERIVATION =
  "numpy RandomState(fnv1a32(`${seed}|${metric key}|${temperature index}|${prompt index}`)), fresh per metric and cell";

/**
 * The prompt set of a completions file: the explicit choice, else the file's own `prompt_set`, else the paper's
 * file name pattern (`…_completions_<set>_max_length…`). Conflicts and unknowns are errors.
 */
export function resolvePromptSet(path: string, explicit?: string, declared?: string): string {
  const fromName = new RegExp(`_completions_(${PAPER_PACK_PATTERN})_`).exec(basename(path))?.[1];
  if (explicit !== undefined) {
    if (declared !== undefined && declared !== explicit) {
      throw new Error(`${path}: --prompt-set ${explicit} contradicts the file's prompt_set "${declared}"`);
    }
    return explicit;
  }
  const found = declared ?? fromName;
  if (found === undefined) {
    throw new Error(`${path}: cannot tell which prompt set these completions answer; pass --prompt-set`);
  }
  return found;
}

/** Options of {@link analyseCompletions}. */
export interface AnalyseOptions {
  promptSet: string;
  words: readonly WordLimit[];
  metrics: readonly MetricDefinition[];
  seed?: number;
  embedder?: SentenceEmbedder;
  workers?: number;
  gzip?: "auto" | "libz" | "pako";
  model?: string;
  /** A worker pool to run on, kept open for the caller's next file; overrides `workers`. */
  pool?: DiversityWorkerPool;
  onProgress?: (p: DiversityProgress) => void;
  /** Only shard I of N of the cells (see {@link computeDiversity}). */
  shard?: ShardSpec;
}

/** Runs the metrics on loaded completions and returns the results file contents. */
export async function analyseCompletions(
  loaded: LoadedCompletions,
  options: AnalyseOptions,
): Promise<DiversityFile> {
  return (await analyse(loaded, options)).file;
}

/** Runs the metrics on shard `shard` of the cells and returns the shard file (lib/diversity/merge.ts). */
export async function analyseCompletionsShard(
  loaded: LoadedCompletions,
  options: AnalyseOptions,
  shard: ShardSpec,
): Promise<DiversityShardFile> {
  const { file, tables } = await analyse(loaded, { ...options, shard });
  return diversityShardFile(file, shard, tables.sentencesAllCells ?? 0);
}

async function analyse(
  loaded: LoadedCompletions,
  options: AnalyseOptions,
): Promise<{ file: DiversityFile; tables: DiversityTables }> {
  const started = performance.now();
  const tables = await computeDiversity(loaded, {
    words: options.words,
    metrics: options.metrics,
    seed: options.seed,
    embedder: options.embedder,
    workers: options.workers,
    pool: options.pool,
    gzip: options.gzip,
    onProgress: options.onProgress,
    shard: options.shard,
  });
  return {
    file: buildDiversityFile(loaded, options, tables, (performance.now() - started) / 1000, true),
    tables,
  };
}

/** Assembles a results file from computed (possibly partial) tables. */
export function buildDiversityFile(
  loaded: LoadedCompletions,
  options: AnalyseOptions,
  tables: DiversityTables,
  elapsedSeconds: number,
  complete: boolean,
): DiversityFile {
  const nanCounts: Record<string, Record<string, number>> = {};
  for (const [w, byKey] of Object.entries(tables.results)) {
    nanCounts[w] = {};
    for (const [key, grid] of Object.entries(byKey)) {
      nanCounts[w][key] = grid.reduce((a, row) => a + row.filter((v) => Number.isNaN(v)).length, 0);
    }
  }
  return {
    format: DIVERSITY_FORMAT,
    created: new Date().toISOString(),
    complete,
    input: {
      path: loaded.source.path,
      sha256: loaded.source.sha256,
      format: loaded.source.format,
      prompt_set: options.promptSet,
      ...(options.model ? { model: options.model } : {}),
    },
    settings: {
      words: options.words.map(wordLimitKey),
      metrics: options.metrics.map((m) => m.key),
      seed: options.seed ?? 0,
      seed_derivation: SEED_DERIVATION,
      order_q_groups: ORDER_Q_GROUPS,
    },
    provenance: {
      toolkit_version: TOOLKIT_VERSION,
      runtime: runtimeDescription(),
      gzip_backend: tables.gzipBackend,
      embedder: options.embedder ? { ...options.embedder.info } : null,
      sentences_embedded: tables.sentencesEmbedded,
      elapsed_seconds: Math.round(elapsedSeconds * 1000) / 1000,
    },
    temperatures: [...loaded.temperatures],
    prompts: loaded.prompts.map((p) => p ?? null),
    results: tables.results,
    nan_counts: nanCounts,
    nan_reasons: tables.nanReasons,
  };
}
