/**
 * Benchmark: corpus scoring throughput and memory with random-weight models of the Pythia-70M, -160M and -1.4B
 * architectures (tools/make_bench_models.py: they cost what the real ones do), against Hugging Face transformers
 * (PyTorch, CPU) scoring the same windows (tools/reference_score.py), and peak memory from 10 to 1,000 documents.
 *
 * References, each run in its own process and interleaved with the toolkit's runs (toolkit, PyTorch fp32, PyTorch
 * fp64, then again): `fp32` — what the paper computed (float32 forward, float32 log-softmax, entropy, max, argmax
 * and summed distribution), the headline ratio; `fp64` — the same with float64 statistics (the toolkit's
 * precision). Every run scores all windows after one untimed warm-up window; medians are reported with the load
 * average at each run. A breakdown pass then times one window's parts: the forward call (onnxruntime, logits
 * copied out), the statistics on two threads (the scorer's default) and on one with the WebAssembly and the
 * JavaScript row kernels (all checked bit-identical), the accumulator and a garbage collection.
 *
 * Options: `--help`.
 *
 * `--with-base`: also score with the model as its own base (divergences per position, as a study scores a
 * fine-tune), the statistics helper thread on and off, interleaved.
 *
 * Models load as the toolkit's scoring loads them (`scoringOnly`: a model with external data without its KV
 * outputs); `--full-graph` keeps them, for comparison.
 *
 * @module
 */
import { join } from "node:path";
import { loadCausalLM } from "../lib/models/load_causal_lm.ts";
import type { CausalLM } from "../lib/models/causal_lm.ts";
import {
  ORT_SESSION_SETTING_NAMES,
  ortSessionOptions,
  type OrtSessionSettings,
} from "../lib/models/onnx_session.ts";
import { loadTokenizer, prefixTokenId, type Tokenizer } from "../lib/models/tokenizer.ts";
import type { CorpusDocument } from "../lib/data/corpus_document.ts";
import { CorpusAccumulator } from "../lib/scoring/corpus_accumulator.ts";
import { createPositionStats, type RowKernel } from "../lib/scoring/position_stats.ts";
import { scoreWindowStats, WindowStatsHelper } from "../lib/scoring/window_stats.ts";
import { scoreCorpus } from "../lib/scoring/score_corpus.ts";
import { rollingWindows } from "../lib/scoring/windows.ts";
import { writeJsonAtomic } from "../lib/io/atomic.ts";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import { runtimeDescription } from "../lib/version.ts";
import { benchArgs, benchCount, benchCounts } from "./bench_args.ts";

const USAGE =
  `usage: deno task bench:score [--sizes 70m,160m] [--docs 4] [--runs 3] [--python python3] [--threads 2]
                             [--reference fp32,fp64] [--no-breakdown] [--session JSON] [--memory-size 70m]
                             [--memory-docs 10,100,1000] [--full-graph] [--with-base] [--out results/bench/score.json]`;

const values = benchArgs(USAGE, {
  sizes: { type: "string", default: "70m,160m" },
  docs: { type: "string", default: "4" },
  runs: { type: "string", default: "3" },
  python: { type: "string" },
  threads: { type: "string", default: "2" },
  reference: { type: "string", default: "fp32,fp64" },
  "no-breakdown": { type: "boolean", default: false },
  "memory-size": { type: "string", default: "70m" },
  "memory-docs": { type: "string", default: "10,100,1000" },
  "memory-only": { type: "string" },
  session: { type: "string" },
  "full-graph": { type: "boolean", default: false },
  "with-base": { type: "boolean", default: false },
  out: { type: "string", default: join(PROJECT_ROOT, "results", "bench", "score.json") },
});
const runs = benchCount(USAGE, "runs", values.runs);
const pythonThreads = benchCount(USAGE, "threads", values.threads!);
const memoryDocs = benchCounts(USAGE, "memory-docs", values["memory-docs"]!);
const docsPerRun = benchCount(USAGE, "docs", values.docs!);

