/**
 * One corpus-scoring job, end to end: load the model (and a base), read the corpus, score it in bounded memory,
 * checkpoint every N documents, resume from a checkpoint, and write the `score/1` output with the mean
 * distribution beside it. What the CLI's `analyse score`, the main job and the notebooks all call.
 *
 * Nothing scored is lost: an interrupted or failed job writes a checkpoint and its statistics so far to
 * `<out>.partial.json`; a finished one leaves its final state in `<out>.state.json` for merging shards.
 * @module
 */
import { stat } from "node:fs/promises";
import { type CausalLM, type CausalLMDevice, type CausalLMDtype, loadCausalLM } from "../models/load.ts";
import { loadTokenizer, prefixTokenId } from "../models/tokenizer.ts";
import { readCorpus } from "../data/corpus.ts";
import { CorpusAccumulator } from "./accumulators.ts";
import { computeCorpusStats, type CorpusStats } from "./corpus_stats.ts";
import { scoreCorpus } from "./score_corpus.ts";
import { readCheckpoint, runKeyOf, writeCheckpoint } from "../io/checkpoint.ts";
import { writeScoreFile } from "../io/score_format.ts";
import { runtimeDescription, TOOLKIT_VERSION } from "../version.ts";
import { sha256File } from "../io/sha256.ts";

/** `<out>.state.json`: the final accumulators of a finished run, for merging shards. */
export function statePathOf(outPath: string): string {
  return outPath.replace(/\.json$/i, "") + ".state.json";
}

/** `<out>.checkpoint.json`: the checkpoint of a running or stopped job. */
export function checkpointPathOf(outPath: string): string {
  return outPath.replace(/\.json$/i, "") + ".checkpoint.json";
}

/** `<out>.partial.json`: the statistics of a job that did not finish. */
export function partialPathOf(outPath: string): string {
  return outPath.replace(/\.json$/i, "") + ".partial.json";
}

/** What a score checkpoint (and a final state file) holds besides its key. */
export interface CheckpointState {
  /** Serialised accumulators. */
  accumulator: unknown;
  /** Documents taken from the corpus stream (scored or empty). */
  documentsRead: number;
  /** Malformed corpus lines skipped so far. */
  skippedLines: number;
  /** The first 20 of their reasons (file:line: what). */
  skippedReasons: string[];
}

/** Progress of a scoring job. */
export interface ScoreJobProgress {
  /** Documents read (resumed ones included). */
  documentsRead: number;
  /** Documents the job will read, when known (`maxDocs` or the index file). */
  documentsTotal?: number;
  /** Tokens scored (resumed ones included). */
  tokens: number;
  /** Tokens per second in this process. */
  tokensPerSecond: number;
  /** Seconds left, when the total is known. */
  etaSeconds?: number;
}

/** Options of {@link runScoreJob}. */
export interface ScoreJobOptions {
  /** The model: a folder, preset or hub id, or a loaded model (not disposed by the job). */
  model: string | CausalLM;
  /** A base model to compare with on the same windows (KL, JS, argmax changes). */
  base?: string | CausalLM;
  /** Pile-format corpus: `.jsonl` or `.jsonl.zst`. */
  data: string;
  /** The `score/1` output file. */
  outPath: string;
  /** Read at most this many documents. */
  maxDocs?: number;
  /** Only these 0-based document indices. */
  docIndices?: ReadonlySet<number>;
  /** Where `docIndices` came from (recorded). */
  docIndicesPath?: string;
  /** Rolling window length (default 1024, the paper's). */
  maxSeqLen?: number;
  /** Tokens of context re-read by each following window (default 1). */
  contextLen?: number;
  /** Documents between checkpoints (default 50). */
  checkpointEvery?: number;
  /** Continue from the checkpoint of the same job (default false). */
  resume?: boolean;
  /** Stop at the first malformed corpus line (default: skip, count and report it). */
  strict?: boolean;
  /**
   * The paper's prefix quirk: `<|endoftext|>` looked up by name, which gives Llama's unknown token `<unk>`
   * (default false: config.json's bos_token_id, else the tokenizer's BOS, else its EOS).
   */
  paperPrefix?: boolean;
  /** Weight precision for models given by name. */
  dtype?: CausalLMDtype;
  /** Device for models given by name. */
  device?: CausalLMDevice;
  /** Allow hub downloads for models given by name. */
  allowRemote?: boolean;
  /** Stops after the current document (a checkpoint is written). */
  signal?: AbortSignal;
  /** Messages for people (loading, resuming, skipped lines). */
  log?: (line: string) => void;
  /** Called after each document. */
  onProgress?: (p: ScoreJobProgress) => void;
}

