/**
 * Scores a stream of documents with a causal LM: tokenise (no special tokens), cut into rolling windows, run the
 * model, turn each window's float32 logits into per-position statistics, and stream them into a
 * {@link CorpusAccumulator}. With a base model, the same windows go through it too and each scored position gets
 * KL(base ‖ model), Jensen–Shannon and whether the argmax changed. Memory is bounded by one window's logits (two
 * with a base model), whatever the corpus size.
 * @module
 */
import type { CausalLM } from "../models/causal_lm.ts";
import { nativeMemory, trimNativeMemory } from "../models/native_memory.ts";
import { releaseBuffer } from "../models/release_buffer.ts";
import type { Tokenizer } from "../models/tokenizer.ts";
import type { CorpusDocument } from "../data/corpus_document.ts";
import { CorpusAccumulator } from "./corpus_accumulator.ts";
import { createDivergenceStats, type DivergenceStats } from "./divergence.ts";
import { createPositionStats, type PositionStats } from "./position_stats.ts";
import { divergeWindow, scoreWindowStats, WindowStatsHelper } from "./window_stats.ts";
import { rollingWindows } from "./windows.ts";

/** Window parameters (the paper's defaults: 1024, 1). */
export interface WindowSettings {
  maxSeqLen: number;
  contextLen: number;
  /** Token that precedes the first window of every document (`<|endoftext|>`, or the model's BOS). */
  prefixToken: number;
}

/** What a scoring loop needs. */
export interface ScoreCorpusOptions extends WindowSettings {
  model: CausalLM;
  tokenizer: Tokenizer;
  /** Base model for divergences; must share the model's vocabulary. */
  base?: CausalLM;
  /** The accumulator to add to (fresh, or restored from a checkpoint). */
  accumulator: CorpusAccumulator;
  /** Called after every document (also for skipped empty ones), with the running totals. */
  onDocument?: (progress: ScoreProgress) => void | Promise<void>;
  /**
   * When aborted, the loop stops after the current window: a document it was in the middle of is dropped
   * (nothing half-added), so the accumulator holds whole documents only.
   */
  signal?: AbortSignal;
  /**
   * Least milliseconds between two returns of freed C-heap memory to the OS (glibc `malloc_trim`, see
   * {@link trimNativeMemory}), checked after every window; 0: after every window; `Infinity`: never. Default
   * {@link DEFAULT_TRIM_INTERVAL_MS}. A no-op without glibc or FFI permission; results do not depend on it.
   */
  trimIntervalMs?: number;
  /**
   * Keep freed logits buffers resident for the next window (glibc `keepLargeBlocks` of native_memory.ts, process-wide)
   * rather than let each window's buffer page-fault afresh. Default true; results do not depend on it.
   */
  keepLogitsMemory?: boolean;
  /**
   * Score the second half of each window's rows (statistics, and divergences from `base`) on a helper thread
   * ({@link WindowStatsHelper}) while this one scores the first. Default: {@link defaultStatsHelper}. Results do
   * not depend on it.
   */
  statsHelper?: boolean;
}

/**
 * Default of {@link ScoreCorpusOptions.trimIntervalMs}. Rare: the window after a trim writes its logits into
 * pages the trim gave back, and page-faults them afresh (~60 ms for a 1,024-token window of a 50k vocabulary).
 */
export const DEFAULT_TRIM_INTERVAL_MS = 10_000;

/** Running totals reported after each document. */
export interface ScoreProgress {
  /** Documents taken from the stream (scored or empty). */
  documentsRead: number;
  /** Documents whose text has no tokens (skipped, as the original did). */
  emptyDocuments: number;
  /** Positions scored so far in this run (not counting a restored accumulator). */
  tokensScored: number;
  /** The document just finished. */
  document: CorpusDocument;
}

/** The outcome of {@link scoreCorpus}. */
export interface ScoreCorpusResult {
  documentsRead: number;
  emptyDocuments: number;
  tokensScored: number;
  /** True when the signal stopped the loop before the stream ended. */
  aborted: boolean;
  /** Window halves the helper thread computed: statistics, and divergences with a base model (0 without one). */
  helperParts: number;
}