const WORDS =
  ("the of and to in a is that for it as was with be by on not he this are or his from at which but " +
    "have an they you were her she there been one all we their has would when if so no what up out who them some " +
    "more time could into than its only other new people over first may after also years these two any most made " +
    "water world between under city music river history school light market small power energy study system")
    .split(
      " ",
    );

/** Deterministic English-like documents of about `words` words each. */
function syntheticDocuments(count: number, words: number): CorpusDocument[] {
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16;
  return Array.from({ length: count }, (_, index) => {
    const parts: string[] = [];
    for (let w = 0; w < words; w++) parts.push(WORDS[next() % WORDS.length] + (next() % 13 === 0 ? "." : ""));
    const text = parts.join(" ");
    return { index, line: index + 1, text, bytes: new TextEncoder().encode(text).length };
  });
}

async function* stream(docs: CorpusDocument[]): AsyncIterable<CorpusDocument> {
  yield* docs;
}

const MiB = 2 ** 20;
const rssMiB = () => Deno.memoryUsage().rss / MiB;

/** The process's peak resident size so far (Linux VmHWM, loading included), else the current one. */
function peakRssMiB(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(/^VmHWM:\s+(\d+) kB/m);
    if (m) return Number(m[1]) / 1024;
  } catch { /* not Linux */ }
  return rssMiB();
}

const load1 = () => Deno.loadavg()[0];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function modelDir(size: string): string {
  const dir = join(PROJECT_ROOT, "data", "models", "bench", `pythia-${size}-random`);
  try {
    Deno.statSync(join(dir, "onnx", "model.onnx"));
  } catch {
    console.error(`bench: ${dir} missing; run: python3 tools/make_bench_models.py --sizes ${size}`);
    Deno.exit(2);
  }
  return dir;
}

/** Bytes of the ONNX graph and its external data. */
function weightBytes(dir: string): number {
  let n = 0;
  for (const e of Deno.readDirSync(join(dir, "onnx"))) {
    if (e.name.startsWith("model.onnx")) n += Deno.statSync(join(dir, "onnx", e.name)).size;
  }
  return n;
}

interface Window {
  input: Int32Array;
  predict: Int32Array;
}

function windowsOf(docs: CorpusDocument[], tokenizer: Tokenizer): Window[] {
  return docs.flatMap((d) => [
    ...rollingWindows(tokenizer.encode(d.text, { addSpecialTokens: false }), {
      prefixToken: prefixTokenId(tokenizer),
      maxSeqLen: 1024,
      contextLen: 1,
    }),
  ]);
}

/** One timed scoring run of `docs` (the model loaded and warmed up by the caller). */
async function scoreRun(
  model: CausalLM,
  tokenizer: Tokenizer,
  docs: CorpusDocument[],
  extra: { base?: CausalLM; statsHelper?: boolean } = {},
) {
  const acc = new CorpusAccumulator({ vocab: model.info.vocabSize, withBase: extra.base !== undefined });
  let peak = rssMiB();
  const start = performance.now();
  const r = await scoreCorpus(stream(docs), {
    model,
    tokenizer,
    maxSeqLen: 1024,
    contextLen: 1,
    prefixToken: prefixTokenId(tokenizer),
    accumulator: acc,
    onDocument: () => void (peak = Math.max(peak, rssMiB())),
    ...extra,
  });
  const seconds = (performance.now() - start) / 1000;
  return {
    seconds,
    tokens: r.tokensScored,
    tokensPerSecond: r.tokensScored / seconds,
    sampledRssMiB: peak,
    acc,
  };
}

