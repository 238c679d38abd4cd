/**
 * A study on a Slurm cluster: one job array per step (score, sweep, diversity; each task one shard of one model's
 * or model-and-pack's step), one merge job per step that waits for its array (`afterok`), and a final job that
 * runs the study as `reproduce` does — every step then reused from the merged results — with its notebooks and
 * report. The scripts are written under `<results>/slurm/` and are meant to be read; logs go to
 * `<results>/slurm/logs/`. A resubmission plans again from the result cache: finished steps and shards are left
 * out, so only what is missing runs.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { shardLabel, type ShardSpec } from "../io/shards.ts";
import { bashQuote, type BatchJob, renderBatchScript } from "../slurm/script.ts";
import { isOver, type JobState, jobStates, submitBatch } from "../slurm/client.ts";
import { baseFirstOrder, type StudyConfig } from "./config.ts";
import {
  checkStudyCompatibility,
  ensureStudyCorpus,
  StudyModels,
  studyPackNames,
  sweepStep,
} from "./steps.ts";
import { countCorpusLines } from "../data/corpus_reader.ts";
import {
  isDone,
  type ShardedStepKind,
  shardKey,
  StepNotDoneError,
  type StepUnit,
  unitKey,
} from "./shard_steps.ts";

/** The steps in the order they depend on each other. */
const SHARDED_STEPS: readonly ShardedStepKind[] = ["score", "sweep", "diversity"];

/** One array task: shard I of N of a unit, at a fixed index of its step's array. */
export interface PlannedTask {
  unit: StepUnit;
  shard: ShardSpec;
  /** The task's index in its step's array (stable across resubmissions of the same study and shard count). */
  arrayIndex: number;
  /** Done already (left out of the submission). */
  done: boolean;
}

/** What one step has left to do. */
export interface PlannedStep {
  kind: ShardedStepKind;
  /** Every task of the step (done ones included, so indices stay stable). */
  tasks: PlannedTask[];
  /** Units whose merged result is not done yet, with their shard counts. */
  unitsToMerge: { unit: StepUnit; shards: number }[];
}

/** The units of a step: each model (score), each model and pack (sweep, diversity), base models first. */
function stepUnits(study: StudyConfig, kind: ShardedStepKind): StepUnit[] {
  const models = baseFirstOrder(study).map((m) => m.name);
  if (kind === "score") return models.map((model) => ({ kind, model }));
  const packs = studyPackNames(study);
  return models.flatMap((model) => packs.map((pack) => ({ kind, model, pack })));
}

/**
 * How many pieces a unit's work has, up to `shards`, so that no shard is empty: the documents a score step
 * selects (`corpus.maxDocs`, and no more than the corpus has lines: only the first `shards` lines are read) and the
 * cells (temperatures × prompts) of a sweep or diversity step.
 */
async function unitWorkItems(study: StudyConfig, unit: StepUnit, shards: number): Promise<number> {
  if (unit.kind === "score") {
    const wanted = Math.min(shards, study.corpus.maxDocs ?? Number.POSITIVE_INFINITY);
    return Math.min(wanted, await countCorpusLines(await ensureStudyCorpus(study), wanted));
  }
  const models = new StudyModels(study);
  const { sweepSpec } = await sweepStep(study, models.spec(unit.model), unit.pack!);
  return sweepSpec.temperatures.length * sweepSpec.prompts.length;
}

/**
 * What is left of a study split `shards` ways (fewer for a unit with fewer documents or cells): per step, its tasks (marked done from the result cache) and the
 * units still to merge. A diversity unit whose sweep is not done yet has every shard to do.
 */
async function planShardedStudy(study: StudyConfig, shards: number): Promise<PlannedStep[]> {
  if (!Number.isSafeInteger(shards) || shards < 1) {
    throw new Error(`--shards must be a positive integer, got ${shards}`);
  }
  await checkStudyCompatibility(study);
  const plan: PlannedStep[] = [];
  for (const kind of SHARDED_STEPS) {
    const tasks: PlannedTask[] = [];
    const unitsToMerge: { unit: StepUnit; shards: number }[] = [];
    let arrayIndex = 0;
    for (const unit of stepUnits(study, kind)) {
      let key;
      try {
        key = await unitKey(study, unit);
      } catch (e) {
        if (!(e instanceof StepNotDoneError)) throw e; // diversity before its sweep: all to do
      }
      const count = Math.min(shards, await unitWorkItems(study, unit, shards));
      const unitDone = key !== undefined && await isDone(study, key);
      if (!unitDone) unitsToMerge.push({ unit, shards: count });
      for (let index = 1; index <= count; index++) {
        const shard = { index, count };
        const done = unitDone || (key !== undefined && await isDone(study, await shardKey(key, shard)));
        tasks.push({ unit, shard, arrayIndex: arrayIndex++, done });
      }
    }
    plan.push({ kind, tasks, unitsToMerge });
  }
  return plan;
}

