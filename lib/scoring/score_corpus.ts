/**
 * Scores a stream of documents with a causal LM: tokenise (no special tokens), cut into rolling windows, run the
 * model, turn each window's float32 logits into per-position statistics, and stream them into a
 * {@link CorpusAccumulator}. With a base model, the same windows go through it too and each scored position gets
 * KL(base ‖ model), Jensen–Shannon and whether the argmax changed. Memory is bounded by one window's logits (two
 * with a base model), whatever the corpus size.
 * @module
 */
import type { CausalLM } from "../models/load.ts";
import type { Tokenizer } from "../models/tokenizer.ts";
import type { CorpusDocument } from "../data/corpus.ts";
import { CorpusAccumulator } from "./accumulators.ts";
import { createDivergenceStats, type DivergenceStats, divergeRows } from "./divergence.ts";
import { createPositionStats, type PositionStats, scoreRows } from "./position_stats.ts";
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
  /** When aborted, the loop stops after the current document (nothing half-added). */
  signal?: AbortSignal;
}

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
  const result: ScoreCorpusResult = { documentsRead: 0, emptyDocuments: 0, tokensScored: 0, aborted: false };
  let lastYield = performance.now();
  for await (const doc of documents) {
    const ids = tokenizer.encode(doc.text, { addSpecialTokens: false });
    result.documentsRead++;
    acc.beginDocument(doc.index, doc.bytes);
    if (ids.length === 0) {
      // No token, nothing to predict: the accumulator counts it as empty (the original skipped it silently).
      result.emptyDocuments++;
      acc.endDocument();
    } else {
      try {
        for (const w of rollingWindows(ids, options)) {
          await scoreWindow(w.input, w.predict, model, base, acc, buffers, vocab);
        }
      } catch (e) {
        throw new Error(`document ${doc.index} (line ${doc.line}): ${(e as Error).message}`, { cause: e });
      }
      acc.endDocument();
      result.tokensScored += ids.length;
    }
    await options.onDocument?.({ ...result, document: doc });
    // Model calls and an in-memory corpus may never leave the microtask queue: give timers and signal handlers
    // (Ctrl-C) a turn now and then, so an abort is seen after the current document, not at the end.
    if (performance.now() - lastYield > 50) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = performance.now();
    }
    if (options.signal?.aborted) {
      result.aborted = true;
      break;
    }
  }
  return result;
}

/** Runs one window through the model(s) and adds its rows to the open document. */
async function scoreWindow(
  input: Int32Array,
  predict: Int32Array,
  model: CausalLM,
  base: CausalLM | undefined,
  acc: CorpusAccumulator,
  buf: WindowBuffers,
  vocab: number,
): Promise<void> {
  const L = input.length, nScored = predict.length, nContext = L - nScored;
  const { logits } = await model.forward([input]);
  // Rows before the scored ones only re-read context (the final window of a long document); their statistics
  // feed the paper-compatible outputs alone.
  if (nContext > 0) {
    scoreRows(logits, vocab, 0, nContext, null, buf.context, { distributionSink: acc.windowSinks.context });
  }
  scoreRows(logits, vocab, nContext, nScored, predict, buf.scored, {
    distributionSink: acc.windowSinks.scored,
  });
  // Rows in window order: context rows first.
  if (nContext > 0) acc.addContextRows(buf.context, 0, nContext);
  if (base !== undefined) {
    const { logits: baseLogits } = await base.forward([input]);
    divergeRows(baseLogits, logits, vocab, nContext, nScored, buf.divergence);
    acc.addScoredRows(buf.scored, 0, nScored, buf.divergence);
  } else {
    acc.addScoredRows(buf.scored, 0, nScored);
  }
  acc.endWindow();
  collectLogitsGarbage(logits.byteLength);
}

/**
 * onnxruntime returns every window's logits in a fresh buffer (it ignores preallocated outputs), and V8 frees such
 * external memory late, so the process grows by a few hundred MB of dead buffers over a long run. When the runtime
 * exposes `gc` (the analyse task passes `--v8-flags=--expose-gc`), collect once dead logits exceed a few windows.
 */
function collectLogitsGarbage(windowBytes: number): void {
  // deno-lint-ignore no-explicit-any
  const gc = (globalThis as any).gc as (() => void) | undefined;
  if (gc === undefined) return;
  if (Deno.memoryUsage().external > Math.max(128 * 2 ** 20, 4 * windowBytes)) gc();
}
