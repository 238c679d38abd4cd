/**
 * Benchmark: corpus scoring throughput and memory with models of the Pythia-70M and Pythia-160M architectures
 * (random weights, made by tools/make_bench_models.py: they cost what the real ones do), against Hugging Face
 * transformers (PyTorch, CPU) scoring the same windows in the same run (tools/reference_score.py), and peak memory
 * of this toolkit's scoring from 10 to 1,000 documents.
 *
 * usage: deno task bench:score [--sizes 70m,160m] [--docs 4] [--python python3] [--memory-docs 10,100,1000]
 *                              [--out results/bench/score.json]
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadCausalLM } from "../lib/models/load_causal_lm.ts";
import { loadTokenizer, prefixTokenId } from "../lib/models/tokenizer.ts";
import type { CorpusDocument } from "../lib/data/corpus_document.ts";
import { CorpusAccumulator } from "../lib/scoring/corpus_accumulator.ts";
import { scoreCorpus } from "../lib/scoring/score_corpus.ts";
import { rollingWindows } from "../lib/scoring/windows.ts";
import { writeJsonAtomic } from "../lib/io/atomic.ts";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import { runtimeDescription } from "../lib/version.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "70m,160m" },
    docs: { type: "string", default: "4" },
    python: { type: "string" },
    "memory-docs": { type: "string", default: "10,100,1000" },
    "memory-only": { type: "string" },
    out: { type: "string", default: join(PROJECT_ROOT, "results", "bench", "score.json") },
  },
});

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

const peakRssMiB = () => Deno.memoryUsage().rss / 2 ** 20;

async function scoreOnce(dir: string, docs: CorpusDocument[], maxSeqLen: number) {
  const model = await loadCausalLM(dir);
  const tokenizer = await loadTokenizer(dir);
  try {
    const acc = new CorpusAccumulator({ vocab: model.info.vocabSize });
    let peak = peakRssMiB();
    const start = performance.now();
    const r = await scoreCorpus(stream(docs), {
      model,
      tokenizer,
      maxSeqLen,
      contextLen: 1,
      prefixToken: prefixTokenId(tokenizer),
      accumulator: acc,
      onDocument: () => void (peak = Math.max(peak, peakRssMiB())),
    });
    const seconds = (performance.now() - start) / 1000;
    return {
      seconds,
      tokens: r.tokensScored,
      tokensPerSecond: r.tokensScored / seconds,
      peakRssMiB: peak,
      acc,
    };
  } finally {
    await model.dispose();
  }
}

const report: Record<string, unknown> = {
  machine: `${runtimeDescription()}, ${navigator.hardwareConcurrency} cores`,
};
// In a --memory-only child process, skip the throughput part.
for (const size of values["memory-only"] === undefined ? values.sizes!.split(",") : []) {
  const dir = join(PROJECT_ROOT, "data", "models", "bench", `pythia-${size}-random`);
  try {
    Deno.statSync(join(dir, "onnx", "model.onnx"));
  } catch {
    console.error(`bench: ${dir} missing; run: python3 tools/make_bench_models.py --sizes ${size}`);
    Deno.exit(2);
  }
  // Documents of ~1,600 words (~2 full 1,024-token windows and a partial one each).
  const docs = syntheticDocuments(Number(values.docs), 1600);
  const ours = await scoreOnce(dir, docs, 1024);
  console.error(
    `bench ${size}: toolkit ${ours.tokens} tokens in ${ours.seconds.toFixed(1)} s = ` +
      `${ours.tokensPerSecond.toFixed(0)} tokens/s, peak RSS ${ours.peakRssMiB.toFixed(0)} MiB`,
  );
  const entry: Record<string, unknown> = { toolkit: { ...ours, acc: undefined } };
  const python = values.python ?? Deno.env.get("MODE_COLLAPSE_PYTHON");
  if (python) {
    const tokenizer = await loadTokenizer(dir);
    const windows = docs.flatMap((d) =>
      [...rollingWindows(tokenizer.encode(d.text, { addSpecialTokens: false }), {
        prefixToken: prefixTokenId(tokenizer),
        maxSeqLen: 1024,
        contextLen: 1,
      })].map((w) => ({ input: [...w.input], predict: [...w.predict] }))
    );
    const windowsPath = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.writeTextFile(windowsPath, JSON.stringify(windows));
    const out = await new Deno.Command(python, {
      args: [join(PROJECT_ROOT, "tools", "reference_score.py"), dir, windowsPath],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    await Deno.remove(windowsPath);
    if (!out.success) throw new Error("reference run failed");
    const ref = JSON.parse(new TextDecoder().decode(out.stdout));
    const ratio = ours.tokensPerSecond / ref.tokens_per_second;
    const summary = ours.acc.summary();
    entry.reference = ref;
    entry.ratio = ratio;
    console.error(
      `bench ${size}: PyTorch ${ref.tokens} tokens in ${ref.seconds.toFixed(1)} s = ` +
        `${ref.tokens_per_second.toFixed(0)} tokens/s (${ref.threads} threads), peak RSS ${
          ref.peak_rss_mib.toFixed(0)
        } ` +
        `MiB → toolkit ${ratio.toFixed(2)}× PyTorch; Σ log p ${
          summary.tokens === ref.tokens ? "over the same tokens" : "MISMATCH"
        }`,
    );
  }
  report[size] = entry;
}

// Memory: peak RSS while scoring 10 … 1,000 short documents with the 70M architecture, each count in a process of
// its own (RSS is a process-wide high-water mark).
const memDir = join(PROJECT_ROOT, "data", "models", "bench", "pythia-70m-random");
if (values["memory-only"] !== undefined) {
  const r = await scoreOnce(memDir, syntheticDocuments(Number(values["memory-only"]), 60), 1024);
  console.log(
    JSON.stringify({
      tokens: r.tokens,
      peakRssMiB: r.peakRssMiB,
      heapMiB: Deno.memoryUsage().heapUsed / 2 ** 20,
    }),
  );
  Deno.exit(0);
}
const memory: Record<string, { tokens: number; peakRssMiB: number }> = {};
for (const n of values["memory-docs"]!.split(",").map(Number)) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      join(PROJECT_ROOT, "bench", "score.ts"),
      "--memory-only",
      String(n),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  memory[String(n)] = r;
  console.error(`bench memory: ${n} documents (${r.tokens} tokens): peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
}
report.memory_peak_rss_mib = memory;
await writeJsonAtomic(values.out!, report);
