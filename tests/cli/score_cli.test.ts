/**
 * `deno task analyse score` end to end on the tiny GPT-NeoX fixture (Pythia architecture, real tokenizer) against
 * the float64 PyTorch reference in tests/fixtures/tiny-gptneox/reference.json; resuming a killed run; bad corpora.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { zstdCompressSync } from "node:zlib";
import type { RefCorpus } from "../helpers/score_reference.ts";
import { analyse, analyseCommand as command } from "../helpers/cli.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const CORPUS = join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl");

type RefDoc = { index: number; n_tokens: number; base: { logprob: number[]; entropy: number[] } };
type Ref = { corpus: Record<string, RefCorpus>; settings: { vocab_size: number }; documents: RefDoc[] };
const reference = (): Ref => JSON.parse(Deno.readTextFileSync(join(FIXTURE, "reference.json")));

function close(actual: number, expected: number, what: string, rel = 1e-4): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected),
    `${what}: ${actual} vs reference ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`,
  );
}

// deno-lint-ignore no-explicit-any
type Out = Record<string, any>;

function compareWithReference(out: Out, ref: RefCorpus, vocab: number, name: string): void {
  assert.equal(out.tokens, ref.tokens, `${name} tokens`);
  assert.equal(out.documents, ref.documents_scored, `${name} documents`);
  assert.equal(out.bytes, ref.utf8_bytes, `${name} bytes`);
  close(out.perplexity, ref.perplexity, `${name} perplexity`);
  close(out.bits_per_byte, ref.bits_per_byte, `${name} bits_per_byte`);
  close(out.mean_entropy, ref.mean_entropy, `${name} mean_entropy`);
  close(out.mean_confidence, ref.mean_confidence, `${name} mean_confidence`);
  close(out.doc_mean_confidence, ref.mean_confidence_doc_weighted, `${name} doc_mean_confidence`);
  close(out.accuracy, ref.accuracy, `${name} accuracy`);
  close(out.effective_vocab, ref.mean_distribution.effective_vocab, `${name} effective_vocab`);
  // Where single tokens hold ~1e-5 of the mass, float32 logits may move the threshold crossing by a few ranks.
  assert.ok(Math.abs(out.vocab_mass_fraction["0.7"] - ref.mean_distribution.vocab_fraction_70) <= 5 / vocab);
  assert.ok(Math.abs(out.vocab_mass_fraction["0.9"] - ref.mean_distribution.vocab_fraction_90) <= 5 / vocab);
}

Deno.test("score CLI: the fixture's statistics equal the PyTorch float64 reference (base, and tuned vs base)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ref = reference();
    const V = ref.settings.vocab_size;
    const baseOut = join(dir, "base.json");
    let r = await analyse(
      "score",
      "--model",
      join(FIXTURE, "base"),
      "--data",
      CORPUS,
      "--max-seq-len",
      "64",
      "--out",
      baseOut,
    );
    assert.equal(r.code, 0, r.stderr);
    const base = JSON.parse(await Deno.readTextFile(baseOut));
    assert.equal(base.format, "score/1");
    assert.equal(base.complete, true);
    compareWithReference(base, ref.corpus.base, V, "base");
    assert.equal(base.kl_from_base, undefined);
    assert.equal(base.per_document.length, ref.corpus.base.documents_scored);
    // Per document: token counts exactly, perplexity and mean entropy to 1e-4.
    const scored = ref.documents.filter((d) => d.n_tokens > 0);
    scored.forEach((d, i) => {
      const row = base.per_document[i];
      assert.equal(row.doc_index, d.index);
      assert.equal(row.tokens, d.n_tokens);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      close(row.perplexity, Math.exp(-mean(d.base.logprob)), `doc ${d.index} perplexity`);
      close(row.mean_entropy, mean(d.base.entropy), `doc ${d.index} mean entropy`);
    });
    assert.equal(base.empty_documents, 1);
    // The mean distribution beside it: a float64 .npy of length V summing to 1.
    const { readNpy } = await import("../../lib/io/npy.ts");
    const dist = await readNpy(join(dir, base.mean_distribution_file));
    assert.deepEqual(dist.shape, [V]);
    assert.ok(Math.abs((dist.data as Float64Array).reduce((a, b) => a + b, 0) - 1) < 1e-9);

    const tunedOut = join(dir, "tuned.json");
    r = await analyse(
      "score",
      "--model",
      join(FIXTURE, "tuned"),
      "--base",
      join(FIXTURE, "base"),
      "--data",
      CORPUS,
      "--max-seq-len",
      "64",
      "--out",
      tunedOut,
    );
    assert.equal(r.code, 0, r.stderr);
    const tuned = JSON.parse(await Deno.readTextFile(tunedOut));
    compareWithReference(tuned, ref.corpus.tuned, V, "tuned");
    close(tuned.kl_from_base, ref.corpus.tuned.mean_kl_from_base!, "kl_from_base");
    close(tuned.js_with_base, ref.corpus.tuned.mean_js_with_base!, "js_with_base");
    close(tuned.argmax_changed, ref.corpus.tuned.argmax_changed_share!, "argmax_changed");
    // The sharpened model is the collapsed one: lower entropy, higher confidence than its base.
    assert.ok(tuned.mean_entropy < base.mean_entropy && tuned.mean_confidence > base.mean_confidence);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score CLI: a killed run resumes from its checkpoint to identical numbers", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["score", "--model", join(FIXTURE, "base"), "--data", CORPUS, "--max-seq-len", "64"];
    const whole = join(dir, "whole.json");
    assert.equal((await analyse(...args, "--out", whole)).code, 0);

    const out = join(dir, "killed.json");
    const checkpoint = join(dir, "killed.checkpoint.json");
    const child = command([...args, "--out", out, "--checkpoint-every", "1"]).spawn();
    // Kill it hard as soon as the first checkpoint exists.
    for (let i = 0; i < 3000; i++) {
      try {
        Deno.statSync(checkpoint);
        break;
      } catch { /* not yet */ }
      await new Promise((res) => setTimeout(res, 5));
    }
    let killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      killed = false; // it had already finished
    }
    const status = await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    if (killed && !status.success) {
      const cp = JSON.parse(await Deno.readTextFile(checkpoint));
      assert.equal(cp.format, "checkpoint/1");
      assert.ok(cp.unitsDone >= 1 && cp.unitsDone < 12, `checkpoint after ${cp.unitsDone} documents`);
      const r = await analyse(...args, "--out", out, "--resume");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /resuming after \d+ documents/);
    }
    const a = JSON.parse(await Deno.readTextFile(whole)), b = JSON.parse(await Deno.readTextFile(out));
    for (const k of ["created", "provenance", "data", "mean_distribution_file"]) {
      delete a[k];
      delete b[k];
    }
    assert.deepEqual(b, a, "resumed output equals the uninterrupted run's");
    assert.ok(killed, "the run finished before it could be killed; the resume path was not exercised");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score CLI: malformed lines are skipped and reported with file:line, or fatal with --strict", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = (await Deno.readTextFile(CORPUS)).trim().split("\n").slice(0, 3);
    const bad = join(dir, "bad.jsonl");
    await Deno.writeTextFile(
      bad,
      [lines[0], "{not json", lines[1], '{"meta": {}}', lines[2]].join("\n") + "\n",
    );
    const out = join(dir, "o.json");
    let r = await analyse(
      "score",
      "--model",
      join(FIXTURE, "base"),
      "--data",
      bad,
      "--max-seq-len",
      "64",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /bad\.jsonl:2/);
    const o = JSON.parse(await Deno.readTextFile(out));
    assert.equal(o.skipped.lines, 2);
    assert.match(o.skipped.reasons[1], /bad\.jsonl:4/);
    r = await analyse(
      "score",
      "--model",
      join(FIXTURE, "base"),
      "--data",
      bad,
      "--max-seq-len",
      "64",
      "--out",
      join(dir, "s.json"),
      "--strict",
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.jsonl:2/);
    r = await analyse("score", "--model", join(dir, "nowhere"), "--data", bad, "--out", join(dir, "x.json"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nowhere/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score CLI: a truncated .zst stops with the byte offset and keeps what was scored", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // One zstd frame per line (a valid multi-frame stream), so a cut keeps the frames before it decodable.
    const lines = (await Deno.readTextFile(CORPUS)).trim().split("\n");
    const frames = lines.map((l) => zstdCompressSync(new TextEncoder().encode(l + "\n")));
    const full = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
    frames.reduce((at, f) => (full.set(f, at), at + f.length), 0);
    const cut = join(dir, "cut.jsonl.zst");
    await Deno.writeFile(cut, full.subarray(0, Math.floor(full.length * 0.6)));
    const out = join(dir, "o.json");
    const r = await analyse(
      "score",
      "--model",
      join(FIXTURE, "base"),
      "--data",
      cut,
      "--max-seq-len",
      "64",
      "--out",
      out,
      "--checkpoint-every",
      "5",
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cut\.jsonl\.zst/);
    assert.match(r.stderr, /offset|byte/i);
    const partial = JSON.parse(await Deno.readTextFile(join(dir, "o.partial.json")));
    assert.equal(partial.complete, false);
    assert.ok(partial.documents > 0, "documents before the damage were scored and kept");
    const cp = JSON.parse(await Deno.readTextFile(join(dir, "o.checkpoint.json")));
    assert.ok(cp.unitsDone > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score CLI: shards scored apart merge into exactly the single run's numbers", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["score", "--model", join(FIXTURE, "base"), "--data", CORPUS, "--max-seq-len", "64"];
    const whole = join(dir, "whole.json");
    assert.equal((await analyse(...args, "--out", whole)).code, 0);
    await Deno.writeTextFile(join(dir, "a.idx.json"), JSON.stringify([0, 2, 4, 6, 8, 10]));
    await Deno.writeTextFile(join(dir, "b.idx.json"), JSON.stringify([1, 3, 5, 7, 9, 11]));
    for (const s of ["a", "b"]) {
      const r = await analyse(
        ...args,
        "--doc-indices",
        join(dir, `${s}.idx.json`),
        "--out",
        join(dir, `${s}.json`),
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const merged = join(dir, "merged.json");
    const r = await analyse(
      "merge-scores",
      "--out",
      merged,
      join(dir, "b.state.json"),
      join(dir, "a.state.json"),
    );
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(await Deno.readTextFile(whole)), b = JSON.parse(await Deno.readTextFile(merged));
    for (
      const k of [
        "documents",
        "tokens",
        "bytes",
        "perplexity",
        "mean_entropy",
        "effective_vocab",
        "per_document",
      ]
    ) {
      assert.deepEqual(b[k], a[k], k);
    }
    // Overlapping shards are refused.
    const again = await analyse(
      "merge-scores",
      "--out",
      join(dir, "x.json"),
      join(dir, "a.state.json"),
      join(dir, "a.state.json"),
    );
    assert.equal(again.code, 1);
    assert.match(again.stderr, /in both accumulators/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score CLI: Ctrl-C finishes the document, saves a checkpoint and the statistics so far", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "int.json");
    const child = command([
      "score",
      "--model",
      join(FIXTURE, "base"),
      "--data",
      CORPUS,
      "--max-seq-len",
      "64",
      "--out",
      out,
      "--checkpoint-every",
      "1",
    ]).spawn();
    const checkpoint = join(dir, "int.checkpoint.json");
    for (let i = 0; i < 3000; i++) {
      try {
        Deno.statSync(checkpoint);
        break;
      } catch { /* not yet */ }
      await new Promise((res) => setTimeout(res, 5));
    }
    let sent = true;
    try {
      child.kill("SIGINT");
    } catch {
      sent = false;
    }
    const status = await child.status;
    const stderr = new TextDecoder().decode((await new Response(child.stderr).arrayBuffer()) as ArrayBuffer);
    await child.stdout.cancel();
    assert.ok(sent, "the run finished before the interrupt");
    assert.equal(status.code, 130, stderr);
    assert.match(stderr, /interrupted/);
    const partial = JSON.parse(await Deno.readTextFile(join(dir, "int.partial.json")));
    assert.equal(partial.complete, false);
    const cp = JSON.parse(await Deno.readTextFile(checkpoint));
    assert.equal(cp.unitsDone >= 1, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
