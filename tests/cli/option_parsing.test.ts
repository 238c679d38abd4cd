/**
 * Class "every error names its file; help is readable; a value option given twice is an error": one shared
 * option parser for every command (cli/options.ts), every command's --help printed without `[object Object]`
 * (and `setup --help` doing nothing else), and errors about files naming the file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { parseCommandLine, resumeCommand, shellQuote, UsageError } from "../../cli/options.ts";
import { analyse } from "../helpers/cli.ts";

Deno.test("parseCommandLine: a value option given twice, an unknown option and a missing value are usage errors", () => {
  const options = {
    completions: { type: "string" },
    prompt: { type: "string", multiple: true },
    resume: { type: "boolean" },
  } as const;
  assert.throws(
    () => parseCommandLine({ args: ["--completions", "a.npy", "--completions", "b.npy"], options }),
    (e: Error) =>
      e instanceof UsageError && /--completions given twice \("a\.npy", then "b\.npy"\)/.test(e.message),
  );
  assert.throws(
    () => parseCommandLine({ args: ["--completions=a", "--completions=a"], options }),
    UsageError,
  );
  assert.throws(() => parseCommandLine({ args: ["--nope"], options }), UsageError);
  assert.throws(() => parseCommandLine({ args: ["--completions"], options }), UsageError);
  // Repeatable options and repeated flags are fine.
  const ok = parseCommandLine({ args: ["--prompt", "a", "--prompt", "b", "--resume", "--resume"], options });
  assert.deepEqual(ok.values.prompt, ["a", "b"]);
  assert.equal(ok.values.resume, true);
});

Deno.test("resumeCommand: the same arguments, quoted, with --resume instead of --fresh", () => {
  assert.equal(shellQuote("a b'c"), `'a b'\\''c'`);
  assert.equal(shellQuote("/x/y.json"), "/x/y.json");
  assert.equal(
    resumeCommand("analyse score", ["--out", "my out.json", "--fresh"]),
    "deno task analyse score --out 'my out.json' --resume",
  );
  assert.equal(resumeCommand("analyse generate", ["--resume"]), "deno task analyse generate --resume");
});

Deno.test("CLI: --completions given twice is refused (exit 2), not silently the last one", async () => {
  const r = await analyse("diversity", "--completions", "a.npy", "--completions", "b.npy", "--out", "x.json");
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--completions given twice/);
  const s = await analyse("score", "--model", "m", "--model", "n", "--data", "d", "--out", "o.json");
  assert.equal(s.code, 2);
  assert.match(s.stderr, /--model given twice/);
});

Deno.test("CLI: every command's --help prints its usage (no [object Object]) and runs nothing", async () => {
  const list = await analyse("--help");
  assert.equal(list.code, 0);
  // Every command the entry point lists (new ones included), and setup at least.
  const commands = [...list.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]);
  assert.ok(commands.includes("setup") && commands.includes("score") && commands.length >= 8, list.stdout);
  for (const c of commands) {
    const r = await analyse(c, "--help");
    assert.equal(r.code, 0, `${c} --help: ${r.stderr}`);
    assert.match(r.stdout, /usage: deno task/, `${c} --help prints a usage`);
    assert.ok(!/\[object Object\]/.test(r.stdout + r.stderr), `${c} --help: ${r.stdout}`);
    assert.ok(!/^setup: /m.test(r.stderr), `${c} --help ran set-up steps: ${r.stderr}`);
  }
  const nb = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "cli", "notebooks.ts"), "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(nb.stdout);
  assert.equal(nb.code, 0);
  assert.match(text, /usage: deno task notebooks/);
  assert.ok(!text.includes("[object Object]"));
  // The embedders are listed by name and description.
  const div = await analyse("diversity", "--help");
  assert.match(div.stdout, /glove-6b-100d-sif \(default\): /);
});

Deno.test("CLI: a truncated state or checkpoint file is named in the error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = join(dir, "a.state.json");
    await Deno.writeTextFile(state, '{"format": "checkpoint/1", "kind": "score", "runKe');
    const r = await analyse("merge-scores", "--out", join(dir, "m.json"), state);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${state.replaceAll("/", "\\/")}: not valid JSON .*cut short`));
    // A checkpoint cut short: --resume names it and says how to start again.
    const out = join(dir, "o.json");
    await Deno.writeTextFile(join(dir, "o.checkpoint.json"), '{"format": "checkpoint/1", "ki');
    const resumed = await analyse(
      "score",
      "--model",
      join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base"),
      "--data",
      join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl"),
      "--out",
      out,
      "--resume",
    );
    assert.equal(resumed.code, 1);
    assert.match(
      resumed.stderr,
      /o\.checkpoint\.json: checkpoint is not valid JSON .*cut short\?\); give --fresh/,
    );
    // --out equal to a shard is refused before anything is read.
    const same = await analyse("merge-scores", "--out", state, state);
    assert.equal(same.code, 1);
    assert.match(same.stderr, /is the input the state file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
