/**
 * Logits as float32, whatever element type the graph returns them in (fp16 exports return IEEE half-precision
 * bits in a Uint16Array).
 * @module
 */
import type { OrtTensorLike } from "./onnx_session.ts";

/** IEEE half-precision bits to float32 (fp16 exports return Uint16Array logits). */
function halfToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0
      ? sign * frac * 2 ** -24
      : exp === 31
      ? (frac ? NaN : sign * Infinity)
      : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** The data of a logits tensor as float32: the buffer itself when it is float32 already, else converted. */
export function toFloat32(tensor: OrtTensorLike): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data; // no copy: the buffer onnxruntime returned
  if (tensor.type === "float16" && data instanceof Uint16Array) return halfToFloat32(data);
  if (ArrayBuffer.isView(data) && typeof (data as unknown as { length?: number }).length === "number") {
    return Float32Array.from(data as unknown as ArrayLike<number>); // e.g. a Float16Array
  }
  throw new Error(`logits of type ${tensor.type} cannot be read as float32`);
}
