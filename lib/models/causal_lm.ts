/**
 * A loaded causal language model as scoring and sampling use it: full-sequence logits for a batch of equal-length
 * token windows (`forward`), and decoding steps with the KV cache (`step`, `selectRows`). Both feed the ONNX
 * session directly and fetch only what they use: a KV-cache graph would otherwise hand back its `present.*`
 * tensors on every forward call (0.7 GB per 1024-token window for Pythia-2.8B).
 * @module
 */
import { decoderFeedsFor } from "./decoder_feeds.ts";
import type { ShippedGeneration } from "./generation_config.ts";
import { toFloat32 } from "./logits_float32.ts";
import type { ModelFileInfo } from "./model_files.ts";
import type { CausalLMDtype } from "./onnx_files.ts";
import type { CausalLMDevice, OrtSession, OrtTensorLike } from "./onnx_session.ts";
import { releaseBuffer } from "./release_buffer.ts";
import { feedable, float16Bits, ortTensor } from "./ort_tensor.ts";
import {
  allocateKvBuffers,
  copyKvRows,
  kvArrayOf,
  type KvBuffers,
  kvCapacityFor,
  releaseKvBuffers,
  writeKvEntries,
} from "./kv_buffers.ts";
import { KV_BUFFER_LENGTH_INPUT, type KvBufferEntry } from "./onnx_kv_buffer_graph.ts";

/** What was loaded. */
export interface ModelInfo {
  /** Absolute folder, or the hub id (`huggingface.co/<id>@<revision>`) for a remote load. */
  source: string;
  /** The preset name, when the model was named by one. */
  preset?: string;
  /** `model_type` from config.json (e.g. `gpt_neox`). */
  modelType: string;
  /** Width of the logits (config `vocab_size`, checked against the ONNX graph). */
  vocabSize: number;
  /** Weight precision loaded. */
  dtype: CausalLMDtype;
  /** Device the session runs on. */
  device: CausalLMDevice;
  /** Whether the graph has past-key-value inputs (fed empty). */
  kvCache: boolean;
  /** Transformer layers (config `num_hidden_layers`). */
  numLayers: number;
  /** Longest input the model was trained for (config `max_position_embeddings`), if the config gives it. */
  maxPositions?: number;
  /**
   * Ids that end generation: generation_config.json's `eos_token_id` (every id, as Hugging Face's `generate`
   * stops on each), else config.json's; empty when the folder names none.
   */
  eosTokenIds: number[];
  /** config.json's `architectures[0]` (e.g. `LlamaForCausalLM`), when it says. */
  architecture?: string;
  /** The folder's generation settings (EOS list and its source, BOS, shipped sampling defaults). */
  generation: ShippedGeneration;
  /** The ONNX files loaded (graph and external data); empty for a remote load. */
  files: ModelFileInfo[];
}

/** Logits of one forward call. */
export interface CausalLMOutput {
  /** float32, row-major [batch, seq, vocab]. */
  logits: Float32Array;
  /** Number of windows. */
  batch: number;
  /** Window length. */
  seq: number;
  /** Logits per position. */
  vocab: number;
}

/**
 * Decoder state between generation steps: the KV cache of every row (graphs exported with one: the tensors the
 * graph returned, or the toolkit's buffers), or the rows' token histories (graphs without; each step then
 * re-reads the whole sequence). Opaque outside this module.
 */
export interface DecodeState {
  /** Rows (sequences) in the state. */
  readonly batch: number;
  /** Tokens already read per row. */
  readonly length: number;
  /** `past_key_values.*` input name → the cache tensor for it; null for a graph without a KV cache. */
  readonly past: ReadonlyMap<string, OrtTensorLike> | null;
  /** Token history per row, kept only for a graph without a KV cache. */
  readonly history: readonly Int32Array[] | null;
  /**
   * The KV cache in the toolkit's buffers (a graph loaded with `kvBuffer`), shared with the states stepped on
   * from this one: its first `length` positions are this state's.
   */
  readonly buffers: KvBuffers | null;
}

/** Next-token logits of one decoding step, and the state after it. */
export interface StepOutput {
  /** float32, row-major [batch, vocab]: the logits at each row's last position. */
  logits: Float32Array;
  /** Rows. */
  batch: number;
  /** Logits per row. */
  vocab: number;
  /** The state with this step's tokens read. */
  state: DecodeState;
}

