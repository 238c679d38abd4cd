/**
 * One corpus-scoring job, end to end: load the model (and a base), read the corpus, score it in bounded memory,
 * checkpoint every N documents, resume from a checkpoint, and write the `score/1` output with the mean
 * distribution beside it. What the CLI's `analyse score`, the main job and the notebooks all call.
 *
 * Checked before any document is scored: the corpus exists and is not empty, the selection selects something and
 * lies within the corpus, the windows fit the model (`max_position_embeddings`), a base model shares the model's
 * tokenizer (by content), and no checkpoint of an earlier run would be silently replaced (`resume` / `fresh`).
 *
 * Nothing scored is lost: compute, checkpoint, then write. An interrupted or failed job writes a checkpoint and
 * its statistics so far to `<out>.partial.json`; a finished one saves its final state in the checkpoint before
 * writing the output, so an output that cannot be written (a read-only folder, a full disk) is written by
 * `resume` later; the checkpoint goes to the temporary folder when its own folder takes no file. A finished job
 * leaves its final state in `<out>.state.json` for merging shards and removes the checkpoint and stale partial
 * files. A job that scored no token at all fails and says why.
 * @module
 */
import { stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { CausalLM } from "../models/causal_lm.ts";
import { loadCausalLM } from "../models/load_causal_lm.ts";
import type { CausalLMDtype } from "../models/onnx_files.ts";
import type { CausalLMDevice } from "../models/onnx_session.ts";
import { loadTokenizer, prefixTokenId, type Tokenizer } from "../models/tokenizer.ts";
import type { CorpusDocument } from "../data/corpus_document.ts";
import { countCorpusLines, readCorpus } from "../data/corpus_reader.ts";
import { CorpusAccumulator } from "./corpus_accumulator.ts";
import { computeCorpusStats } from "./corpus_stats.ts";
import type { CorpusStats } from "../io/score_stats.ts";
import { scoreCorpus } from "./score_corpus.ts";
import {
  describeCheckpointFile,
  readCheckpoint,
  runKeyOf,
  RunStateExistsError,
  SCORE_CHECKPOINT_STATE_SCHEMA,
  validateCheckpointState,
  writeCheckpoint,
} from "../io/checkpoint.ts";
import { meanDistributionPath, writeScoreFile } from "../io/score_format.ts";
import { runtimeDescription, TOOLKIT_VERSION } from "../version.ts";
import { sha256File, sha256Hex } from "../io/sha256.ts";
import { writeErrorFor } from "../io/output_paths.ts";
import { shardLabel, shardPositions, type ShardSpec } from "../io/shards.ts";

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
  /**
   * Chained SHA-256 over the documents read so far (index and text): a resumed run checks that the corpus still
   * holds these documents, so a corpus fixed after a failure can be resumed, and a different one cannot.
   */
  documentsSha256: string;
}

/** What a shard's state records besides the job: which shard, of which selection, of which corpus path. */
export interface ScoreShardInfo {
  index: number;
  count: number;
  /** `--data` as given (the merged file records it, as a single run does). */
  data_path: string;
  /** Documents the whole job selects (all shards together). */
  selected_documents: number;
  /** SHA-256 of the whole job's selected indices (JSON list, ascending). */
  selection_sha256: string;
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
  /**
   * Score only shard I of N of the selected documents (lib/io/shards.ts: the k-th selected document, in index
   * order, belongs to shard k mod N + 1); the final state records it, for `analyse merge`.
   */
  shard?: ShardSpec;
  /** Rolling window length (default 1024, the paper's). */
  maxSeqLen?: number;
  /** Tokens of context re-read by each following window (default 1). */
  contextLen?: number;
  /** Documents between checkpoints (default 50). */
  checkpointEvery?: number;
  /**
   * Continue from the checkpoint of the same job. `false` (default): start afresh — refused while a checkpoint
   * exists, unless `fresh`. `"auto"` (the main job): continue a checkpoint of this very run (same inputs,
   * same documents), discard any other with a log line.
   */
  resume?: boolean | "auto";
  /** Discard an existing checkpoint and start afresh (with `resume: false`). */
  fresh?: boolean;
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
  /** Stops after the current window (a checkpoint of the whole documents is written). */
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
  /** Where the statistics go: the output, or `<out>.partial.json`. */
  outPath: string;
  /** Whether `outPath` was written (false when writing it failed, or nothing was scored yet). */
  written: boolean;
  /**
   * Where the state was saved: `<out>.checkpoint.json` (removed once complete), or a file in the temporary
   * folder when that one could not be written; undefined when there was nothing to save.
   */
  checkpointPath?: string;
  /** Where `resume` looks for the checkpoint: `<out>.checkpoint.json`. */
  resumePath: string;
  /** The statistics (of what was scored). */
  stats: CorpusStats;
  /** The error of a failed job (scoring or writing). */
  error?: Error;
}

