/**
 * Benchmark: the paper's 8 deterministic diversity keys over one model's two completion files at 5 and 20 words
 * (8 keys × 1,200 cells), side by side with the plain-Python reference (tools/reference_diversity.py) in the same
 * session: each row run `--runs` times, the rows interleaved (round 1 of every row, then round 2, …), medians
 * reported with the 1-minute load average of every run.
 *
 * Rows:
 * - whole process (the headline): ONE `deno task analyse diversity` call on both files (`--completions` twice),
 *   spawn to exit, start-up included — against ONE whole Python process on both files, run the way the paper's
 *   script is (interpreter start, numpy/SciPy/nltk imports, loading, metrics, output);
 * - one CLI call per file (how the command had to be run before it took several files);
 * - in-process: the metrics alone (`computeDiversity` on loaded files, one warm worker pool), against the
 *   reference's own timing of its metric loop.
 * Start-up: when the CLI prints the line that starts the metrics (spawn → modules, files read, workers started),
 * and `diversity --help` through `deno task` and through the task's `deno run` line.
 * The CLI's output files and the in-process tables are both checked against the reference's float32 values.
 * CPU seconds (all threads; read from /proc, Linux) come only with `deno run -A bench/diversity.ts …`: Deno lets
 * only --allow-all read /proc, and `deno task bench` runs with narrower permissions.
 *
 * Options: `--help`.
 * @module
 */
import { join } from "node:path";
import denoConfig from "../deno.json" with { type: "json" };
import { diversityOutName } from "../cli/diversity_jobs.ts";
import { loadCompletions } from "../lib/data/load_completions.ts";
import {
  computeDiversity,
  defaultWorkerCount,
  type DiversityTables,
  DiversityWorkerPool,
} from "../lib/diversity/run.ts";
import { writeJsonAtomic } from "../lib/io/atomic.ts";
import { parseDiversityFile } from "../lib/io/diversity_format.ts";
import { METRIC_SELECTIONS } from "../lib/metrics/registry.ts";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import { findSharedDir } from "../lib/shared_dir.ts";
import { runtimeDescription } from "../lib/version.ts";
import { lineTime, type TimedProcess, timedProcess } from "./timed_process.ts";
import { benchArgs, benchChoice, benchCount } from "./bench_args.ts";

const USAGE =
  `usage: deno task bench [--creative F.npy] [--factual F.npy] [--runs 3] [--workers N] [--gzip auto|libz|pako]
                       [--python python3] [--python-runs N] [--launcher task|run] [--help-runs 7]
                       [--out results/bench/diversity.json]`;

const values = benchArgs(USAGE, {
  creative: { type: "string" },
  factual: { type: "string" },
  runs: { type: "string", default: "3" },
  workers: { type: "string" },
  gzip: { type: "string", default: "auto" },
  python: { type: "string" },
  "python-runs": { type: "string" },
  launcher: { type: "string", default: "task" },
  "help-runs": { type: "string", default: "7" },
  out: { type: "string", default: join(PROJECT_ROOT, "results", "bench", "diversity.json") },
});
const runs = benchCount(USAGE, "runs", values.runs);
const helpRuns = benchCount(USAGE, "help-runs", values["help-runs"]);
const launcher = benchChoice(USAGE, "launcher", values.launcher, ["task", "run"]);
const gzip = benchChoice(USAGE, "gzip", values.gzip, ["auto", "libz", "pako"]);
const python = values.python ?? Deno.env.get("MODE_COLLAPSE_PYTHON");
const pythonRuns = python ? benchCount(USAGE, "python-runs", values["python-runs"] ?? String(runs)) : 0;
const workers = values.workers === undefined
  ? defaultWorkerCount()
  : benchCount(USAGE, "workers", values.workers);

const shared = findSharedDir();
const paperFile = (set: string, len: number) =>
  shared
    ? join(shared, "paper", "completions", `pythia-2.8b_completions_${set}_max_length${len}.npy`)
    : undefined;
