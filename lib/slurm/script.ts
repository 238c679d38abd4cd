/**
 * `sbatch` scripts as text: a job (or job array) with its `#SBATCH` options and a bash body. Pure: the caller
 * decides what runs and where the files go; nothing here talks to Slurm.
 * @module
 */

/** One batch job (or job array) to write as a script. */
export interface BatchJob {
  /** Job name (`--job-name`). */
  name: string;
  /** Array task ids (`--array`), e.g. [0, 1, 2]; absent for a plain job. */
  arrayTasks?: readonly number[];
  /** Most array tasks running at once (`%K` after the array spec). */
  arrayParallel?: number;
  /** Partition (`--partition`); absent: the cluster's default. */
  partition?: string;
  /** Wall-clock limit as Slurm reads it (`--time`, e.g. "02:00:00"). */
  time?: string;
  /** GPUs per task (`--gpus-per-task`). */
  gpusPerTask?: number;
  /** CPUs per task (`--cpus-per-task`). */
  cpusPerTask?: number;
  /** Memory per node in MB (`--mem`). */
  memMb?: number;
  /** Log file pattern (`--output`; `%A` array job id, `%a` task id, `%j` job id). */
  output: string;
  /** Working folder (`--chdir`). */
  chdir: string;
  /** Comment lines at the top, for people reading the script. */
  comments?: readonly string[];
  /** The bash body, after `set -euo pipefail`. */
  body: readonly string[];
}

/** A compact `--array` spec: runs of consecutive ids as ranges ("0-2,5,7-8"). */
export function arraySpec(tasks: readonly number[], parallel?: number): string {
  const ids = [...new Set(tasks)].sort((a, b) => a - b);
  if (ids.length === 0) throw new Error("a job array needs at least one task");
  for (const i of ids) {
    if (!Number.isSafeInteger(i) || i < 0) {
      throw new Error(`array task id ${i} is not a non-negative integer`);
    }
  }
  const parts: string[] = [];
  for (let k = 0; k < ids.length;) {
    let j = k;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    parts.push(j === k ? `${ids[k]}` : `${ids[k]}-${ids[j]}`);
    k = j + 1;
  }
  return parts.join(",") + (parallel !== undefined ? `%${parallel}` : "");
}

/** Quotes a word for bash (single quotes unless it is plainly safe). */
export function bashQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/** The script text of a job: shebang, comments, `#SBATCH` lines, strict bash, the body. */
export function renderBatchScript(job: BatchJob): string {
  const opt = (flag: string, value: string | number | undefined) =>
    value === undefined ? [] : [`#SBATCH --${flag}=${value}`];
  for (const [what, n] of [["gpusPerTask", job.gpusPerTask], ["cpusPerTask", job.cpusPerTask]] as const) {
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) {
      throw new Error(`${what} must be a count, got ${n}`);
    }
  }
  if (/\s/.test(job.name)) throw new Error(`job name "${job.name}" has white space`);
  return [
    "#!/bin/bash",
    ...(job.comments ?? []).map((c) => `# ${c}`),
    `#SBATCH --job-name=${job.name}`,
    ...opt("array", job.arrayTasks ? arraySpec(job.arrayTasks, job.arrayParallel) : undefined),
    ...opt("partition", job.partition),
    ...opt("time", job.time),
    ...opt("gpus-per-task", job.gpusPerTask || undefined),
    ...opt("cpus-per-task", job.cpusPerTask),
    ...opt("mem", job.memMb),
    `#SBATCH --output=${job.output}`,
    `#SBATCH --chdir=${job.chdir}`,
    "set -euo pipefail",
    ...job.body,
    "",
  ].join("\n");
}