/** Reusable per-window buffers, sized for the largest window. */
class WindowBuffers {
  scored: PositionStats;
  context: PositionStats;
  divergence: DivergenceStats;
  constructor(rows: number) {
    this.scored = createPositionStats(rows);
    this.context = createPositionStats(rows);
    this.divergence = createDivergenceStats(rows);
  }
}

/** Scores every document of `documents` into `options.accumulator`. */
export async function scoreCorpus(
  documents: AsyncIterable<CorpusDocument>,
  options: ScoreCorpusOptions,
): Promise<ScoreCorpusResult> {
  const { model, base, accumulator: acc, tokenizer } = options;
  const vocab = model.info.vocabSize;
  if (acc.vocab !== vocab) {
    throw new Error(`accumulator vocabulary ${acc.vocab} ≠ model logits width ${vocab}`);
  }
  if (base !== undefined && base.info.vocabSize !== vocab) {
    throw new Error(`base model vocabulary ${base.info.vocabSize} ≠ model vocabulary ${vocab}`);
  }
  if ((base !== undefined) !== acc.withBase) {
    throw new Error(
      acc.withBase ? "accumulator expects a base model" : "accumulator was made without a base model",
    );
  }
  const buffers = new WindowBuffers(options.maxSeqLen);
  const helper = (options.statsHelper ?? defaultStatsHelper(model)) ? new WindowStatsHelper() : null;
  if (options.keepLogitsMemory ?? true) {
    // Up to two windows of logits are alive at once (onnxruntime's output and its copy into JavaScript), and the
    // base model's copy beside them.
    const windowBytes = options.maxSeqLen * vocab * Float32Array.BYTES_PER_ELEMENT;
    nativeMemory().keepLargeBlocks(windowBytes * (base === undefined ? 2 : 3));
  }
  const collector = new LogitsCollector();
  const trimInterval = options.trimIntervalMs ?? DEFAULT_TRIM_INTERVAL_MS;
  let lastTrim = performance.now();
  const result: ScoreCorpusResult = {
    documentsRead: 0,
    emptyDocuments: 0,
    tokensScored: 0,
    aborted: false,
    helperParts: 0,
  };
  let lastYield = performance.now();
  /** Model calls and an in-memory corpus may never leave the microtask queue: give timers and signal handlers
   * (Ctrl-C) a turn every 50 ms. */
  const letOthersRun = async () => {
    if (performance.now() - lastYield > 50) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = performance.now();
    }
  };
  if (options.signal?.aborted) return { ...result, aborted: true };
  try {
    for await (const doc of documents) {
      const ids = tokenizer.encode(doc.text, { addSpecialTokens: false });
      result.documentsRead++;
      acc.beginDocument(doc.index, doc.bytes);
      if (ids.length === 0) {
        // No token, nothing to predict: the accumulator counts it as empty (the original skipped it silently).
        result.emptyDocuments++;
        acc.endDocument();
      } else {
        let stopped = false;
        try {
          for (const w of rollingWindows(ids, options)) {
            // Called once the window's logits are out of scope, so a collection frees them too.
            collector.dropped(
              await scoreWindow(w.input, w.predict, model, base, acc, buffers, vocab, helper),
            );
            if (performance.now() - lastTrim >= trimInterval) {
              trimNativeMemory();
              lastTrim = performance.now();
            }
            // A long document is many windows: an abort is honoured between two of them, not at its end.
            await letOthersRun();
            if (options.signal?.aborted) {
              stopped = true;
              break;
            }
          }
        } catch (e) {
          throw new Error(`document ${doc.index} (line ${doc.line}): ${(e as Error).message}`, { cause: e });
        }
        if (stopped) {
          // Nothing half-added: the unfinished document is dropped and not counted as read.
          acc.discardDocument();
          result.documentsRead--;
          result.aborted = true;
          return result;
        }
        acc.endDocument();
        result.tokensScored += ids.length;
      }
      await options.onDocument?.({ ...result, document: doc });
      // So that an abort is seen after the current document, not at the end.
      await letOthersRun();
      if (options.signal?.aborted) {
        result.aborted = true;
        break;
      }
    }
    return result;
  } finally {
    result.helperParts = helper?.stats.parts ?? 0;
    helper?.close();
  }
}

