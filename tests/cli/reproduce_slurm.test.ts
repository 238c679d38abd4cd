/**
 * `reproduce --slurm` on a real single-node Slurm cluster (Debian's slurm-wlm and munge, installed and started
 * here when running as root): the CI-size embedded study split into arrays of three shards per step gives the same
 * result files and summary as one machine (timestamps, elapsed times and the results folder's path aside); a task
 * cancelled mid-run makes `--wait` fail, and resubmitting the same command redoes only what is missing and again
 * gives the same results. Without root the cluster tests are skipped, saying why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import {
  installSlurm,
  type LocalSlurm,
  slurmInstalled,
  startLocalSlurm,
} from "../../lib/slurm/local_cluster.ts";
import { jobStates } from "../../lib/slurm/client.ts";
import { embeddedStudy } from "../../lib/study/config.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

const CLI = join(PROJECT_ROOT, "cli", "analyse.ts");
const root = Deno.uid() === 0;
const skipReason = root ? undefined : "not root: a local Slurm cluster cannot be installed or started";
if (skipReason) console.error(`reproduce --slurm cluster tests skipped: ${skipReason}`);

function cli(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  });
}

async function runCli(args: string[], env: Record<string, string> = {}) {
  const r = await cli(args, env).output();
  const dec = new TextDecoder();
  return { code: r.code, stderr: dec.decode(r.stderr), stdout: dec.decode(r.stdout) };
}

/** Result files a study run leaves (relative), without the cache, the shards and the cluster's scripts. */
/**
 * A failed run's stderr with the logs of the tasks it names as FAILED appended (their last 40 lines): the job
 * logs live in the run's temporary folder, which the test removes.
 */
function withFailedLogs(stderr: string, results: string): string {
  const logs = join(results, "slurm", "logs");
  const ids = [...stderr.matchAll(/job (\d+(?:_\d+)?): FAILED/g)].map((m) => m[1]);
  const parts = [stderr];
  for (const id of ids) {
    const files = existsSync(logs) ? readdirSync(logs).filter((f) => f.endsWith(`-${id}.out`)) : [];
    for (const f of files) {
      const lines = readFileSync(join(logs, f), "utf8").trimEnd().split("\n");
      parts.push(`--- ${f} (last 40 lines) ---`, ...lines.slice(-40));
    }
  }
  return parts.join("\n");
}

