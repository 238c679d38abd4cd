/**
 * onnxruntime tensors made from JavaScript arrays without a copy, float16 included. onnxruntime-common stores
 * float16 data as a Float16Array wherever the runtime has one (Deno does), and onnxruntime-node 1.30's binding
 * reads a Float16Array as empty ("not enough space: expected N, got 0"), so a float16 tensor the session must
 * read keeps its bits in a Uint16Array over the same memory.
 * @module
 */
import { Tensor } from "@huggingface/transformers";
import type { OrtTensorLike } from "./onnx_session.ts";

/** Element types the model helpers feed. */
export type FedTensorType = "float32" | "float16" | "int64" | "bool";

/** float16 data (a Float16Array, or bits already) as its bits: a Uint16Array over the same memory. */
export function float16Bits(data: ArrayBufferView): Uint16Array {
  return data instanceof Uint16Array
    ? data
    : new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
}

/** A session output as a tensor the session can read back in (float16 re-viewed as bits; others as they are). */
export function feedable(tensor: OrtTensorLike): OrtTensorLike {
  return tensor.type === "float16"
    ? ortTensor("float16", tensor.data as ArrayBufferView, tensor.dims)
    : tensor;
}

/** A tensor the session can read over `data` (no copy); float16 data (bits or a Float16Array) stays as bits. */
export function ortTensor(
  type: FedTensorType,
  data: Float32Array | Uint16Array | BigInt64Array | Uint8Array | ArrayBufferView,
  dims: readonly number[],
): OrtTensorLike {
  // deno-lint-ignore no-explicit-any
  const tensor = new Tensor(type, data as any, [...dims]).ort_tensor as unknown as OrtTensorLike;
  if (type === "float16") (tensor as unknown as { cpuData: Uint16Array }).cpuData = float16Bits(data);
  return tensor;
}