export { sha256File };

/** Checks the options, throwing a RangeError that names the bad one. */
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
  if (o.maxDocs === 0) throw new RangeError("max-docs 0 selects no document: nothing would be scored");
  if (o.docIndices !== undefined && o.docIndices.size === 0) {
    throw new RangeError(
      `${o.docIndicesPath ?? "the document index list"} lists no document: nothing to score`,
    );
  }
  if (o.resume === true && o.fresh) throw new RangeError("resume and fresh exclude each other: give one");
}

/** Vocabulary, merges and added (special) tokens of a tokenizer.json, in a canonical form, hashed by part. */
export interface TokenizerFingerprint {
  /** The tokenizer.json read. */
  file: string;
  /** SHA-256 of the canonical whole. */
  sha256: string;
  /** SHA-256 of each part, to say which differs. */
  parts: { vocab: string; merges: string; added_tokens: string };
  /** Sizes, for messages. */
  sizes: { vocab: number; merges: number; added_tokens: number };
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/**
 * The content fingerprint of the tokenizer in `dir` (its `tokenizer.json`): the vocabulary (token → id, or a
 * Unigram's pieces), the merges (both the `"a b"` and the `["a", "b"]` spellings read the same) and the added
 * tokens (id, content, special). Two folders with equal fingerprints turn any text into the same ids.
 */
export async function tokenizerFingerprint(dir: string): Promise<TokenizerFingerprint> {
  const file = join(dir, "tokenizer.json");
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new Error(`cannot read the tokenizer ${file}: ${(e as Error).message}`, { cause: e });
  }
  const model = (json.model ?? {}) as Record<string, unknown>;
  const vocab = model.vocab ?? null;
  const merges = Array.isArray(model.merges)
    ? model.merges.map((m) => {
      if (typeof m !== "string") return m;
      const i = m.indexOf(" ");
      return i < 0 ? [m] : [m.slice(0, i), m.slice(i + 1)];
    })
    : [];
  const added = Array.isArray(json.added_tokens)
    ? (json.added_tokens as Record<string, unknown>[])
      .map((t) => ({ id: t.id, content: t.content, special: t.special ?? false }))
      .sort((a, b) => Number(a.id) - Number(b.id))
    : [];
  const text = {
    vocab: canonicalJson({ type: model.type ?? null, vocab }),
    merges: canonicalJson(merges),
    added_tokens: canonicalJson(added),
  };
  const enc = new TextEncoder();
  const vocabSize = Array.isArray(vocab) ? vocab.length : Object.keys(vocab ?? {}).length;
  return {
    file,
    sha256: sha256Hex(enc.encode(`${text.vocab}\n${text.merges}\n${text.added_tokens}`)),
    parts: {
      vocab: sha256Hex(enc.encode(text.vocab)),
      merges: sha256Hex(enc.encode(text.merges)),
      added_tokens: sha256Hex(enc.encode(text.added_tokens)),
    },
    sizes: { vocab: vocabSize, merges: merges.length, added_tokens: added.length },
  };
}

/**
 * Throws, naming both folders and what differs, unless the tokenizers in `modelDir` and `baseDir` are equal by
 * content: KL, JS and argmax changes compare the two models token id by token id.
 */
