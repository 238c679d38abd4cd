/**
 * The causal-LM loader against PyTorch: the two tiny GPT-NeoX models of tests/fixtures/tiny-gptneox
 * (tools/make_gptneox_fixture.py) and the float32 logits and float64 next-token values PyTorch gave for them;
 * folder checks on damaged copies; the preset registry against the paper's model list (and, where the reference
 * material is present, its protocol file).
 */
import assert from "node:assert/strict";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import type { CausalLM } from "../../lib/models/causal_lm.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { maxTokenizerId } from "../../lib/models/model_folder_check.ts";
import { MODELS_DIR } from "../../lib/models/model_source.ts";
import { findPreset, listPresets, presetById } from "../../lib/models/presets.ts";
import { loadTokenizer } from "../../lib/models/tokenizer.ts";
import { ensurePythiaTokenizer, PYTHIA_TOKENIZER_DIR } from "../../lib/setup/pythia_tokenizer.ts";
import { rollingWindows } from "../../lib/scoring/windows.ts";
import { readSharedJson, sharedTest } from "../helpers/shared.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const CORPUS = join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl");
const MODELS = ["base", "tuned"] as const;
type ModelName = typeof MODELS[number];

interface PositionValues {
  logprob: number[];
  entropy: number[];
  confidence: number[];
  argmax: number[];
}
interface Reference {
  settings: { max_seq_len: number; context_len: number; prefix_token: number; vocab_size: number };
  onnx_files: Record<ModelName, Record<string, { bytes: number; sha256: string }>>;
  documents: {
    token_ids: number[];
    windows: { input_start: number; input_len: number; predict_start: number; predict_len: number }[];
    base: PositionValues;
    tuned: PositionValues;
  }[];
  logits_probe:
    & {
      document: number;
      input_ids: number[];
      columns: number[];
      full_rows: number[];
    }
    & Record<ModelName, {
      row_max: number[];
      row_argmax: number[];
      row_logsumexp: number[];
      values: number[][];
      full_rows_base64: string[];
    }>;
}
const reference = JSON.parse(Deno.readTextFileSync(join(FIXTURE, "reference.json"))) as Reference;

// Measured (onnxruntime-node 1.30, CPU) against PyTorch's float32 logits: 3.8e-6 (base) and 7.6e-6 (tuned)
// over the probe (sampled columns, two full rows, row max and logsumexp); against the float64 per-position
// values: logprob 1.1e-5, entropy 4.8e-6, confidence 2.6e-6. The tolerance leaves room for other
// onnxruntime builds.
const LOGIT_TOLERANCE = 1e-4;

const loaded = new Map<ModelName, Promise<CausalLM>>();
/** Each fixture model is loaded once and shared by the tests (they only read it). */
function model(name: ModelName): Promise<CausalLM> {
  let m = loaded.get(name);
  if (m === undefined) {
    m = loadCausalLM(join(FIXTURE, name));
    loaded.set(name, m);
  }
  return m;
}

function decodeFloat32(b64: string): Float32Array {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** A scratch copy of one fixture model that a test may damage; the ONNX graph only when asked for. */
function copyModel(withOnnx: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "tiny-gptneox-"));
  const src = join(FIXTURE, "base");
  for (const f of ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]) {
    copyFileSync(join(src, f), join(dir, f));
  }
  mkdirSync(join(dir, "onnx"));
  if (withOnnx) cpSync(join(src, "onnx"), join(dir, "onnx"), { recursive: true });
  return dir;
}

function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): void {
  const path = join(dir, "config.json");
  const config = JSON.parse(Deno.readTextFileSync(path));
  edit(config);
  writeFileSync(path, JSON.stringify(config));
}

async function expectError(promise: Promise<unknown>, ...fragments: string[]): Promise<string> {
  try {
    const value = await promise;
    if (value && typeof (value as CausalLM).dispose === "function") await (value as CausalLM).dispose();
  } catch (e) {
    const msg = (e as Error).message;
    for (const f of fragments) {
      assert.ok(msg.includes(f), `error should mention ${JSON.stringify(f)}: ${msg}`);
    }
    return msg;
  }
  assert.fail(`expected an error mentioning ${fragments.join(", ")}`);
}

