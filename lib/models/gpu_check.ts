/**
 * The proof that a GPU execution provider works: the same tokens through a model on that device and on the CPU,
 * compared logit by logit (`deno task setup:gpu --smoke` runs it after installing the CUDA provider).
 * @module
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../project_root.ts";
import { loadCausalLM } from "./load_causal_lm.ts";

/**
 * Loads a model on `device` and on the CPU, runs one forward pass of the same tokens on both and returns the
 * largest absolute logit difference (default model: the tiny GPT-NeoX test fixture).
 */
export async function smokeTest(
  device: "cpu" | "cuda" | "webgpu",
  model = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base"),
): Promise<{ maxAbsDiff: number; vocab: number; seq: number }> {
  const ids = Int32Array.of(0, 12092, 1533, 15, 309, 1053);
  const run = async (d: "cpu" | "cuda" | "webgpu") => {
    const lm = await loadCausalLM(model, { device: d });
    try {
      return await lm.forward([ids]);
    } finally {
      await lm.dispose();
    }
  };
  const gpu = await run(device);
  const cpu = await run("cpu");
  let maxAbsDiff = 0;
  for (let i = 0; i < cpu.logits.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(cpu.logits[i] - gpu.logits[i]));
  }
  return { maxAbsDiff, vocab: cpu.vocab, seq: cpu.seq };
}