export async function checkSameTokenizer(
  model: { name: string; dir: string },
  base: { name: string; dir: string },
): Promise<void> {
  const [a, b] = await Promise.all([tokenizerFingerprint(model.dir), tokenizerFingerprint(base.dir)]);
  if (a.sha256 === b.sha256) return;
  const differs = (["vocab", "merges", "added_tokens"] as const).filter((k) => a.parts[k] !== b.parts[k]).map(
    (k) => `${k.replace("_", " ")} (${a.sizes[k]} vs ${b.sizes[k]})`,
  );
  throw new Error(
    `${model.name} (${a.file}) and its base ${base.name} (${b.file}) have different tokenizers: ` +
      `${
        differs.join(", ")
      } differ. A fine-tune is compared with its base token id by token id, so both must ` +
      "use the same tokenizer; give the base model it was fine-tuned from",
  );
}

/** Throws when windows of `maxSeqLen` tokens exceed what the model reads (`max_position_embeddings`). */
export function checkWindowFits(model: CausalLM, maxSeqLen: number, what = "max-seq-len"): void {
  const max = model.info.maxPositions;
  if (max !== undefined && maxSeqLen > max) {
    throw new RangeError(
      `${what} ${maxSeqLen} exceeds the ${max} positions ${model.info.source} reads ` +
        `(config.json max_position_embeddings); give ${what} ${max} or less`,
    );
  }
}

/** Throws when document indices lie past the end of the corpus (lines are 0-based document indices). */
async function checkIndicesInCorpus(data: string, indices: ReadonlySet<number>, from: string): Promise<void> {
  let last = -1;
  for (const i of indices) last = i > last ? i : last;
  let lines: number;
  try {
    lines = await countCorpusLines(data, last + 1);
  } catch {
    return; // a damaged corpus: the run itself stops at the damage and says where
  }
  if (lines > last) return;
  const past = [...indices].filter((i) => i >= lines).sort((a, b) => a - b);
  throw new RangeError(
    `${from}: ${past.length} document ${past.length === 1 ? "index is" : "indices are"} past the end of ` +
      `${data}, which has ${lines} line${lines === 1 ? "" : "s"} (indices 0 to ${lines - 1}): ` +
      `${past.slice(0, 5).join(", ")}${past.length > 5 ? ", …" : ""}`,
  );
}

/** The chained hash of the documents read: `sha256(previous, index, text)`, from "" for none. */
function chainDocument(previous: string, doc: CorpusDocument): string {
  const enc = new TextEncoder();
  return sha256Hex(enc.encode(`${previous}\n${doc.index}\n`), enc.encode(doc.text));
}

/** A resumed corpus that does not hold the documents the checkpoint scored: nothing is written or saved. */
class CorpusChangedError extends Error {}

/** Where a checkpoint goes when its own folder takes no file. */
function fallbackCheckpointPath(checkpointPath: string, runKey: string): string {
  return join(tmpdir(), "mode-collapse-checkpoints", `${runKey.slice(0, 12)}.${basename(checkpointPath)}`);
}

/** Why a job read documents but scored no token, in words. */
function whyNothing(data: string, stats: {
  lines: number;
  documents: number;
  skipped: number;
  formatNote?: string;
}, empty: number): string {
  if (stats.lines === 0) return `${data} has no line`;
  const parts = [`${data}: ${stats.lines} line${stats.lines === 1 ? "" : "s"} read`];
  if (stats.skipped > 0) parts.push(`${stats.skipped} malformed (skipped; --strict stops at the first)`);
  if (stats.documents === 0) parts.push("no document selected");
  else if (empty > 0) parts.push(`${empty} document${empty === 1 ? "" : "s"} without any text token`);
  if (stats.formatNote) parts.push(stats.formatNote);
  return parts.join(", ");
}