/** How the cluster's jobs are shaped and run. */
export interface SlurmJobOptions {
  /** Shards per step unit. */
  shards: number;
  partition?: string;
  /** Wall-clock limit of each job (Slurm's `--time`). */
  time?: string;
  gpusPerTask?: number;
  /** Most tasks of one array running at once. */
  arrayParallel?: number;
  /** The command that runs this toolkit's CLI in a job, e.g. [deno, "run", …permissions, ".../cli/analyse.ts"]. */
  cli: readonly string[];
  /** The project folder (each job's working folder). */
  projectRoot: string;
  /** Options that select the study in every job (e.g. ["--study", "/abs/study.json", "--results", "/abs/out"]). */
  studyArgs: readonly string[];
  /** Options of the final `reproduce` job besides the study (e.g. ["--no-notebooks"]). */
  reportArgs?: readonly string[];
}

/** A script written and, unless dry, submitted. */
export interface SlurmJob {
  /** Script file name under `<results>/slurm/`. */
  name: string;
  script: string;
  /** Array tasks submitted (absent: a plain job). */
  tasks?: number[];
  /** Names of the jobs it waits for (`afterok`). */
  after: string[];
  /** Slurm's job id (absent in a dry run). */
  id?: string;
}

/** The folder of a study's Slurm scripts, and of their logs. */
function slurmDir(study: StudyConfig): string {
  return join(study.resultsDir, "slurm");
}

function commandLine(words: readonly string[]): string {
  return words.map(bashQuote).join(" ");
}

/** The batch jobs of a plan, in submission order, with their dependencies by name. */
function slurmJobsOf(study: StudyConfig, plan: readonly PlannedStep[], o: SlurmJobOptions): {
  job: BatchJob;
  file: string;
  after: string[];
}[] {
  const dir = slurmDir(study);
  const logs = join(dir, "logs");
  const common = { partition: o.partition, time: o.time, chdir: o.projectRoot };
  const cli = commandLine([...o.cli]);
  const studyArgs = commandLine([...o.studyArgs]);
  const header = [
    `written by "deno task reproduce --slurm" for study "${study.name}"; results in ${study.resultsDir}`,
    "resubmit the same command to redo only what is missing (finished steps and shards are reused)",
  ];
  const jobs: { job: BatchJob; file: string; after: string[] }[] = [];
  let mergeBefore: string | undefined; // the sweep merge, which diversity waits for
  const merges: string[] = [];
  SHARDED_STEPS.forEach((kind, k) => {
    const step = plan.find((p) => p.kind === kind)!;
    const pending = step.tasks.filter((t) => !t.done);
    const prefix = `${2 * k + 1}-${kind}`;
    const after = kind === "diversity" && mergeBefore !== undefined ? [mergeBefore] : [];
    let arrayName: string | undefined;
    if (pending.length > 0) {
      arrayName = `${prefix}.sbatch`;
      jobs.push({
        file: arrayName,
        after,
        job: {
          ...common,
          name: `mc-${kind}`,
          arrayTasks: pending.map((t) => t.arrayIndex),
          arrayParallel: o.arrayParallel,
          gpusPerTask: kind === "diversity" ? undefined : o.gpusPerTask,
          output: join(logs, `${kind}-%A_%a.out`),
          comments: [
            ...header,
            `step "${kind}": task i runs one shard of one ${kind === "score" ? "model" : "model and pack"}`,
            `(${step.tasks.length} tasks in all; ${
              step.tasks.length - pending.length
            } done earlier, not submitted)`,
          ],
          body: [
            `study=(${studyArgs})`,
            'case "$SLURM_ARRAY_TASK_ID" in',
            ...step.tasks.map((t) =>
              `  ${t.arrayIndex}) task=(${
                commandLine([
                  "--step",
                  kind,
                  "--model",
                  t.unit.model,
                  ...(t.unit.pack !== undefined ? ["--pack", t.unit.pack] : []),
                  "--shard",
                  shardLabel(t.shard),
                ])
              }) ;;${t.done ? "  # done earlier" : ""}`
            ),
            '  *) echo "no task $SLURM_ARRAY_TASK_ID in this array" >&2; exit 2 ;;',
            "esac",
            `${cli} study-step "\${study[@]}" "\${task[@]}"`,
          ],
        },
      });
    }
    if (step.unitsToMerge.length > 0) {
      const name = `${2 * k + 2}-${kind}-merge.sbatch`;
      jobs.push({
        file: name,
        after: arrayName !== undefined ? [arrayName] : after,
        job: {
          ...common,
          name: `mc-${kind}-merge`,
          output: join(logs, `${kind}-merge-%j.out`),
          comments: [
            ...header,
            `merges the shards of each ${kind} unit into the file a single run writes`,
          ],
          body: [
            `study=(${studyArgs})`,
            ...step.unitsToMerge.map(({ unit: u, shards }) =>
              `${cli} study-step "\${study[@]}" ${
                commandLine([
                  "--step",
                  kind,
                  "--model",
                  u.model,
                  ...(u.pack !== undefined ? ["--pack", u.pack] : []),
                  "--merge",
                  String(shards),
                ])
              }`
            ),
          ],
        },
      });
      merges.push(name);
      if (kind === "sweep") mergeBefore = name;
    }
  });
  jobs.push({
    file: "7-report.sbatch",
    after: merges,
    job: {
      ...common,
      name: "mc-report",
      gpusPerTask: o.gpusPerTask,
      output: join(logs, "report-%j.out"),
      comments: [...header, "the study as reproduce runs it: every step reused; notebooks, figures, report"],
      body: [
        `study=(${studyArgs})`,
        `${cli} reproduce "\${study[@]}"${o.reportArgs?.length ? ` ${commandLine([...o.reportArgs])}` : ""}`,
      ],
    },
  });
  return jobs;
}