const maybeFiles = [values.creative ?? paperFile("creative", 70), values.factual ?? paperFile("factual", 25)];
if (maybeFiles.some((f) => f === undefined)) {
  console.error("bench: no shared folder; pass --creative and --factual completion files");
  Deno.exit(2);
}
const files = maybeFiles as string[];
const WORDS = [5, 20];
const metrics = METRIC_SELECTIONS.deterministic();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round2 = (x: number) => Math.round(x * 100) / 100;

// The CLI as a user starts it: `deno task analyse …`, or the task's own `deno run …` line without the task runner.
const taskLine = denoConfig.tasks.analyse.command.split(/\s+/);
function cli(how: "task" | "run", args: string[]): Promise<TimedProcess> {
  return how === "task"
    ? timedProcess(Deno.execPath(), ["task", "--quiet", "analyse", ...args], PROJECT_ROOT)
    : timedProcess(Deno.execPath(), [...taskLine.slice(1), ...args], PROJECT_ROOT);
}
const cliOptions = [
  "--metrics",
  "deterministic",
  "--words",
  WORDS.join(","),
  "--gzip",
  gzip,
  ...(values.workers === undefined ? [] : ["--workers", values.workers]),
];
/** The log line the CLI prints just before a file's metrics start. */
const METRICS_START = /^diversity: .* cells\), \d+ metrics, words /;

const scratch = await Deno.makeTempDir({ prefix: "bench-diversity-" });
const oneCallDir = join(scratch, "one-call");

/** One timed sample of a row. */
interface Sample {
  seconds: number;
  load: number;
  /** Spawn → the first file's metrics start (CLI rows); start-up and loading (Python: wall − its metric loop). */
  startSeconds?: number;
  /** CPU seconds (all threads) the CLI had used when its first file's metrics started (Linux). */
  startCpu?: number;
  /** CPU seconds of the whole process, all threads (Linux; sampled every 0.1 s, so up to 0.1 s short). */
  cpu?: number;
}
const rows: Record<"oneCall" | "perFile" | "python" | "inProcess", Sample[]> = {
  oneCall: [],
  perFile: [],
  python: [],
  inProcess: [],
};
const pythonMetricSeconds: number[] = [];
let reference: { python: string; values: Record<string, (number | null)[]> } | undefined;

const loadStart = performance.now();
const loaded = await Promise.all(files.map((f) => loadCompletions(f)));
const loadSeconds = (performance.now() - loadStart) / 1000;
const cells = loaded.reduce((a, l) => a + l.cells.length * l.cells[0].length, 0) * WORDS.length;
// One pool for every in-process run, as when a session analyses many files: workers start once and stay warm.
const pool = workers > 1 ? new DiversityWorkerPool(workers) : undefined;
let tables: DiversityTables[] = [];

