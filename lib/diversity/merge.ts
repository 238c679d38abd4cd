/**
 * Diversity shards: `diversity --shard I/N` computes the cells `t·P + p` with (t·P + p) mod N = I−1
 * (lib/io/shards.ts) and writes a `diversity-shard/1` file — the `diversity/1` file of those cells (the others
 * null, with no reason) plus `shard`. {@link mergeDiversityShards} combines all N shards, in any order, into
 * the `diversity/1` file a single run writes; shards of other completions, settings, embedder or gzip backend,
 * of another split, overlapping or missing shards are refused, naming the file.
 * @module
 */
import { DIVERSITY_FORMAT, type DiversityFile, stringifyDiversityFile } from "../io/diversity_format.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { checkCompleteShards, checkSameAs, inShard, shardPositions, type ShardSpec } from "../io/shards.ts";
import { type NanReasonCells, normaliseNanReasons } from "./run.ts";

/** The format tag of a diversity shard. */
export const DIVERSITY_SHARD_FORMAT = "diversity-shard/1";

/** A diversity shard's file. */
export interface DiversityShardFile extends Omit<DiversityFile, "format"> {
  format: typeof DIVERSITY_SHARD_FORMAT;
  /** Which shard; `sentences_embedded_all`: the distinct sentences of every cell (the merged file's count). */
  shard: ShardSpec & { sentences_embedded_all: number };
}

/** The shard file of `file` (computed with `shard`); `sentencesAll`: see {@link DiversityShardFile}. */
export function diversityShardFile(
  file: DiversityFile,
  shard: ShardSpec,
  sentencesAll: number,
): DiversityShardFile {
  return {
    ...file,
    format: DIVERSITY_SHARD_FORMAT,
    shard: { ...shard, sentences_embedded_all: sentencesAll },
  };
}

/** Writes a shard file atomically (NaN as null, as a diversity/1 file). */
export async function writeDiversityShardFile(path: string, file: DiversityShardFile): Promise<void> {
  await writeFileAtomic(path, stringifyDiversityFile(file as unknown as DiversityFile));
}

async function readShard(path: string): Promise<DiversityShardFile> {
  let value: DiversityShardFile;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (value?.format !== DIVERSITY_SHARD_FORMAT || value.shard === undefined || value.results === undefined) {
    throw new Error(`${path}: not the output of diversity --shard (${DIVERSITY_SHARD_FORMAT})`);
  }
  if (value.complete !== true) throw new Error(`${path}: an incomplete shard (the run stopped part-way)`);
  return value;
}

/** Merges diversity shards (see the module comment) into a `diversity/1` file's contents. */
export async function mergeDiversityShards(paths: readonly string[]): Promise<DiversityFile> {
  const files: { path: string; file: DiversityShardFile }[] = [];
  for (const path of paths) files.push({ path, file: await readShard(path) });
  if (files.length === 0) throw new Error("no shard to merge");
  const identity = (f: DiversityShardFile) => ({
    input: f.input,
    settings: f.settings,
    toolkit_version: f.provenance.toolkit_version,
    gzip_backend: f.provenance.gzip_backend,
    embedder: f.provenance.embedder,
    sentences_embedded_all: f.shard.sentences_embedded_all,
    temperatures: f.temperatures,
    prompts: f.prompts,
  });
  const first = files[0];
  for (const { path, file } of files.slice(1)) {
    checkSameAs(path, first.path, "the diversity job", identity(file), identity(first.file));
  }
  checkCompleteShards(files.map(({ path, file }) => ({ path, shard: file.shard })));
  const T = first.file.temperatures.length, P = first.file.prompts.length;
  const results: Record<string, Record<string, number[][]>> = {};
  const nanCounts: Record<string, Record<string, number>> = {};
  const nanReasons: Record<string, Record<string, NanReasonCells>> = {};
  for (const [w, byKey] of Object.entries(first.file.results)) {
    results[w] = {};
    nanCounts[w] = {};
    nanReasons[w] = {};
    for (const key of Object.keys(byKey)) {
      const grid = Array.from({ length: T }, () => new Array<number>(P).fill(NaN));
      let count = 0;
      const reasons: NanReasonCells = {};
      for (const { path, file } of files) {
        const part = file.results[w]?.[key];
        if (part === undefined) throw new Error(`${path}: no results for words ${w}, key ${key}`);
        const owned = shardPositions(T * P, file.shard);
        for (const i of owned) grid[Math.floor(i / P)][i % P] = part[Math.floor(i / P)][i % P] ?? NaN;
        // The shard counts its NaNs over the whole grid, where every cell it does not hold is NaN.
        count += file.nan_counts[w][key] - (T * P - owned.length);
        for (const [r, cells] of Object.entries(file.nan_reasons[w]?.[key] ?? {})) {
          for (const c of cells as [number, number][]) {
            if (!inShard(c[0] * P + c[1], file.shard)) {
              throw new Error(`${path}: a NaN reason for cell (${c[0]}, ${c[1]}), which is not its shard's`);
            }
            ((reasons as Record<string, [number, number][]>)[r] ??= []).push(c);
          }
        }
      }
      results[w][key] = grid;
      nanCounts[w][key] = count;
      nanReasons[w][key] = normaliseNanReasons(reasons);
    }
  }
  const { shard: _shard, ...rest } = first.file;
  return {
    ...rest,
    format: DIVERSITY_FORMAT,
    provenance: {
      ...rest.provenance,
      sentences_embedded: first.file.shard.sentences_embedded_all,
      elapsed_seconds: Math.round(files.reduce((a, f) => a + f.file.provenance.elapsed_seconds, 0) * 1000) /
        1000,
    },
    results,
    nan_counts: nanCounts,
    nan_reasons: nanReasons,
  };
}
