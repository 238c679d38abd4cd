/**
 * Merging shards: the final states (`<out>.state.json`) of score runs over disjoint parts of one corpus (e.g.
 * split with --doc-indices across machines) into one `score/1` result. The accumulators merge exactly, so the
 * result equals a single run over all the documents — provided the shards are parts of the same job: the same
 * corpus file (sha256), the same model and base (their files, dtype and tokenizer) and the same window settings.
 * Anything else is refused, naming the shard that differs and what differs.
 * @module
 */
import {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  differences,
  SCORE_CHECKPOINT_STATE_SCHEMA,
  validateCheckpointState,
} from "../io/checkpoint.ts";
import type { CheckpointState } from "./score_job.ts";
import { CorpusAccumulator } from "./corpus_accumulator.ts";
import { computeCorpusStats } from "./corpus_stats.ts";
import type { CorpusStats } from "../io/score_stats.ts";
import { type ScoreFile, writeScoreFile } from "../io/score_format.ts";
import { runtimeDescription, TOOLKIT_VERSION } from "../version.ts";
import { checkCompleteShards, checkSameAs } from "../io/shards.ts";
import type { ScoreShardInfo } from "./score_job.ts";

/** What a score run's state records about its inputs (see score_job.ts). */
interface ShardDescription {
  model: Record<string, unknown>;
  base: Record<string, unknown> | null;
  tokenizer_sha256?: string;
  settings: Record<string, unknown>;
  data: { bytes: number; sha256: string };
  /** Present when the run was `score --shard I/N`. */
  shard?: ScoreShardInfo;
}

/** One shard read and checked. */
interface Shard {
  path: string;
  description: ShardDescription;
  state: CheckpointState;
}

/** A model as far as its numbers depend on it: not where its folder is or which device ran it. */
function modelIdentity(m: Record<string, unknown> | null): unknown {
  if (m === null) return null;
  const files = Array.isArray(m.files)
    ? (m.files as { name: string; bytes: number; sha256?: string }[]).map((f) => ({
      name: f.name,
      bytes: f.bytes,
      sha256: f.sha256 ?? null,
    }))
    : null;
  return { modelType: m.modelType, vocabSize: m.vocabSize, dtype: m.dtype, files, preset: m.preset ?? null };
}

/** Reads one state file, naming it in every error (unreadable, cut short, not the state of a score run). */
export async function readScoreState(path: string): Promise<Shard> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  let cp: Checkpoint<CheckpointState>;
  try {
    cp = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message}; ${text.length} bytes — cut short?)`);
  }
  if (cp?.format !== CHECKPOINT_FORMAT || cp.kind !== "score") {
    throw new Error(`${path}: not the state of a score run (${CHECKPOINT_FORMAT}, kind "score")`);
  }
  validateCheckpointState(cp as Checkpoint<unknown>, SCORE_CHECKPOINT_STATE_SCHEMA, path);
  const d = cp.runDescription as unknown as ShardDescription;
  if (d?.data?.sha256 === undefined || d.settings === undefined || cp.state?.accumulator === undefined) {
    throw new Error(
      `${path}: the state of a score run of another toolkit version (no corpus hash or settings)`,
    );
  }
  return { path, description: d, state: cp.state };
}

/** Throws, naming `shard` and `first`, unless both are parts of the same job (see the module comment). */
export function checkSameJob(first: Shard, shard: Shard): void {
  const a = first.description, b = shard.description;
  const refuse = (what: string, detail: string): never => {
    throw new Error(
      `${shard.path}: ${what} differs from ${first.path}'s (${detail}); only shards of one job merge`,
    );
  };
  if (a.data.sha256 !== b.data.sha256 || a.data.bytes !== b.data.bytes) {
    refuse(
      "the corpus",
      `sha256 ${b.data.sha256.slice(0, 12)}… of ${b.data.bytes} bytes vs ${
        a.data.sha256.slice(0, 12)
      }… of ${a.data.bytes} bytes`,
    );
  }
  for (const k of ["model", "base"] as const) {
    const x = modelIdentity(a[k]), y = modelIdentity(b[k]);
    if (JSON.stringify(x) !== JSON.stringify(y)) refuse(`the ${k}`, differences(x, y, 3).join("; "));
  }
  if ((a.tokenizer_sha256 ?? null) !== (b.tokenizer_sha256 ?? null)) {
    refuse("the tokenizer", `sha256 ${b.tokenizer_sha256 ?? "–"} vs ${a.tokenizer_sha256 ?? "–"}`);
  }
  const { max_docs: _a, doc_indices: _b, ...settingsB } = b.settings;
  const { max_docs: _c, doc_indices: _d, ...settingsA } = a.settings;
  const diff = differences(settingsA, settingsB, 3);
  if (diff.length > 0) refuse("the window settings", diff.join("; "));
}

