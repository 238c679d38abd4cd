/**
 * What the toolkit makes of a model folder, without loading the network: architecture and size, the ONNX files
 * per dtype (with external data), attention layout, tokenizer, chat template, BOS/EOS ids, shipped generation
 * defaults, the scoring prefix and stop ids it would use — and every problem found, each as a sentence. Backs
 * `deno task analyse inspect-model`.
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { readJsonObjectSync } from "../io/json_file.ts";
import { maxTokenizerId, supportedModelTypes } from "./model_folder_check.ts";
import { MODELS_DIR, resolveModelSource } from "./model_source.ts";
import { type CausalLMDtype, checkExternalData, ONNX_FILES_BY_DTYPE } from "./onnx_files.ts";
import { readShippedGeneration, type ShippedGeneration } from "./generation_config.ts";
import { summariseInitializers } from "./onnx_external_data.ts";
import { loadTokenizer, prefixTokenId, type Tokenizer } from "./tokenizer.ts";
import { chatTemplateOf } from "./chat_template.ts";

/** One ONNX graph file of the folder. */
export interface DtypeFile {
  /** The dtype that selects it (`--dtype`). */
  dtype: CausalLMDtype;
  /** Folder-relative graph file. */
  file: string;
  /** Graph file size. */
  bytes: number;
  /** External-data files it needs, with their sizes. */
  externalData: { file: string; bytes: number }[];
  /** Elements over the graph's initializers, by element type. */
  elementsByType?: Record<string, number>;
}

/** The tokenizer as the toolkit reads it. */
export interface TokenizerFacts {
  /** `tokenizer_class`. */
  className: string;
  /** Entries including added tokens. */
  vocabSize: number;
  /** Whether encoding a text adds special tokens in front (Llama's BOS). */
  addsBos: boolean;
  /** Special ids (undefined where absent). */
  bos?: number;
  /** End of sequence. */
  eos?: number;
  /** Unknown token. */
  unk?: number;
  /** Padding. */
  pad?: number;
}

/** The chat template, if the folder has one. */
export interface ChatTemplateFacts {
  /** Size of the Jinja source in characters. */
  chars: number;
  /** Variables the template tests with `is defined` (e.g. `enable_thinking`): what `--template-var` can set. */
  variables: string[];
}

/** Everything {@link inspectModel} found. */
export interface ModelInspection {
  /** The source as given. */
  source: string;
  /** The folder inspected (absent when the source did not resolve to one). */
  folder?: string;
  /** The preset the source named. */
  preset?: string;
  /** config.json `architectures[0]`. */
  architecture?: string;
  /** config.json `model_type`. */
  modelType?: string;
  /** Whether transformers.js can run `modelType` as a causal LM. */
  supported?: boolean;
  /** Parameters: elements of the fp32 graph's initializers (else the first graph found). */
  parameters?: number;
  /** Transformer layers. */
  layers?: number;
  /** Hidden size. */
  hiddenSize?: number;
  /** Attention heads. */
  heads?: number;
  /** Key/value heads (fewer than `heads`: grouped-query attention). */
  kvHeads?: number;
  /** Head size. */
  headDim?: number;
  /** Longest sequence (max_position_embeddings). */
  maxPositions?: number;
  /** Logits width (vocab_size). */
  vocabSize?: number;
  /** Whether input and output embeddings are tied. */
  tiedEmbeddings?: boolean;
  /** config.json `rope_scaling`, when set. */
  ropeScaling?: Record<string, unknown>;
  /** ONNX graphs found, per dtype. */
  dtypeFiles: DtypeFile[];
  /** The tokenizer. */
  tokenizer?: TokenizerFacts;
  /** The chat template. */
  chatTemplate?: ChatTemplateFacts;
  /** generation_config.json over config.json. */
  generation?: ShippedGeneration;
  /** The token that prefixes each document when scoring, and the rule that chose it. */
  scoringPrefix?: { id: number; token?: string; rule: string };
  /** Ids that end a sample and their source. */
  stopTokens?: { ids: number[]; source: string };
  /** Problems: each a sentence naming the file. Empty when the folder is ready to use. */
  problems: string[];
  /** Other facts worth knowing (sentences). */
  notes: string[];
}

