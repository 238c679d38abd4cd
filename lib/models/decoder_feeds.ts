/**
 * The inputs of the decoder graph for one call: `input_ids`, an all-ones `attention_mask` over past + new tokens,
 * `position_ids` continuing from the past, the cache-branch flag and `num_logits_to_keep` where the graph has
 * them, and the past key/value tensors (the cached ones, or for a first step empty ones
 * [batch, heads, 0, head_dim], as transformers.js makes them).
 * @module
 */
import { configNumber } from "./config_number.ts";
import { ortTensor } from "./ort_tensor.ts";
import type { OrtSession, OrtTensorLike, OrtValueMetadata } from "./onnx_session.ts";

/**
 * The session's inputs for `rows` (equal length n) read after `pastLength` cached tokens: ids, an all-ones
 * attention mask over past + new, positions continuing from the past, the cache branch flag, how many
 * positions' logits to keep (0 = all), and the past tensors (`past`, or empty ones for a first step).
 */
export type DecoderFeeds = (
  rows: readonly Int32Array[],
  pastLength: number,
  keepLogits: 0 | 1,
  past: ReadonlyMap<string, OrtTensorLike> | null,
) => Record<string, unknown>;

/** The feed builder of a session; `pastInputs` are its `past_key_values.*` input names. */
export function decoderFeedsFor(
  session: OrtSession,
  config: Record<string, unknown>,
  pastInputs: readonly string[],
): DecoderFeeds {
  const meta = new Map((session.inputMetadata ?? []).map((m) => [m.name, m]));
  return (rows, pastLength, keepLogits, past) => {
    const batch = rows.length, n = rows[0].length, total = pastLength + n;
    const ids = new BigInt64Array(batch * n);
    const positions = new BigInt64Array(batch * n);
    rows.forEach((row, b) => {
      for (let t = 0; t < n; t++) {
        ids[b * n + t] = BigInt(row[t]);
        positions[b * n + t] = BigInt(pastLength + t);
      }
    });
    const feeds: Record<string, unknown> = { input_ids: ortTensor("int64", ids, [batch, n]) };
    if (session.inputNames.includes("attention_mask")) {
      feeds.attention_mask = ortTensor("int64", new BigInt64Array(batch * total).fill(1n), [batch, total]);
    }
    if (session.inputNames.includes("position_ids")) {
      feeds.position_ids = ortTensor("int64", positions, [batch, n]);
    }
    if (session.inputNames.includes("use_cache_branch")) {
      feeds.use_cache_branch = ortTensor("bool", new Uint8Array([past ? 1 : 0]), [1]);
    }
    if (session.inputNames.includes("num_logits_to_keep")) {
      feeds.num_logits_to_keep = ortTensor("int64", new BigInt64Array([BigInt(keepLogits)]), []);
    }
    for (const name of pastInputs) {
      const cached = past?.get(name);
      if (cached !== undefined) {
        feeds[name] = cached;
      } else {
        const m = meta.get(name);
        const type = m?.type ?? "float32";
        const empty = type === "float16" ? new Uint16Array(0) : new Float32Array(0);
        feeds[name] = ortTensor(
          type === "float16" ? "float16" : "float32",
          empty,
          emptyPastShape(m, config, batch),
        );
      }
    }
    return feeds;
  };
}

/** Past-key-value input shape for a first step: batch from the call, heads, head size from graph/config. */
function emptyPastShape(
  meta: OrtValueMetadata | undefined,
  config: Record<string, unknown>,
  batch: number,
): number[] {
  const heads = configNumber(config, "num_key_value_heads", "num_attention_heads", "n_head");
  const queryHeads = configNumber(config, "num_attention_heads", "n_head");
  const hidden = configNumber(config, "hidden_size", "n_embd");
  // The head size comes from the query heads: with grouped-query attention there are fewer KV heads, same size.
  const headDim = configNumber(config, "head_dim") ??
    (queryHeads && hidden ? hidden / queryHeads : undefined);
  const shape = meta?.shape ?? ["batch_size", "num_heads", "past_sequence_length", "head_dim"];
  return shape.map((d, i) => {
    if (i === 0) return batch;
    if (i === 2) return 0;
    if (typeof d === "number") return d;
    const fromConfig = i === 1 ? heads : i === 3 ? headDim : undefined;
    if (fromConfig === undefined) {
      throw new Error(`cannot size past input ${meta?.name}: dimension ${i} is "${d}"`);
    }
    return fromConfig;
  });
}
