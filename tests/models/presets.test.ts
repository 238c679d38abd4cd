/**
 * The preset registry as a whole: unique names, valid families and stages, instruct presets on their own chat
 * template, every `base` resolving to a base preset of the same family, and the current base / instruct pairs
 * with the numbers their configs give. (The paper's presets are checked against the paper's model list in
 * load_causal_lm.test.ts.)
 */
import assert from "node:assert/strict";
import {
  findPreset,
  listPresets,
  MODEL_FAMILIES,
  MODEL_STAGES,
  presetById,
  presetsOfFamily,
  type PresetTemplate,
} from "../../lib/models/presets.ts";

const PAPER_TEMPLATES: readonly PresetTemplate[] = ["plm", "hh", "llama2_chat", "tulu"];

Deno.test("presets: unique names, valid families, stages and templates; folder-safe names", () => {
  const presets = listPresets();
  const names = presets.map((p) => p.name);
  assert.equal(new Set(names).size, names.length, "duplicate preset names");
  for (const p of presets) {
    assert.ok(MODEL_FAMILIES.includes(p.family), `${p.name}: family ${p.family}`);
    assert.ok(MODEL_STAGES.includes(p.stage), `${p.name}: stage ${p.stage}`);
    assert.ok(p.template === "model" || PAPER_TEMPLATES.includes(p.template), `${p.name}: ${p.template}`);
    // The name is a folder under data/models/: no separators, nothing a hub id would be mistaken for.
    assert.match(p.name, /^[a-z0-9][a-z0-9._-]*$/, p.name);
    assert.match(p.hubId, /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/, p.hubId);
    assert.ok(p.revision.length > 0, p.name);
    if (p.vocabSize !== undefined) assert.ok(Number.isInteger(p.vocabSize) && p.vocabSize > 0, p.name);
    assert.equal(findPreset(p.name), p);
    assert.ok(Object.isFrozen(p), p.name);
  }
  // Every family has presets.
  for (const f of MODEL_FAMILIES) assert.ok(presetsOfFamily(f).length > 0, f);
});

Deno.test("presets: instruct presets use the model's own chat template; base presets the plain one", () => {
  const instruct = listPresets().filter((p) => p.stage === "instruct");
  assert.ok(instruct.length >= 4);
  for (const p of instruct) assert.equal(p.template, "model", p.name);
  // "model" is only for instruct presets; base models read plain text.
  for (const p of listPresets().filter((q) => q.template === "model")) assert.equal(p.stage, "instruct");
  for (const p of listPresets().filter((q) => q.stage === "base")) assert.equal(p.template, "plm", p.name);
});

Deno.test("presets: pairs resolve — each fine-tune's base exists, is a base model of the same family", () => {
  for (const p of listPresets()) {
    if (p.stage === "base") {
      assert.equal(p.base, undefined, p.name);
      continue;
    }
    if (p.stage === "instruct" || p.stage === "chat") {
      assert.ok(p.base !== undefined, `${p.name} has no base`);
    }
    if (p.base === undefined) continue;
    const base = findPreset(p.base);
    assert.ok(base, `${p.name}: base ${p.base} is not a preset`);
    assert.equal(base.stage, "base", p.name);
    assert.equal(base.family, p.family, p.name);
    assert.equal(base.vocabSize, p.vocabSize, `${p.name} and ${base.name} differ in logits width`);
  }
  // The paper's 6.9B SFT/DPO are 2.8B models: their base is the 2.8B one (a 6.9B base has another width).
  assert.equal(presetById("pythia-6.9b-sft").base, "pythia-2.8b");
  assert.equal(presetById("pythia-6.9b-ppo").base, "pythia-6.9b");
  assert.equal(presetById("pythia-2.8b-sfted1-dpo3_2").base, "pythia-2.8b");
  assert.equal(presetById("llama2-chat").base, "llama2");
});

Deno.test("presets: current base / instruct pairs with their hub ids, widths and shipped sampling defaults", () => {
  const pairs: Array<[string, string, string, string, number]> = [
    [
      "llama3.1-8b",
      "meta-llama/Llama-3.1-8B",
      "llama3.1-8b-instruct",
      "meta-llama/Llama-3.1-8B-Instruct",
      128256,
    ],
    [
      "llama3.2-1b",
      "meta-llama/Llama-3.2-1B",
      "llama3.2-1b-instruct",
      "meta-llama/Llama-3.2-1B-Instruct",
      128256,
    ],
    ["qwen3-0.6b-base", "Qwen/Qwen3-0.6B-Base", "qwen3-0.6b", "Qwen/Qwen3-0.6B", 151936],
    ["qwen3-1.7b-base", "Qwen/Qwen3-1.7B-Base", "qwen3-1.7b", "Qwen/Qwen3-1.7B", 151936],
  ];
  for (const [baseName, baseHub, tunedName, tunedHub, vocab] of pairs) {
    const base = presetById(baseName);
    const tuned = presetById(tunedName);
    assert.equal(base.hubId, baseHub);
    assert.equal(tuned.hubId, tunedHub);
    assert.equal(base.revision, "main");
    assert.equal(base.stage, "base");
    assert.equal(base.template, "plm");
    assert.equal(tuned.stage, "instruct");
    assert.equal(tuned.template, "model");
    assert.equal(tuned.base, baseName);
    assert.equal(base.vocabSize, vocab);
    assert.equal(tuned.vocabSize, vocab);
    assert.equal(base.family, tunedName.startsWith("qwen3") ? "qwen3" : "llama-3.1");
  }
  const llama = presetById("llama3.1-8b-instruct").generationDefaults!;
  assert.deepEqual([llama.temperature, llama.topP, llama.topK], [0.6, 0.9, undefined]);
  assert.deepEqual(llama.eosTokenIds, [128001, 128008, 128009]);
  const qwen = presetById("qwen3-0.6b").generationDefaults!;
  assert.deepEqual([qwen.temperature, qwen.topP, qwen.topK], [0.6, 0.95, 20]);
  assert.deepEqual(qwen.eosTokenIds, [151645, 151643]);
  const chat = presetById("llama2-chat").generationDefaults!;
  assert.deepEqual([chat.temperature, chat.topP], [0.6, 0.9]);
  // Every instruct preset documents what its generation_config.json ships; base models record none.
  for (const p of listPresets().filter((q) => q.stage === "instruct")) {
    assert.ok(p.generationDefaults, p.name);
  }
  for (const p of listPresets().filter((q) => q.stage === "base")) {
    assert.equal(p.generationDefaults, undefined);
  }
  // Llama-2 13B: the paper's templates for its family, not in the paper's tables.
  assert.equal(presetById("llama2-13b").hubId, "meta-llama/Llama-2-13b-hf");
  assert.equal(presetById("llama2-13b-chat").template, "llama2_chat");
  assert.equal(presetById("llama2-13b-chat").paperModelName, undefined);
  assert.equal(presetById("llama2-13b").perplexityStem, undefined);
});

Deno.test("presets: the paper's registry is unchanged (57 presets first, in order, then the new ones)", () => {
  const presets = listPresets();
  const firstNew = presets.findIndex((p) => p.name === "llama2-13b");
  assert.equal(firstNew, 57);
  assert.equal(presets[56].name, "llama2-slic");
  assert.equal(presets[0].name, "pythia-70m");
  // No new preset claims a paper name or a paper result file.
  for (const p of presets.slice(57)) {
    assert.equal(p.paperModelName, undefined, p.name);
    assert.equal(p.perplexityStem, undefined, p.name);
    assert.equal(p.onnxExportId, undefined, p.name);
  }
});