type Json = Record<string, unknown>;

const num = (o: Json, ...keys: string[]): number | undefined => {
  for (const k of keys) if (typeof o[k] === "number") return o[k] as number;
  return undefined;
};

/** Names a chat template tests with `is defined` / `is not defined`, less the ones the toolkit sets. */
function templateVariables(source: string): string[] {
  const own = new Set([
    "messages",
    "add_generation_prompt",
    "tools",
    "documents",
    "bos_token",
    "eos_token",
    "unk_token",
    "pad_token",
    "message",
    "loop",
  ]);
  const found = new Set<string>();
  for (const m of source.matchAll(/\b([A-Za-z_]\w*)\s+is\s+(?:not\s+)?defined\b/g)) {
    if (!own.has(m[1])) found.add(m[1]);
  }
  return [...found].sort();
}

function tokenizerFacts(t: Tokenizer): TokenizerFacts {
  const plain = t.encode("Hello", { addSpecialTokens: false });
  const withSpecial = t.encode("Hello");
  return {
    className: t.className,
    vocabSize: t.vocabSize,
    addsBos: withSpecial.length > plain.length && withSpecial[0] !== plain[0],
    ...(t.special.bos !== undefined ? { bos: t.special.bos } : {}),
    ...(t.special.eos !== undefined ? { eos: t.special.eos } : {}),
    ...(t.special.unk !== undefined ? { unk: t.special.unk } : {}),
    ...(t.special.pad !== undefined ? { pad: t.special.pad } : {}),
  };
}

