/**
 * Benchmark: new tokens per second sampling 25 completions of 70 tokens (temperature 1, top-k 50, the paper's
 * settings, EOS ignored so every run makes exactly 1,750 tokens) with a model of the Pythia-70M architecture
 * (random weights, tools/make_bench_models.py), against Hugging Face transformers (PyTorch, CPU) `generate` with
 * the same settings and prompt in the same run (bench/generate_reference.py). The sampler's helper thread is
 * started once and serves every run, as a sweep's serves every cell, as PyTorch's thread pool does its runs
 * (`--sampler-helper per-call` starts one in each run instead).
 *
 * Options: `--help`.
 * @module
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { loadCausalLM } from "../lib/models/load_causal_lm.ts";
import { generate } from "../lib/sampling/generate.ts";
import { writeJsonAtomic } from "../lib/io/atomic.ts";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import { runtimeDescription } from "../lib/version.ts";
import { sha256Hex } from "../lib/io/sha256.ts";
import { benchArgs, benchChoice, benchCount } from "./bench_args.ts";
import { startSamplerHelper } from "../lib/sampling/sampler_helper.ts";
import { ORT_SPINNING_MODES } from "../lib/models/onnx_session.ts";

const USAGE = `usage: deno task bench:generate [--size 70m] [--runs 3] [--samples 25] [--new-tokens 70]
                                [--python python3] [--threads 2] [--ort-threads N] [--ort-spinning run|always|off]
                                [--sampler-helper shared|per-call|none] [--out results/bench/generate.json]`;

const values = benchArgs(USAGE, {
  size: { type: "string", default: "70m" },
  runs: { type: "string", default: "3" },
  samples: { type: "string", default: "25" },
  "new-tokens": { type: "string", default: "70" },
  python: { type: "string" },
  threads: { type: "string", default: String(navigator.hardwareConcurrency) },
  // onnxruntime's intra-op threads for the toolkit's session (default: onnxruntime's own choice).
  "ort-threads": { type: "string" },
  // When onnxruntime's intra-op threads spin while they wait (default: during runs only, the toolkit's default).
  "ort-spinning": { type: "string", default: "run" },
  // The sampler's helper thread: one for every run, as a sweep keeps one for all its cells (default); one
  // started by each run; or none.
  "sampler-helper": { type: "string", default: "shared" },
  out: { type: "string", default: join(PROJECT_ROOT, "results", "bench", "generate.json") },
});

const runs = benchCount(USAGE, "runs", values.runs);
const pythonThreads = benchCount(USAGE, "threads", values.threads);
const samples = benchCount(USAGE, "samples", values.samples);
const newTokens = benchCount(USAGE, "new-tokens", values["new-tokens"]);
const helperMode = benchChoice(USAGE, "sampler-helper", values["sampler-helper"]!, [
  "shared",
  "per-call",
  "none",
]);
const spinning = benchChoice(USAGE, "ort-spinning", values["ort-spinning"]!, ORT_SPINNING_MODES);
const dir = join(PROJECT_ROOT, "data", "models", "bench", `pythia-${values.size}-random`);
if (!existsSync(join(dir, "onnx", "model.onnx"))) {
  console.error(`bench: ${dir} missing; run: python3 tools/make_bench_models.py --sizes ${values.size}`);
  Deno.exit(2);
}
// A fixed 12-token prompt (ids of ordinary English tokens in the Pythia vocabulary).
const PROMPT_IDS = [510, 3158, 8516, 30013, 27287, 689, 253, 22658, 4370, 15, 380, 4370];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ortThreads = values["ort-threads"] === undefined
  ? undefined
  : benchCount(USAGE, "ort-threads", values["ort-threads"]);
const loaded = await loadCausalLM(dir, {
  session: {
    ...(ortThreads === undefined ? {} : { intraOpNumThreads: ortThreads }),
    intraOpSpinning: spinning,
  },
});
// Where the time goes: the model's decoding steps (onnxruntime, feeds and outputs) vs the rest (sampling, the loop).
let stepSeconds = 0;
const model = {
  ...loaded,
  step: async (...args: Parameters<typeof loaded.step>) => {
    const t0 = performance.now();
    const out = await loaded.step(...args);
    stepSeconds += (performance.now() - t0) / 1000;
    return out;
  },
};
const seeds = Array.from({ length: samples }, (_, i) => i);
const settings = { temperature: 1, topK: 50, topP: 1 };
const sharedHelper = helperMode === "shared" ? startSamplerHelper(samples, loaded.info.vocabSize) : null;
const helperThread = sharedHelper ?? helperMode === "per-call";
const oursSeconds: number[] = [];
const oursStepSeconds: number[] = [];
// A digest of every run's token ids: settings that must not change the samples (threads) are compared on it.
const tokenDigests = new Set<string>();
await generate(model, PROMPT_IDS, seeds, { settings, maxNewTokens: 4, stopTokenIds: [], helperThread }); // warm-up
for (let r = 0; r < runs; r++) {
  stepSeconds = 0;
  const t0 = performance.now();
  const out = await generate(model, PROMPT_IDS, seeds, {
    settings,
    maxNewTokens: newTokens,
    stopTokenIds: [],
    helperThread,
  });
  const seconds = (performance.now() - t0) / 1000;
  const made = out.reduce((n, s) => n + s.tokenIds.length, 0);
  if (made !== samples * newTokens) throw new Error(`made ${made} tokens, expected ${samples * newTokens}`);
  const ids = new Int32Array(out.flatMap((x) => Array.from(x.tokenIds)));
  tokenDigests.add(sha256Hex(new Uint8Array(ids.buffer)));
  oursSeconds.push(seconds);
  oursStepSeconds.push(stepSeconds);
  console.error(
    `bench: ours run ${r + 1}: ${seconds.toFixed(2)} s (${(made / seconds).toFixed(0)} tokens/s; ` +
      `model steps ${stepSeconds.toFixed(2)} s; load ${Deno.loadavg()[0].toFixed(1)})`,
  );
}
sharedHelper?.close();
await model.dispose();
const total = samples * newTokens;
const ours = {
  seconds_median: median(oursSeconds),
  tokens_per_s: total / median(oursSeconds),
  runs: oursSeconds,
  // Seconds inside model.step per run; the rest of a run is sampling and the loop.
  step_seconds: oursStepSeconds,
  ort_intra_op_threads: ortThreads ?? "onnxruntime default",
  ort_intra_op_spinning: spinning,
  sampler_helper: helperMode,
  ...(sharedHelper ? { sampler_helper_rows: sharedHelper.stats } : {}),
  tokens_sha256: [...tokenDigests],
};

let reference: Record<string, unknown> | undefined;
const python = values.python ?? Deno.env.get("MODE_COLLAPSE_PYTHON");
if (python) {
  const out = await new Deno.Command(python, {
    args: [
      join(PROJECT_ROOT, "bench", "generate_reference.py"),
      "--model",
      dir,
      "--prompt-ids",
      PROMPT_IDS.join(","),
      "--batch",
      String(samples),
      "--max-new-tokens",
      String(newTokens),
      "--runs",
      String(runs),
      "--threads",
      String(pythonThreads),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (out.code !== 0) throw new Error(`${python} bench/generate_reference.py exited with ${out.code}`);
  reference = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

const result = {
  benchmark: "generate",
  machine: `${navigator.hardwareConcurrency} cores, ${Deno.build.os}-${Deno.build.arch}`,
  runtime: runtimeDescription(),
  model: `pythia-${values.size} architecture, random weights (${dir})`,
  settings: {
    samples,
    new_tokens: newTokens,
    temperature: 1,
    top_k: 50,
    top_p: 1,
    prompt_tokens: PROMPT_IDS.length,
  },
  load_average: Deno.loadavg(),
  ours,
  ...(reference ? { pytorch: reference, ratio: ours.tokens_per_s / (reference.tokens_per_s as number) } : {}),
};
await writeJsonAtomic(values.out!, result);
console.log(JSON.stringify(result, null, 1));
