/**
 * The ONNX files a model was loaded from, listed with size and sha256 (recorded with results, so a score names
 * the exact weights it came from).
 * @module
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../io/sha256.ts";

/** Files larger than this are listed without a sha256. */
const SHA256_LIMIT_BYTES = 64 * 1024 * 1024;

/** One file of a loaded model. */
export interface ModelFileInfo {
  /** Path relative to the model folder (e.g. `onnx/model.onnx`). */
  name: string;
  /** Size in bytes. */
  bytes: number;
  /** Hex sha256, for files up to {@link SHA256_LIMIT_BYTES} (hashing a multi-GB export takes minutes). */
  sha256?: string;
}

/** Size and (up to {@link SHA256_LIMIT_BYTES}) sha256 of each of `names`, folder-relative files. */
export async function describeModelFiles(folder: string, names: readonly string[]): Promise<ModelFileInfo[]> {
  const out: ModelFileInfo[] = [];
  for (const name of names) {
    const bytes = statSync(join(folder, name)).size;
    const info: ModelFileInfo = { name, bytes };
    if (bytes <= SHA256_LIMIT_BYTES) {
      info.sha256 = sha256Hex(await Deno.readFile(join(folder, name)));
    }
    out.push(info);
  }
  return out;
}
