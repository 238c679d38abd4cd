/**
 * Seeded, bounded fuzzing of the readers: random byte and structure mutations of valid files (a few hundred per
 * reader, a fixed seed) must give a result or an error whose message names the file — never a TypeError or
 * RangeError from deep inside, a stack overflow or a hang. Each case is timed; the whole file runs in seconds.
 * A failure prints the reader, the case number and the mutation, so it can be replayed alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readCorpus } from "../../lib/data/corpus_reader.ts";
import { loadCompletions } from "../../lib/data/load_completions.ts";
import { parseCompletionsJson } from "../../lib/io/completions_json.ts";
import { decodeNpy } from "../../lib/io/npy.ts";
import { embeddedStudy, readStudy } from "../../lib/study/config.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

const SEED = 20240501;
/** Longest one case may take (a hang would be far longer; the slowest real case takes milliseconds). */
const CASE_LIMIT_MS = 3000;

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

const enc = new TextEncoder();
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** One random byte-level mutation; returns the new bytes and a description. */
function mutateBytes(r: Rand, b: Uint8Array): [Uint8Array, string] {
  const at = int(r, b.length + 1);
  const len = 1 + int(r, 16);
  switch (int(r, 9)) {
    case 0: {
      const c = b.slice();
      if (c.length) c[Math.min(at, c.length - 1)] ^= 1 << int(r, 8);
      return [c, `flip a bit at ${at}`];
    }
    case 1: {
      const c = b.slice();
      if (c.length) c[Math.min(at, c.length - 1)] = int(r, 256);
      return [c, `set byte ${at}`];
    }
    case 2:
      return [
        concat(b.subarray(0, at), new Uint8Array([int(r, 256)]), b.subarray(at)),
        `insert a byte at ${at}`,
      ];
    case 3:
      return [concat(b.subarray(0, at), b.subarray(at + len)), `delete ${len} bytes at ${at}`];
    case 4:
      return [b.subarray(0, at), `truncate at ${at}`];
    case 5: {
      const from = int(r, b.length);
      return [
        concat(b.subarray(0, at), b.subarray(from, from + 64), b.subarray(at)),
        `duplicate 64 bytes of ${from} at ${at}`,
      ];
    }
    case 6: {
      const s = pick(r, ["[", "{", '"', "\\", ",", ":", "]", "}", "null", "1e400", "-0", "\u2028", "\ud800"]);
      return [
        concat(b.subarray(0, at), enc.encode(s), b.subarray(at)),
        `insert ${JSON.stringify(s)} at ${at}`,
      ];
    }
    case 7: {
      const n = pick(r, [1000, 100_000]);
      const open = pick(r, ["[", '{"a":']);
      return [
        concat(b.subarray(0, at), enc.encode(open.repeat(n)), b.subarray(at)),
        `insert ${n} × ${open} at ${at}`,
      ];
    }
    default: {
      const c = b.slice();
      for (let i = 0; i < len && c.length; i++) c[int(r, c.length)] = int(r, 256);
      return [c, `scramble ${len} bytes`];
    }
  }
}

/** Stands for 100,000 nested arrays, spliced into the JSON text (building them as values would overflow here). */
const DEEP_MARKER = "@@deep@@";
const DEEP_TEXT = "[".repeat(100_000) + "]".repeat(100_000);

/** A random JSON value to put somewhere, deep nesting included. */
function randomValue(r: Rand): unknown {
  switch (int(r, 13)) {
    case 0:
      return null;
    case 1:
      return -1;
    case 2:
      return 1.5;
    case 3:
      return 2 ** 60;
    case 4:
      return "";
    case 5:
      return "x".repeat(int(r, 300));
    case 6:
      return [];
    case 7:
      return {};
    case 8:
      return true;
    case 9: {
      let v: unknown = 0;
      for (let i = 0; i < 5000; i++) v = [v];
      return v;
    }
    case 10:
      return { tempratures: [1] };
    case 11:
      return DEEP_MARKER;
    default:
      return [1, "a", null];
  }
}

/** Every path (as keys) into a JSON value, at most `limit`. */
function paths(v: unknown, limit = 2000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (x: unknown, p: (string | number)[]) => {
    if (out.length >= limit) return;
    out.push(p);
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, [...p, i]));
    else if (x !== null && typeof x === "object") {
      for (const [k, y] of Object.entries(x)) walk(y, [...p, k]);
    }
  };
  walk(v, []);
  return out;
}