/** One PyTorch reference run (its own process) on the same windows. */
async function referenceRun(python: string, dir: string, windowsPath: string, precision: string) {
  const out = await new Deno.Command(python, {
    args: [
      join(PROJECT_ROOT, "tools", "reference_score.py"),
      dir,
      windowsPath,
      "--threads",
      String(pythonThreads),
      "--precision",
      precision,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`reference run (${precision}) failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/**
 * Where one window's time goes: mean ms per window of the forward call (onnxruntime; it includes copying the
 * logits out), a copy of that many logits (what the copy-out costs, for comparison), the statistics of every row
 * (scored and context) on one thread with each row kernel and on two (the scorer's default: the second half of
 * the rows on a helper thread), all checked bit-identical, the accumulator, and a full garbage collection (what
 * the scorer runs per window of 32 MiB of logits or more).
 */
async function breakdown(model: CausalLM, windows: Window[]) {
  const vocab = model.info.vocabSize;
  const t = {
    forwardMs: 0,
    copyMs: 0,
    statsJsMs: 0,
    statsWasmMs: 0,
    statsTwoThreadsMs: 0,
    accumulatorMs: 0,
    gcMs: 0,
  };
  const acc = new CorpusAccumulator({ vocab });
  const ways = [
    { key: "statsJsMs", kernel: "js", helper: null },
    { key: "statsWasmMs", kernel: "wasm", helper: null },
    { key: "statsTwoThreadsMs", kernel: "wasm", helper: new WindowStatsHelper() },
  ] as const satisfies readonly {
    key: keyof typeof t;
    kernel: RowKernel;
    helper: WindowStatsHelper | null;
  }[];
  const targets = ways.map(() => ({
    scored: createPositionStats(1024),
    context: createPositionStats(1024),
    scoredSink: new Float64Array(vocab),
    contextSink: new Float64Array(vocab),
  }));
  // deno-lint-ignore no-explicit-any
  const gc = (globalThis as any).gc as (() => void) | undefined;
  acc.beginDocument(0, 1);
  try {
    for (const w of windows) {
      const nScored = w.predict.length, nContext = w.input.length - nScored;
      let at = performance.now();
      const { logits } = await model.forward([w.input]);
      t.forwardMs += performance.now() - at;
      at = performance.now();
      new Float32Array(logits.length).set(logits);
      t.copyMs += performance.now() - at;
      for (const [i, way] of ways.entries()) {
        const target = targets[i];
        target.scoredSink.fill(0);
        target.contextSink.fill(0);
        at = performance.now();
        await scoreWindowStats(
          { logits, vocab, nContext, predict: w.predict },
          target,
          way.helper,
          way.kernel,
        );
        t[way.key] += performance.now() - at;
      }
      const [first, ...others] = targets;
      for (const other of others) {
        for (let i = 0; i < vocab; i++) {
          if (!Object.is(first.scoredSink[i], other.scoredSink[i])) {
            throw new Error("statistics differ (sink)");
          }
        }
        for (let r = 0; r < nScored; r++) {
          if (!Object.is(first.scored.entropyNats[r], other.scored.entropyNats[r])) {
            throw new Error("statistics differ (entropy)");
          }
        }
      }
      at = performance.now();
      const used = targets[targets.length - 1];
      acc.windowSinks.scored.set(used.scoredSink);
      acc.windowSinks.context.set(used.contextSink);
      if (nContext > 0) acc.addContextRows(used.context, 0, nContext);
      acc.addScoredRows(used.scored, 0, nScored);
      acc.endWindow();
      t.accumulatorMs += performance.now() - at;
      at = performance.now();
      gc?.();
      t.gcMs += performance.now() - at;
    }
  } finally {
    for (const way of ways) way.helper?.close();
  }
  acc.endDocument();
  const n = windows.length;
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v / n])) as typeof t;
}

/** `--session '{"enableCpuMemArena": false}'`: onnxruntime session settings (default: the loader's). */
const sessionSettings: OrtSessionSettings | undefined = values.session === undefined
  ? undefined
  : benchSessionSettings(values.session);

/** The `--session` JSON: an object of known settings only (a misspelt one would silently change nothing). */
function benchSessionSettings(json: string): OrtSessionSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    console.error(`--session is not JSON: ${(e as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  const known: readonly string[] = ORT_SESSION_SETTING_NAMES;
  const unknown = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? Object.keys(parsed).filter((k) => !known.includes(k))
    : ["(not an object)"];
  if (unknown.length > 0) {
    console.error(`--session: unknown setting ${unknown.join(", ")}; known: ${known.join(", ")}\n${USAGE}`);
    Deno.exit(2);
  }
  try {
    ortSessionOptions(parsed as OrtSessionSettings); // checks the values (e.g. intraOpSpinning's mode)
  } catch (e) {
    console.error(`--session: ${(e as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  return parsed as OrtSessionSettings;
}

const report: Record<string, unknown> = {
  machine: `${runtimeDescription()}, ${navigator.hardwareConcurrency} cores`,
  date: new Date().toISOString(),
  graph: values["full-graph"] ? "full (KV outputs kept)" : "as the toolkit scores (scoringOnly)",
};

if (values["memory-only"] !== undefined) {
  const memoryOnlyDocs = benchCount(USAGE, "memory-only", values["memory-only"]);
  // Child process: score N short documents (~65 tokens, one window each) and print the peaks.
  const dir = modelDir(values["memory-size"]!);
  const model = await loadCausalLM(dir, { session: sessionSettings, scoringOnly: !values["full-graph"] });
  const tokenizer = await loadTokenizer(dir);
  const r = await scoreRun(model, tokenizer, syntheticDocuments(memoryOnlyDocs, 60));
  console.log(JSON.stringify({
    tokens: r.tokens,
    tokensPerSecond: r.tokensPerSecond,
    peakRssMiB: peakRssMiB(),
    sampledRssMiB: r.sampledRssMiB,
    heapMiB: Deno.memoryUsage().heapUsed / MiB,
  }));
  await model.dispose();
  Deno.exit(0);
}

const python = values.python ?? Deno.env.get("MODE_COLLAPSE_PYTHON");
const precisions = values.reference!.split(",").filter((p) => p !== "");
for (const size of values.sizes!.split(",").filter((s) => s !== "")) {
  const dir = modelDir(size);
  // Documents of ~1,600 words (~2 full 1,024-token windows and a partial one each).
  const docs = syntheticDocuments(docsPerRun, 1600);
  const model = await loadCausalLM(dir, { session: sessionSettings, scoringOnly: !values["full-graph"] });
  const tokenizer = await loadTokenizer(dir);
  const windows = windowsOf(docs, tokenizer);
  await model.forward([windows[0].input]); // warm-up, as the reference's
  const windowsPath = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    windowsPath,
    JSON.stringify(windows.map((w) => ({ input: [...w.input], predict: [...w.predict] }))),
  );
  const toolkit: Record<string, number>[] = [];
  const refs: Record<string, Record<string, number>[]> = Object.fromEntries(precisions.map((p) => [p, []]));
  let sumLogprob = NaN;
  for (let run = 0; run < runs; run++) {
    const load = load1();
    const ours = await scoreRun(model, tokenizer, docs);
    sumLogprob = ours.acc.summary().sumLogprobNats;
    toolkit.push({ ...ours, acc: undefined, load } as unknown as Record<string, number>);
    console.error(
      `bench ${size} run ${run + 1}: toolkit ${ours.tokens} tokens in ${ours.seconds.toFixed(1)} s = ` +
        `${ours.tokensPerSecond.toFixed(0)} tokens/s (load ${load.toFixed(1)})`,
    );
    for (const p of python ? precisions : []) {
      const refLoad = load1();
      const ref = await referenceRun(python!, dir, windowsPath, p);
      refs[p].push({ ...ref, load: refLoad });
      const same = ref.tokens === ours.tokens &&
        Math.abs(ref.sum_logprob - sumLogprob) <= 1e-4 * Math.abs(sumLogprob);
      console.error(
        `bench ${size} run ${run + 1}: PyTorch ${p} ${ref.tokens_per_second.toFixed(0)} tokens/s ` +
          `(${ref.threads} threads, forward ${
            (ref.forward_seconds / windows.length * 1000).toFixed(0)
          } ms/window, ` +
          `load ${refLoad.toFixed(1)}); Σ log p ${same ? "agrees" : "DIFFERS"}`,
      );
    }
  }
  await Deno.remove(windowsPath);
  const entry: Record<string, unknown> = {
    windows: windows.length,
    weightBytes: weightBytes(dir),
    toolkit: {
      runs: toolkit,
      medianTokensPerSecond: median(toolkit.map((r) => r.tokensPerSecond)),
      peakRssMiB: peakRssMiB(),
    },
  };
  const ourMedian = median(toolkit.map((r) => r.tokensPerSecond));
  for (const p of python ? precisions : []) {
    const refMedian = median(refs[p].map((r) => r.tokens_per_second));
    entry[`pytorch_${p}`] = {
      runs: refs[p],
      medianTokensPerSecond: refMedian,
      ratio: ourMedian / refMedian,
      peakRssMiB: Math.max(...refs[p].map((r) => r.peak_rss_mib)),
    };
    console.error(
      `bench ${size}: toolkit ${ourMedian.toFixed(0)} tokens/s vs PyTorch ${p} ${
        refMedian.toFixed(0)
      } tokens/s ` +
        `(medians of ${runs}) → ${(ourMedian / refMedian).toFixed(2)}×`,
    );
  }
  if (!values["no-breakdown"]) {
    const b = await breakdown(model, windows);
    entry.breakdownMsPerWindow = b;
    console.error(
      `bench ${size} per window: forward ${b.forwardMs.toFixed(0)} ms (a copy of its logits alone: ` +
        `${b.copyMs.toFixed(0)} ms), statistics ${b.statsTwoThreadsMs.toFixed(0)} ms on two threads ` +
        `(one: ${b.statsWasmMs.toFixed(0)} ms; JavaScript kernel ${b.statsJsMs.toFixed(0)} ms), accumulator ${
          b.accumulatorMs.toFixed(0)
        } ms, ` +
        `gc ${b.gcMs.toFixed(0)} ms (load ${load1().toFixed(1)})`,
    );
  }
  if (values["with-base"]) {
    // Scoring against a base model (KL, JS, argmax changes per position), as a study scores each fine-tune: the
    // model is its own base here (the cost does not depend on the weights); the statistics helper thread on and
    // off, interleaved. No PyTorch row: the reference script computes no divergences.
    const base = await loadCausalLM(dir, { session: sessionSettings, scoringOnly: !values["full-graph"] });
    const rows: Record<"on" | "off", number[]> = { on: [], off: [] };
    for (let run = 0; run < runs; run++) {
      for (const helper of ["on", "off"] as const) {
        const r = await scoreRun(model, tokenizer, docs, { base, statsHelper: helper === "on" });
        rows[helper].push(r.tokensPerSecond);
        console.error(
          `bench ${size} run ${run + 1}: toolkit with a base model, helper thread ${helper}: ` +
            `${r.tokensPerSecond.toFixed(0)} tokens/s (load ${load1().toFixed(1)})`,
        );
      }
    }
    await base.dispose();
    entry.withBase = { helperOn: rows.on, helperOff: rows.off };
    console.error(
      `bench ${size} with a base model: ${median(rows.on).toFixed(0)} tokens/s with the helper thread, ` +
        `${median(rows.off).toFixed(0)} without (medians of ${runs}) → ${
          (median(rows.on) / median(rows.off)).toFixed(2)
        }×`,
    );
  }
  console.error(`bench ${size}: toolkit peak RSS ${peakRssMiB().toFixed(0)} MiB (process high-water mark)`);
  report[size] = entry;
  await model.dispose();
}

// Memory: peak RSS while scoring 10 … 1,000 short documents, each count in a process of its own (RSS is a
// process-wide high-water mark).
const memory: Record<string, unknown> = {};
for (const n of memoryDocs) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      join(PROJECT_ROOT, "bench", "score.ts"),
      "--memory-size",
      values["memory-size"]!,
      "--memory-only",
      String(n),
      ...(values.session === undefined ? [] : ["--session", values.session]),
      ...(values["full-graph"] ? ["--full-graph"] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  memory[String(n)] = r;
  const weights = weightBytes(modelDir(values["memory-size"]!)) / MiB;
  console.error(
    `bench memory ${values["memory-size"]}: ${n} documents (${r.tokens} tokens): peak RSS ` +
      `${r.peakRssMiB.toFixed(0)} MiB = ${(r.peakRssMiB / weights).toFixed(2)} × the weights ` +
      `(${weights.toFixed(0)} MiB); after documents ≤ ${r.sampledRssMiB.toFixed(0)} MiB`,
  );
}
report.memory = { size: values["memory-size"], documents: memory };
await writeJsonAtomic(values.out!, report);