/**
 * Runs one window through the model(s) and adds its rows to the open document; returns the bytes of logits left
 * for the garbage collector (none where their buffers could be freed at once: release_buffer.ts).
 */
async function scoreWindow(
  input: Int32Array,
  predict: Int32Array,
  model: CausalLM,
  base: CausalLM | undefined,
  acc: CorpusAccumulator,
  buf: WindowBuffers,
  vocab: number,
  helper: WindowStatsHelper | null,
): Promise<number> {
  const L = input.length, nScored = predict.length, nContext = L - nScored;
  let baseBytes: number | undefined;
  const { logits } = await model.forward([input]);
  // Rows before the scored ones only re-read context (the final window of a long document); their statistics
  // feed the paper-compatible outputs alone.
  await scoreWindowStats({ logits, vocab, nContext, predict }, {
    context: buf.context,
    scored: buf.scored,
    contextSink: acc.windowSinks.context,
    scoredSink: acc.windowSinks.scored,
  }, helper);
  // Rows in window order: context rows first.
  if (nContext > 0) acc.addContextRows(buf.context, 0, nContext);
  if (base !== undefined) {
    const { logits: baseLogits } = await base.forward([input]);
    await divergeWindow(baseLogits, logits, vocab, nContext, nScored, buf.divergence, helper);
    const bytes = baseLogits.byteLength;
    baseBytes = releaseBuffer(baseLogits) ? 0 : bytes;
    acc.addScoredRows(buf.scored, 0, nScored, buf.divergence);
  } else {
    acc.addScoredRows(buf.scored, 0, nScored);
  }
  acc.endWindow();
  const bytes = logits.byteLength;
  return (releaseBuffer(logits) ? 0 : bytes) + (baseBytes ?? 0);
}

/**
 * onnxruntime returns every window's logits in a fresh buffer (it ignores preallocated outputs; onnxruntime-node
 * copies them into an ArrayBuffer it creates), and V8 frees such buffers only when it collects, late for buffers of
 * tens or hundreds of MB: dead logits would pile up to a few hundred MB and fragment the C heap.
 * {@link scoreWindow} frees them at once where the runtime can (release_buffer.ts). For the rest, and for other
 * external memory, when the runtime exposes `gc` (the analyse and bench tasks pass `--v8-flags=--expose-gc`),
 * collect as soon as the logits dropped since the last collection reach {@link DEAD_LOGITS_BUDGET_BYTES} (every
 * window for windows of 32 MiB or more: one 1,024-token window of a 50k vocabulary is 206 MB), or when external
 * memory exceeds 128 MiB for another reason.
 * A full collection with the scorer's small heap takes a few ms, well under one forward call.
 */
class LogitsCollector {
  #dead = 0;
  // deno-lint-ignore no-explicit-any
  readonly #gc = (globalThis as any).gc as (() => void) | undefined;
  /** Collections run so far. */
  collections = 0;

  /** Records that `bytes` of logits are dead now; collects when the budget is reached. */
  dropped(bytes: number): void {
    if (this.#gc === undefined) return;
    this.#dead += bytes;
    if (this.#dead >= DEAD_LOGITS_BUDGET_BYTES || Deno.memoryUsage().external > EXTERNAL_LIMIT_BYTES) {
      this.#gc();
      this.#dead = 0;
      this.collections++;
    }
  }
}

/**
 * Whether {@link scoreCorpus} starts a statistics helper thread for `model` by default: with two cores or more,
 * except for a CPU model loaded for scoring only (weights in external data, as large exports keep them: its
 * forward pass dwarfs the statistics, and its memory is held to the weights). On a GPU the forward is fast and
 * the weights are not in host memory, so the statistics and divergences are most of a window there: always on.
 */
export function defaultStatsHelper(model: CausalLM): boolean {
  return (navigator.hardwareConcurrency ?? 1) >= 2 &&
    (model.info.device !== "cpu" || !model.scoringOnly);
}

/** Dead logits bytes allowed to wait for the garbage collector. */
export const DEAD_LOGITS_BUDGET_BYTES = 32 * 2 ** 20;
const EXTERNAL_LIMIT_BYTES = 128 * 2 ** 20;