/** One random structural mutation of a parsed JSON document (a copy); returns it and a description. */
function mutateJson(r: Rand, doc: unknown): [unknown, string] {
  const copy = structuredClone(doc);
  const all = paths(copy).filter((p) => p.length > 0);
  const p = pick(r, all);
  // deno-lint-ignore no-explicit-any -- walking untyped JSON
  let parent: any = copy;
  for (const k of p.slice(0, -1)) parent = parent[k];
  const key = p[p.length - 1];
  const where = p.join(".");
  switch (int(r, 4)) {
    case 0: {
      const v = randomValue(r);
      parent[key] = v;
      return [copy, `set ${where} to ${JSON.stringify(v)?.slice(0, 40)}`];
    }
    case 1:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return [copy, `delete ${where}`];
    case 2:
      if (!Array.isArray(parent)) {
        const k = String(key);
        parent[k.length > 2 ? k.slice(0, -1) + k.slice(-1).toUpperCase() : k + "s"] = parent[key];
        delete parent[key];
        return [copy, `rename ${where}`];
      }
      parent.push(structuredClone(parent[0]));
      return [copy, `grow ${p.slice(0, -1).join(".")}`];
    default:
      parent[key] = Array.isArray(parent[key]) ? {} : [parent[key]];
      return [copy, `retype ${where}`];
  }
}

/** Runs one case: a result, or an error of the project that names `file`. */
async function oneCase(
  reader: string,
  file: string,
  run: () => unknown,
  i: number,
  mutation: string,
): Promise<"ok" | "error"> {
  const started = performance.now();
  let outcome: "ok" | "error" = "ok";
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.resolve().then(run),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`HANG: over ${CASE_LIMIT_MS} ms`)), CASE_LIMIT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (e) {
    outcome = "error";
    const what = `${reader} case ${i} (${mutation}): ${(e as Error)?.stack ?? e}`;
    assert.ok(e instanceof Error, what);
    assert.ok(!(e instanceof TypeError) && !(e instanceof RangeError), `non-project error: ${what}`);
    assert.ok(!/HANG/.test(e.message), what);
    assert.ok(e.message.includes(file), `the error does not name ${file}: ${what}`);
  }
  const ms = performance.now() - started;
  assert.ok(ms < CASE_LIMIT_MS, `${reader} case ${i} (${mutation}) took ${ms.toFixed(0)} ms`);
  return outcome;
}

/** Fuzzes one reader: `cases` mutations of `valid` (bytes or JSON), each written where `run` reads it. */
async function fuzz(
  reader: string,
  opts: {
    cases: number;
    seed: number;
    valid: Uint8Array;
    file: string;
    /** Reads the mutated bytes (already written to `file` when `write`). */
    run: (bytes: Uint8Array) => unknown;
    write?: boolean;
    json?: boolean;
  },
): Promise<{ ok: number; error: number }> {
  const r = rng(opts.seed);
  const counts = { ok: 0, error: 0 };
  const doc = opts.json ? JSON.parse(new TextDecoder().decode(opts.valid)) : undefined;
  for (let i = 0; i < opts.cases; i++) {
    let bytes: Uint8Array, mutation: string;
    if (opts.json && r() < 0.5) {
      let d: unknown;
      [d, mutation] = mutateJson(r, doc);
      bytes = enc.encode(JSON.stringify(d).replace(`"${DEEP_MARKER}"`, DEEP_TEXT));
    } else {
      [bytes, mutation] = mutateBytes(r, opts.valid);
      if (r() < 0.3) {
        const [b2, m2] = mutateBytes(r, bytes);
        [bytes, mutation] = [b2, `${mutation}, ${m2}`];
      }
    }
    if (opts.write) await Deno.writeFile(opts.file, bytes);
    counts[await oneCase(reader, opts.file, () => opts.run(bytes), i, mutation)]++;
  }
  return counts;
}

function validCompletions(): Uint8Array {
  const T = 2, P = 3;
  return enc.encode(JSON.stringify({
    format: "completions/2",
    created: "2024-05-01T12:00:00.000Z",
    model: { id: "m", family: "pythia" },
    template: { name: "model", text: "{{ x }}", variables: { enable_thinking: false }, guide_join: "" },
    prompt_set: "creative",
    prompts: Array.from(
      { length: P },
      (_, p) => ({ text: `p${p}`, guide: " A", answers: ["a"], input_ids: [1, p] }),
    ),
    sampling: {
      temperatures: [0.5, 1],
      samples_per_prompt: 2,
      max_new_tokens: 3,
      top_k: 50,
      top_p: 1,
      seed: 0,
    },
    cells: Array.from({ length: T * P }, (_, i) => ({
      temperature_index: Math.floor(i / P),
      prompt_index: i % P,
      temperature: [0.5, 1][Math.floor(i / P)],
      samples: [{
        text: "ab ✓",
        token_ids: [5, 6],
        logprobs: [-0.5, -1],
        logprobs_sampled: [-0.4, -0.9],
        entropies_nats: [1, 0],
        seed: "0:1",
        finish: "length",
      }],
      answer_accuracy: 0.5,
    })),
    provenance: { tool: "fuzz" },
  }));
}