/** A loaded causal language model. */
export interface CausalLM {
  /** What was loaded. */
  readonly info: ModelInfo;
  /**
   * Whether the KV cache stays in the toolkit's buffers between decoding steps (the graph edited by
   * onnx_kv_buffer_graph.ts) rather than coming back from every step. How the model runs, not what it computes
   * (the logits are the same), so it is not part of {@link info}, which result files record.
   */
  readonly kvBuffer: boolean;
  /**
   * Loaded for scoring only: the graph's KV outputs were dropped, so `step` is unavailable. Also how the model
   * runs rather than what it computes, so not part of {@link info} either.
   */
  readonly scoringOnly: boolean;
  /** Logits for one batch of equal-length token windows, float32, row-major [batch, seq, vocab]. */
  forward(windows: readonly Int32Array[]): Promise<CausalLMOutput>;
  /**
   * One decoding step: reads `tokens` (one equal-length array per row: the prompt on the first step, then one
   * token each) after `state` (none for the first step) and returns each row's next-token logits. Uses the KV
   * cache when the graph has one. Positions continue from `state.length`; no padding is involved. `reserve`:
   * the length the rows are expected to reach, so that a model with {@link kvBuffer} allocates its buffers
   * with that much room at once instead of growing them (a hint: they still grow if it is passed).
   */
  step(tokens: readonly Int32Array[], state?: DecodeState, reserve?: number): Promise<StepOutput>;
  /**
   * A state holding the given rows of `state`, in that order (a row may repeat): expands one prompt's state to
   * N samples, or drops finished rows.
   */
  selectRows(state: DecodeState, rows: readonly number[]): DecodeState;
  /**
   * Frees the memory of `state`'s KV cache now instead of at a later garbage collection (release_buffer.ts);
   * `state` must not be used afterwards. States made by {@link selectRows} never share memory (it copies). On a
   * model with `kvBuffer`, the states of one decoding line (each stepped from the one before) share one
   * buffer: releasing one that has been stepped on from frees nothing (the newer state still reads the buffer),
   * releasing the newest frees it, and the older states of that line can no longer be used either.
   */
  release(state: DecodeState): void;
  /** Releases the ONNX session. */
  dispose(): Promise<void>;
}

/** What the decoder calls need of the loaded graph. */
export interface DecoderGraph {
  /** The decoder session. */
  session: OrtSession;
  /** config.json (for a remote load, the config transformers.js read). */
  config: Record<string, unknown>;
  /** Width of the logits. */
  vocabSize: number;
  /** Longest input the model was trained for, when the config gives it. */
  maxPositions?: number;
  /** The graph file, as errors name it. */
  onnxName: string;
  /** The graph's `past_key_values.*` inputs (none without a KV cache). */
  pastInputs: readonly string[];
  /**
   * Set when the session runs the graph edited by onnx_kv_buffer_graph.ts: its cached tensors, in the order of
   * `pastInputs`. The session then takes buffers and the cached length instead of the past inputs.
   */
  kvBuffers?: readonly KvBufferEntry[];
  /** The graph's `present.*` outputs were dropped on purpose: forward passes only. */
  scoringOnly?: boolean;
}

/** Adds the edited graph's inputs to `feeds`: every buffer, and how many of its positions are cached. */
function feedBuffers(
  feeds: Record<string, unknown>,
  entries: readonly KvBufferEntry[],
  buffers: KvBuffers,
  length: number,
): void {
  entries.forEach((e, k) => {
    const dims = [buffers.batch, e.heads, buffers.capacity, e.headSize];
    feeds[e.input] = ortTensor(e.type, buffers.data[k], dims);
  });
  feeds[KV_BUFFER_LENGTH_INPUT] = ortTensor("int64", BigInt64Array.of(BigInt(length)), [1]);
}

/**
 * The {@link CausalLM} over a loaded decoder session. Throws when the graph has past inputs but lacks a matching
 * `present.*` output, unless `graph.scoringOnly` says they were dropped on purpose (then `step` throws).
 * `dispose` releases the session.
 */
