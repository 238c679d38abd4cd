/**
 * Class "never lose work": compute, checkpoint, then write. An output that cannot be written (a folder in the
 * way, a read-only file system, a full disk) leaves the state saved and a message naming the path and the exact
 * command that finishes the job — and that command works. Ctrl-C (a real SIGINT to the subprocess) stops score
 * (inside a long document), generate, diversity and reproduce within about two seconds, keeping what is done; a
 * rerun without --resume refuses to replace a checkpoint or journal (--fresh discards it); a corpus repaired after
 * a failure resumes; stale partial files go once a run finishes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { zstdCompressSync } from "node:zlib";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { completionsFromPaperNpy } from "../../lib/data/paper_completions.ts";
import { writeCompletionsJson } from "../../lib/io/completions_json.ts";
import { embeddedStudy } from "../../lib/study/config.ts";
import { analyse, analyseCommand } from "../helpers/cli.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const CORPUS = join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl");
/** How long after SIGINT a command may take to exit ("about two seconds", on a shared two-core machine). */
const STOP_LIMIT_MS = 3000;

const lines = () => Deno.readTextFileSync(CORPUS).trim().split("\n");

async function waitFor(what: string, ok: () => boolean, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A spawned CLI run whose stderr is collected as it comes. */
function spawn(args: string[]) {
  const child = analyseCommand(args).spawn();
  let stderr = "";
  const reading = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) stderr += dec.decode(chunk, { stream: true });
  })();
  const done = (async () => {
    const status = await child.status;
    await reading;
    await child.stdout.cancel().catch(() => {});
    return status;
  })();
  return { child, stderr: () => stderr, done };
}

/** Sends SIGINT and returns the exit code and how long the process took to exit. */
async function interrupt(run: ReturnType<typeof spawn>): Promise<{ code: number; ms: number }> {
  const t0 = performance.now();
  run.child.kill("SIGINT");
  const status = await run.done;
  return { code: status.code, ms: performance.now() - t0 };
}

/** The command a message tells the user to run (the line after "then run:", or after "to continue: "). */
function printedCommand(stderr: string): string {
  const m = stderr.match(/then run:\n {2}(.+)\n/) ?? stderr.match(/to continue: (deno task .+)\n/);
  assert.ok(m, `no command in:\n${stderr}`);
  return m[1];
}