/** Inspects a model folder (a path, preset name or hub id looked up locally); never throws for a bad folder. */
export async function inspectModel(source: string, modelsDir = MODELS_DIR): Promise<ModelInspection> {
  const out: ModelInspection = { source, dtypeFiles: [], problems: [], notes: [] };
  let folder: string;
  try {
    const where = resolveModelSource(source, false, modelsDir);
    if (where.preset) out.preset = where.preset.name;
    folder = where.folder!;
  } catch (e) {
    out.problems.push((e as Error).message);
    return out;
  }
  out.folder = folder;
  const configPath = join(folder, "config.json");
  let config: Json | undefined;
  if (!existsSync(configPath)) {
    out.problems.push(`${configPath} is missing: the model's architecture and sizes are unknown.`);
  } else {
    try {
      config = readJsonObjectSync(configPath) as Json;
    } catch (e) {
      out.problems.push((e as Error).message);
    }
  }
  if (config !== undefined) {
    if (Array.isArray(config.architectures) && typeof config.architectures[0] === "string") {
      out.architecture = config.architectures[0];
    }
    if (typeof config.model_type === "string") {
      out.modelType = config.model_type;
      out.supported = supportedModelTypes().includes(config.model_type);
      if (!out.supported) {
        out.problems.push(
          `${configPath}: model_type "${config.model_type}" is not an architecture transformers.js runs as a ` +
            "causal language model.",
        );
      }
    } else {
      out.problems.push(`${configPath} has no model_type.`);
    }
    out.layers = num(config, "num_hidden_layers", "n_layer");
    out.hiddenSize = num(config, "hidden_size", "n_embd");
    out.heads = num(config, "num_attention_heads", "n_head");
    out.kvHeads = num(config, "num_key_value_heads") ?? out.heads;
    out.headDim = num(config, "head_dim") ??
      (out.hiddenSize && out.heads ? out.hiddenSize / out.heads : undefined);
    out.maxPositions = num(config, "max_position_embeddings", "n_positions");
    out.vocabSize = num(config, "vocab_size");
    if (typeof config.tie_word_embeddings === "boolean") out.tiedEmbeddings = config.tie_word_embeddings;
    if (config.rope_scaling !== null && typeof config.rope_scaling === "object") {
      out.ropeScaling = config.rope_scaling as Record<string, unknown>;
    }
    if (out.vocabSize === undefined) out.problems.push(`${configPath} has no numeric vocab_size.`);
  }

  // ONNX graphs per dtype, with their external data checked.
  for (
    const [dtype, candidates] of Object.entries(ONNX_FILES_BY_DTYPE) as [
      CausalLMDtype,
      typeof ONNX_FILES_BY_DTYPE.fp32,
    ][]
  ) {
    for (const c of candidates) {
      const path = join(folder, c.file);
      if (!existsSync(path)) continue;
      const file: DtypeFile = { dtype, file: c.file, bytes: statSync(path).size, externalData: [] };
      try {
        const summary = summariseInitializers(path);
        file.elementsByType = summary.elementsByType;
        if (out.parameters === undefined || dtype === "fp32") out.parameters = summary.elements;
        file.externalData = checkExternalData(folder, c.file).map((f) => ({
          file: f,
          bytes: statSync(join(folder, f)).size,
        }));
      } catch (e) {
        out.problems.push((e as Error).message);
      }
      out.dtypeFiles.push(file);
    }
  }
  if (out.dtypeFiles.length === 0) {
    out.problems.push(
      `${join(folder, "onnx")} holds no ONNX graph the loader knows (${
        Object.values(ONNX_FILES_BY_DTYPE).flat().map((c) => c.file).join(", ")
      }).`,
    );
  } else if (!out.dtypeFiles.some((f) => f.dtype === "fp32")) {
    out.notes.push("There is no fp32 graph (onnx/model.onnx): give --dtype for one of the files present.");
  }

  // Tokenizer, chat template, special ids.
  let tokenizer: Tokenizer | undefined;
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
    if (!existsSync(join(folder, f))) out.problems.push(`${join(folder, f)} is missing: no tokenizer.`);
  }
  if (existsSync(join(folder, "tokenizer.json")) && existsSync(join(folder, "tokenizer_config.json"))) {
    try {
      tokenizer = await loadTokenizer(folder);
      out.tokenizer = tokenizerFacts(tokenizer);
      const maxId = maxTokenizerId(readJsonObjectSync(join(folder, "tokenizer.json")) as Json);
      if (out.vocabSize !== undefined && maxId !== undefined && maxId >= out.vocabSize) {
        out.problems.push(
          `${join(folder, "tokenizer.json")} has ids up to ${maxId} but config.json vocab_size is ` +
            `${out.vocabSize}: tokenizer and model do not belong together.`,
        );
      }
      const chat = chatTemplateOf(tokenizer);
      if (chat !== undefined) {
        out.chatTemplate = { chars: chat.length, variables: templateVariables(chat) };
      } else {
        out.notes.push("No chat template: --template model is not available; use a named template.");
      }
    } catch (e) {
      out.problems.push(`the tokenizer in ${folder} does not load: ${(e as Error).message}`);
    }
  }
  if (config !== undefined && out.vocabSize !== undefined) {
    try {
      out.generation = readShippedGeneration(folder, config, out.vocabSize);
    } catch (e) {
      out.problems.push((e as Error).message);
    }
  }
  if (tokenizer !== undefined) {
    const g = out.generation;
    try {
      const id = prefixTokenId(tokenizer, { configBosTokenId: g?.bosTokenId });
      const rule = g?.bosTokenId !== undefined
        ? "config.json bos_token_id"
        : tokenizer.special.bos !== undefined
        ? "the tokenizer's BOS"
        : "the tokenizer's EOS";
      const token = tokenizer.decode([id]);
      out.scoringPrefix = { id, ...(typeof token === "string" ? { token } : {}), rule };
    } catch (e) {
      out.problems.push((e as Error).message);
    }
    if (g !== undefined && g.eosTokenIds.length > 0) {
      out.stopTokens = { ids: g.eosTokenIds, source: g.eosSource };
    } else if (tokenizer.special.eos !== undefined) {
      out.stopTokens = { ids: [tokenizer.special.eos], source: "tokenizer" };
    } else {
      out.notes.push("No EOS id anywhere: samples always run to the token limit.");
    }
    if (
      g !== undefined && tokenizer.special.eos !== undefined && g.eosTokenIds.length > 0 &&
      !g.eosTokenIds.includes(tokenizer.special.eos)
    ) {
      out.notes.push(
        `The tokenizer's EOS (${tokenizer.special.eos}) is not in the model's EOS list [${g.eosTokenIds}]: ` +
          "generation stops on the model's list only, as Hugging Face's generate does.",
      );
    }
  }
  return out;
}