function resultFiles(dir: string, sub = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, sub))) {
    const rel = sub === "" ? e : join(sub, e);
    if (sub === "" && ["cache", "shards", "slurm", "report.html", "study.json"].includes(e)) continue;
    // A single run leaves the final scoring state beside each score (for merging more); a cluster run keeps its
    // shards' states under shards/ instead.
    if (e.endsWith(".state.json")) continue;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...resultFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** A result file with what legitimately differs between runs removed: times, the results folder, cache notes. */
function normalised(dir: string, rel: string): string {
  const bytes = readFileSync(join(dir, rel));
  if (!rel.endsWith(".json")) return bytes.toString("base64");
  const value = JSON.parse(
    bytes.toString("utf8"),
    (k, v) => ["created", "written", "elapsed_seconds"].includes(k) ? "<time>" : v,
  );
  if (rel.startsWith("diversity/")) {
    value.input = { ...value.input, path: "<path>", sha256: "<hash of the completions, times included>" };
  }
  if (rel === "summary.json") value.steps = "<reused or computed>";
  return JSON.stringify(value).replaceAll(dir, "<results>");
}

function assertSameResults(single: string, cluster: string): void {
  const a = resultFiles(single), b = resultFiles(cluster);
  assert.deepEqual(b, a, "the same result files");
  assert.ok(a.length >= 15, `result files: ${a.join(", ")}`);
  for (const rel of a) assert.equal(normalised(cluster, rel), normalised(single, rel), `${rel} differs`);
}

/** `reproduce --size ci --results <out> --slurm`: the start of every dry-run command line here. */
const slurmCi = (out: string) => ["reproduce", "--size", "ci", "--results", out, "--slurm"];

Deno.test({
  name: "reproduce --slurm --dry-run: readable scripts, one array per step, afterok merges, a report job",
  sanitizeResources: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "slurm-dry-" });
    const r = await runCli([
      ...slurmCi(out),
      "--shards",
      "3",
      "--partition",
      "gpu",
      "--time",
      "01:00:00",
      "--gpus-per-task",
      "1",
      "--array-parallel",
      "4",
      "--dry-run",
      "--no-notebooks",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const dir = join(out, "slurm");
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith(".sbatch")).sort(), [
      "1-score.sbatch",
      "2-score-merge.sbatch",
      "3-sweep.sbatch",
      "4-sweep-merge.sbatch",
      "5-diversity.sbatch",
      "6-diversity-merge.sbatch",
      "7-report.sbatch",
    ]);
    const score = readFileSync(join(dir, "1-score.sbatch"), "utf8");
    // The CI study scores 2 documents per model: 2 shards each, never an empty one (3 models).
    assert.match(score, /#SBATCH --array=0-5%4\n/);
    assert.match(score, /#SBATCH --partition=gpu\n/);
    assert.match(score, /#SBATCH --time=01:00:00\n/);
    assert.match(score, /#SBATCH --gpus-per-task=1\n/);
    assert.match(score, /0\) task=\(--step score --model micro-base --shard 1\/2\) ;;/);
    assert.match(score, new RegExp(`--output=${out}/slurm/logs/score-%A_%a.out`));
    const sweep = readFileSync(join(dir, "3-sweep.sbatch"), "utf8");
    assert.match(sweep, /#SBATCH --array=0-26%4\n/); // 3 models × 3 packs × 3 shards
    assert.match(sweep, /26\) task=\(--step sweep --model micro-dpo --pack seen --shard 3\/3\) ;;/);
    const diversity = readFileSync(join(dir, "5-diversity.sbatch"), "utf8");
    assert.doesNotMatch(diversity, /gpus-per-task/, "the metrics need no GPU");
    const merge = readFileSync(join(dir, "6-diversity-merge.sbatch"), "utf8");
    assert.match(
      merge,
      /study-step "\$\{study\[@\]\}" --step diversity --model micro-base --pack creative --merge 3/,
    );
    const report = readFileSync(join(dir, "7-report.sbatch"), "utf8");
    assert.match(report, new RegExp(`reproduce "\\$\\{study\\[@\\]\\}" --no-notebooks`));
    assert.match(report, new RegExp(`study=\\(--size ci --results ${out}\\)`));
    const jobs = JSON.parse(readFileSync(join(dir, "jobs.json"), "utf8"));
    assert.equal(jobs.dry_run, true);
    assert.deepEqual(
      jobs.jobs.map((j: { name: string; after: string[] }) => [j.name, j.after]),
      [
        ["1-score.sbatch", []],
        ["2-score-merge.sbatch", ["1-score.sbatch"]],
        ["3-sweep.sbatch", []],
        ["4-sweep-merge.sbatch", ["3-sweep.sbatch"]],
        ["5-diversity.sbatch", ["4-sweep-merge.sbatch"]],
        ["6-diversity-merge.sbatch", ["5-diversity.sbatch"]],
        ["7-report.sbatch", ["2-score-merge.sbatch", "4-sweep-merge.sbatch", "6-diversity-merge.sbatch"]],
      ],
    );
    // Scripts parse as bash.
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".sbatch"))) {
      const b = await new Deno.Command("bash", { args: ["-n", join(dir, f)] }).output();
      assert.ok(b.success, `${f}: ${new TextDecoder().decode(b.stderr)}`);
    }
    // Slurm-only options without --slurm are a usage error.
    const bad = await runCli(["reproduce", "--size", "ci", "--results", out, "--shards", "3"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--shards needs --slurm/);
    for (
      const [flag, value, message] of [
        ["--shards", "0", /--shards takes an integer ≥ 1, got "0"/],
        ["--array-parallel", "two", /--array-parallel takes an integer ≥ 1, got "two"/],
        ["--gpus-per-task", "1.5", /--gpus-per-task takes an integer ≥ 0, got "1.5"/],
      ] as const
    ) {
      const r = await runCli([
        ...slurmCi(out),
        "--dry-run",
        flag,
        value,
      ]);
      assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name: "reproduce --slurm --dry-run: a whole corpus shorter than --shards gets one score shard per document",
  sanitizeResources: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "slurm-whole-" });
    try {
      const corpus = join(out, "two.jsonl");
      await Deno.writeTextFile(corpus, '{"text": "Call me Ishmael."}\n{"text": "Some years ago."}\n');
      const study = {
        ...embeddedStudy("ci", join(out, "results")),
        corpus: { ...embeddedStudy("ci").corpus },
      };
      study.corpus.path = corpus;
      study.corpus.maxDocs = null; // the whole corpus: its length is only known by reading it
      const studyFile = join(out, "study.json");
      await Deno.writeTextFile(studyFile, JSON.stringify(study));
      const r = await runCli(["reproduce", "--study", studyFile, "--slurm", "--shards", "4", "--dry-run"]);
      assert.equal(r.code, 0, r.stderr);
      const score = readFileSync(join(out, "results", "slurm", "1-score.sbatch"), "utf8");
      assert.match(score, /#SBATCH --array=0-5\n/, "2 shards × 3 models, none empty");
      assert.match(score, /1\) task=\(--step score --model micro-base --shard 2\/2\) ;;/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test({
  name: "reproduce --slurm on a real cluster: the same results as one machine, also after a cancelled task",
  ignore: skipReason !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const why = await installSlurm((l) => console.error(`slurm set-up: ${l}`));
    if (why !== undefined || !slurmInstalled()) throw new Error(`cannot install Slurm as root: ${why}`);
    const work = await Deno.makeTempDir({ prefix: "slurm-study-" });
    let cluster: LocalSlurm | undefined;
    try {
      // CPUs above the node's own: every shard of a step can run at once.
      cluster = await startLocalSlurm(join(work, "state"), { cpus: 8 });
      const env = cluster.env;
      const single = join(work, "single"),
        sharded = join(work, "sharded"),
        cancelled = join(work, "cancelled");
      const study = (out: string) => ["reproduce", "--size", "ci", "--results", out, "--no-notebooks"];
      const slurm = ["--slurm", "--shards", "3", "--wait"];

      const [one, many] = await Promise.all([
        runCli(study(single)),
        runCli([...study(sharded), ...slurm], env),
      ]);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(many.code, 0, withFailedLogs(many.stderr, sharded));
      assert.match(many.stderr, /every job completed/);
      assertSameResults(single, sharded);
      assert.ok(existsSync(join(sharded, "slurm", "logs")), "job logs");

      // Cancel one running sweep task: --wait must see it (sbatch --wait would have said 0), the merges that
      // depend on it are cancelled, and the run exits 1.
      const child = cli([...study(cancelled), ...slurm], env).spawn();
      const jobsFile = join(cancelled, "slurm", "jobs.json");
      let victim: string | undefined;
      let sweepId: string | undefined;
      for (let i = 0; i < 600 && victim === undefined; i++) {
        await new Promise((r) => setTimeout(r, 250));
        if (!existsSync(jobsFile)) continue;
        const sweep = JSON.parse(readFileSync(jobsFile, "utf8")).jobs.find((j: { name: string }) =>
          j.name === "3-sweep.sbatch"
        );
        if (sweep?.id === undefined) continue;
        sweepId = sweep.id;
        victim = (await jobStates([sweep.id], env)).find((s) => s.state === "RUNNING")?.id;
      }
      assert.ok(victim, "a sweep task ran");
      const c = await new Deno.Command("scancel", { args: [victim!], env }).output();
      assert.ok(c.success, new TextDecoder().decode(c.stderr));
      const first = await child.output();
      const firstErr = new TextDecoder().decode(first.stderr);
      assert.equal(first.code, 1, firstErr);
      assert.match(firstErr, new RegExp(`3-sweep.sbatch job ${victim}: CANCELLED`));
      assert.match(firstErr, /DependencyNeverSatisfied/);
      assert.match(firstErr, /rerun the same command to redo only what is missing/);
      // The run stops at the first cancelled merge while other sweep tasks may still be running: wait for them,
      // as a user would, so that the rerun sees their shards.
      for (let i = 0; i < 240; i++) {
        const states = await jobStates([sweepId!], env);
        if (!states.some((s) => s.state === "RUNNING" || s.state === "PENDING")) break;
        await new Promise((r) => setTimeout(r, 250));
      }

      // The same command again: only the cancelled shard's sweep and what follows it run.
      const again = await runCli([...study(cancelled), ...slurm], env);
      assert.equal(again.code, 0, withFailedLogs(again.stderr, cancelled));
      const rerun = JSON.parse(readFileSync(jobsFile, "utf8"));
      const sweepAgain = rerun.jobs.find((j: { name: string }) => j.name === "3-sweep.sbatch");
      // The cancelled task's shard is redone, unless the task had written it before the signal reached it
      // (scancel races with a task's last moments); no other shard is.
      const redone: number[] = sweepAgain?.tasks ?? [];
      assert.ok(
        redone.length === 0 || (redone.length === 1 && redone[0] === Number(victim!.split("_")[1])),
        `only the cancelled sweep shard (${victim}) is redone, not ${
          JSON.stringify(redone)
        }; the first run ` +
          `said:\n${firstErr}\nthe rerun said:\n${again.stderr}`,
      );
      assert.equal(
        rerun.jobs.some((j: { name: string }) => j.name === "1-score.sbatch"),
        false,
        "scores kept",
      );
      assertSameResults(single, cancelled);
    } finally {
      await cluster?.stop();
      await Deno.remove(work, { recursive: true }).catch(() => undefined);
    }
  },
});