Deno.test("fuzz: completions JSON (parseCompletionsJson and loadCompletions)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "c.json");
    const counts = await fuzz("completions", {
      cases: 300,
      seed: SEED,
      valid: validCompletions(),
      file,
      json: true,
      run: (bytes) => parseCompletionsJson(new TextDecoder().decode(bytes), file),
    });
    assert.ok(counts.error > 100 && counts.ok > 0, JSON.stringify(counts));
    const viaFile = await fuzz("completions file", {
      cases: 60,
      seed: SEED + 1,
      valid: validCompletions(),
      file,
      json: true,
      write: true,
      run: () => loadCompletions(file),
    });
    assert.ok(viaFile.error > 10, JSON.stringify(viaFile));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz: study JSON (readStudy)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "study.json");
    const valid = enc.encode(JSON.stringify(embeddedStudy("ci", join(dir, "results"))));
    const counts = await fuzz("study", {
      cases: 250,
      seed: SEED + 2,
      valid,
      file,
      json: true,
      write: true,
      run: () => readStudy(file),
    });
    assert.ok(counts.error > 100 && counts.ok > 0, JSON.stringify(counts));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz: .npy object arrays (decodeNpy, and loadCompletions over the paper layout)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fixtures = join(PROJECT_ROOT, "tests", "fixtures", "npy-pickle");
    let total = { ok: 0, error: 0 };
    for (const [k, name] of ["numpy-save", "protocol-2", "protocol-3", "protocol-5"].entries()) {
      const valid = Deno.readFileSync(join(fixtures, `${name}.npy`));
      const file = join(dir, `${name}.npy`);
      const c = await fuzz(`npy ${name}`, {
        cases: 100,
        seed: SEED + 10 + k,
        valid,
        file,
        run: (b) => decodeNpy(b, file),
      });
      const l = await fuzz(`npy ${name} file`, {
        cases: 25,
        seed: SEED + 20 + k,
        valid,
        file,
        write: true,
        run: () => loadCompletions(file),
      });
      total = { ok: total.ok + c.ok + l.ok, error: total.error + c.error + l.error };
    }
    assert.ok(total.error > 200 && total.ok > 0, JSON.stringify(total));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz: corpus JSONL lines (readCorpus, lenient and strict)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "corpus.jsonl");
    const lines = [
      { text: "Call me Ishmael.", meta: { pile_set_name: "Books3" } },
      { text: ["a", "b"], meta: {} },
      { text: "ünïcødé ✓ \u2028 line" },
      { text: "", meta: { x: 1 } },
      { text: "last line" },
    ];
    const valid = enc.encode(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const read = async (strict: boolean) => {
      let n = 0;
      for await (const doc of readCorpus(file, { strict, onSkip: () => {} })) {
        n += doc.text.length >= 0 ? 1 : 0;
      }
      return n;
    };
    const lenient = await fuzz("corpus", {
      cases: 200,
      seed: SEED + 30,
      valid,
      file,
      write: true,
      run: () => read(false),
    });
    const strict = await fuzz("corpus strict", {
      cases: 150,
      seed: SEED + 31,
      valid,
      file,
      write: true,
      run: () => read(true),
    });
    assert.ok(lenient.ok > 100, JSON.stringify(lenient));
    assert.ok(strict.error > 50, JSON.stringify(strict));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz: 100,000 nested arrays in every top-level field and in a corpus line are errors naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const completions = JSON.parse(new TextDecoder().decode(validCompletions()));
    const file = join(dir, "c.json");
    for (const key of Object.keys(completions)) {
      const text = JSON.stringify({ ...completions, [key]: DEEP_MARKER }).replace(
        `"${DEEP_MARKER}"`,
        DEEP_TEXT,
      );
      await oneCase("completions", file, () => parseCompletionsJson(text, file), 0, `deep ${key}`);
    }
    const study = embeddedStudy("ci", join(dir, "results")) as unknown as Record<string, unknown>;
    const studyFile = join(dir, "study.json");
    for (const key of Object.keys(study)) {
      const text = JSON.stringify({ ...study, [key]: DEEP_MARKER }).replace(`"${DEEP_MARKER}"`, DEEP_TEXT);
      await Deno.writeTextFile(studyFile, text);
      await oneCase("study", studyFile, () => readStudy(studyFile), 0, `deep ${key}`);
    }
    const corpus = join(dir, "corpus.jsonl");
    await Deno.writeTextFile(corpus, `{"text": "a"}\n{"text": "b", "meta": ${DEEP_TEXT}}\n`);
    const read = async () => {
      for await (const _ of readCorpus(corpus, { strict: true })) { /* read all */ }
    };
    assert.equal(await oneCase("corpus", corpus, read, 0, "deep meta"), "error");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
