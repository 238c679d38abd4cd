/**
 * The ONNX files a causal LM loads from a model folder: which graph a weight precision (dtype) selects, and the
 * external-data files beside that graph, checked before onnxruntime opens it (onnxruntime reports a missing or
 * short file with a bare "failed to load", or crashes).
 * @module
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { externalTensorsOf } from "./onnx_external_data.ts";

/** Weight precisions a causal LM can be loaded in. */
export type CausalLMDtype = "fp32" | "fp16" | "q8" | "q4";

/** ONNX graph files per dtype, in order of preference, with the transformers.js dtype selecting each. */
export const ONNX_FILES_BY_DTYPE: Readonly<
  Record<CausalLMDtype, readonly { file: string; hfDtype: string }[]>
> = {
  fp32: [{ file: "onnx/model.onnx", hfDtype: "fp32" }],
  fp16: [{ file: "onnx/model_fp16.onnx", hfDtype: "fp16" }],
  // transformers.js calls 8-bit dynamic quantisation "q8" (model_quantized.onnx); some exports ship "int8".
  q8: [{ file: "onnx/model_quantized.onnx", hfDtype: "q8" }, {
    file: "onnx/model_int8.onnx",
    hfDtype: "int8",
  }],
  // 4-bit block quantisation of the MatMul weights (onnxruntime's MatMulNBits), transformers.js's "q4".
  q4: [{ file: "onnx/model_q4.onnx", hfDtype: "q4" }],
};

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The ONNX graph file for a dtype in a folder, or an error naming the file expected and those present. */
export function onnxFileFor(folder: string, dtype: CausalLMDtype): { file: string; hfDtype: string } {
  const candidates = ONNX_FILES_BY_DTYPE[dtype];
  if (candidates === undefined) {
    throw new Error(`unknown dtype "${dtype}"; one of ${Object.keys(ONNX_FILES_BY_DTYPE).join(", ")}`);
  }
  const found = candidates.find((c) => existsSync(join(folder, c.file)));
  if (found) return found;
  const onnxDir = join(folder, "onnx");
  const present = isDir(onnxDir) ? readdirSync(onnxDir).filter((f) => f.endsWith(".onnx")).sort() : [];
  throw new Error(
    `model folder ${folder} lacks ${candidates.map((c) => c.file).join(" (or ")}${
      candidates.length > 1 ? ")" : ""
    } for dtype "${dtype}"; ONNX files present: ${present.length > 0 ? present.join(", ") : "none"}`,
  );
}

/**
 * The external-data files a graph needs, checked: each present, long enough for every tensor stored in it,
 * and named as transformers.js loads them (`<graph>_data`, `<graph>_data_1`, …, beside the graph).
 */
export function checkExternalData(folder: string, graphFile: string): string[] {
  const graphPath = join(folder, graphFile);
  let tensors;
  try {
    tensors = externalTensorsOf(graphPath);
  } catch (e) {
    throw new Error(`${graphPath} is not a readable ONNX graph: ${(e as Error).message}`, { cause: e });
  }
  const byFile = new Map<string, { count: number; endBytes: number; last: string }>();
  for (const t of tensors) {
    const entry = byFile.get(t.location) ?? { count: 0, endBytes: 0, last: t.name };
    entry.count++;
    const end = t.offsetBytes + (t.lengthBytes ?? 0);
    if (end >= entry.endBytes) {
      entry.endBytes = end;
      entry.last = t.name;
    }
    byFile.set(t.location, entry);
  }
  const graphName = graphFile.slice(graphFile.lastIndexOf("/") + 1);
  const dir = graphFile.includes("/") ? graphFile.slice(0, graphFile.lastIndexOf("/") + 1) : "";
  const expected = new RegExp(`^${graphName.replace(/[.]/g, "\\.")}_data(?:_(\\d+))?$`);
  const names: string[] = [];
  for (const [location, { count, endBytes, last }] of byFile) {
    const rel = dir + location;
    const path = join(folder, rel);
    if (!existsSync(path)) {
      throw new Error(
        `${graphPath} stores ${count} tensor(s) in external data ${path}, which is missing ` +
          `(copy ${location} from the export beside the graph)`,
      );
    }
    const size = statSync(path).size;
    if (size < endBytes) {
      throw new Error(
        `external data ${path} is truncated: ${size} bytes, but ${graphFile} needs bytes up to ${endBytes} ` +
          `(tensor "${last}"); copy the file again`,
      );
    }
    if (!expected.test(location)) {
      throw new Error(
        `${graphPath} keeps external data in ${byFile.size > 1 ? `${byFile.size} files such as ` : ""}` +
          `"${location}", but transformers.js reads only ${graphName}_data (and ${graphName}_data_1, …): ` +
          `re-save it with onnx.save_model(model, path, save_as_external_data=True, ` +
          `all_tensors_to_one_file=True, location="${graphName}_data")`,
      );
    }
    names.push(rel);
  }
  const index = (n: string) => Number(n.match(/_data_(\d+)$/)?.[1] ?? 0);
  names.sort((a, b) => index(a) - index(b));
  names.forEach((n, i) => {
    if (index(n) !== i) {
      throw new Error(`${graphPath}: external data chunk ${i} is missing (found ${names.join(", ")})`);
    }
  });
  return names;
}