/** Runs a printed shell command from the project root, as the user would. */
async function follow(command: string): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command("bash", {
    args: ["-c", command],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** The numbers of two score/1 files, without what differs between runs. */
function sameScores(a: string, b: string): void {
  const x = JSON.parse(Deno.readTextFileSync(a)), y = JSON.parse(Deno.readTextFileSync(b));
  for (const k of ["created", "provenance", "data", "mean_distribution_file", "complete"]) {
    delete x[k];
    delete y[k];
  }
  assert.deepEqual(y, x, `${b} equals ${a}`);
}

async function bigCorpus(dir: string, copies: number): Promise<string> {
  const path = join(dir, "big.jsonl");
  await Deno.writeTextFile(path, Array.from({ length: copies }, () => lines()).flat().join("\n") + "\n");
  return path;
}

Deno.test("score: a folder in the way of the output at the end keeps the state; the printed command finishes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = await bigCorpus(dir, 4);
    const args = ["score", "--model", join(FIXTURE, "base"), "--data", data, "--max-seq-len", "32"];
    const whole = join(dir, "whole.json");
    assert.equal((await analyse(...args, "--out", whole)).code, 0);
    const out = join(dir, "o.json");
    const run = spawn([...args, "--out", out, "--checkpoint-every", "1"]);
    await waitFor("the first checkpoint", () => existsSync(join(dir, "o.checkpoint.json")));
    await Deno.mkdir(out); // the output path turns into a folder while the job runs
    const status = await run.done;
    assert.equal(status.code, 1, run.stderr());
    assert.match(run.stderr(), /stopped: .*Is a directory/);
    assert.ok(run.stderr().includes(`'${out}'`) || run.stderr().includes(`${out}:`), run.stderr());
    const cp = JSON.parse(await Deno.readTextFile(join(dir, "o.checkpoint.json")));
    assert.equal(cp.unitsDone, 48, "every document is in the checkpoint");
    await Deno.remove(out);
    const r = await follow(printedCommand(run.stderr()));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming after 48 documents/);
    sameScores(whole, out);
    assert.ok(!existsSync(join(dir, "o.checkpoint.json")) && !existsSync(join(dir, "o.partial.json")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Mounts a tmpfs (root only); undefined where that is not possible. */
async function mountTmpfs(at: string, size: string): Promise<boolean> {
  await Deno.mkdir(at, { recursive: true });
  try {
    const r = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", at],
      stderr: "null",
    })
      .output();
    return r.success;
  } catch {
    return false;
  }
}
/** Remounts with `opts`, retrying while a file is open for writing there (the mount is busy then). */
async function remount(at: string, opts: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await new Deno.Command("mount", { args: ["-o", `remount,${opts}`, at], stderr: "null" })
      .output();
    if (r.success) return;
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`cannot remount ${at} ${opts}`);
}
const umount = (at: string) => new Deno.Command("umount", { args: [at] }).output();

Deno.test("score: a read-only file system and a full disk at the end: the state goes to the temporary folder; cp && --resume finishes", async (t) => {
  const dir = await Deno.makeTempDir();
  const mnt = join(dir, "mnt");
  if (!(await mountTmpfs(mnt, "64m"))) {
    await Deno.remove(dir, { recursive: true });
    await t.step({ name: "skipped: cannot mount a tmpfs here (needs root)", ignore: true, fn() {} });
    return;
  }
  try {
    const data = await bigCorpus(dir, 4);
    const args = ["score", "--model", join(FIXTURE, "base"), "--data", data, "--max-seq-len", "32"];
    const whole = join(dir, "whole.json");
    assert.equal((await analyse(...args, "--out", whole)).code, 0);

    await t.step("read-only", async () => {
      const out = join(mnt, "ro.json");
      const run = spawn([...args, "--out", out, "--checkpoint-every", "1"]);
      await waitFor("the first checkpoint", () => existsSync(join(mnt, "ro.checkpoint.json")));
      await remount(mnt, "ro");
      const status = await run.done;
      assert.equal(status.code, 1, run.stderr());
      assert.match(run.stderr(), /Read-only file system/);
      assert.ok(run.stderr().includes(out), run.stderr());
      const command = printedCommand(run.stderr());
      assert.match(
        command,
        /^cp .*ro\.checkpoint\.json .*ro\.checkpoint\.json && deno task analyse score .* --resume$/,
      );
      await remount(mnt, "rw");
      const r = await follow(command);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /resuming after 48 documents/);
      sameScores(whole, out);
    });

    await t.step("full disk", async () => {
      await umount(mnt);
      assert.ok(await mountTmpfs(mnt, "8k"));
      const out = join(mnt, "full.json");
      const run = spawn([...args, "--out", out, "--checkpoint-every", "10"]);
      const status = await run.done;
      assert.equal(status.code, 1, run.stderr());
      assert.match(run.stderr(), /No space left on device/);
      assert.ok(run.stderr().includes(out), run.stderr());
      const command = printedCommand(run.stderr());
      assert.match(command, /^cp .* && deno task analyse score .* --resume$/);
      await remount(mnt, "size=64m");
      const r = await follow(command);
      assert.equal(r.code, 0, r.stderr);
      sameScores(whole, out);
    });
  } finally {
    await umount(mnt);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score: Ctrl-C inside a long document stops within seconds; no silent restart; --resume finishes and tidies", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A short document, then a long one: hundreds of 16-token windows.
    const text = lines().map((l) => JSON.parse(l).text).join(" ");
    const data = join(dir, "long.jsonl");
    await Deno.writeTextFile(
      data,
      [lines()[0], JSON.stringify({ text: Array.from({ length: 24 }, () => text).join("\n") })].join("\n") +
        "\n",
    );
    const args = ["score", "--model", join(FIXTURE, "base"), "--data", data, "--max-seq-len", "16"];
    const out = join(dir, "o.json");
    const run = spawn([...args, "--out", out, "--checkpoint-every", "1"]);
    await waitFor("the first document's checkpoint", () => existsSync(join(dir, "o.checkpoint.json")));
    // Inside the long document: it takes seconds even on a fast machine (6 copies finished within 1.5 s on one).
    await new Promise((r) => setTimeout(r, 300));
    const { code, ms } = await interrupt(run);
    assert.equal(code, 130, run.stderr());
    assert.ok(ms < STOP_LIMIT_MS, `stopped ${ms.toFixed(0)} ms after SIGINT`);
    assert.match(run.stderr(), /interrupted; the 1 documents scored so far are in/);
    assert.ok(existsSync(join(dir, "o.partial.json")));
    // A rerun without --resume does not throw the checkpoint away.
    const again = await analyse(...args, "--out", out);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /o\.checkpoint\.json: a checkpoint of an earlier run \(1 documents done.*--resume .*--fresh/,
    );
    assert.ok(existsSync(join(dir, "o.checkpoint.json")));
    const r = await follow(printedCommand(run.stderr()));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming after 1 documents/);
    assert.ok(!existsSync(join(dir, "o.partial.json")), "the stale partial file is removed");
    assert.ok(!existsSync(join(dir, "o.partial.meandist.npy")));
    // --fresh discards a checkpoint on the user's word.
    const fresh = join(dir, "f.json");
    await Deno.copyFile(join(dir, "o.state.json"), join(dir, "f.checkpoint.json"));
    const f = await analyse(...args, "--out", fresh, "--fresh", "--max-docs", "1");
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stderr, /discarding a checkpoint of an earlier run/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score: after a truncated .zst is repaired, the printed --resume command continues it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const frames = lines().map((l) => zstdCompressSync(new TextEncoder().encode(l + "\n")));
    const full = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
    frames.reduce((at, f) => (full.set(f, at), at + f.length), 0);
    const data = join(dir, "c.jsonl.zst");
    await Deno.writeFile(data, full.subarray(0, Math.floor(full.length * 0.6)));
    const args = ["score", "--model", join(FIXTURE, "base"), "--data", data, "--max-seq-len", "64"];
    const out = join(dir, "o.json");
    const bad = await analyse(...args, "--out", out, "--checkpoint-every", "2");
    assert.equal(bad.code, 1, bad.stderr);
    const command = printedCommand(bad.stderr);
    await Deno.writeFile(data, full); // repaired
    const r = await follow(command);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming after \d+ documents/);
    const whole = join(dir, "whole.json");
    assert.equal((await analyse(...args, "--out", whole)).code, 0);
    sameScores(whole, out);
    // A corpus that no longer holds the scored documents cannot be resumed, and says so.
    await Deno.writeFile(data, full.subarray(0, Math.floor(full.length * 0.6)));
    const cut = await analyse(...args, "--out", join(dir, "p.json"), "--checkpoint-every", "2");
    assert.equal(cut.code, 1);
    await Deno.writeFile(
      data,
      zstdCompressSync(new TextEncoder().encode(lines().reverse().join("\n") + "\n")),
    );
    const other = await follow(printedCommand(cut.stderr));
    assert.equal(other.code, 1);
    assert.match(other.stderr, /does not hold the \d+ documents .*give --fresh instead of --resume/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate: Ctrl-C stops within seconds keeping finished cells; no silent restart; the printed command finishes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "g.json");
    const args = [
      "generate",
      "--model",
      join(FIXTURE, "base"),
      "--prompt",
      "Once upon a time",
      "--prompt",
      "The sea",
      "--temperatures",
      "0.1:1.5:0.1",
      "--samples",
      "4",
      "--max-new-tokens",
      "40",
    ];
    const run = spawn([...args, "--out", out]);
    const journal = `${out}.journal.jsonl`;
    const cells = () => existsSync(journal) ? Deno.readTextFileSync(journal).split("\n").length - 2 : 0;
    await waitFor("two journaled cells", () => cells() >= 2);
    const { code, ms } = await interrupt(run);
    assert.equal(code, 130, run.stderr());
    assert.ok(ms < STOP_LIMIT_MS, `stopped ${ms.toFixed(0)} ms after SIGINT`);
    const kept = cells();
    assert.ok(kept >= 2 && kept < 30);
    const again = await analyse(...args, "--out", out);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /journal of an earlier sweep \(\d+ finished cells\).*--resume .*--fresh/);
    const r = await follow(printedCommand(run.stderr()));
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(await Deno.readTextFile(out));
    assert.equal(doc.cells.length, 30);
    assert.equal(doc.provenance.cells_resumed, kept);
    assert.ok(!existsSync(journal));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const workers of ["2", "1"]) {
  Deno.test(`diversity --workers ${workers}: Ctrl-C stops within seconds and keeps the cells computed in <out>.partial.json`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const words = [
        "sea",
        "cat",
        "rain",
        "moon",
        "tree",
        "wind",
        "fire",
        "stone",
        "bird",
        "road",
        "song",
        "night",
      ];
      let seed = 7;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const sample = () =>
        Array.from({ length: 30 }, () => words[Math.floor(rand() * words.length)]).join(" ");
      const cells = Array.from(
        { length: 15 },
        () => Array.from({ length: 60 }, () => Array.from({ length: 25 }, sample)),
      );
      const input = join(dir, "c.json");
      await writeCompletionsJson(
        input,
        completionsFromPaperNpy(cells, {
          promptSet: "poems",
          modelId: "m",
          temperatures: cells.map((_, i) => i / 10),
        }),
      );
      const out = join(dir, "d.json");
      const run = spawn([
        "diversity",
        "--completions",
        input,
        "--out",
        out,
        "--metrics",
        "deterministic",
        "--words",
        "5,20,all",
        "--workers",
        workers,
      ]);
      await waitFor("the start of the metrics", () => run.stderr().includes(" cells), "));
      await new Promise((r) => setTimeout(r, 2000));
      const { code, ms } = await interrupt(run);
      assert.equal(code, 130, run.stderr());
      assert.ok(ms < STOP_LIMIT_MS, `stopped ${ms.toFixed(0)} ms after SIGINT`);
      const partial = JSON.parse(await Deno.readTextFile(join(dir, "d.partial.json")));
      // Any word limit: with one worker the 5-word cells come first and may all be done by the interrupt.
      const pending = Object.values(
        partial.nan_reasons as Record<string, Record<string, { pending?: unknown }>>,
      )
        .some((byKey) => Object.values(byKey).some((r) => r.pending));
      assert.ok(pending, "cells not computed are marked pending");
      assert.ok(!existsSync(out));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("reproduce: Ctrl-C stops the current step within seconds; the same command then finishes the study", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const study = embeddedStudy("ci", join(dir, "results"));
    study.sweep.packs = ["factual"];
    study.sweep.promptsPerPack = 2;
    study.sweep.temperatures = [1];
    study.sweep.samples = 2;
    study.corpus.maxSeqLen = 32;
    const file = join(dir, "study.json");
    await Deno.writeTextFile(file, JSON.stringify(study));
    const run = spawn(["reproduce", "--study", file, "--no-notebooks"]);
    await waitFor("the first scoring step", () => run.stderr().includes("scoring micro-base"));
    await new Promise((r) => setTimeout(r, 1500));
    const { code, ms } = await interrupt(run);
    assert.equal(code, 130, run.stderr());
    assert.ok(ms < STOP_LIMIT_MS, `stopped ${ms.toFixed(0)} ms after SIGINT`);
    const r = await follow(printedCommand(run.stderr()));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, "results", "report.html")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