Deno.test("tiny GPT-NeoX: loads through transformers.js; info describes it", async () => {
  for (const name of MODELS) {
    const { info } = await model(name);
    assert.equal(info.source, join(FIXTURE, name));
    assert.equal(info.modelType, "gpt_neox");
    assert.equal(info.vocabSize, 50304);
    assert.equal(info.vocabSize, reference.settings.vocab_size);
    assert.equal(info.dtype, "fp32");
    assert.equal(info.device, "cpu");
    assert.equal(info.kvCache, true);
    assert.equal(info.numLayers, 2);
    assert.equal(info.maxPositions, 2048);
    assert.equal(info.preset, undefined);
    const want = reference.onnx_files[name]["onnx/model.onnx"];
    assert.deepEqual(info.files, [{ name: "onnx/model.onnx", bytes: want.bytes, sha256: want.sha256 }]);
  }
  // A relative path names the same folder.
  const again = await loadCausalLM(relative(Deno.cwd(), join(FIXTURE, "base")));
  try {
    assert.equal(again.info.source, join(FIXTURE, "base"));
  } finally {
    await again.dispose();
  }
});

Deno.test("tiny GPT-NeoX: float32 logits match PyTorch's within 1e-4", async () => {
  const probe = reference.logits_probe;
  const window = Int32Array.from(probe.input_ids);
  for (const name of MODELS) {
    const want = probe[name];
    const out = await (await model(name)).forward([window]);
    assert.ok(out.logits instanceof Float32Array);
    assert.deepEqual([out.batch, out.seq, out.vocab], [1, window.length, 50304]);
    assert.equal(out.logits.length, window.length * 50304);
    let max = 0;
    const note = (got: number, expected: number) => max = Math.max(max, Math.abs(got - expected));
    for (let r = 0; r < out.seq; r++) {
      const row = out.logits.subarray(r * out.vocab, (r + 1) * out.vocab);
      probe.columns.forEach((c, j) => note(row[c], want.values[r][j]));
      let rowMax = -Infinity;
      let argmax = -1;
      for (let v = 0; v < row.length; v++) if (row[v] > rowMax) [rowMax, argmax] = [row[v], v];
      let sum = 0;
      for (let v = 0; v < row.length; v++) sum += Math.exp(row[v] - rowMax);
      note(rowMax, want.row_max[r]);
      note(rowMax + Math.log(sum), want.row_logsumexp[r]);
      assert.equal(argmax, want.row_argmax[r], `${name} row ${r} argmax`);
    }
    probe.full_rows.forEach((r, k) => {
      const full = decodeFloat32(want.full_rows_base64[k]);
      assert.equal(full.length, out.vocab);
      full.forEach((x, v) => note(out.logits[r * out.vocab + v], x));
    });
    assert.ok(max <= LOGIT_TOLERANCE, `${name}: max abs diff ${max}`);
  }
});

Deno.test("tiny GPT-NeoX: a batch gives the rows of single windows; bad batches are refused", async () => {
  const m = await model("base");
  const doc = reference.documents[reference.logits_probe.document];
  const windows = [...rollingWindows(doc.token_ids, { prefixToken: 0, maxSeqLen: 64, contextLen: 1 })]
    .map((w) => w.input)
    .filter((w) => w.length === 64);
  assert.ok(windows.length >= 2);
  const batched = await m.forward(windows);
  assert.equal(batched.batch, windows.length);
  for (let b = 0; b < windows.length; b++) {
    const single = await m.forward([windows[b]]);
    const part = batched.logits.subarray(b * single.logits.length, (b + 1) * single.logits.length);
    let max = 0;
    single.logits.forEach((x, i) => max = Math.max(max, Math.abs(x - part[i])));
    assert.ok(max <= 1e-5, `window ${b}: batched vs single max abs diff ${max}`);
  }
  await assert.rejects(m.forward([]), RangeError);
  await assert.rejects(m.forward([new Int32Array(0)]), RangeError);
  await assert.rejects(m.forward([Int32Array.of(1, 2), Int32Array.of(3)]), /window 1 has 1 tokens/);
  await assert.rejects(m.forward([Int32Array.of(1, 50304)]), /id 50304 outside \[0, 50304\)/);
  await assert.rejects(m.forward([new Int32Array(2049)]), /max_position_embeddings 2048/);
});

