/** Every benchmark answers `--help` with its usage (exit 0) and an unknown option with one line and the usage (exit 2). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

const BENCHES = ["diversity.ts", "diversity_startup.ts", "generate.ts", "score.ts"];

async function runBench(file: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "bench", file), ...args],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

for (const file of BENCHES) {
  Deno.test(`bench/${file}: --help prints the usage, an unknown option exits 2 without a stack trace`, async () => {
    const help = await runBench(file, ["--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: deno (task bench|run -A bench\/)/);
    const bad = await runBench(file, ["--no-such-option"]);
    assert.equal(bad.code, 2);
    const lines = bad.stderr.trim().split("\n");
    assert.equal(lines[0], "Unknown option '--no-such-option'");
    assert.match(lines[1], /^usage: /);
    assert.doesNotMatch(bad.stderr, /\n\s+at /); // no stack frames
    const zero = await runBench(file, ["--runs", "0"]);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /^--runs must be an integer ≥ 1, got "0"\nusage: /);
  });
}

Deno.test("bench/diversity.ts refuses a --gzip or --launcher outside its choices, before any work", async () => {
  for (
    const [option, value, choices] of [["gzip", "zstd", "auto, libz, pako"], ["launcher", "npx", "task, run"]]
  ) {
    const bad = await runBench("diversity.ts", [`--${option}`, value]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`^--${option} must be one of ${choices}, got "${value}"\\nusage: `));
  }
});

Deno.test("bench/generate.ts refuses a --sampler-helper or --ort-spinning outside its choices, before any work", async () => {
  const bad = await runBench("generate.ts", ["--sampler-helper", "both"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^--sampler-helper must be one of shared, per-call, none, got "both"\nusage: /);
  const spin = await runBench("generate.ts", ["--ort-spinning", "true"]);
  assert.equal(spin.code, 2);
  assert.match(spin.stderr, /^--ort-spinning must be one of run, always, off, got "true"\nusage: /);
});

Deno.test("bench/score.ts refuses --session JSON that is not JSON, names an unknown setting or a bad value", async () => {
  const typo = await runBench("score.ts", ["--session", '{"intraOpThreads": 1}']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^--session: unknown setting intraOpThreads; known: intraOpNumThreads, /);
  const notJson = await runBench("score.ts", ["--session", "{threads: 1}"]);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /^--session is not JSON: /);
  const badMode = await runBench("score.ts", ["--session", '{"intraOpSpinning": true}']);
  assert.equal(badMode.code, 2);
  assert.match(badMode.stderr, /^--session: intraOpSpinning: true is not one of run, always, off\nusage: /);
});
