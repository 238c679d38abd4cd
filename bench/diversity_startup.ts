/**
 * Where the start-up of `analyse diversity` goes: each part measured in fresh processes, `--runs` times
 * (interleaved), median wall and CPU seconds (user + system, all threads) with the load average. CPU time stretches
 * much less than wall time on a busy machine, so it is the figure to read when the load is high.
 *
 * Whole processes (bash's `time`): the runtime alone (an empty module), the dispatcher (`analyse nope`: an unknown
 * command, no command module loaded), `diversity --help`. Parts, inside a process (`process.cpuUsage`, the
 * process's CPU including threads): the main thread's modules for a real call (cli/diversity_run.ts and what it
 * imports), one worker thread up to its first result (its modules and the zlib probe), reading both paper files,
 * and, for scale, pako's CommonJS deep imports that lib/metrics/gzip_length.ts makes (they bring in Node's
 * CommonJS loader, in every thread). And a real call on both paper files (the 8 deterministic keys, 5 and 20
 * words) up to the line that starts the metrics, stopped there: one call on both files; with `--baseline <dir>`
 * (another checkout of the project, e.g. `git worktree add <dir> <commit>` with node_modules linked in), that
 * version run the same way beside it, one call per file when it takes only one.
 *
 * Options: `--help`.
 * @module
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../lib/io/atomic.ts";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import { findSharedDir } from "../lib/shared_dir.ts";
import { runtimeDescription } from "../lib/version.ts";
import { treeCpuSeconds } from "./timed_process.ts";
import { benchArgs, benchCount } from "./bench_args.ts";

const USAGE = `usage: deno run -A bench/diversity_startup.ts [--runs 7] [--creative F.npy] [--factual F.npy]
                                              [--baseline <dir> [--baseline-files-per-call 1]]
                                              [--out results/bench/diversity_startup.json]`;

const values = benchArgs(USAGE, {
  runs: { type: "string", default: "7" },
  creative: { type: "string" },
  factual: { type: "string" },
  baseline: { type: "string" },
  "baseline-files-per-call": { type: "string", default: "1" },
  out: { type: "string", default: join(PROJECT_ROOT, "results", "bench", "diversity_startup.json") },
});
const runs = benchCount(USAGE, "runs", values.runs);
const baselineFilesPerCall = benchCount(USAGE, "baseline-files-per-call", values["baseline-files-per-call"]!);
const shared = findSharedDir();
const paper = (name: string) => shared && join(shared, "paper", "completions", name);
const files = [
  values.creative ?? paper("pythia-2.8b_completions_creative_max_length70.npy"),
  values.factual ?? paper("pythia-2.8b_completions_factual_max_length25.npy"),
];
const url = (path: string) => new URL(path, `file://${PROJECT_ROOT}/`).href;
const scratch = await Deno.makeTempDir({ prefix: "bench-startup-" });

/**
 * A part measured inside a fresh process: `setup` runs first, untimed; `part` is timed; both are module code.
 * Their imports go through {@link later}: Deno prepares the graph behind a literal `import("…")` before the
 * module runs, which would leave that work out of the timing.
 */
interface Part {
  label: string;
  setup?: string;
  part: string;
}
const parts: Part[] = [
  {
    label: "main thread: the modules of a real call",
    part: `await import(later(${JSON.stringify(url("cli/diversity_run.ts"))}));`,
  },
  {
    label: "one worker thread: modules + zlib probe, to its first result",
    setup: `const { DiversityWorkerPool } = await import(later(${
      JSON.stringify(url("lib/diversity/pool.ts"))
    }));`,
    part: `const pool = new DiversityWorkerPool(1);
await pool.run([{ keys: ["selfBleuSmoothed"], seed: 0, gzip: "auto", cells: [{ t: 0, p: 0, samples: ["a b", "c d"] }] }], () => {});
pool.close();`,
  },
  ...(files.every((f) => f !== undefined)
    ? [{
      label: "reading both paper files (loadCompletions)",
      setup: `const { loadCompletions } = await import(later(${
        JSON.stringify(url("lib/data/load_completions.ts"))
      }));`,
      part: `for (const f of ${JSON.stringify(files)}) await loadCompletions(f);`,
    }]
    : []),
  { label: "of which: pako's ES module build", part: `await import(later("pako"));` },
  {
    label: "of which: pako's CommonJS deep imports",
    setup: `await import(later("pako"));`,
    part: `await import(later("pako/lib/zlib/deflate.js")); await import(later("pako/lib/zlib/zstream.js"));`,
  },
];

