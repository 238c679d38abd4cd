/**
 * Talking to Slurm through its commands: submit a script (`sbatch --parsable`), read job states (`scontrol show
 * job -o`, falling back to `sacct` once a record has aged out), cancel (`scancel`). Every client reads the
 * cluster's configuration the usual way (`SLURM_CONF` or /etc/slurm/slurm.conf).
 *
 * Why not `sbatch --wait`: it returns 0 for a cancelled job and lags the job's end by seconds; the state of each
 * job is read and checked instead.
 * @module
 */

/** One job or array task as Slurm reports it. */
export interface JobState {
  /** "123" for a job, "123_4" for task 4 of array 123, "123_[0-2]" for tasks not yet started. */
  id: string;
  /** The array job id, or the job id. */
  jobId: string;
  /** Slurm's state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, … */
  state: string;
  /** Why it is pending or ended (Slurm's Reason), when given. */
  reason?: string;
  /** "exit:signal" as Slurm reports it, when given. */
  exitCode?: string;
}

/** States after which a job does nothing more. */
const FINAL_STATES: ReadonlySet<string> = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "OUT_OF_MEMORY",
  "NODE_FAIL",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
  "REVOKED",
]);

/** Whether a job in this state will not run (final, or pending on a dependency that can never be met). */
export function isOver(s: JobState): boolean {
  return FINAL_STATES.has(s.state) || (s.state === "PENDING" && s.reason === "DependencyNeverSatisfied");
}

/** A Slurm command that failed, with what it printed. */
export class SlurmCommandError extends Error {
  constructor(readonly command: string[], readonly code: number, readonly stderr: string) {
    super(`${command.join(" ")} exited with ${code}: ${stderr.trim() || "(no message)"}`);
    this.name = "SlurmCommandError";
  }
}

async function run(
  cmd: string[],
  env?: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  let child;
  try {
    child = await new Deno.Command(cmd[0], { args: cmd.slice(1), env, stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd[0]} not found: is Slurm installed and on PATH? (${(e as Error).message})`);
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: child.code, out: dec.decode(child.stdout), err: dec.decode(child.stderr) };
}

/** Options of {@link submitBatch}. */
export interface SubmitOptions {
  /** Job ids that must all end COMPLETED first (`--dependency=afterok:…`). */
  afterOk?: readonly string[];
  /** Environment for sbatch (default: this process's). */
  env?: Record<string, string>;
}

/** Submits a script; returns the job id. A job whose dependency fails is cancelled, not left pending. */
export async function submitBatch(scriptPath: string, opts: SubmitOptions = {}): Promise<string> {
  const args = ["sbatch", "--parsable", "--kill-on-invalid-dep=yes"];
  if (opts.afterOk && opts.afterOk.length > 0) args.push(`--dependency=afterok:${opts.afterOk.join(":")}`);
  args.push(scriptPath);
  const r = await run(args, opts.env);
  if (r.code !== 0) throw new SlurmCommandError(args, r.code, r.err);
  // --parsable prints "id" or "id;cluster".
  const id = r.out.trim().split(";")[0];
  if (!/^\d+$/.test(id)) throw new SlurmCommandError(args, r.code, `unexpected output "${r.out.trim()}"`);
  return id;
}

/** Parses `scontrol show job -o` output: one line per job or array task. */
export function parseScontrolJobs(text: string): JobState[] {
  const out: JobState[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("JobId=")) continue;
    const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(line)?.[1];
    const jobId = field("JobId")!;
    const arrayJob = field("ArrayJobId");
    const task = field("ArrayTaskId");
    const reason = field("Reason");
    const exitCode = field("ExitCode");
    out.push({
      id: arrayJob !== undefined && task !== undefined
        ? `${arrayJob}_${/^\d+$/.test(task) ? task : `[${task}]`}`
        : jobId,
      jobId: arrayJob ?? jobId,
      state: (field("JobState") ?? "UNKNOWN").toUpperCase(),
      ...(reason !== undefined && reason !== "None" ? { reason } : {}),
      ...(exitCode !== undefined ? { exitCode } : {}),
    });
  }
  return out;
}

/** Parses `sacct -n -P -o JobID,State,ExitCode` output (job steps such as "12.batch" skipped). */
export function parseSacct(text: string): JobState[] {
  const out: JobState[] = [];
  for (const line of text.split("\n")) {
    const [id, state, exitCode] = line.trim().split("|");
    if (!id || id.includes(".")) continue;
    out.push({
      id,
      jobId: id.split("_")[0],
      // "CANCELLED by 0" → CANCELLED
      state: (state ?? "UNKNOWN").split(" ")[0].toUpperCase(),
      ...(exitCode ? { exitCode } : {}),
    });
  }
  return out;
}

/** The states of the given jobs (array jobs: one entry per task, or per block of tasks not yet started). */
export async function jobStates(
  jobIds: readonly string[],
  env?: Record<string, string>,
): Promise<JobState[]> {
  const states: JobState[] = [];
  for (const id of jobIds) {
    const r = await run(["scontrol", "show", "job", "-o", id], env);
    if (r.code === 0) {
      states.push(...parseScontrolJobs(r.out));
      continue;
    }
    // Aged out of the controller's memory (MinJobAge): ask accounting, when the cluster keeps it.
    const a = await run(["sacct", "-n", "-P", "-X", "-j", id, "-o", "JobID,State,ExitCode"], env);
    const found = a.code === 0 ? parseSacct(a.out) : [];
    states.push(...(found.length > 0 ? found : [{ id, jobId: id, state: "UNKNOWN" }]));
  }
  return states;
}
