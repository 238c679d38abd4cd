/** sbatch script text and the parsing of Slurm's job-state output (samples as Slurm 22.05 prints them). */
import assert from "node:assert/strict";
import { arraySpec, bashQuote, renderBatchScript } from "../../lib/slurm/script.ts";
import { isOver, parseSacct, parseScontrolJobs } from "../../lib/slurm/client.ts";

Deno.test("arraySpec: runs of ids as ranges, sorted and deduplicated, with the parallel limit", () => {
  assert.equal(arraySpec([0, 1, 2]), "0-2");
  assert.equal(arraySpec([5, 0, 2, 1, 7, 8, 8]), "0-2,5,7-8");
  assert.equal(arraySpec([3], 2), "3%2");
  assert.throws(() => arraySpec([]), /at least one task/);
  assert.throws(() => arraySpec([-1]), /non-negative/);
});

Deno.test("bashQuote: plain words stay, others are single-quoted safely", () => {
  assert.equal(bashQuote("/a/b-c_d.json"), "/a/b-c_d.json");
  assert.equal(bashQuote("my study.json"), "'my study.json'");
  assert.equal(bashQuote("it's"), `'it'"'"'s'`);
  assert.equal(bashQuote("$HOME"), "'$HOME'");
});

Deno.test("renderBatchScript: #SBATCH lines in order, strict bash, only the options given", () => {
  const text = renderBatchScript({
    name: "mc-score",
    arrayTasks: [0, 1, 3],
    arrayParallel: 2,
    partition: "gpu",
    gpusPerTask: 1,
    output: "/r/logs/score-%A_%a.out",
    chdir: "/p",
    comments: ["hello"],
    body: ["echo $SLURM_ARRAY_TASK_ID"],
  });
  assert.equal(
    text,
    [
      "#!/bin/bash",
      "# hello",
      "#SBATCH --job-name=mc-score",
      "#SBATCH --array=0-1,3%2",
      "#SBATCH --partition=gpu",
      "#SBATCH --gpus-per-task=1",
      "#SBATCH --output=/r/logs/score-%A_%a.out",
      "#SBATCH --chdir=/p",
      "set -euo pipefail",
      "echo $SLURM_ARRAY_TASK_ID",
      "",
    ].join("\n"),
  );
  assert.throws(() => renderBatchScript({ name: "a b", output: "o", chdir: "/", body: [] }), /white space/);
});

Deno.test("parseScontrolJobs: array tasks, pending blocks, plain jobs, reasons and exit codes", () => {
  const text = [
    "JobId=13 ArrayJobId=12 ArrayTaskId=1 JobName=mc-sweep UserId=root(0) JobState=COMPLETED Reason=None " +
    "Dependency=(null) ExitCode=0:0",
    "JobId=12 ArrayJobId=12 ArrayTaskId=2-5%4 JobName=mc-sweep JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0",
    "JobId=14 ArrayJobId=12 ArrayTaskId=0 JobName=mc-sweep JobState=CANCELLED Reason=None ExitCode=0:15",
    "JobId=20 JobName=mc-report JobState=PENDING Reason=DependencyNeverSatisfied Dependency=afterok:19(failed) ExitCode=0:0",
    "",
  ].join("\n");
  const s = parseScontrolJobs(text);
  assert.deepEqual(s.map((x) => [x.id, x.jobId, x.state, x.reason ?? null]), [
    ["12_1", "12", "COMPLETED", null],
    ["12_[2-5%4]", "12", "PENDING", "JobArrayTaskLimit"],
    ["12_0", "12", "CANCELLED", null],
    ["20", "20", "PENDING", "DependencyNeverSatisfied"],
  ]);
  assert.deepEqual(s.map(isOver), [true, false, true, true]);
  assert.equal(s[2].exitCode, "0:15");
});

Deno.test("parseSacct: job steps skipped, 'CANCELLED by 0' read as CANCELLED", () => {
  const s = parseSacct("12_0|COMPLETED|0:0\n12_0.batch|COMPLETED|0:0\n12_1|CANCELLED by 0|0:15\n");
  assert.deepEqual(s.map((x) => [x.id, x.jobId, x.state]), [["12_0", "12", "COMPLETED"], [
    "12_1",
    "12",
    "CANCELLED",
  ]]);
});
