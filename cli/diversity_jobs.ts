/**
 * The files of one `analyse diversity` call: each `--completions` paired with where its results go (`--out`, once
 * per file in the same order, or a name in `--out-dir`), its `--prompt-set` (once per file, or none) and its
 * `--model` (none, once for every file, or once per file). Any other count is a usage error, so no file is ever
 * paired with another file's option.
 * @module
 */
import { basename, join } from "node:path";
import { UsageError } from "./options.ts";

/** One completions file to measure. */
export interface DiversityJob {
  /** The completions file (`--completions`). */
  input: string;
  /** The results file. */
  out: string;
  /** Its explicit prompt set, if given. */
  promptSet?: string;
  /** The model name to record, if given. */
  model?: string;
}

/** The per-file options as parsed (repeatable ones as lists). */
export interface DiversityJobOptions {
  completions: readonly string[];
  out?: readonly string[];
  outDir?: string;
  promptSets?: readonly string[];
  models?: readonly string[];
  /** With `--shard I/N`: the shard, for the names in `--out-dir`. */
  shard?: { index: number; count: number };
}

/** "once", "twice", "3 times". */
function times(n: number): string {
  return n === 1 ? "once" : n === 2 ? "twice" : `${n} times`;
}

/**
 * The name of a file's results in `--out-dir`: its file name without `.npy`/`.json`, then `.diversity.json`
 * (with a shard: `.diversity.shard-I-of-N.json`).
 */
export function diversityOutName(input: string, shard?: { index: number; count: number }): string {
  const stem = basename(input).replace(/\.(npy|json)$/i, "");
  return shard === undefined
    ? `${stem}.diversity.json`
    : `${stem}.diversity.shard-${shard.index}-of-${shard.count}.json`;
}

/** Pairs the per-file options (see the module comment); throws a {@link UsageError} on any other count. */
export function planDiversityJobs(o: DiversityJobOptions): DiversityJob[] {
  const n = o.completions.length;
  const out = o.out ?? [];
  if (out.length > 0 && o.outDir !== undefined) {
    throw new UsageError("--out and --out-dir both given: give --out once per --completions, or --out-dir");
  }
  if (o.outDir === undefined && out.length !== n) {
    throw new UsageError(
      `--completions given ${times(n)} but --out ${times(out.length)}: give --out once per --completions, ` +
        "in the same order, or --out-dir <dir>",
    );
  }
  const promptSets = o.promptSets ?? [];
  if (promptSets.length !== 0 && promptSets.length !== n) {
    throw new UsageError(
      `--prompt-set given ${
        times(promptSets.length)
      } for ${n} --completions: give it once per --completions, ` +
        "in the same order, or not at all (each file's own prompt set then)",
    );
  }
  const models = o.models ?? [];
  if (models.length > 1 && models.length !== n) {
    throw new UsageError(
      `--model given ${
        times(models.length)
      } for ${n} --completions: give it once (for every file) or once per ` +
        "--completions, in the same order",
    );
  }
  const jobs = o.completions.map((input, i) => ({
    input,
    out: o.outDir === undefined ? out[i] : join(o.outDir, diversityOutName(input, o.shard)),
    promptSet: promptSets[i],
    model: models.length === 1 ? models[0] : models[i],
  }));
  if (o.outDir !== undefined) {
    jobs.forEach((job, i) => {
      const twin = jobs.findIndex((other, j) => j < i && other.out === job.out);
      if (twin >= 0) {
        throw new UsageError(
          `--completions ${jobs[twin].input} and ${job.input} would both write ${job.out}; give --out once ` +
            "per --completions instead of --out-dir",
        );
      }
    });
  }
  return jobs;
}
