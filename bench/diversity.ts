/**
 * Benchmark: the paper's 8 deterministic diversity keys over one model's two completion files at 5 and 20 words
 * (8 keys × 1,200 cells), median wall time of several runs. With `--python <interpreter>` (or
 * $MODE_COLLAPSE_PYTHON) it also runs tools/reference_diversity.py on the same files in the same session, checks
 * that both produce the same float32 values, and reports the speed ratio.
 *
 * usage: deno task bench [--creative F.npy] [--factual F.npy] [--runs 3] [--workers N] [--gzip auto|libz|pako]
 *                        [--python python3] [--python-runs 1] [--out results/bench/diversity.json]
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  computeDiversity,
  defaultWorkerCount,
  type DiversityTables,
  DiversityWorkerPool,
} from "../lib/diversity/run.ts";
import { loadCompletions } from "../lib/data/load_completions.ts";
import { writeJsonAtomic } from "../lib/io/atomic.ts";
import { METRIC_SELECTIONS } from "../lib/metrics/registry.ts";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import { findSharedDir } from "../lib/shared_dir.ts";
import { runtimeDescription } from "../lib/version.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    creative: { type: "string" },
    factual: { type: "string" },
    runs: { type: "string", default: "3" },
    workers: { type: "string" },
    gzip: { type: "string", default: "auto" },
    python: { type: "string" },
    "python-runs": { type: "string", default: "1" },
    out: { type: "string", default: join(PROJECT_ROOT, "results", "bench", "diversity.json") },
  },
});

const shared = findSharedDir();
const paperFile = (set: string, len: number) =>
  shared
    ? join(shared, "paper", "completions", `pythia-2.8b_completions_${set}_max_length${len}.npy`)
    : undefined;
const files = [values.creative ?? paperFile("creative", 70), values.factual ?? paperFile("factual", 25)];
if (files.some((f) => f === undefined)) {
  console.error("bench: no shared folder; pass --creative and --factual completion files");
  Deno.exit(2);
}
const WORDS = [5, 20];
const metrics = METRIC_SELECTIONS.deterministic();
const workers = values.workers === undefined ? defaultWorkerCount() : Number(values.workers);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const loadStart = performance.now();
const loaded = await Promise.all(files.map((f) => loadCompletions(f!)));
const loadSeconds = (performance.now() - loadStart) / 1000;
const cells = loaded.reduce((a, l) => a + l.cells.length * l.cells[0].length, 0) * WORDS.length;

// One pool for every run, as when a session analyses many files: workers start once and stay warm.
const pool = workers > 1 ? new DiversityWorkerPool(workers) : undefined;
const runSeconds: number[] = [];
let tables: DiversityTables[] = [];
for (let r = 0; r < Number(values.runs); r++) {
  const start = performance.now();
  tables = [];
  for (const l of loaded) {
    tables.push(
      await computeDiversity(l, {
        words: WORDS,
        metrics,
        workers,
        gzip: values.gzip as "auto" | "libz" | "pako",
      }),
    );
  }
  runSeconds.push((performance.now() - start) / 1000);
  console.error(`bench: run ${r + 1}: ${runSeconds.at(-1)!.toFixed(2)} s`);
}

pool?.close();

// Python reference, same files, same work.
const python = values.python ?? Deno.env.get("MODE_COLLAPSE_PYTHON");
let reference: { seconds: number[]; python: string; agree: boolean; differing: number } | null = null;
if (python) {
  const seconds: number[] = [];
  let differing = 0, compared = 0, version = "";
  for (let r = 0; r < Number(values["python-runs"]); r++) {
    const out = await new Deno.Command(python, {
      args: [
        join(PROJECT_ROOT, "tools", "reference_diversity.py"),
        ...files as string[],
        "--words",
        WORDS.join(","),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`reference run failed (${python})`);
    const ref = JSON.parse(new TextDecoder().decode(out.stdout));
    seconds.push(ref.seconds);
    version = ref.python;
    console.error(`bench: python reference run ${r + 1}: ${ref.seconds.toFixed(2)} s`);
    if (r > 0) continue;
    files.forEach((f, i) => {
      for (const w of WORDS) {
        for (const m of metrics) {
          const theirs: (number | null)[] = ref.values[`${f}|${w}|${m.key}`];
          const ours = tables[i].results[String(w)][m.key].flat();
          ours.forEach((v, k) => {
            compared++;
            const t = theirs[k];
            const same = t === null
              ? Number.isNaN(v)
              : m.key === "vendi_jaccard_2"
              ? Math.abs(v - t) <= 1e-6 * Math.abs(t)
              : Math.fround(v) === t;
            if (!same) differing++;
          });
        }
      }
    });
  }
  reference = {
    seconds,
    python: version,
    agree: differing === 0 && compared === cells * metrics.length,
    differing,
  };
}

const ours = median(runSeconds);
const summary = {
  benchmark: "diversity: 8 deterministic keys × (2 files × 300 cells × 2 word limits)",
  machine: `${runtimeDescription()}, ${navigator.hardwareConcurrency} cores`,
  files,
  cells,
  keys: metrics.map((m) => m.key),
  workers,
  gzip_backend: tables[0]?.gzipBackend,
  load_seconds: loadSeconds,
  run_seconds: runSeconds,
  median_seconds: ours,
  reference: reference && {
    ...reference,
    median_seconds: median(reference.seconds),
    speedup: median(reference.seconds) / ours,
  },
};
await writeJsonAtomic(values.out!, summary);
console.log(
  `diversity bench: ${cells} cells × ${metrics.length} keys: median ${
    ours.toFixed(2)
  } s over ${runSeconds.length} ` +
    `runs (${workers} workers, ${summary.gzip_backend}; loading the two files ${loadSeconds.toFixed(2)} s)`,
);
if (reference) {
  console.log(
    `python reference (${reference.python}): median ${median(reference.seconds).toFixed(2)} s → ` +
      `${(median(reference.seconds) / ours).toFixed(1)}× faster; values ${
        reference.agree ? "identical" : `DIFFER in ${reference.differing} cells`
      }`,
  );
}
