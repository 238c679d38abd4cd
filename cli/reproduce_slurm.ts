/**
 * `reproduce --slurm`: submits a study to a Slurm cluster as job arrays (lib/study/slurm_study.ts) and, with
 * `--wait`, follows the jobs to their end.
 * @module
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import type { StudyConfig } from "../lib/study/config.ts";
import { submitShardedStudy, waitForJobs } from "../lib/study/slurm_study.ts";
import { UsageError } from "./options.ts";
import { studyArguments } from "./study_options.ts";

/** The permissions of `deno task reproduce` (deno.json), which every job's CLI call runs with. */
const JOB_PERMISSIONS = [
  "--v8-flags=--expose-gc",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-net",
  "--allow-run",
];

/** The options reproduce passes on. */
export interface SlurmValues {
  study?: string;
  size?: string;
  shards?: string;
  partition?: string;
  "gpus-per-task"?: string;
  time?: string;
  "array-parallel"?: string;
  wait?: boolean;
  "dry-run"?: boolean;
  "no-notebooks"?: boolean;
  only?: string;
  figures?: string;
  recompute?: boolean;
}

function count(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} takes an integer ≥ ${min}, got "${v}"`);
  }
  return n;
}

/** Writes and submits the study's jobs; with --wait follows them. Returns the exit code. */
export async function submitToSlurm(
  study: StudyConfig,
  values: SlurmValues,
  paperDir?: string,
): Promise<number> {
  if (values.recompute) {
    throw new UsageError(
      "--recompute with --slurm: remove the results folder's cache/ instead (jobs reuse it)",
    );
  }
  const shards = count(values.shards, "--shards", 1) ?? 4;
  const reportArgs = [
    ...(values["no-notebooks"] ? ["--no-notebooks"] : []),
    ...(values.only ? ["--only", values.only] : []),
    ...(values.figures ? ["--figures", values.figures] : []),
    ...(paperDir !== undefined ? ["--paper-dir", paperDir] : []),
  ];
  const log = (l: string) => console.error(`reproduce: ${l}`);
  const submitted = await submitShardedStudy(study, {
    shards,
    partition: values.partition,
    time: values.time,
    gpusPerTask: count(values["gpus-per-task"], "--gpus-per-task", 0),
    arrayParallel: count(values["array-parallel"], "--array-parallel", 1),
    cli: [Deno.execPath(), "run", ...JOB_PERMISSIONS, join(PROJECT_ROOT, "cli", "analyse.ts")],
    projectRoot: PROJECT_ROOT,
    studyArgs: studyArguments(values, study),
    reportArgs,
    dryRun: values["dry-run"],
    log,
  });
  const left = submitted.plan.map((p) =>
    `${p.kind} ${p.tasks.filter((t) => !t.done).length}/${p.tasks.length}`
  );
  log(`tasks to run (of all): ${left.join(", ")}; scripts in ${join(study.resultsDir, "slurm")}`);
  if (values["dry-run"]) {
    log(`dry run: nothing submitted; submit with: sbatch <script> in the order of ${submitted.record}`);
    return 0;
  }
  if (!values.wait) {
    log(`submitted ${submitted.jobs.length} jobs (ids in ${submitted.record}); follow with squeue`);
    return 0;
  }
  const r = await waitForJobs(study, submitted.jobs, { log });
  if (r.ok) {
    log(`every job completed; report → ${join(study.resultsDir, "report.html")}`);
    return 0;
  }
  for (const p of r.problems) log(p);
  log("rerun the same command to redo only what is missing");
  return 1;
}
