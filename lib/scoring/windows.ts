/**
 * Rolling token windows for perplexity-style scoring, with the semantics of EleutherAI lm_perplexity's
 * `get_rolling_token_windows` (the scheme of the paper's pipeline: prefix `<|endoftext|>`, max_seq_len 1024,
 * context_len 1). The model reads each window's `input` and is scored on its last `predict.length` positions,
 * whose targets are `predict`; every token of the document is predicted exactly once.
 * @module
 */

/** Parameters of the window scheme. */
export interface RollingWindowOptions {
  /** Token read before the first document token (the paper: `<|endoftext|>`, id 0 for GPT-NeoX). */
  prefixToken: number;
  /** Longest input the model reads (the paper: 1024). */
  maxSeqLen?: number;
  /** Minimum number of context tokens carried into windows after the first (the paper: 1). */
  contextLen?: number;
}

/** One window: the model reads `input`; its last `predict.length` positions are scored against `predict`. */
export interface TokenWindow {
  /** Tokens the model reads (length ≤ maxSeqLen). May be a view of the caller's array: do not mutate. */
  input: Int32Array;
  /** Targets of the last `predict.length` input positions. May be a view of the caller's array: do not mutate. */
  predict: Int32Array;
  /** Index into the document's tokens of `predict[0]`. */
  predictStart: number;
}

/** Default longest input (the paper's `max_seq_len`). */
export const DEFAULT_MAX_SEQ_LEN = 1024;
/** Default carried context (every configuration of the paper sets 1). */
export const DEFAULT_CONTEXT_LEN = 1;

interface Checked {
  maxSeqLen: number;
  contextLen: number;
}

function checkInt32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new RangeError(`${what} must be a 32-bit integer, got ${value}`);
  }
}

function checkOptions(opts: Omit<RollingWindowOptions, "prefixToken">): Checked {
  const maxSeqLen = opts.maxSeqLen ?? DEFAULT_MAX_SEQ_LEN;
  const contextLen = opts.contextLen ?? DEFAULT_CONTEXT_LEN;
  if (!Number.isSafeInteger(maxSeqLen) || maxSeqLen < 1) {
    throw new RangeError(`maxSeqLen must be an integer ≥ 1, got ${maxSeqLen}`);
  }
  if (!Number.isSafeInteger(contextLen) || contextLen < 1 || contextLen > maxSeqLen) {
    throw new RangeError(
      `contextLen must be an integer with 1 ≤ contextLen ≤ maxSeqLen (${maxSeqLen}), got ${contextLen}`,
    );
  }
  return { maxSeqLen, contextLen };
}

/** The tokens as an Int32Array: the caller's own array when it already is one (windows are then views of it). */
function asInt32(tokens: ArrayLike<number>): Int32Array {
  if (tokens instanceof Int32Array) return tokens;
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    checkInt32(t, `token ${i}`); // Int32Array would silently truncate or wrap a bad id
    out[i] = t;
  }
  return out;
}

/**
 * Yields the rolling windows of a document. Arguments are checked when called (RangeError), not on first
 * iteration. Only the first window's input is a new array; every other array is a view of `tokens` (converted to
 * an Int32Array once when it is not one already).
 */
export function rollingWindows(
  tokens: ArrayLike<number>,
  opts: RollingWindowOptions,
): Generator<TokenWindow, void, undefined> {
  const { maxSeqLen, contextLen } = checkOptions(opts);
  checkInt32(opts.prefixToken, "prefixToken");
  return generate(asInt32(tokens), opts.prefixToken, maxSeqLen, maxSeqLen - contextLen + 1);
}

function* generate(
  toks: Int32Array,
  prefixToken: number,
  maxSeqLen: number,
  predLen: number,
): Generator<TokenWindow, void, undefined> {
  const n = toks.length;
  if (n === 0) return;
  // First window: the prefix stands in for the missing left context of token 0.
  const first = Math.min(maxSeqLen, n);
  const input = new Int32Array(first);
  input[0] = prefixToken;
  input.set(toks.subarray(0, first - 1), 1);
  yield { input, predict: toks.subarray(0, first), predictStart: 0 };
  let predicted = first;
  while (predicted < n) {
    const width = Math.min(n - predicted, predLen);
    const end = predicted + width;
    // end ≥ maxSeqLen + 1 here, so the slice start is never negative (Python would wrap around).
    yield {
      input: toks.subarray(end - maxSeqLen - 1, end - 1),
      predict: toks.subarray(end - width, end),
      predictStart: end - width,
    };
    predicted = end;
  }
}

/** Number of windows {@link rollingWindows} yields for a document of `nTokens` tokens. */
export function countWindows(nTokens: number, opts: Omit<RollingWindowOptions, "prefixToken"> = {}): number {
  const { maxSeqLen, contextLen } = checkOptions(opts);
  if (!Number.isSafeInteger(nTokens) || nTokens < 0) {
    throw new RangeError(`nTokens must be ≥ 0, got ${nTokens}`);
  }
  if (nTokens === 0) return 0;
  const first = Math.min(maxSeqLen, nTokens);
  return 1 + Math.ceil((nTokens - first) / (maxSeqLen - contextLen + 1));
}

/**
 * Total input positions over all windows of a document: the length of per-position arrays (entropy, confidence)
 * that the paper concatenates over windows, which re-score carried context (first window length +
 * maxSeqLen per further window). The number of predicted positions is always `nTokens`.
 */
export function countInputPositions(
  nTokens: number,
  opts: Omit<RollingWindowOptions, "prefixToken"> = {},
): number {
  const windows = countWindows(nTokens, opts);
  if (windows === 0) return 0;
  const maxSeqLen = opts.maxSeqLen ?? DEFAULT_MAX_SEQ_LEN;
  return Math.min(maxSeqLen, nTokens) + maxSeqLen * (windows - 1);
}