/** Options of {@link submitShardedStudy}. */
export interface SubmitOptions extends SlurmJobOptions {
  /** Write the scripts, submit nothing. */
  dryRun?: boolean;
  /** Environment of the Slurm commands (default: this process's). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

/** What {@link submitShardedStudy} did. */
export interface SubmittedStudy {
  plan: PlannedStep[];
  jobs: SlurmJob[];
  /** `<results>/slurm/jobs.json`: the jobs and their ids. */
  record: string;
}

/** Plans what is left, writes the scripts and (unless dry) submits them with their dependencies. */
export async function submitShardedStudy(study: StudyConfig, o: SubmitOptions): Promise<SubmittedStudy> {
  const plan = await planShardedStudy(study, o.shards);
  const dir = slurmDir(study);
  await Deno.mkdir(join(dir, "logs"), { recursive: true });
  const ids = new Map<string, string>();
  const jobs: SlurmJob[] = [];
  for (const { job, file, after } of slurmJobsOf(study, plan, o)) {
    const script = join(dir, file);
    await writeFileAtomic(script, renderBatchScript(job));
    await Deno.chmod(script, 0o755);
    const entry: SlurmJob = {
      name: file,
      script,
      after,
      ...(job.arrayTasks ? { tasks: [...job.arrayTasks] } : {}),
    };
    if (!o.dryRun) {
      entry.id = await submitBatch(script, { afterOk: after.map((a) => ids.get(a)!), env: o.env });
      ids.set(file, entry.id);
      o.log?.(`submitted ${file} as job ${entry.id}${after.length ? ` (after ${after.join(", ")})` : ""}`);
    }
    jobs.push(entry);
  }
  const record = join(dir, "jobs.json");
  await writeJsonAtomic(record, {
    format: "slurm-jobs/1",
    study: study.name,
    results: study.resultsDir,
    shards: o.shards,
    dry_run: o.dryRun === true,
    submitted: new Date().toISOString(),
    jobs: jobs.map((j) => ({ ...j })),
  });
  return { plan, jobs, record };
}

/** How a submitted study ended. */
export interface WaitResult {
  /** Every job ended COMPLETED. */
  ok: boolean;
  /** The last states seen, per job script name. */
  states: Record<string, JobState[]>;
  /** Lines for people about each task that did not complete (state, reason, log). */
  problems: string[];
}

/** Follows submitted jobs until none will run any more, reporting progress; checks each task's final state. */
export async function waitForJobs(
  study: StudyConfig,
  jobs: readonly SlurmJob[],
  o: { pollMs?: number; env?: Record<string, string>; log?: (line: string) => void; signal?: AbortSignal } =
    {},
): Promise<WaitResult> {
  const submitted = jobs.filter((j) => j.id !== undefined);
  let last = "";
  for (;;) {
    const states: Record<string, JobState[]> = {};
    for (const j of submitted) states[j.name] = await jobStates([j.id!], o.env);
    const line = submitted.map((j) => {
      const s = states[j.name];
      const total = j.tasks?.length ?? 1;
      const done = s.filter((x) => x.state === "COMPLETED").length;
      const running = s.filter((x) => x.state === "RUNNING").length;
      return `${j.name.replace(/\.sbatch$/, "")} ${done}/${total}${running ? ` (${running} running)` : ""}`;
    }).join(" · ");
    if (line !== last) o.log?.(`slurm: ${line}`);
    last = line;
    if (submitted.every((j) => states[j.name].length > 0 && states[j.name].every(isOver))) {
      const problems: string[] = [];
      for (const j of submitted) {
        for (const s of states[j.name]) {
          if (s.state === "COMPLETED") continue;
          const log = join(slurmDir(study), "logs");
          problems.push(
            `${j.name} job ${s.id}: ${s.state}${s.reason ? ` (${s.reason})` : ""}` +
              `${s.exitCode && s.exitCode !== "0:0" ? ` exit ${s.exitCode}` : ""}; logs in ${log}`,
          );
        }
      }
      return { ok: problems.length === 0, states, problems };
    }
    o.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, o.pollMs ?? 2000));
  }
}
