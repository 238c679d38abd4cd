/**
 * `deno task reproduce`: the main job. With no arguments it runs the embedded default study offline — a tiny
 * Pythia-architecture model and a deliberately collapsed copy, Moby-Dick from npm, the paper's prompt packs —
 * and writes `results/` with the notebooks executed and an HTML report. `--study <file>` runs a study/1 file
 * (real model folders, presets or hub ids); `--paper-dir` adds the paper's own result files.
 * @module
 */
import { resolve } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandLine, shellQuote, UsageError } from "./options.ts";
import { onInterrupt } from "./interrupt.ts";
import { STUDY_OPTIONS, studyFromOptions } from "./study_options.ts";
import { submitToSlurm } from "./reproduce_slurm.ts";
import { runStudy } from "../lib/study/run.ts";
import { findSharedDir } from "../lib/shared_dir.ts";
import { existsSync } from "node:fs";
import { checkPaperDir, fetchPaperFiles, PAPER_COMMIT, PAPER_REPOSITORY } from "../lib/data/paper_files.ts";

const USAGE = `usage: deno task reproduce [--study <study.json>] [--size default|ci] [--results <dir>]
  [--paper-dir <dir>]     the paper's result files (default: $MODE_COLLAPSE_SHARED/paper when present)
  [--fetch-paper <dir>]   download the paper's result files into <dir> (online; each sha256 verified), use them
  [--no-notebooks]        skip executing the notebooks (default: execute them when Jupyter is set up)
  [--only <names>]        execute only these notebooks (comma list)
  [--recompute]           recompute every step instead of reusing valid results
  [--figures <preset>]    also redraw every figure for a paper: paper-single or paper-double (PDF + PNG + SVG
                          in <results>/figures/<preset>/, with an index)
  [--slurm]               run the study on a Slurm cluster: one job array per step (score, sweep, diversity),
                          afterok merge jobs, a final notebooks-and-report job; scripts and logs in
                          <results>/slurm/. Rerun the same command after a failure: only what is missing runs.
    [--shards N]          shards per model (score) and per model and pack (sweep, diversity) (default 4)
    [--partition P] [--time T] [--gpus-per-task G] [--array-parallel K]   passed to sbatch
    [--wait]              follow the jobs until they end (exit 0 only when every task completed)
    [--dry-run]           write the scripts, submit nothing
writes everything under the results folder: the study's resultsDir, or --results (default results/).
Ctrl-C stops the current step and keeps what is done: rerun the same command to continue (finished steps are
reused, a stopped scoring or sampling step resumes).`;

/** The `reproduce` command. */
export const command: Command = {
  summary:
    "the whole study end to end (embedded offline default, or --study): scores, sweeps, notebooks, report",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({
      args,
      options: {
        ...STUDY_OPTIONS,
        "paper-dir": { type: "string" },
        "fetch-paper": { type: "string" },
        "no-notebooks": { type: "boolean", default: false },
        only: { type: "string" },
        recompute: { type: "boolean", default: false },
        figures: { type: "string" },
        slurm: { type: "boolean", default: false },
        shards: { type: "string" },
        partition: { type: "string" },
        "gpus-per-task": { type: "string" },
        time: { type: "string" },
        "array-parallel": { type: "string" },
        wait: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const slurmOnly = ["shards", "partition", "gpus-per-task", "time", "array-parallel", "wait", "dry-run"]
      .filter((k) =>
        values[k as keyof typeof values] !== undefined && values[k as keyof typeof values] !== false
      );
    if (!values.slurm && slurmOnly.length > 0) throw new UsageError(`--${slurmOnly[0]} needs --slurm`);
    const study = studyFromOptions(values);
    if (values["fetch-paper"]) {
      console.error(
        `reproduce: fetching the paper's files (${PAPER_REPOSITORY}@${PAPER_COMMIT.slice(0, 7)})`,
      );
      await fetchPaperFiles(values["fetch-paper"], { log: (l) => console.error(`reproduce: ${l}`) });
    }
    const shared = findSharedDir();
    const paperDir = values["fetch-paper"] ?? values["paper-dir"] ??
      (shared !== undefined ? `${shared}/paper` : undefined);
    if (paperDir !== undefined) {
      if (!existsSync(paperDir)) throw new Error(`--paper-dir ${paperDir} does not exist`);
      const check = await checkPaperDir(paperDir);
      if (check.corrupt.length > 0) {
        throw new Error(`${paperDir}: files with a wrong sha256:\n  ${check.corrupt.join("\n  ")}`);
      }
      console.error(
        `reproduce: the paper's files in ${paperDir}: ${check.ok.length} verified` +
          (check.missing.length > 0 ? `, ${check.missing.length} missing` : ""),
      );
      study.paperDir = resolve(paperDir);
    }
    console.error(`reproduce: ${study.name}: writes ${study.resultsDir}`);
    if (values.slurm) {
      return await submitToSlurm(study, values, paperDir);
    }
    const again = `deno task reproduce ${args.map(shellQuote).join(" ")}`.trimEnd();
    const controller = new AbortController();
    const stopListening = onInterrupt(
      "reproduce",
      controller,
      "stopping the current step; keeping what is done",
    );
    let r;
    try {
      r = await runStudy(study, {
        force: values.recompute,
        notebooks: values["no-notebooks"] ? false : "auto",
        onlyNotebooks: values.only?.split(",").map((s) => s.trim()).filter((s) => s !== ""),
        log: (line) => console.error(`reproduce: ${line}`),
        ...(values.study ? { studySource: values.study } : {}),
        signal: controller.signal,
        ...(values.figures ? { figures: values.figures } : {}),
      });
    } catch (e) {
      if (controller.signal.aborted) {
        console.error(
          `reproduce: interrupted: ${(e as Error).message}\nreproduce: finished steps are kept in ` +
            `${study.resultsDir}; to continue: ${again}`,
        );
        return 130;
      }
      console.error(
        `reproduce: stopped: ${
          (e as Error).message
        }\nreproduce: finished steps are kept in ${study.resultsDir}; ` +
          `after fixing the problem, rerun: ${again}`,
      );
      return 1;
    } finally {
      stopListening();
    }
    for (const v of r.verdicts) {
      console.error(
        `reproduce: ${v.model} vs ${v.base}: ${
          v.collapsed ? "MODE COLLAPSE DETECTED" : "no collapse detected"
        }`,
      );
    }
    console.error(`reproduce: report → ${r.reportFile}`);
    if (r.interrupted) {
      console.error(`reproduce: interrupted during the notebooks; to continue: ${again}`);
      return 130;
    }
    if (r.notebookFailures.length > 0) {
      console.error(`reproduce: notebooks failed: ${r.notebookFailures.join(", ")}`);
      return 1;
    }
    return 0;
  },
};