async function timeModule(p: Part): Promise<{ wall: number; cpu: number }> {
  const file = join(scratch, "part.ts");
  await Deno.writeTextFile(
    file,
    `import process from "node:process";
const later = (specifier: string) => specifier;
${p.setup ?? ""}
const c0 = process.cpuUsage(), t0 = performance.now();
${p.part}
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 }));`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", join(PROJECT_ROOT, "deno.json"), file],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${p.label}: the measuring process failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Wall and CPU seconds of a whole process, by bash's `time` (children included). */
async function timeProcess(args: string[], cwd = PROJECT_ROOT): Promise<{ wall: number; cpu: number }> {
  const quoted = args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const out = await new Deno.Command("bash", {
    args: ["-c", `TIMEFORMAT='%R %U %S'; time (${quoted} >/dev/null 2>&1)`],
    cwd,
    stderr: "piped",
  }).output();
  const [wall, user, sys] = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)!.split(" ").map(
    Number,
  );
  return { wall, cpu: user + sys };
}

const empty = join(scratch, "empty.ts");
await Deno.writeTextFile(empty, "");
const taskLine = (await import("../deno.json", { with: { type: "json" } })).default.tasks.analyse.command
  .split(/\s+/).slice(1);
/** The analyse task's `deno run …` line, run from project `root`. */
const analyseLine = (root: string) =>
  taskLine.map((a) => a === "cli/analyse.ts" ? join(root, "cli", "analyse.ts") : a);
const processes: { label: string; args: string[]; cwd?: string }[] = [
  ...(values.baseline === undefined ? [] : [
    {
      label: "the baseline's dispatcher alone (analyse nope)",
      args: [Deno.execPath(), ...analyseLine(values.baseline), "nope"],
      cwd: values.baseline,
    },
    {
      label: "the baseline's diversity --help (deno run)",
      args: [Deno.execPath(), ...analyseLine(values.baseline), "diversity", "--help"],
      cwd: values.baseline,
    },
  ]),
  { label: "the runtime alone (deno run of an empty module)", args: [Deno.execPath(), "run", empty] },
  { label: "the dispatcher alone (analyse nope)", args: [Deno.execPath(), ...taskLine, "nope"] },
  {
    label: "diversity --help (deno run, the task's line)",
    args: [Deno.execPath(), ...taskLine, "diversity", "--help"],
  },
  {
    label: "diversity --help (deno task analyse)",
    args: [Deno.execPath(), "task", "--quiet", "analyse", "diversity", "--help"],
  },
];

/** The log line the CLI prints just before a file's metrics start. */
const METRICS_START = /^diversity: .* cells\), \d+ metrics, words /;

/**
 * Spawn → the first METRICS_START line of `analyse diversity` in project `root` on `inputs` (one call), wall and
 * CPU seconds (process and children, from /proc); the call is then killed.
 */
async function timeToMetrics(root: string, inputs: string[]): Promise<{ wall: number; cpu: number }> {
  const out = join(scratch, "to-metrics");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...analyseLine(root),
      "diversity",
      ...inputs.flatMap((f) => ["--completions", f]),
      ...(inputs.length === 1 ? ["--out", join(out, "one.json")] : ["--out-dir", out]),
      "--metrics",
      "deterministic",
      "--words",
      "5,20",
    ],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const started = performance.now();
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of child.stderr) {
    text += decoder.decode(chunk, { stream: true });
    if (text.split("\n").some((l) => METRICS_START.test(l))) {
      const measured = { wall: (performance.now() - started) / 1000, cpu: treeCpuSeconds(child.pid) ?? NaN };
      child.kill("SIGKILL");
      await child.status;
      return measured;
    }
  }
  await child.status;
  throw new Error(`${root}: analyse diversity ended before its metrics started:\n${text}`);
}

/** `files` in calls of `perCall`, one after another: summed wall and CPU to each call's metrics. */
async function callsToMetrics(root: string, perCall: number): Promise<{ wall: number; cpu: number }> {
  let wall = 0, cpu = 0;
  for (let i = 0; i < files.length; i += perCall) {
    const t = await timeToMetrics(root, files.slice(i, i + perCall) as string[]);
    wall += t.wall;
    cpu += t.cpu;
  }
  return { wall, cpu };
}
const realCalls: { label: string; measure: () => Promise<{ wall: number; cpu: number }> }[] =
  files.every((f) => f !== undefined)
    ? [
      {
        label: "a real call on both paper files, to its metrics",
        measure: () => callsToMetrics(PROJECT_ROOT, files.length),
      },
      ...(values.baseline === undefined ? [] : [{
        label: `the baseline, ${values["baseline-files-per-call"]} file(s) a call, to its metrics`,
        measure: () => callsToMetrics(values.baseline!, baselineFilesPerCall),
      }]),
    ]
    : [];

const samples = new Map<string, { wall: number; cpu: number; load: number }[]>();
for (let r = 0; r < runs; r++) {
  for (const p of processes) {
    const load = Deno.loadavg()[0];
    samples.set(p.label, [...samples.get(p.label) ?? [], { ...await timeProcess(p.args, p.cwd), load }]);
  }
  for (const p of parts) {
    const load = Deno.loadavg()[0];
    samples.set(p.label, [...samples.get(p.label) ?? [], { ...await timeModule(p), load }]);
  }
  for (const c of realCalls) {
    const load = Deno.loadavg()[0];
    samples.set(c.label, [...samples.get(c.label) ?? [], { ...await c.measure(), load }]);
  }
}
await Deno.remove(scratch, { recursive: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [...samples].map(([label, s]) => ({
  label,
  median_wall_seconds: Math.round(median(s.map((x) => x.wall)) * 1000) / 1000,
  median_cpu_seconds: Math.round(median(s.map((x) => x.cpu)) * 1000) / 1000,
  load_1min: s.map((x) => Math.round(x.load * 10) / 10),
}));
await writeJsonAtomic(values.out!, {
  benchmark: "start-up of analyse diversity, by part",
  date: new Date().toISOString(),
  machine: `${runtimeDescription()}, ${navigator.hardwareConcurrency} cores`,
  runs,
  rows,
});
console.log(
  `start-up of analyse diversity (${runs} runs each, medians; ${navigator.hardwareConcurrency} cores)`,
);
for (const r of rows) {
  console.log(
    `  ${r.label.padEnd(62)} wall ${r.median_wall_seconds.toFixed(3)} s  CPU ${
      r.median_cpu_seconds.toFixed(3)
    } s  ` +
      `(load ${Math.min(...r.load_1min)}–${Math.max(...r.load_1min)})`,
  );
}