Deno.test("tiny GPT-NeoX: corpus tokens, windows, per-position values match float64 PyTorch", async () => {
  await ensurePythiaTokenizer();
  const tokenizer = await loadTokenizer(PYTHIA_TOKENIZER_DIR);
  const texts = Deno.readTextFileSync(CORPUS).split("\n").filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l).text as string);
  assert.equal(texts.length, reference.documents.length);
  const { prefix_token: prefixToken, max_seq_len: maxSeqLen, context_len: contextLen } = reference.settings;
  const worst = { logprob: 0, entropy: 0, confidence: 0 };
  for (const name of MODELS) {
    const m = await model(name);
    for (const [d, doc] of reference.documents.entries()) {
      assert.deepEqual(tokenizer.encode(texts[d]), doc.token_ids, `document ${d} token ids`);
      const windows = [...rollingWindows(doc.token_ids, { prefixToken, maxSeqLen, contextLen })];
      assert.deepEqual(
        windows.map((w) => [w.predictStart, w.predict.length, w.input.length]),
        doc.windows.map((w) => [w.predict_start, w.predict_len, w.input_len]),
      );
      const want = doc[name];
      for (const w of windows) {
        const { logits, seq, vocab } = await m.forward([w.input]);
        for (let k = 0; k < w.predict.length; k++) {
          const row = logits.subarray(
            (seq - w.predict.length + k) * vocab,
            (seq - w.predict.length + k + 1) * vocab,
          );
          let max = -Infinity;
          let argmax = -1;
          for (let v = 0; v < vocab; v++) if (row[v] > max) [max, argmax] = [row[v], v];
          let z = 0;
          for (let v = 0; v < vocab; v++) z += Math.exp(row[v] - max);
          const lse = max + Math.log(z);
          let entropy = 0;
          for (let v = 0; v < vocab; v++) {
            const lp = row[v] - lse;
            entropy -= Math.exp(lp) * lp;
          }
          const i = w.predictStart + k;
          worst.logprob = Math.max(worst.logprob, Math.abs(row[w.predict[k]] - lse - want.logprob[i]));
          worst.entropy = Math.max(worst.entropy, Math.abs(entropy - want.entropy[i]));
          worst.confidence = Math.max(worst.confidence, Math.abs(Math.exp(max - lse) - want.confidence[i]));
          if (argmax !== want.argmax[i]) {
            // Only a near-tie may flip between float32 and float64.
            assert.ok(
              Math.abs(row[argmax] - row[want.argmax[i]]) < LOGIT_TOLERANCE,
              `doc ${d} pos ${i} argmax`,
            );
          }
        }
      }
    }
  }
  assert.ok(worst.logprob <= LOGIT_TOLERANCE, `logprob max abs diff ${worst.logprob}`);
  assert.ok(worst.entropy <= LOGIT_TOLERANCE, `entropy max abs diff ${worst.entropy}`);
  assert.ok(worst.confidence <= LOGIT_TOLERANCE, `confidence max abs diff ${worst.confidence}`);
});