export function causalLMOver(graph: DecoderGraph, info: ModelInfo, dispose: () => Promise<void>): CausalLM {
  const { session, vocabSize, maxPositions, onnxName, pastInputs } = graph;
  const kvEntries = graph.kvBuffers ?? null;
  // With buffers, the past inputs are cut out of them inside the graph: the feeds carry the buffers instead.
  const decoderFeeds = decoderFeedsFor(session, graph.config, kvEntries === null ? pastInputs : []);

  /**
   * Checks equal-length rows of in-vocabulary ids and the position limit; returns the row length. `noun` names
   * a row in errors ("window" for forward passes, "row" for decoding steps).
   */
  const checkRows = (rows: readonly Int32Array[], noun: "window" | "row", pastLength: number): number => {
    if (rows.length === 0) throw new RangeError(`needs at least one ${noun}`);
    const n = rows[0].length;
    if (n === 0) throw new RangeError(`${noun}s must not be empty`);
    rows.forEach((row, b) => {
      if (row.length !== n) throw new RangeError(`${noun} ${b} has ${row.length} tokens, ${noun} 0 has ${n}`);
      for (let t = 0; t < n; t++) {
        if (row[t] < 0 || row[t] >= vocabSize) {
          throw new RangeError(`${noun} ${b} token ${t}: id ${row[t]} outside [0, ${vocabSize})`);
        }
      }
    });
    if (maxPositions !== undefined && pastLength + n > maxPositions) {
      const what = noun === "window" ? "window length" : "sequence length";
      throw new RangeError(`${what} ${pastLength + n} exceeds max_position_embeddings ${maxPositions}`);
    }
    return n;
  };

  const forward = async (windows: readonly Int32Array[]): Promise<CausalLMOutput> => {
    const seq = checkRows(windows, "window", 0);
    const batch = windows.length;
    const feeds = decoderFeeds(windows, 0, 0, null);
    if (kvEntries !== null) feedBuffers(feeds, kvEntries, allocateKvBuffers(kvEntries, batch, 0), 0);
    const out = await session.run(feeds, ["logits"]);
    const logits = out.logits;
    const [ob, os, vocab] = logits.dims;
    if (ob !== batch || os !== seq) {
      throw new Error(`logits dims [${logits.dims}] do not match the input [${batch}, ${seq}]`);
    }
    if (vocab !== vocabSize) {
      throw new Error(
        `vocab_size mismatch: config.json vocab_size = ${vocabSize}, but ${onnxName} logits width = ${vocab}`,
      );
    }
    return { logits: toFloat32(logits), batch, seq, vocab };
  };

  const presentOf = new Map(pastInputs.map((n) => [n, n.replace(/^past_key_values\./, "present.")]));
  const missingPresent = [...presentOf.values()].filter((n) => !session.outputNames.includes(n));
  const scoringOnly = graph.scoringOnly === true;
  if (missingPresent.length > 0 && !scoringOnly && kvEntries === null) {
    throw new Error(`${onnxName} has past inputs but lacks the outputs ${missingPresent.join(", ")}`);
  }

  /** The last position's logits of each row, copied out of a [batch, seq, vocab] output. */
  const lastPositions = (all: Float32Array, batch: number, seq: number): Float32Array => {
    if (seq === 1) return all;
    const out = new Float32Array(batch * vocabSize);
    for (let b = 0; b < batch; b++) {
      const from = (b * seq + seq - 1) * vocabSize;
      out.set(all.subarray(from, from + vocabSize), b * vocabSize);
    }
    return out;
  };

  /** A step's logits output, checked against its input ([batch, n or 1, vocab]): each row's last position. */
  const stepLogits = (logits: OrtTensorLike, batch: number, n: number): Float32Array => {
    const [ob, os, vocab] = logits.dims;
    if (ob !== batch || vocab !== vocabSize || (os !== n && os !== 1)) {
      throw new Error(`logits dims [${logits.dims}] do not match the input [${batch}, ${n}, ${vocabSize}]`);
    }
    return lastPositions(toFloat32(logits), batch, os);
  };

  const step = async (
    tokens: readonly Int32Array[],
    state?: DecodeState,
    reserve?: number,
  ): Promise<StepOutput> => {
    if (scoringOnly && pastInputs.length > 0) {
      throw new Error(
        `${info.source} was loaded for scoring only (its KV outputs dropped); load it without scoringOnly to decode`,
      );
    }
    if (state !== undefined && state.batch !== tokens.length) {
      throw new RangeError(`step got ${tokens.length} rows but the state holds ${state.batch}`);
    }
    if (reserve !== undefined && !(Number.isSafeInteger(reserve) && reserve >= 1)) {
      throw new RangeError(`step: reserve must be a positive integer, got ${reserve}`);
    }
    const n = checkRows(tokens, "row", state?.length ?? 0);
    const batch = tokens.length;
    const pastLength = state?.length ?? 0;
    if (pastInputs.length === 0) {
      // No cache in the graph: re-read each row's whole history.
      const history = tokens.map((row, b) => {
        const before = state?.history?.[b] ?? new Int32Array(0);
        const joined = new Int32Array(before.length + n);
        joined.set(before);
        joined.set(row, before.length);
        return joined;
      });
      const out = await forward(history);
      return {
        logits: lastPositions(out.logits, batch, out.seq),
        batch,
        vocab: vocabSize,
        state: { batch, length: pastLength + n, past: null, history, buffers: null },
      };
    }
    const total = pastLength + n;
    if (kvEntries !== null) return await stepBuffered(tokens, state, kvEntries, total, reserve);
    const feeds = decoderFeeds(tokens, pastLength, 1, state?.past ?? null);
    const out = await session.run(feeds, ["logits", ...presentOf.values()]);
    const past = new Map<string, OrtTensorLike>();
    for (const [input, output] of presentOf) past.set(input, feedable(out[output]));
    return {
      logits: stepLogits(out.logits, batch, n),
      batch,
      vocab: vocabSize,
      state: { batch, length: total, past, history: null, buffers: null },
    };
  };

  /** A step of the edited graph (`entries`): the cache fed from buffers, the new entries written after it. */
  const stepBuffered = async (
    tokens: readonly Int32Array[],
    state: DecodeState | undefined,
    entries: readonly KvBufferEntry[],
    total: number,
    reserve: number | undefined,
  ): Promise<StepOutput> => {
    const batch = tokens.length, length = state?.length ?? 0, n = total - length;
    let buffers = state?.buffers ?? null;
    if (buffers?.released) throw new Error("step: this decoding state's KV cache was released");
    if (buffers === null) {
      buffers = allocateKvBuffers(entries, batch, kvCapacityFor(total, 0, maxPositions, reserve));
    } else if (buffers.written !== length || total > buffers.capacity) {
      // A state stepped on from this one already wrote past `length`, or there is no room: step on a copy.
      const rows = Array.from({ length: batch }, (_, i) => i);
      buffers = copyKvRows(
        buffers,
        entries,
        rows,
        length,
        kvCapacityFor(total, buffers.capacity, maxPositions, reserve),
      );
    }
    const feeds = decoderFeeds(tokens, length, 1, null);
    feedBuffers(feeds, entries, buffers, length);
    const out = await session.run(feeds, ["logits", ...entries.map((e) => e.output)]);
    const logits = stepLogits(out.logits, batch, n);
    const news = entries.map((e) => kvArrayOf(e, out[e.output].data as ArrayBufferView));
    writeKvEntries(buffers, entries, news, length, n);
    for (const d of news) releaseBuffer(d);
    return {
      logits,
      batch,
      vocab: vocabSize,
      state: { batch, length: total, past: null, history: null, buffers },
    };
  };

  const selectRows = (state: DecodeState, rows: readonly number[]): DecodeState => {
    if (rows.length === 0) throw new RangeError("selectRows needs at least one row");
    for (const r of rows) {
      if (!Number.isInteger(r) || r < 0 || r >= state.batch) {
        throw new RangeError(`row ${r} outside [0, ${state.batch})`);
      }
    }
    if (state.buffers !== null) {
      const buffers = copyKvRows(state.buffers, kvEntries!, rows, state.length, state.buffers.capacity);
      return { batch: rows.length, length: state.length, past: null, history: null, buffers };
    }
    if (state.past === null) {
      return { ...state, batch: rows.length, history: rows.map((r) => state.history![r]) };
    }
    const past = new Map<string, OrtTensorLike>();
    for (const [name, tensor] of state.past) {
      const dims = tensor.dims;
      const data = tensor.data as Float32Array | Uint16Array;
      const rowSize = data.length / dims[0];
      const picked = tensor.type === "float16"
        ? new Uint16Array(rows.length * rowSize)
        : new Float32Array(rows.length * rowSize);
      const from = tensor.type === "float16" ? float16Bits(data) : data;
      rows.forEach((r, i) => picked.set(from.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize));
      past.set(
        name,
        ortTensor(tensor.type as "float32" | "float16", picked, [rows.length, ...dims.slice(1)]),
      );
    }
    return { batch: rows.length, length: state.length, past, history: null, buffers: null };
  };

  const release = (state: DecodeState): void => {
    // Buffers shared with a newer state are left to that state's release.
    if (state.buffers !== null && state.buffers.written === state.length) releaseKvBuffers(state.buffers);
    for (const tensor of state.past?.values() ?? []) {
      try {
        releaseBuffer(tensor.data);
      } catch {
        // A tensor whose data is not on the CPU throws on `data`: it is left to onnxruntime.
      }
    }
  };

  return { info, kvBuffer: kvEntries !== null, scoringOnly, forward, step, selectRows, release, dispose };
}