/** Runs one scoring job (see the module comment). */
export async function runScoreJob(o: ScoreJobOptions): Promise<ScoreJobResult> {
  validateScoreJobOptions(o);
  const maxSeqLen = o.maxSeqLen ?? 1024;
  const contextLen = o.contextLen ?? 1;
  const every = o.checkpointEvery ?? 50;
  const log = o.log ?? (() => {});
  // Scoring never decodes: large models load without their KV outputs (less memory per window).
  const loadOptions = { dtype: o.dtype, device: o.device, allowRemote: o.allowRemote, scoringOnly: true };
  const started = performance.now();
  const checkpointPath = checkpointPathOf(o.outPath);

  // The corpus and the checkpoint first: no model is loaded for a job that cannot run.
  let dataStat;
  try {
    dataStat = await stat(o.data);
  } catch (e) {
    throw new Error(`cannot read the corpus ${o.data}: ${(e as Error).message}`, { cause: e });
  }
  if (!dataStat.isFile()) throw new Error(`the corpus ${o.data} is not a file`);
  if (dataStat.size === 0) throw new Error(`the corpus ${o.data} is empty (0 bytes): nothing to score`);
  if (o.resume === false || o.resume === undefined) {
    if (existsSync(checkpointPath)) {
      if (!o.fresh) throw new RunStateExistsError(checkpointPath, describeCheckpointFile(checkpointPath));
      log(`discarding ${describeCheckpointFile(checkpointPath)}: ${checkpointPath} (--fresh)`);
      await Deno.remove(checkpointPath);
    }
  }

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
    checkWindowFits(model, maxSeqLen);
    let baseTokenizer: Tokenizer | undefined;
    if (base !== undefined) {
      checkWindowFits(base, maxSeqLen);
      baseTokenizer = await loadTokenizer(base.info.source);
      await checkSameTokenizer(
        { name: `the model ${model.info.source}`, dir: tokenizer.dir },
        { name: base.info.source, dir: baseTokenizer.dir },
      );
    }
    if (o.docIndices !== undefined) {
      await checkIndicesInCorpus(o.data, o.docIndices, o.docIndicesPath ?? "document indices");
    }
    const prefixToken = prefixTokenId(tokenizer, {
      configBosTokenId: model.info.generation.bosTokenId,
      paperCompat: o.paperPrefix ?? false,
    });
    const dataSha = await sha256File(o.data);
    // A shard scores its part of the selection: the whole job's selection, then every N-th document of it.
    let docIndices = o.docIndices;
    let shardInfo: ScoreShardInfo | undefined;
    if (o.shard !== undefined) {
      const limit = o.maxDocs ?? Infinity;
      const all = o.docIndices !== undefined
        ? [...o.docIndices].filter((i) => i < limit).sort((a, b) => a - b)
        : Array.from(
          { length: await countCorpusLines(o.data, o.maxDocs ?? Number.MAX_SAFE_INTEGER) },
          (_, i) => i,
        );
      const mine = shardPositions(all.length, o.shard).map((k) => all[k]);
      if (mine.length === 0) {
        throw new RangeError(
          `shard ${shardLabel(o.shard)} holds no document: the selection has ${all.length} ` +
            "(give fewer shards)",
        );
      }
      docIndices = new Set(mine);
      shardInfo = {
        index: o.shard.index,
        count: o.shard.count,
        data_path: o.data,
        selected_documents: all.length,
        selection_sha256: sha256Hex(new TextEncoder().encode(JSON.stringify(all))),
      };
    }
    const settings = {
      max_seq_len: maxSeqLen,
      context_len: contextLen,
      prefix_token: prefixToken,
      max_docs: o.maxDocs ?? null,
      doc_indices: o.docIndicesPath ?? (o.docIndices ? "(given)" : null),
    };
    const tokenizerSha = (await tokenizerFingerprint(tokenizer.dir)).sha256;
    // The corpus is identified by the documents read (see CheckpointState.documentsSha256), not the file's hash,
    // so a corpus repaired after a failure resumes where the damage stopped it.
    const keyed = {
      toolkit: TOOLKIT_VERSION,
      model: model.info,
      base: base?.info ?? null,
      tokenizer_sha256: tokenizerSha,
      settings,
      docIndices: docIndices ? [...docIndices].sort((a, b) => a - b) : null,
      ...(shardInfo !== undefined ? { shard: shardInfo } : {}),
    };
    const runDescription = { ...keyed, data: { bytes: dataStat.size, sha256: dataSha } };
    const runKey = await runKeyOf(keyed);

    let acc = new CorpusAccumulator({ vocab: model.info.vocabSize, withBase: base !== undefined });
    let resumedDocs = 0;
    let resumedSha = "";
    const skippedReasons: string[] = [];
    let skippedLines = 0;
    if (o.resume) {
      let cp;
      try {
        cp = readCheckpoint<CheckpointState>(checkpointPath, "score", runKey, runDescription);
        if (cp !== undefined) validateCheckpointState(cp, SCORE_CHECKPOINT_STATE_SCHEMA, checkpointPath);
      } catch (e) {
        if (o.resume !== "auto") throw e;
        log(`discarding ${checkpointPath}: ${(e as Error).message.split(";")[0]}`);
        await Deno.remove(checkpointPath).catch(() => {});
      }
      const sameData = (cp?.runDescription.data as { sha256?: string } | undefined)?.sha256 === dataSha;
      if (cp !== undefined && o.resume === "auto" && !sameData) {
        log(`discarding ${checkpointPath}: the corpus ${o.data} changed since it was written`);
        await Deno.remove(checkpointPath).catch(() => {});
        cp = undefined;
      }
      if (cp === undefined) log(`no checkpoint at ${checkpointPath}; starting afresh`);
      else {
        acc = CorpusAccumulator.fromJSON(cp.state.accumulator);
        resumedDocs = cp.state.documentsRead;
        resumedSha = cp.state.documentsSha256;
        skippedLines = cp.state.skippedLines;
        skippedReasons.push(...cp.state.skippedReasons);
        log(`resuming after ${resumedDocs} documents (${acc.tokens} tokens) from ${checkpointPath}`);
      }
    }

    let documentsRead = resumedDocs;
    let documentsSha = "";
    let passedOver = 0;
    const stateOf = () => ({
      kind: "score",
      runKey,
      runDescription,
      unitsDone: documentsRead,
      state: {
        accumulator: acc.toJSON(),
        documentsRead,
        skippedLines,
        skippedReasons,
        documentsSha256: documentsSha,
      } satisfies CheckpointState,
    });
    const writeState = (path: string) => {
      try {
        writeCheckpoint(path, stateOf());
      } catch (e) {
        throw writeErrorFor(path, e);
      }
    };
    // Checkpoints during the run: a failure is reported once and the run goes on (the state is in memory; the
    // final save tries again, and falls back to the temporary folder).
    let checkpointFailure: string | undefined;
    const save = () => {
      try {
        writeState(checkpointPath);
        checkpointFailure = undefined;
      } catch (e) {
        if (checkpointFailure === undefined) log(`checkpoint not saved: ${(e as Error).message}`);
        checkpointFailure = (e as Error).message;
      }
    };
    // The state of a stopped or finished job: its place, else the temporary folder, else nowhere (said).
    const saveFinal = (): { path?: string; error?: Error } => {
      try {
        writeState(checkpointPath);
        return { path: checkpointPath };
      } catch (e) {
        const fallback = fallbackCheckpointPath(checkpointPath, runKey);
        try {
          writeState(fallback);
          log(`${(e as Error).message}; the state is saved in ${fallback} instead`);
          return { path: fallback, error: e as Error };
        } catch (e2) {
          return {
            error: new Error(`${(e as Error).message}; nor in ${fallback}: ${(e2 as Error).message}`),
          };
        }
      }
    };
    const total = shardInfo !== undefined ? docIndices!.size : o.maxDocs ?? o.docIndices?.size;
    const t0 = performance.now();
    const corpus = readCorpus(o.data, {
      maxDocs: shardInfo !== undefined ? undefined : o.maxDocs,
      docIndices: docIndices as Set<number> | undefined,
      strict: o.strict,
      startAt: resumedDocs,
      onPassOver: (doc) => {
        documentsSha = chainDocument(documentsSha, doc);
        if (++passedOver === resumedDocs && documentsSha !== resumedSha) {
          throw new CorpusChangedError(
            `${o.data} does not hold the ${resumedDocs} documents ${checkpointPath} was made on (they differ ` +
              `within the first ${resumedDocs} selected documents), so it cannot be resumed; give --fresh ` +
              "instead of --resume to discard it and start again",
          );
        }
      },
      onSkip: (s) => {
        skippedLines++;
        if (skippedReasons.length < 20) skippedReasons.push(`${s.path}:${s.line}: ${s.reason}`);
        log(`skipped ${s.path}:${s.line}: ${s.reason}`);
      },
    });
    let noted = false;
    let finished = false;
    let failure: Error | undefined;
    let empty = 0;
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
          if (!noted && corpus.stats.formatNote !== undefined) log(corpus.stats.formatNote);
          noted = true;
          documentsRead = resumedDocs + p.documentsRead;
          documentsSha = chainDocument(documentsSha, p.document);
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
      empty = r.emptyDocuments;
      if (finished && passedOver < resumedDocs) {
        throw new CorpusChangedError(
          `${o.data} now holds ${passedOver} of the ${resumedDocs} selected documents ${checkpointPath} covers, ` +
            "so it cannot be resumed; give --fresh instead of --resume to discard it and start again",
        );
      }
    } catch (e) {
      if (e instanceof CorpusChangedError) throw e;
      failure = e as Error;
      finished = false;
    }
    const result = computeCorpusStats(acc);
    const stopped = failure !== undefined ? "failed" : finished ? "complete" : "interrupted";

    // No silent nothing: a job that ran to the end without a single scored token fails and says why.
    if (finished && acc.tokens === 0) {
      await Deno.remove(checkpointPath).catch(() => {});
      return {
        status: "failed",
        outPath: o.outPath,
        written: false,
        resumePath: checkpointPath,
        stats: result.stats,
        error: new Error(`no token was scored: ${whyNothing(o.data, corpus.stats, empty)}`),
      };
    }
    // Nothing done in this process and nothing resumed: nothing to keep.
    if (!finished && documentsRead === 0) {
      return {
        status: stopped,
        outPath: o.outPath,
        written: false,
        resumePath: checkpointPath,
        stats: result.stats,
        ...(failure !== undefined ? { error: failure } : {}),
      };
    }

    // Compute, checkpoint, then write: the state is on disk before the output is attempted.
    const saved = saveFinal();
    const outPath = finished ? o.outPath : partialPathOf(o.outPath);
    let writeFailure: Error | undefined;
    try {
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
      // The final state stays beside the output, so shards scored apart can be merged (analyse merge-scores).
      if (finished) writeState(statePathOf(o.outPath));
    } catch (e) {
      writeFailure = writeErrorFor(outPath, e);
    }
    if (saved.error !== undefined && saved.path === undefined) {
      // Even the state could not be saved: say so with the output's fate.
      writeFailure = new Error(
        `${writeFailure ? writeFailure.message + "; " : ""}the state could not be saved either: ` +
          saved.error.message,
      );
    }
    if (finished && writeFailure === undefined) {
      for (
        const p of [checkpointPath, partialPathOf(o.outPath), meanDistributionPath(partialPathOf(o.outPath))]
      ) {
        await Deno.remove(p).catch(() => {});
      }
      if (saved.path !== undefined && saved.path !== checkpointPath) {
        await Deno.remove(saved.path).catch(() => {});
      }
      return {
        status: "complete",
        outPath,
        written: true,
        resumePath: checkpointPath,
        stats: result.stats,
      };
    }
    const error = failure ?? writeFailure;
    return {
      status: failure !== undefined || finished ? "failed" : "interrupted",
      outPath,
      written: writeFailure === undefined,
      ...(saved.path !== undefined ? { checkpointPath: saved.path } : {}),
      resumePath: checkpointPath,
      stats: result.stats,
      ...(error !== undefined ? { error } : {}),
    };
  } finally {
    for (const m of owned) await m.dispose();
  }
}