const fmtBytes = (n: number): string =>
  n >= 1 << 30
    ? `${(n / (1 << 30)).toFixed(2)} GiB`
    : n >= 1 << 20
    ? `${(n / (1 << 20)).toFixed(1)} MiB`
    : `${(n / 1024).toFixed(1)} KiB`;

const fmtCount = (n: number): string =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${n}`;

/** The inspection as lines for people. */
export function describeInspection(i: ModelInspection): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(18)} ${v}`);
  row("model", i.folder ?? i.source);
  if (i.preset) row("preset", i.preset);
  if (i.modelType) {
    row(
      "architecture",
      `${i.architecture ?? "?"} (model_type ${i.modelType}; ${i.supported ? "supported" : "NOT supported"})`,
    );
  }
  if (i.parameters !== undefined) row("parameters", fmtCount(i.parameters));
  if (i.layers !== undefined) {
    const gqa = i.kvHeads !== undefined && i.heads !== undefined && i.kvHeads < i.heads
      ? ` (grouped-query: ${i.heads / i.kvHeads} query heads per KV head)`
      : "";
    row(
      "layout",
      `${i.layers} layers, hidden ${i.hiddenSize}, ${i.heads} heads, ${i.kvHeads} KV heads, head size ` +
        `${i.headDim}${gqa}`,
    );
  }
  if (i.vocabSize !== undefined) {
    row(
      "vocabulary",
      `${i.vocabSize} logits${
        i.tiedEmbeddings === undefined ? "" : i.tiedEmbeddings ? ", tied embeddings" : ", untied embeddings"
      }`,
    );
  }
  if (i.maxPositions !== undefined) row("positions", `${i.maxPositions}`);
  if (i.ropeScaling) row("rope scaling", JSON.stringify(i.ropeScaling));
  for (const f of i.dtypeFiles) {
    const ext = f.externalData.length > 0
      ? ` + external data ${f.externalData.map((e) => `${e.file} (${fmtBytes(e.bytes)})`).join(", ")}`
      : "";
    const types = f.elementsByType ? ` [${Object.keys(f.elementsByType).join(", ")}]` : "";
    row(`dtype ${f.dtype}`, `${f.file} (${fmtBytes(f.bytes)})${ext}${types}`);
  }
  if (i.tokenizer) {
    const t = i.tokenizer;
    const ids = [["BOS", t.bos], ["EOS", t.eos], ["UNK", t.unk], ["PAD", t.pad]]
      .filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(", ");
    row(
      "tokenizer",
      `${t.className}, ${t.vocabSize} entries, ${t.addsBos ? "adds BOS to each text" : "adds no BOS"}${
        ids ? `; ${ids}` : ""
      }`,
    );
  }
  row(
    "chat template",
    i.chatTemplate
      ? `yes (${i.chatTemplate.chars} characters${
        i.chatTemplate.variables.length > 0 ? `; variables: ${i.chatTemplate.variables.join(", ")}` : ""
      }) — --template model`
      : "none",
  );
  if (i.generation) {
    const g = i.generation;
    const defaults = [
      ["temperature", g.temperature],
      ["top_p", g.topP],
      ["top_k", g.topK],
      ["do_sample", g.doSample],
    ].filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(", ");
    row("BOS (config)", g.bosTokenId === undefined ? "none" : `${g.bosTokenId}`);
    row(
      "generation",
      `${g.hasGenerationConfig ? "generation_config.json" : "no generation_config.json"}${
        defaults ? `: ${defaults} (recorded, not used by sweeps)` : ""
      }`,
    );
  }
  if (i.stopTokens) row("stops on", `[${i.stopTokens.ids.join(", ")}] (from ${i.stopTokens.source})`);
  if (i.scoringPrefix) {
    row(
      "scoring prefix",
      `${i.scoringPrefix.id}${
        i.scoringPrefix.token ? ` ${JSON.stringify(i.scoringPrefix.token)}` : ""
      } (${i.scoringPrefix.rule})`,
    );
  }
  for (const n of i.notes) lines.push(`note: ${n}`);
  if (i.problems.length === 0) lines.push("ready: no problems found");
  for (const p of i.problems) lines.push(`problem: ${p}`);
  return lines.join("\n");
}
