/**
 * A study's steps split into shards, as cluster jobs run them: each shard of a score, sweep or diversity step
 * writes its mergeable part under `<results>/shards/`, and a merge puts the step's result where a single run puts
 * it, under the same result-cache key — so the report job that follows (and any rerun) reuses it as if one
 * machine had computed it. Shards are keyed by the step's key and their place (I of N): a rerun skips a shard
 * that is done and redoes one that is missing or changed.
 *
 * What a shard holds and how documents and cells are assigned to shards: lib/io/shards.ts.
 * @module
 */
import { join } from "node:path";
import { keyOf } from "../cache/result_cache.ts";
import { sha256File } from "../io/sha256.ts";
import { safePathSegment, writingTo } from "../io/output_paths.ts";
import { shardLabel, type ShardSpec } from "../io/shards.ts";
import { runScoreJob, statePathOf } from "../scoring/score_job.ts";
import { mergeScoreStates } from "../scoring/merge_scores.ts";
import { writeScoreFile } from "../io/score_format.ts";
import { mergeSweepShards, runSweep } from "../sampling/sweep.ts";
import { writeCompletionsJson } from "../io/completions_json.ts";
import { loadCompletions } from "../data/load_completions.ts";
import { analyseCompletionsShard } from "../diversity/analyse.ts";
import { mergeDiversityShards, writeDiversityShardFile } from "../diversity/merge.ts";
import { writeDiversityFile } from "../io/diversity_format.ts";
import { selectMetrics } from "../metrics/registry.ts";
import { openEmbedder } from "../embeddings/registry.ts";
import type { StudyConfig } from "./config.ts";
import {
  type Artefact,
  cachedArtefact,
  diversityAnalysisOptions,
  diversityStepKey,
  packName,
  runnableSweepSpec,
  type ScoreArtefact,
  scoreHeadline,
  scoreStep,
  type StepKey,
  type StepOutcome,
  StudyModels,
  studyPackEntry,
  studyPaths,
  sweepStep,
} from "./steps.ts";

/** The steps that split into shards. */
export type ShardedStepKind = "score" | "sweep" | "diversity";

/** One unit of work of a step: a model's score, or a model's sweep or diversity on one pack. */
export interface StepUnit {
  kind: ShardedStepKind;
  model: string;
  /** The pack's name (sweep and diversity). */
  pack?: string;
}

/** One unit's artefact names for people: "score base", "sweep tuned creative". */
export function unitLabel(u: StepUnit): string {
  return `${u.kind} ${u.model}${u.pack !== undefined ? ` ${u.pack}` : ""}`;
}

/** Where shard I of N of a unit writes: `<results>/shards/<kind>/<model>[/<pack>]/<I>of<N>.json`. */
function shardOutPath(study: StudyConfig, u: StepUnit, shard: ShardSpec): string {
  return join(
    study.resultsDir,
    "shards",
    u.kind,
    safePathSegment(u.model, "model name"),
    ...(u.pack !== undefined ? [safePathSegment(u.pack, "pack name")] : []),
    `${shard.index}of${shard.count}.json`,
  );
}

/** The unit's step key (what its merged result is cached under). Diversity needs its sweep done. */
export async function unitKey(study: StudyConfig, u: StepUnit): Promise<StepKey> {
  if (u.kind === "score") return (await scoreStep(study, u.model)).key;
  const models = new StudyModels(study);
  const pack = packName(studyPackEntry(study, u.pack!));
  const sweepKey = (await sweepStep(study, models.spec(u.model), pack)).key;
  if (u.kind === "sweep") return sweepKey;
  const sweep = await requireDone(study, sweepKey, `the sweep of ${u.model} on ${pack}`);
  return await diversityStepKey(study, u.model, pack, sweep.sha256);
}

/** The cache key of shard I of N of a step. */
export async function shardKey(stepKey: StepKey, shard: ShardSpec): Promise<StepKey> {
  return await keyOf({
    label: `${stepKey.label} shard ${shardLabel(shard)}`,
    params: { shard: { index: shard.index, count: shard.count } },
    hashes: { step: stepKey.key },
  });
}

/** A step that has not run (or whose file changed) where its result is required. */
export class StepNotDoneError extends Error {
  constructor(what: string) {
    super(`${what} is not done (or its file changed): run it first`);
    this.name = "StepNotDoneError";
  }
}

/** The cached artefact under `key`, whose file is intact; an error naming `what` when there is none. */
async function requireDone<T extends Artefact>(
  study: StudyConfig,
  key: StepKey,
  what: string,
): Promise<T> {
  const r = await cachedArtefact<T>(study, key, () => Promise.reject(new StepNotDoneError(what)), false);
  return r.value;
}

/** Whether the artefact under `key` is done (cached and its file intact), without computing anything. */
export async function isDone(study: StudyConfig, key: StepKey): Promise<boolean> {
  try {
    await requireDone(study, key, "the step");
    return true;
  } catch (e) {
    if (e instanceof StepNotDoneError) return false;
    throw e;
  }
}

