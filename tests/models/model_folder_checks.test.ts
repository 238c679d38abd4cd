/**
 * Bad model folders are refused before any work starts, each with the folder, the file and what is wrong:
 * an unsupported architecture, an EOS id outside the vocabulary, a tokenizer larger than the model's
 * vocabulary, an absent dtype file, `--template model` without a chat template; and what the loader and
 * inspect-model read from a good folder (EOS list and its source, shipped defaults, BOS, parameters).
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { checkModelFolder, supportedModelTypes } from "../../lib/models/model_folder_check.ts";
import { readShippedGeneration } from "../../lib/models/generation_config.ts";
import { inspectModel } from "../../lib/models/inspect.ts";
import { parseTemplateVariables } from "../../lib/models/chat_template.ts";
import { formatPrompts } from "../../lib/sampling/prompt_inputs.ts";
import { loadTokenizer } from "../../lib/models/tokenizer.ts";
import { analyse } from "../helpers/cli.ts";

const BASE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base");

/** A writable copy of the tiny GPT-NeoX base folder, changed by `edit`. */
function damagedCopy(edit: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "mc-folder-"));
  cpSync(BASE, dir, { recursive: true });
  edit(dir);
  return dir;
}

function editJson(path: string, change: (o: Record<string, unknown>) => void): void {
  const o = JSON.parse(Deno.readTextFileSync(path));
  change(o);
  writeFileSync(path, JSON.stringify(o));
}