/** The merged result of shards, ready to write. */
export interface MergedScores {
  /** The statistics of all the shards' documents. */
  stats: CorpusStats;
  /** The corpus-mean next-token distribution. */
  meanDistribution: Float64Array;
  /** The score/1 file contents (without format and distribution file name). */
  file: Omit<ScoreFile, "format" | "mean_distribution_file">;
}

/**
 * Shards of `score --shard I/N` must be all N of one split of one selection (same --max-docs / --doc-indices,
 * same corpus path); states of runs without --shard (split by hand with --doc-indices) merge as before, but not
 * mixed with shards.
 */
function checkShardSet(shards: readonly Shard[]): void {
  const sharded = shards.filter((s) => s.description.shard !== undefined);
  if (sharded.length === 0) return;
  const odd = shards.find((s) => s.description.shard === undefined);
  if (odd !== undefined) {
    throw new Error(
      `${odd.path}: the state of a run without --shard, but ${
        sharded[0].path
      } is a shard; merge shards of one split`,
    );
  }
  checkCompleteShards(shards.map((s) => ({ path: s.path, shard: s.description.shard! })));
  const first = shards[0];
  const selection = (s: Shard) => {
    const { index: _i, ...rest } = s.description.shard!;
    return {
      ...rest,
      max_docs: s.description.settings.max_docs,
      doc_indices: s.description.settings.doc_indices,
    };
  };
  for (const s of shards.slice(1)) {
    checkSameAs(s.path, first.path, "the document selection", selection(s), selection(first));
  }
}

/** `path:line: reason` lines of several shards, in line order (as a single run meets them), the first 20. */
function mergeSkipReasons(reasons: string[], dataPath: string): string[] {
  const line = (r: string) => r.startsWith(`${dataPath}:`) ? parseInt(r.slice(dataPath.length + 1), 10) : NaN;
  return reasons.map((r, i) => ({ r, i, l: line(r) }))
    .sort((a, b) => (a.l - b.l) || (a.i - b.i))
    .map((x) => x.r)
    .slice(0, 20);
}

/** Reads, checks and merges the shards at `paths` (at least one), in any order. */
export async function mergeScoreStates(paths: readonly string[]): Promise<MergedScores> {
  if (paths.length === 0) throw new Error("no state file to merge");
  let merged: CorpusAccumulator | undefined;
  let first: Shard | undefined;
  let skipped = 0;
  const reasons: string[] = [];
  const shards: Shard[] = [];
  // Checked first (keeping only what describes each shard), then merged one state at a time: memory holds
  // two accumulators, whatever the number of shards.
  for (const path of paths) {
    const read = await readScoreState(path);
    const shard = { path, description: read.description, state: undefined as unknown as CheckpointState };
    if (first === undefined) first = shard;
    else checkSameJob(first, shard);
    shards.push(shard);
  }
  checkShardSet(shards);
  for (const { path } of shards) {
    const shard = await readScoreState(path);
    let acc: CorpusAccumulator;
    try {
      acc = CorpusAccumulator.fromJSON(shard.state.accumulator);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
    }
    if (merged === undefined) merged = acc;
    else {
      try {
        merged.merge(acc);
      } catch (e) {
        throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
      }
    }
    skipped += shard.state.skippedLines;
    reasons.push(...shard.state.skippedReasons);
  }
  const result = computeCorpusStats(merged!);
  const d = first!.description;
  const shardInfo = d.shard;
  return {
    stats: result.stats,
    meanDistribution: result.meanDistribution,
    file: {
      ...result.stats,
      created: new Date().toISOString(),
      complete: true,
      model: d.model as { source: string },
      base: d.base as { source: string } | null,
      data: {
        path: shardInfo?.data_path ?? `merged from ${paths.join(", ")}`,
        bytes: d.data.bytes,
        sha256: d.data.sha256,
      },
      // Shards of one split: the whole job's settings, as a single run records them.
      settings: shardInfo !== undefined ? d.settings as unknown as ScoreFile["settings"] : {
        max_seq_len: d.settings.max_seq_len as number,
        context_len: d.settings.context_len as number,
        prefix_token: d.settings.prefix_token as number,
        max_docs: null,
        doc_indices: null,
      },
      skipped: {
        lines: skipped,
        reasons: shardInfo !== undefined
          ? mergeSkipReasons(reasons, shardInfo.data_path)
          : reasons.slice(0, 20),
      },
      provenance: {
        toolkit_version: TOOLKIT_VERSION,
        runtime: runtimeDescription(),
        elapsed_seconds: 0,
        resumed_from_documents: 0,
      },
    },
  };
}

/** Merges the shards and writes the `score/1` file (with its `.meandist.npy`) to `outPath`. */
export async function writeMergedScores(paths: readonly string[], outPath: string): Promise<MergedScores> {
  const merged = await mergeScoreStates(paths);
  await writeScoreFile(outPath, merged.file, merged.meanDistribution);
  return merged;
}