for (let r = 0; r < Math.max(runs, pythonRuns); r++) {
  if (r < runs) {
    const one = await cli(launcher, [
      "diversity",
      ...files.flatMap((f) => ["--completions", f]),
      "--out-dir",
      oneCallDir,
      ...cliOptions,
    ]);
    const oneStart = lineTime(one, METRICS_START);
    rows.oneCall.push({
      seconds: one.seconds,
      load: one.load,
      startSeconds: oneStart?.at,
      startCpu: oneStart?.cpu,
      cpu: one.cpu,
    });

    let perFileSeconds = 0, perFileStart = 0, perFileStartCpu = 0, perFileCpu = 0;
    const load = Deno.loadavg()[0];
    for (const [i, f] of files.entries()) {
      const call = await cli(launcher, [
        "diversity",
        "--completions",
        f,
        "--out",
        join(scratch, "per-file", `${i}.json`),
        ...cliOptions,
      ]);
      const callStart = lineTime(call, METRICS_START);
      perFileSeconds += call.seconds;
      perFileStart += callStart?.at ?? NaN;
      perFileStartCpu += callStart?.cpu ?? NaN;
      perFileCpu += call.cpu ?? NaN;
    }
    rows.perFile.push({
      seconds: perFileSeconds,
      load,
      startSeconds: perFileStart,
      startCpu: perFileStartCpu,
      cpu: perFileCpu,
    });
  }
  if (r < pythonRuns) {
    const run = await timedProcess(python!, [
      join(PROJECT_ROOT, "tools", "reference_diversity.py"),
      ...files,
      "--words",
      WORDS.join(","),
    ]);
    const ref = JSON.parse(run.stdout);
    reference ??= { python: ref.python, values: ref.values };
    pythonMetricSeconds.push(ref.seconds);
    rows.python.push({
      seconds: run.seconds,
      load: run.load,
      startSeconds: run.seconds - ref.seconds,
      cpu: run.cpu,
    });
  }
  if (r < runs) {
    const load = Deno.loadavg()[0];
    const start = performance.now();
    tables = [];
    for (const l of loaded) {
      tables.push(await computeDiversity(l, { words: WORDS, metrics, workers, pool, gzip }));
    }
    rows.inProcess.push({ seconds: (performance.now() - start) / 1000, load });
  }
  const last = (k: keyof typeof rows) => rows[k].at(-1)?.seconds.toFixed(2) ?? "–";
  console.error(
    `bench: round ${r + 1}: one call ${last("oneCall")} s, one call per file ${last("perFile")} s, python ` +
      `${last("python")} s, in-process ${last("inProcess")} s (load ${Deno.loadavg()[0].toFixed(1)})`,
  );
}
pool?.close();

// Start-up alone: `diversity --help`, alternating the two launchers.
const help: Record<"task" | "run", Sample[]> = { task: [], run: [] };
for (let r = 0; r < helpRuns; r++) {
  for (const how of ["task", "run"] as const) {
    const run = await cli(how, ["diversity", "--help"]);
    help[how].push({ seconds: run.seconds, load: run.load });
  }
}