Deno.test("model folder: an architecture transformers.js cannot run is refused, naming config.json", () => {
  assert.ok(supportedModelTypes().includes("gpt_neox") && supportedModelTypes().includes("qwen3"));
  const dir = damagedCopy((d) => editJson(join(d, "config.json"), (o) => (o.model_type = "mamba_like_v9")));
  try {
    assert.throws(
      () => checkModelFolder(dir),
      (e: Error) =>
        e.message.includes(join(dir, "config.json")) && e.message.includes('model_type "mamba_like_v9"') &&
        e.message.includes("gpt_neox"),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

Deno.test("model folder: an EOS id outside the vocabulary is refused, naming the file that lists it", () => {
  const dir = damagedCopy((d) =>
    editJson(join(d, "generation_config.json"), (o) => (o.eos_token_id = [0, 50304]))
  );
  try {
    assert.throws(
      () => checkModelFolder(dir),
      (e: Error) =>
        e.message.includes(join(dir, "generation_config.json")) && e.message.includes("eos_token_id 50304") &&
        e.message.includes("vocab_size = 50304"),
    );
    editJson(join(dir, "generation_config.json"), (o) => (o.eos_token_id = "two"));
    assert.throws(() => checkModelFolder(dir), /generation_config\.json: eos_token_id: expected a token id/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

Deno.test("model folder: a tokenizer with more ids than the model's logits is refused", () => {
  const dir = damagedCopy((d) => editJson(join(d, "config.json"), (o) => (o.vocab_size = 1000)));
  try {
    assert.throws(
      () => checkModelFolder(dir),
      /vocab_size mismatch: config\.json vocab_size = 1000, but tokenizer/,
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

Deno.test("model folder: an absent dtype file names the file expected and those present", () => {
  for (const [dtype, file] of [["fp16", "model_fp16.onnx"], ["q4", "model_q4.onnx"]] as const) {
    assert.throws(
      () => checkModelFolder(BASE, dtype),
      (e: Error) => e.message.includes(`onnx/${file}`) && e.message.includes("present: model.onnx"),
    );
  }
});

Deno.test("generation settings: generation_config.json's EOS list wins over config.json; defaults are read", () => {
  const dir = damagedCopy((d) =>
    editJson(join(d, "generation_config.json"), (o) => {
      o.eos_token_id = [0, 187];
      o.temperature = 0.6;
      o.top_p = 0.9;
      o.do_sample = true;
    })
  );
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    const g = readShippedGeneration(dir, config, 50304);
    assert.deepEqual(g, {
      eosTokenIds: [0, 187],
      eosSource: "generation_config.json",
      hasGenerationConfig: true,
      bosTokenId: 0,
      temperature: 0.6,
      topP: 0.9,
      doSample: true,
    });
    Deno.removeSync(join(dir, "generation_config.json"));
    const fromConfig = readShippedGeneration(dir, config, 50304);
    assert.deepEqual([fromConfig.eosTokenIds, fromConfig.eosSource], [[0], "config.json"]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

Deno.test("--template model: a folder without a chat template is an error, never a silent fallback", async () => {
  const tok = await loadTokenizer(BASE);
  assert.throws(
    () => formatPrompts([{ text: "Tell me a joke." }], tok, { name: "model" }),
    (e: Error) => e.message.includes(BASE) && e.message.includes("has no chat template"),
  );
  const r = await analyse(
    "generate",
    "--model",
    BASE,
    "--prompts",
    "creative",
    "--template",
    "model",
    "--temperatures",
    "0",
    "--samples",
    "1",
    "--out",
    join(tmpdir(), "never-written.json"),
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /template "model": .*tiny-gptneox\/base has no chat template/);
  const v = await analyse(
    "generate",
    "--model",
    BASE,
    "--prompt",
    "x",
    "--template-var",
    "enable_thinking=false",
    "--out",
    join(tmpdir(), "never-written.json"),
  );
  assert.equal(v.code, 1);
  assert.match(v.stderr, /--template-var applies to the model's own chat template/);
});

Deno.test("template variables: typed values, bad names and reserved names are named", () => {
  assert.deepEqual(
    parseTemplateVariables(["enable_thinking=false", "n=3", 'who="a b"', "tone=dry", "x=null"]),
    {
      enable_thinking: false,
      n: 3,
      who: "a b",
      tone: "dry",
      x: null,
    },
  );
  assert.throws(() => parseTemplateVariables(["nonsense"]), /"nonsense": expected name=value/);
  assert.throws(() => parseTemplateVariables(["messages=1"]), /"messages" is set by the toolkit/);
  assert.throws(() => parseTemplateVariables(["a=1", "a=2"]), /"a" is given twice/);
});

Deno.test("inspect-model: the GPT-NeoX fixture is described; a damaged copy lists each problem", async () => {
  const good = await inspectModel(BASE);
  assert.deepEqual(good.problems, []);
  assert.equal(good.architecture, "GPTNeoXForCausalLM");
  assert.equal(good.parameters, 1616320, "initializer elements of onnx/model.onnx");
  assert.deepEqual([good.layers, good.heads, good.kvHeads, good.headDim, good.vocabSize], [
    2,
    2,
    2,
    8,
    50304,
  ]);
  assert.deepEqual(good.stopTokens, { ids: [0], source: "generation_config.json" });
  assert.deepEqual(good.scoringPrefix, { id: 0, token: "<|endoftext|>", rule: "config.json bos_token_id" });
  assert.equal(good.tokenizer?.addsBos, false);
  assert.equal(good.chatTemplate, undefined);
  const r = await analyse("inspect-model", BASE);
  assert.equal(r.code, 0, r.stderr);
  for (const line of ["GPTNeoXForCausalLM", "1.62 M", "2 KV heads, head size 8", "chat template      none"]) {
    assert.ok(r.stdout.includes(line), `${line} in:\n${r.stdout}`);
  }

  const dir = damagedCopy((d) => {
    editJson(join(d, "config.json"), (o) => (o.model_type = "not_a_model"));
    Deno.removeSync(join(d, "tokenizer_config.json"));
  });
  try {
    const bad = await analyse("inspect-model", dir, "--json");
    assert.equal(bad.code, 1);
    const found = JSON.parse(bad.stdout);
    assert.ok(found.problems.some((p: string) => p.includes('model_type "not_a_model"')), bad.stdout);
    assert.ok(found.problems.some((p: string) => p.includes("tokenizer_config.json is missing")), bad.stdout);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

const FIXTURES = join(PROJECT_ROOT, "tests", "fixtures");
const LLAMA2 = join(FIXTURES, "tiny-llama2", "base");
const familySkip = (folder: string) =>
  existsSync(join(folder, "tokenizer.json"))
    ? ""
    : ` [skipped: the tokenizer of ${folder} is not installed (run \`deno task setup\`)]`;

Deno.test({
  name: `model folder: external data missing, truncated or misnamed is named before loading${
    familySkip(LLAMA2)
  }`,
  ignore: familySkip(LLAMA2) !== "",
  fn: () => {
    assert.deepEqual(checkModelFolder(LLAMA2).externalData, ["onnx/model.onnx_data"]);
    const copy = (edit: (dir: string) => void) => {
      const dir = mkdtempSync(join(tmpdir(), "mc-extdata-"));
      cpSync(LLAMA2, dir, { recursive: true });
      edit(dir);
      return dir;
    };
    const gone = copy((d) => Deno.removeSync(join(d, "onnx", "model.onnx_data")));
    const short = copy((d) => Deno.truncateSync(join(d, "onnx", "model.onnx_data"), 1000));
    const renamed = copy((d) => {
      // A graph pointing at another file name (same length, so the protobuf stays valid): transformers.js
      // loads only model.onnx_data.
      const graph = Deno.readFileSync(join(d, "onnx", "model.onnx"));
      const [from, to] = [
        new TextEncoder().encode("model.onnx_data"),
        new TextEncoder().encode("weights_01.data"),
      ];
      let replaced = 0;
      for (let i = 0; i + from.length <= graph.length; i++) {
        if (from.every((b, k) => graph[i + k] === b)) {
          graph.set(to, i);
          replaced++;
        }
      }
      assert.ok(replaced > 0);
      Deno.writeFileSync(join(d, "onnx", "model.onnx"), graph);
      Deno.renameSync(join(d, "onnx", "model.onnx_data"), join(d, "onnx", "weights_01.data"));
    });
    try {
      assert.throws(
        () => checkModelFolder(gone),
        (e: Error) =>
          e.message.includes(join(gone, "onnx", "model.onnx_data")) && e.message.includes("missing"),
      );
      assert.throws(
        () => checkModelFolder(short),
        (e: Error) =>
          e.message.includes(
            `external data ${join(short, "onnx", "model.onnx_data")} is truncated: 1000 bytes`,
          ),
      );
      assert.throws(
        () => checkModelFolder(renamed),
        (e: Error) =>
          e.message.includes('"weights_01.data"') && e.message.includes("all_tensors_to_one_file"),
      );
    } finally {
      for (const d of [gone, short, renamed]) rmSync(d, { recursive: true });
    }
  },
});

const FAMILY_FOLDERS = [
  ["tiny-llama2/base", "LlamaForCausalLM", 32000, 1, [2], false],
  ["tiny-llama3/base", "LlamaForCausalLM", 128256, 128000, [128001], false],
  ["tiny-llama3/instruct", "LlamaForCausalLM", 128256, 128000, [128001, 128008, 128009], true],
  ["tiny-qwen3/base", "Qwen3ForCausalLM", 151936, 151643, [151645, 151643], true],
] as const;

for (const [name, architecture, vocab, prefix, stops, chat] of FAMILY_FOLDERS) {
  const folder = join(FIXTURES, name);
  Deno.test({
    name: `inspect-model describes ${name}${familySkip(folder)}`,
    ignore: familySkip(folder) !== "",
    fn: async () => {
      const found = await inspectModel(folder);
      assert.deepEqual(found.problems, [], JSON.stringify(found.problems));
      assert.equal(found.architecture, architecture);
      assert.equal(found.vocabSize, vocab);
      assert.equal(found.scoringPrefix?.id, prefix);
      assert.deepEqual(found.stopTokens?.ids, stops);
      assert.equal(found.chatTemplate !== undefined, chat || name.startsWith("tiny-llama3"));
      if (name.startsWith("tiny-llama3")) assert.ok(found.kvHeads! < found.heads!, "grouped-query attention");
      if (name === "tiny-qwen3/base") {
        assert.equal(found.tiedEmbeddings, true);
        assert.ok(found.chatTemplate?.variables.includes("enable_thinking"), "Qwen3's template variable");
        assert.deepEqual([found.generation?.temperature, found.generation?.topK], [0.6, 20]);
      }
      if (name === "tiny-llama2/base") {
        assert.deepEqual(found.dtypeFiles.map((f) => f.dtype), ["fp32", "fp16", "q8", "q4"]);
        assert.deepEqual(found.dtypeFiles[0].externalData.map((f) => f.file), ["onnx/model.onnx_data"]);
        assert.equal(found.tokenizer?.addsBos, true);
      }
      const r = await analyse("inspect-model", folder);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`${architecture} \\(model_type \\w+; supported\\)`));
    },
  });
}
