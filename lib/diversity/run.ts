/**
 * Runs a selection of metrics over a grid of completion cells ([temperature][prompt] → samples) at one or more
 * word limits. Text-only metrics are spread over worker threads; embedding metrics run after every distinct
 * sentence has been embedded once. Progress is reported through a callback; on an unexpected failure the error
 * carries everything computed so far.
 * @module
 */
import type { NanReason } from "../io/diversity_format.ts";
import type { MetricDefinition } from "../metrics/definition.ts";
import type { SentenceEmbedder } from "../embeddings/embedder.ts";
import { defaultGzipBackend } from "../metrics/sample_set.ts";
import { openGzipLength } from "../metrics/gzip_length.ts";
import { type CellOutcome, evaluateCell, truncateSamples, type WordLimit } from "./cell.ts";
import type { WorkerTask } from "./worker.ts";
import { defaultWorkerCount, DiversityWorkerPool } from "./pool.ts";
import { inShard, shardPositions, type ShardSpec } from "../io/shards.ts";

export { defaultWorkerCount, DiversityWorkerPool };

/** Completions laid out as the paper's files: `cells[t][p]` is the list of samples. */
export interface CompletionGrid {
  /** Sampling temperature of each row. */
  temperatures: readonly number[];
  /** `[temperature index][prompt index]` → samples. */
  cells: readonly (readonly (readonly string[])[])[];
}

/**
 * Worker threads for a run over `cells` (cell × word-limit pairs): `workers` (default: all cores, at most 8), and
 * no more than one per 20 cells.
 */
export function workerCountFor(cells: number, workers?: number): number {
  return Math.min(workers ?? defaultWorkerCount(), Math.ceil(cells / 20));
}

/** How many (cell, word limit) pairs a run over `gridCells` cells computes: all of them, or shard `shard`'s. */
export function runCellCount(gridCells: number, wordLimits: number, shard?: ShardSpec): number {
  return (shard === undefined ? gridCells : shardPositions(gridCells, shard).length) * wordLimits;
}

/** Key of a word limit in results: `"5"`, `"20"`, or `"all"` for no truncation. */
export function wordLimitKey(words: WordLimit): string {
  return words === null ? "all" : String(words);
}

/** Progress of a run. */
export interface DiversityProgress {
  phase: "embedding" | "metrics";
  done: number;
  total: number;
}

/** Options of {@link computeDiversity}. */
export interface DiversityOptions {
  /** Word limits to truncate to (the paper used 5 and 20); `null` = no truncation. */
  words: readonly WordLimit[];
  /** Metrics to compute, in output order. */
  metrics: readonly MetricDefinition[];
  /** Run seed for the seeded order-q estimates (default 0). */
  seed?: number;
  /** Embedder for cosine-family metrics; required when one is selected. */
  embedder?: SentenceEmbedder;
  /** Worker threads for text metrics (default: available cores, at most 8; 0 or 1 = main thread only). */
  workers?: number;
  /** A pool to run on (kept open for the caller's next run); overrides `workers`. */
  pool?: DiversityWorkerPool;
  /** gzip implementation (default `"auto"`: system zlib if exact, else pako). */
  gzip?: "auto" | "libz" | "pako";
  /** Called as cells complete. */
  onProgress?: (p: DiversityProgress) => void;
  /**
   * Compute only shard I of N: cell `t·P + p` when (t·P + p) mod N = I−1 (lib/io/shards.ts); the other cells
   * stay NaN with no reason. `analyse merge` combines the shards.
   */
  shard?: ShardSpec;
}

/** NaN reasons of one key: reason → list of `[temperature index, prompt index]`. */
export type NanReasonCells = Partial<Record<NanReason | "pending", [number, number][]>>;

/** The outcome of a run, keyed like the output file. */
export interface DiversityTables {
  /** `results[wordsKey][metricKey][t][p]`, NaN where undefined. */
  results: Record<string, Record<string, number[][]>>;
  /** `nanReasons[wordsKey][metricKey]`. */
  nanReasons: Record<string, Record<string, NanReasonCells>>;
  /** Which gzip implementation computed the compression metrics. */
  gzipBackend: string;
  /** Number of distinct sentences embedded (0 without embedding metrics). */
  sentencesEmbedded: number;
  /** With a shard: the distinct sentences of every cell (what a single run embeds), for the merged file. */
  sentencesAllCells?: number;
}

/**
 * NaN reasons in a canonical order, whatever order the cells finished in (workers): each list sorted by
 * (t, p), the reasons ordered by their first cell. A single run and merged shards then write the same bytes.
 */