Deno.test("folder checks name the missing file", async () => {
  for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    const dir = copyModel(false);
    try {
      rmSync(join(dir, file));
      await expectError(loadCausalLM(dir), `lacks ${file}`);
    } finally {
      rmSync(dir, { recursive: true });
    }
  }
  const dir = copyModel(false);
  try {
    await expectError(loadCausalLM(dir), "onnx/model.onnx", 'dtype "fp32"', "ONNX files present: none");
    await expectError(
      loadCausalLM(join(FIXTURE, "base"), { dtype: "fp16" }),
      "onnx/model_fp16.onnx",
      "model.onnx",
    );
    await expectError(
      loadCausalLM(join(FIXTURE, "base"), { dtype: "q8" }),
      "onnx/model_quantized.onnx",
      "onnx/model_int8.onnx",
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

Deno.test("folder checks name vocab_size and both values when config/tokenizer/graph disagree", async () => {
  const dir = copyModel(true);
  try {
    editConfig(dir, (c) => c.vocab_size = 40000);
    await expectError(loadCausalLM(dir), "vocab_size", "40000", "tokenizer.json", "50276");
    editConfig(dir, (c) => c.vocab_size = 50280); // above every tokenizer id, below the graph's width
    await expectError(loadCausalLM(dir), "vocab_size", "50280", "logits width = 50304");
    editConfig(dir, (c) => delete c.vocab_size);
    await expectError(loadCausalLM(dir), "vocab_size must be a positive integer");
  } finally {
    rmSync(dir, { recursive: true });
  }
  assert.equal(maxTokenizerId({ model: { vocab: { a: 0, b: 7 } }, added_tokens: [{ id: 9 }] }), 9);
  assert.equal(maxTokenizerId({ model: { vocab: [["a", 0], ["b", -1]] } }), 1);
  assert.equal(maxTokenizerId({}), undefined);
});

Deno.test("device cuda: a clear error, not a silent CPU fallback", async () => {
  let lm: CausalLM | undefined;
  try {
    lm = await loadCausalLM(join(FIXTURE, "base"), { device: "cuda" });
  } catch (e) {
    const msg = (e as Error).message;
    assert.match(msg, /device "cuda" is not available/);
    assert.match(msg, /CUDA execution provider/);
    assert.match(msg, /No CPU fallback/);
    return;
  }
  // A machine with a working CUDA provider: then it must really be the CUDA session.
  try {
    assert.equal(lm.info.device, "cuda");
  } finally {
    await lm.dispose();
  }
});

Deno.test("sources: presets resolve to data/models/<name>; unknown names list the presets", async () => {
  await expectError(loadCausalLM("no-such-model"), "pythia-70m", "llama2-slic", "neither a folder, a preset");
  const preset = "pythia-6.9b-ppo";
  let hasFolder = false;
  try {
    hasFolder = Deno.statSync(join(MODELS_DIR, preset)).isDirectory;
  } catch { /* absent, as on every test machine */ }
  if (!hasFolder) {
    await expectError(loadCausalLM(preset), join(MODELS_DIR, preset), "docs/MODELS.md", "allowRemote");
  }
  await expectError(loadCausalLM("EleutherAI/not-a-model"), "remote loading is off");

  // A preset folder (here in a scratch models folder): found by name, and its vocab_size checked.
  const modelsDir = mkdtempSync(join(tmpdir(), "models-"));
  try {
    cpSync(join(FIXTURE, "base"), join(modelsDir, "pythia-70m"), { recursive: true });
    const lm = await loadCausalLM("pythia-70m", { modelsDir });
    try {
      assert.equal(lm.info.preset, "pythia-70m");
      assert.equal(lm.info.source, join(modelsDir, "pythia-70m"));
    } finally {
      await lm.dispose();
    }
    cpSync(join(FIXTURE, "base"), join(modelsDir, "pythia-6.9b"), { recursive: true });
    await expectError(loadCausalLM("pythia-6.9b", { modelsDir }), "vocab_size", "50432", "50304");
    // A hub id is looked up as <modelsDir>/<owner>/<name>.
    cpSync(join(FIXTURE, "tuned"), join(modelsDir, "someone", "tiny"), { recursive: true });
    const byId = await loadCausalLM("someone/tiny", { modelsDir });
    try {
      assert.equal(byId.info.source, join(modelsDir, "someone", "tiny"));
      assert.equal(byId.info.preset, undefined);
    } finally {
      await byId.dispose();
    }
  } finally {
    rmSync(modelsDir, { recursive: true });
  }
});

Deno.test("presets: the paper's models, sizes, stages, templates and vocab sizes", () => {
  const ids = new Set(listPresets().map((p) => p.hubId));
  const sizes = ["70m", "160m", "410m", "1b", "1.4b", "2.8b"];
  const expected = [
    ...sizes.flatMap((s) => [
      `EleutherAI/pythia-${s}`,
      `lomahony/pythia-${s}-helpful-sft`,
      `lomahony/pythia-${s}-helpful-dpo`,
      `lomahony/pythia-${s}-helpful-sft-epoch2`,
    ]),
    "EleutherAI/pythia-6.9b",
    "lomahony/eleuther-pythia2.8b-hh-sft",
    "lomahony/eleuther-pythia2.8b-hh-dpo",
    "usvsnsp/pythia-6.9b-ppo",
    "lomahony/pythia-2.8b-helpful-sft-3epochs",
    ...[0, 1, 2, 3].map((k) => `lomahony/pythia-2.8b-helpful-sfted${k}-dpo-3epochs`),
    "meta-llama/Llama-2-7b-hf",
    "meta-llama/Llama-2-7b-chat-hf",
    "ContextualAI/archangel_sft_llama7b",
    "ContextualAI/archangel_sft-dpo_llama7b",
    "ContextualAI/archangel_sft-ppo_llama7b",
    "ContextualAI/archangel_sft-kto_llama7b",
    "ContextualAI/archangel_sft-slic_llama7b",
  ];
  for (const id of expected) assert.ok(ids.has(id), `missing ${id}`);

  for (const stage of ["sft", "dpo"] as const) {
    const p = presetById(`pythia-6.9b-${stage}`);
    assert.equal(p.hubId, `lomahony/eleuther-pythia2.8b-hh-${stage}`);
    assert.equal(p.paperConfigBug, "these are 2.8B models");
    assert.equal(p.size, "6.9b");
    assert.equal(p.vocabSize, 50304);
  }
  assert.deepEqual(listPresets().filter((p) => p.paperConfigBug).map((p) => p.name), [
    "pythia-6.9b-sft",
    "pythia-6.9b-dpo",
  ]);
  assert.equal(presetById("pythia-6.9b").vocabSize, 50432);
  assert.equal(presetById("pythia-6.9b-ppo").vocabSize, 50432);
  assert.equal(presetById("pythia-1.4b-dpo").vocabSize, 50304);
  assert.equal(presetById("llama2-kto").vocabSize, 32000);
  assert.equal(presetById("llama2-chat").stage, "chat");
  assert.equal(presetById("pythia-160m").perplexityStem, "pythia160m-base");
  assert.equal(presetById("pythia-2.8b-dpo").perplexityStem, "pythia28b-dpo");

  for (const r of ["1", "2", "3"]) {
    assert.equal(presetById(`pythia-2.8b-sft3_${r}`).revision, r);
    assert.equal(
      presetById(`pythia-2.8b-sfted2-dpo3_${r}`).hubId,
      "lomahony/pythia-2.8b-helpful-sfted2-dpo-3epochs",
    );
  }
  assert.equal(presetById("pythia-2.8b-sft3").revision, "main");
  // Only exports known to exist are named.
  assert.deepEqual(
    listPresets().filter((p) => p.onnxExportId).map((p) => [p.name, p.onnxExportId]),
    [["pythia-70m", "Xenova/pythia-70m"], ["pythia-160m", "Xenova/pythia-160m"], [
      "pythia-410m",
      "Xenova/pythia-410m",
    ]],
  );
  assert.throws(() => presetById("pythia-12b"), (e: Error) => {
    assert.match(e.message, /unknown model preset "pythia-12b"/);
    for (const p of listPresets()) assert.ok(e.message.includes(p.name), p.name);
    return true;
  });
  assert.equal(findPreset("pythia-12b"), undefined);
  assert.ok(Object.isFrozen(presetById("pythia-70m")));
});

sharedTest("presets: templates and hub ids agree with paper/protocol.json", () => {
  const protocol = readSharedJson<{
    templates: Record<string, { used_for: string[] }>;
    models: Record<string, string>;
  }>("paper", "protocol.json");
  const expand = (name: string) =>
    name.includes("{0..3}") ? [0, 1, 2, 3].map((k) => name.replace("{0..3}", String(k))) : [name];
  let checked = 0;
  for (const [template, { used_for }] of Object.entries(protocol.templates)) {
    for (const paperName of used_for.flatMap(expand)) {
      const matches = listPresets().filter((p) => p.paperModelName === paperName);
      assert.ok(matches.length > 0, `no preset for ${paperName}`);
      for (const p of matches) assert.equal(p.template, template, p.name);
      checked++;
    }
  }
  assert.ok(checked >= 15);
  for (const [paperName, id] of Object.entries(protocol.models)) {
    const hubId = id.split(" ")[0].replace("{N}", "0");
    const p = listPresets().find((q) => q.paperModelName === paperName.replace("{N}", "0"));
    assert.ok(p, paperName);
    assert.equal(p.hubId, hubId);
  }
});

Deno.test({
  name: "tiny GPT-NeoX: dispose the shared models",
  // Registered last so that the other tests of this file (run in order) have finished with them.
  fn: async () => {
    for (const m of loaded.values()) await (await m).dispose();
    loaded.clear();
  },
});