// Same values on both sides: the CLI's files and the in-process tables against the reference's float32 values.
function differences(ours: (fileIndex: number, words: number, key: string) => number[]) {
  let differing = 0, compared = 0;
  files.forEach((f, i) => {
    for (const w of WORDS) {
      for (const m of metrics) {
        const theirs = reference!.values[`${f}|${w}|${m.key}`];
        ours(i, w, m.key).forEach((v, k) => {
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
  return { differing, identical: differing === 0 && compared === cells * metrics.length };
}
let agreement: { cli: ReturnType<typeof differences>; inProcess: ReturnType<typeof differences> } | null =
  null;
if (reference !== undefined && runs > 0) {
  const cliFiles = await Promise.all(files.map(async (f) => {
    const path = join(oneCallDir, diversityOutName(f));
    return parseDiversityFile(await Deno.readTextFile(path), path);
  }));
  agreement = {
    cli: differences((i, w, key) => cliFiles[i].results[String(w)][key].flat()),
    inProcess: differences((i, w, key) => tables[i].results[String(w)][key].flat()),
  };
}
await Deno.remove(scratch, { recursive: true });

const summarise = (samples: Sample[]) =>
  samples.length === 0 ? null : {
    median_seconds: round2(median(samples.map((s) => s.seconds))),
    seconds: samples.map((s) => round2(s.seconds)),
    ...(samples[0].startSeconds !== undefined
      ? { median_start_seconds: round2(median(samples.map((s) => s.startSeconds!))) }
      : {}),
    ...(samples[0].startCpu !== undefined
      ? { median_start_cpu_seconds: round2(median(samples.map((s) => s.startCpu!))) }
      : {}),
    ...(samples[0].cpu !== undefined
      ? { median_cpu_seconds: round2(median(samples.map((s) => s.cpu!))) }
      : {}),
    load_1min: samples.map((s) => round2(s.load)),
  };
const py = summarise(rows.python);
const ratio = (ours: Sample[]) =>
  py && ours.length > 0 ? round2(py.median_seconds / median(ours.map((s) => s.seconds))) : null;
const summary = {
  benchmark: "diversity: 8 deterministic keys × (2 files × 300 cells × 2 word limits)",
  date: new Date().toISOString(),
  machine: `${runtimeDescription()}, ${navigator.hardwareConcurrency} cores`,
  files,
  cells,
  keys: metrics.map((m) => m.key),
  workers,
  gzip,
  launcher,
  gzip_backend: tables[0]?.gzipBackend,
  load_seconds_in_process: round2(loadSeconds),
  whole_process_one_call: { ...summarise(rows.oneCall), vs_python: ratio(rows.oneCall) },
  whole_process_one_call_per_file: { ...summarise(rows.perFile), vs_python: ratio(rows.perFile) },
  python_whole_process: py && {
    ...py,
    python: reference?.python,
    median_metric_loop_seconds: round2(median(pythonMetricSeconds)),
  },
  in_process_metrics: {
    ...summarise(rows.inProcess),
    vs_python_metric_loop: pythonMetricSeconds.length > 0 && rows.inProcess.length > 0
      ? round2(median(pythonMetricSeconds) / median(rows.inProcess.map((s) => s.seconds)))
      : null,
  },
  help_task: summarise(help.task),
  help_run: summarise(help.run),
  values: agreement,
};
await writeJsonAtomic(values.out!, summary);

const line = (label: string, s: ReturnType<typeof summarise>, extra = "") =>
  s && console.log(
    `  ${label.padEnd(44)} median ${s.median_seconds.toFixed(2)} s over ${s.seconds.length} runs ` +
      `(load ${Math.min(...s.load_1min).toFixed(1)}–${Math.max(...s.load_1min).toFixed(1)})` +
      (s.median_cpu_seconds === undefined ? "" : `, CPU ${s.median_cpu_seconds.toFixed(2)} s`) + extra,
  );
console.log(
  `diversity bench: ${cells} cells × ${metrics.length} keys, ${workers} workers, ${summary.gzip_backend}, ` +
    `${navigator.hardwareConcurrency} cores`,
);
const startNote = (s: ReturnType<typeof summarise>) =>
  s?.median_start_seconds === undefined ? "" : `; ${s.median_start_seconds.toFixed(2)} s before the metrics` +
    (s.median_start_cpu_seconds === undefined ? "" : ` (${s.median_start_cpu_seconds.toFixed(2)} s of CPU)`);
const vs = (x: number | null) => (x === null ? "" : `; ${x.toFixed(1)}× the Python process`);
line(
  `whole process, one call (deno ${launcher})`,
  summarise(rows.oneCall),
  startNote(summarise(rows.oneCall)) + vs(ratio(rows.oneCall)),
);
line(
  `whole process, one call per file (deno ${launcher})`,
  summarise(rows.perFile),
  startNote(summarise(rows.perFile)) + vs(ratio(rows.perFile)),
);
line(
  `python reference, whole process (${reference?.python ?? "–"})`,
  py,
  pythonMetricSeconds.length > 0
    ? `; its metric loop ${median(pythonMetricSeconds).toFixed(2)} s, the rest ${
      py!.median_start_seconds!.toFixed(2)
    } s`
    : "",
);
line(
  "in-process metrics (warm pool)",
  summarise(rows.inProcess),
  summary.in_process_metrics.vs_python_metric_loop === null
    ? ""
    : `; ${summary.in_process_metrics.vs_python_metric_loop.toFixed(1)}× Python's metric loop`,
);
line("diversity --help (deno task)", summarise(help.task));
line("diversity --help (deno run)", summarise(help.run));
if (agreement) {
  const say = (d: { identical: boolean; differing: number }) =>
    d.identical ? "identical" : `DIFFER in ${d.differing} cells`;
  console.log(
    `  values vs the reference: CLI files ${say(agreement.cli)}, in-process ${say(agreement.inProcess)}`,
  );
}