/** Options of {@link runShard} and {@link mergeUnit}. */
export interface ShardStepOptions {
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** Runs shard I of N of a unit (or reuses it when done); the artefact is the shard's mergeable file. */
export async function runShard(
  study: StudyConfig,
  u: StepUnit,
  shard: ShardSpec,
  opts: ShardStepOptions = {},
): Promise<StepOutcome<Artefact>> {
  const stepKey = await unitKey(study, u);
  const key = await shardKey(stepKey, shard);
  const out = shardOutPath(study, u, shard);
  const what = `${unitLabel(u)} shard ${shardLabel(shard)}`;
  return await cachedArtefact(study, key, async () => {
    opts.log?.(`${what}: running`);
    if (u.kind === "score") {
      const { spec, base, corpus } = await scoreStep(study, u.model);
      const r = await runScoreJob({
        model: spec.source,
        base: base?.source,
        data: corpus,
        outPath: out,
        maxDocs: study.corpus.maxDocs ?? undefined,
        maxSeqLen: study.corpus.maxSeqLen,
        contextLen: study.corpus.contextLen,
        resume: "auto",
        shard,
        signal: opts.signal,
        log: opts.log,
      });
      if (r.status !== "complete") {
        throw new Error(`${what} ${r.status === "interrupted" ? "was interrupted" : "failed"}`, {
          cause: r.error,
        });
      }
      const state = statePathOf(out);
      return { path: state, sha256: await sha256File(state) };
    }
    const models = new StudyModels(study);
    try {
      const pack = packName(studyPackEntry(study, u.pack!));
      if (u.kind === "sweep") {
        const { sweepSpec } = await sweepStep(study, models.spec(u.model), pack);
        const { model, tokenizer } = await models.get(u.model);
        await runSweep(model, tokenizer, runnableSweepSpec(model, tokenizer, sweepSpec), {
          outPath: out,
          resume: "auto",
          shard,
          signal: opts.signal,
        });
        return { path: out, sha256: await sha256File(out) };
      }
      const sweepKey = (await sweepStep(study, models.spec(u.model), pack)).key;
      const sweep = await requireDone(study, sweepKey, `the sweep of ${u.model} on ${pack}`);
      const metrics = selectMetrics(study.diversity.metrics);
      const embedder = metrics.some((x) => x.needsEmbeddings)
        ? await openEmbedder(study.diversity.embedder)
        : undefined;
      try {
        const loaded = await loadCompletions(sweep.path);
        const file = await analyseCompletionsShard(loaded, {
          ...diversityAnalysisOptions(study, u.model, pack, metrics, embedder),
          onProgress: () => opts.signal?.throwIfAborted(),
        }, shard);
        await writingTo(out, () => writeDiversityShardFile(out, file));
      } finally {
        await embedder?.dispose();
      }
      return { path: out, sha256: await sha256File(out) };
    } finally {
      await models.dispose();
    }
  }, false);
}

/**
 * Merges the N shards of a unit into the file a single run writes, cached under the step's own key (or reuses the
 * step's result when it is done). A shard that has not run is an error naming it.
 */
export async function mergeUnit(
  study: StudyConfig,
  u: StepUnit,
  count: number,
  opts: ShardStepOptions = {},
): Promise<StepOutcome<Artefact>> {
  const stepKey = await unitKey(study, u);
  return await cachedArtefact<Artefact>(study, stepKey, async () => {
    const paths: string[] = [];
    for (let index = 1; index <= count; index++) {
      const shard = { index, count };
      const done = await requireDone(
        study,
        await shardKey(stepKey, shard),
        `${unitLabel(u)} shard ${shardLabel(shard)}`,
      );
      paths.push(done.path);
    }
    opts.log?.(`${unitLabel(u)}: merging ${count} shards`);
    if (u.kind === "score") {
      const out = studyPaths.score(study, u.model);
      const merged = await mergeScoreStates(paths);
      await writingTo(out, () => writeScoreFile(out, merged.file, merged.meanDistribution));
      const artefact: ScoreArtefact = {
        path: out,
        sha256: await sha256File(out),
        model: u.model,
        headline: scoreHeadline(merged.stats),
      };
      return artefact;
    }
    const pack = packName(studyPackEntry(study, u.pack!));
    if (u.kind === "sweep") {
      const out = studyPaths.completions(study, u.model, pack);
      const doc = await mergeSweepShards(paths);
      await writingTo(out, () => writeCompletionsJson(out, doc));
      return { path: out, sha256: await sha256File(out), model: u.model, pack };
    }
    const out = studyPaths.diversity(study, u.model, pack);
    const file = await mergeDiversityShards(paths);
    await writingTo(out, () => writeDiversityFile(out, file));
    return { path: out, sha256: await sha256File(out), model: u.model, pack };
  }, false);
}