/** Outcome of {@link runScoreJob}. */
export interface ScoreJobResult {
  /** `complete`: the output is final; `interrupted`: stopped by the signal; `failed`: an error stopped it. */
  status: "complete" | "interrupted" | "failed";
  /** Where the statistics went: the output, or `<out>.partial.json`. */
  outPath: string;
  /** The checkpoint to `--resume` from (written unless complete). */
  checkpointPath: string;
  /** The statistics written. */
  stats: CorpusStats;
  /** The error of a failed job. */
  error?: Error;
}

export { sha256File };

/** Checks the numeric options, throwing a RangeError that names the bad one. */
export function validateScoreJobOptions(o: ScoreJobOptions): void {
  const int = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) {
      throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
    }
  };
  int("max-seq-len", o.maxSeqLen, 1);
  int("context-len", o.contextLen, 1);
  int("max-docs", o.maxDocs, 0);
  int("checkpoint-every", o.checkpointEvery, 1);
  if ((o.contextLen ?? 1) > (o.maxSeqLen ?? 1024)) {
    throw new RangeError(`context-len ${o.contextLen} exceeds max-seq-len ${o.maxSeqLen ?? 1024}`);
  }
}

/** Runs one scoring job (see the module comment). */
export async function runScoreJob(o: ScoreJobOptions): Promise<ScoreJobResult> {
  validateScoreJobOptions(o);
  const maxSeqLen = o.maxSeqLen ?? 1024;
  const contextLen = o.contextLen ?? 1;
  const every = o.checkpointEvery ?? 50;
  const log = o.log ?? (() => {});
  const loadOptions = { dtype: o.dtype, device: o.device, allowRemote: o.allowRemote };
  const started = performance.now();
  const owned: CausalLM[] = [];
  const load = async (m: string | CausalLM): Promise<CausalLM> => {
    if (typeof m !== "string") return m;
    log(`loading ${m}`);
    const loaded = await loadCausalLM(m, loadOptions);
    owned.push(loaded);
    return loaded;
  };
  try {
    const model = await load(o.model);
    const base = o.base !== undefined ? await load(o.base) : undefined;
    const tokenizer = await loadTokenizer(model.info.source);
    const prefixToken = prefixTokenId(tokenizer, {
      configBosTokenId: model.info.generation.bosTokenId,
      paperCompat: o.paperPrefix ?? false,
    });
    const dataStat = await stat(o.data);
    const dataSha = await sha256File(o.data);
    const settings = {
      max_seq_len: maxSeqLen,
      context_len: contextLen,
      prefix_token: prefixToken,
      max_docs: o.maxDocs ?? null,
      doc_indices: o.docIndicesPath ?? (o.docIndices ? "(given)" : null),
    };
    const runDescription = {
      toolkit: TOOLKIT_VERSION,
      model: model.info,
      base: base?.info ?? null,
      data: { bytes: dataStat.size, sha256: dataSha },
      settings,
      docIndices: o.docIndices ? [...o.docIndices] : null,
    };
    const runKey = await runKeyOf(runDescription);
    const checkpointPath = checkpointPathOf(o.outPath);

    let acc = new CorpusAccumulator({ vocab: model.info.vocabSize, withBase: base !== undefined });
    let resumedDocs = 0;
    const skippedReasons: string[] = [];
    let skippedLines = 0;
    if (o.resume) {
      const cp = readCheckpoint<CheckpointState>(checkpointPath, "score", runKey);
      if (cp === undefined) log(`no checkpoint at ${checkpointPath}; starting afresh`);
      else {
        acc = CorpusAccumulator.fromJSON(cp.state.accumulator);
        resumedDocs = cp.state.documentsRead;
        skippedLines = cp.state.skippedLines;
        skippedReasons.push(...cp.state.skippedReasons);
        log(`resuming after ${resumedDocs} documents (${acc.tokens} tokens) from ${checkpointPath}`);
      }
    }

    let documentsRead = resumedDocs;
    // A checkpoint during the run, and the final state beside the output: the same content.
    const writeState = (path: string) =>
      writeCheckpoint(path, {
        kind: "score",
        runKey,
        runDescription,
        unitsDone: documentsRead,
        state: {
          accumulator: acc.toJSON(),
          documentsRead,
          skippedLines,
          skippedReasons,
        } satisfies CheckpointState,
      });
    const save = () => writeState(checkpointPath);
    const total = o.maxDocs ?? o.docIndices?.size;
    const t0 = performance.now();
    const corpus = readCorpus(o.data, {
      maxDocs: o.maxDocs,
      docIndices: o.docIndices as Set<number> | undefined,
      strict: o.strict,
      startAt: resumedDocs,
      onSkip: (s) => {
        skippedLines++;
        if (skippedReasons.length < 20) skippedReasons.push(`${s.path}:${s.line}: ${s.reason}`);
        log(`skipped ${s.path}:${s.line}: ${s.reason}`);
      },
    });
    let finished = false;
    let failure: Error | undefined;
    try {
      const r = await scoreCorpus(corpus, {
        model,
        base,
        tokenizer,
        maxSeqLen,
        contextLen,
        prefixToken,
        accumulator: acc,
        signal: o.signal,
        onDocument: (p) => {
          documentsRead = resumedDocs + p.documentsRead;
          if (p.documentsRead % every === 0) save();
          const secs = (performance.now() - t0) / 1000;
          const docRate = p.documentsRead / secs;
          o.onProgress?.({
            documentsRead,
            ...(total !== undefined ? { documentsTotal: total } : {}),
            tokens: acc.tokens,
            tokensPerSecond: secs > 0 ? p.tokensScored / secs : 0,
            ...(total !== undefined && docRate > 0 ? { etaSeconds: (total - documentsRead) / docRate } : {}),
          });
        },
      });
      finished = !r.aborted;
    } catch (e) {
      failure = e as Error;
    }
    // What was scored is never lost: a checkpoint on every stop, and the statistics so far in the output.
    if (!finished) save();
    const result = computeCorpusStats(acc);
    const outPath = finished ? o.outPath : partialPathOf(o.outPath);
    await writeScoreFile(outPath, {
      ...result.stats,
      created: new Date().toISOString(),
      complete: finished,
      model: { ...model.info },
      base: base ? { ...base.info } : null,
      data: { path: o.data, bytes: dataStat.size, sha256: dataSha },
      settings,
      skipped: { lines: skippedLines, reasons: skippedReasons },
      provenance: {
        toolkit_version: TOOLKIT_VERSION,
        runtime: runtimeDescription(),
        elapsed_seconds: Math.round((performance.now() - started) / 10) / 100,
        resumed_from_documents: resumedDocs,
      },
    }, result.meanDistribution);
    if (finished) {
      // The final state stays beside the output, so shards scored apart can be merged (analyse merge-scores).
      writeState(statePathOf(o.outPath));
      await Deno.remove(checkpointPath).catch(() => {});
    }
    return {
      status: failure !== undefined ? "failed" : finished ? "complete" : "interrupted",
      outPath,
      checkpointPath,
      stats: result.stats,
      ...(failure !== undefined ? { error: failure } : {}),
    };
  } finally {
    for (const m of owned) await m.dispose();
  }
}