export function normaliseNanReasons(reasons: NanReasonCells): NanReasonCells {
  const byCell = (a: [number, number], b: [number, number]) => (a[0] - b[0]) || (a[1] - b[1]);
  const entries = Object.entries(reasons).map(([r, cells]) => [r, [...cells!].sort(byCell)] as const)
    .filter(([, cells]) => cells.length > 0)
    .sort((a, b) => byCell(a[1][0], b[1][0]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(entries) as NanReasonCells;
}

/** An unexpected failure, with the tables as far as they got (`pending` marks cells not computed). */
export class DiversityRunError extends Error {
  readonly partial: DiversityTables;
  constructor(message: string, partial: DiversityTables, cause: unknown) {
    super(message, { cause });
    this.name = "DiversityRunError";
    this.partial = partial;
  }
}

interface CellRef {
  w: number;
  t: number;
  p: number;
}

/** Computes every selected metric on every cell at every word limit. */
export async function computeDiversity(
  grid: CompletionGrid,
  options: DiversityOptions,
): Promise<DiversityTables> {
  const seed = options.seed ?? 0;
  const gzipPreference = options.gzip ?? "auto";
  // A named backend is opened now (an error when it is missing); "auto" (never an error: pako is the fallback)
  // only when this thread computes with it: with a worker pool, the workers say which one they used, and this
  // thread is spared the exactness probe at start-up.
  let gzip = gzipPreference === "auto" ? undefined : openGzipLength(gzipPreference);
  const localGzip = () => gzip ??= defaultGzipBackend();
  let workerGzip: string | undefined;
  const gzipName = () => gzip?.name ?? workerGzip ?? localGzip().name;
  const textKeys = options.metrics.filter((m) => !m.needsEmbeddings).map((m) => m.key);
  const embeddingKeys = options.metrics.filter((m) => m.needsEmbeddings).map((m) => m.key);
  if (embeddingKeys.length > 0 && options.embedder === undefined) {
    throw new Error(`metrics ${embeddingKeys.join(", ")} need an embedder`);
  }
  const T = grid.cells.length;
  const P = T === 0 ? 0 : grid.cells[0].length;
  grid.cells.forEach((row, t) => {
    if (row.length !== P) throw new Error(`temperature row ${t} has ${row.length} prompts, row 0 has ${P}`);
  });

  const tables: DiversityTables = {
    results: {},
    nanReasons: {},
    gzipBackend: "",
    sentencesEmbedded: 0,
  };
  const pending = new Set<string>();
  for (const words of options.words) {
    const wk = wordLimitKey(words);
    tables.results[wk] = {};
    tables.nanReasons[wk] = {};
    for (const m of options.metrics) {
      tables.results[wk][m.key] = Array.from({ length: T }, () => new Array<number>(P).fill(NaN));
      tables.nanReasons[wk][m.key] = {};
    }
  }
  const cellRefs: CellRef[] = [];
  const shard = options.shard;
  options.words.forEach((_, w) => {
    for (let t = 0; t < T; t++) {
      for (let p = 0; p < P; p++) {
        if (shard === undefined || inShard(t * P + p, shard)) cellRefs.push({ w, t, p });
      }
    }
  });
  for (const c of cellRefs) pending.add(`${c.w}/${c.t}/${c.p}`);
  // Each cell is truncated once, whichever phases need it (embedding, workers, main thread).
  const truncatedCache = new Map<CellRef, string[]>();
  const truncated = (c: CellRef) => {
    let t = truncatedCache.get(c);
    if (t === undefined) truncatedCache.set(c, t = truncateSamples(grid.cells[c.t][c.p], options.words[c.w]));
    return t;
  };

  const store = (c: CellRef, keys: readonly string[], out: CellOutcome) => {
    const wk = wordLimitKey(options.words[c.w]);
    keys.forEach((key, i) => {
      tables.results[wk][key][c.t][c.p] = out.values[i];
      const reason = out.reasons[i];
      if (reason !== null) (tables.nanReasons[wk][key][reason] ??= []).push([c.t, c.p]);
    });
  };
  const fail = (message: string, cause: unknown): never => {
    // Mark what never got computed, so a partial file says which nulls are NaN and which are missing.
    for (const id of pending) {
      const [w, t, p] = id.split("/").map(Number);
      const wk = wordLimitKey(options.words[w]);
      for (const m of options.metrics) (tables.nanReasons[wk][m.key].pending ??= []).push([t, p]);
    }
    tables.gzipBackend = gzipName();
    throw new DiversityRunError(message, tables, cause);
  };

  const totalCells = cellRefs.length;
  let done = 0;
  const report = (phase: DiversityProgress["phase"], d: number, total: number) =>
    options.onProgress?.({ phase, done: d, total });

  // Embedding phase: every distinct truncated sentence once.
  let vectors: Map<string, Float32Array> | undefined;
  if (embeddingKeys.length > 0) {
    const distinct = new Set<string>();
    for (const c of cellRefs) for (const s of truncated(c)) distinct.add(s);
    const all = [...distinct];
    vectors = new Map();
    const batch = 256;
    for (let i = 0; i < all.length; i += batch) {
      const chunk = all.slice(i, i + batch);
      let embedded: Float32Array[];
      try {
        embedded = await options.embedder!.embed(chunk);
      } catch (e) {
        return fail(`embedding failed: ${(e as Error).message}`, e);
      }
      chunk.forEach((s, k) => vectors!.set(s, embedded[k]));
      report("embedding", Math.min(i + batch, all.length), all.length);
    }
    tables.sentencesEmbedded = all.length;
    if (shard !== undefined) {
      const every = new Set<string>();
      options.words.forEach((words) => {
        for (const row of grid.cells) {
          for (const cell of row) for (const s of truncateSamples(cell, words)) every.add(s);
        }
      });
      tables.sentencesAllCells = every.size;
    }
  }

  const workerCount = options.pool?.size ?? workerCountFor(totalCells, options.workers);
  const pool = workerCount > 1 && textKeys.length > 0
    ? options.pool ?? new DiversityWorkerPool(workerCount)
    : undefined;
  try {
    if (pool !== undefined) {
      await runInWorkers(pool, cellRefs, truncated, textKeys, seed, gzipPreference, (c, out, backend) => {
        workerGzip ??= backend;
        store(c, textKeys, out);
        if (embeddingKeys.length === 0) pending.delete(`${c.w}/${c.t}/${c.p}`);
        report("metrics", ++done, totalCells);
      });
    }
    // On this thread: text metrics when there are no workers, and the embedding metrics.
    const mainKeys = pool === undefined ? [...textKeys, ...embeddingKeys] : embeddingKeys;
    let lastYield = performance.now();
    for (const c of mainKeys.length > 0 ? cellRefs : []) {
      // Let the event loop turn every 50 ms, so a Ctrl-C handler runs (and the next report can stop the run).
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
      const samples = truncated(c);
      const pos = { temperatureIndex: c.t, promptIndex: c.p };
      if (textKeys.length > 0 && pool === undefined) {
        store(c, textKeys, evaluateCell(samples, textKeys, pos, { seed, gzip: localGzip() }));
      }
      if (embeddingKeys.length > 0) {
        const emb = samples.map((s) => vectors!.get(s)!);
        store(c, embeddingKeys, evaluateCell(samples, embeddingKeys, pos, { seed, gzip: localGzip() }, emb));
      }
      pending.delete(`${c.w}/${c.t}/${c.p}`);
      if (pool === undefined) report("metrics", ++done, totalCells);
    }
  } catch (e) {
    if (e instanceof DiversityRunError) throw e;
    return fail((e as Error).message, e);
  } finally {
    if (gzipPreference !== "auto") gzip!.close();
    if (pool !== undefined && pool !== options.pool) pool.close();
  }
  for (const byKey of Object.values(tables.nanReasons)) {
    for (const key of Object.keys(byKey)) byKey[key] = normaliseNanReasons(byKey[key]);
  }
  tables.gzipBackend = gzipName();
  return tables;
}

async function runInWorkers(
  pool: DiversityWorkerPool,
  cells: CellRef[],
  truncated: (c: CellRef) => string[],
  keys: string[],
  seed: number,
  gzip: "auto" | "libz" | "pako",
  onCell: (c: CellRef, out: CellOutcome, gzipBackend: string) => void,
): Promise<void> {
  // Small chunks, the costliest (longest texts) first, keep the cores busy until the end.
  const chunkSize = Math.max(1, Math.min(16, Math.ceil(cells.length / (pool.size * 8))));
  const prepared = cells.map((c) => {
    const samples = truncated(c);
    return { ref: c, samples, cost: samples.reduce((a, s) => a + s.length, 0) };
  }).sort((a, b) => b.cost - a.cost);
  const chunks: typeof prepared[] = [];
  for (let i = 0; i < prepared.length; i += chunkSize) chunks.push(prepared.slice(i, i + chunkSize));
  const tasks: WorkerTask[] = chunks.map((chunk) => ({
    keys,
    seed,
    gzip,
    cells: chunk.map((c) => ({ t: c.ref.t, p: c.ref.p, samples: c.samples })),
  }));
  await pool.run(
    tasks,
    (i, outcomes, backend) => outcomes.forEach((out, k) => onCell(chunks[i][k].ref, out, backend)),
  );
}
