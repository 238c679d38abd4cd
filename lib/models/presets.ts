/**
 * A typed registry of models: the paper's (O'Mahony et al. 2024: Pythia and the Llama-2 7B family) and current
 * base / instruct pairs (Llama 3.1 and 3.2, Qwen3). Each preset has its Hugging Face hub id and revision,
 * family, size, fine-tuning stage, the prompt template to use with it, the logits width, its base model, and,
 * where a public transformers.js export is known to exist, its id. The paper's ids come from the original
 * code's preset configs and completion script (lauraaisling/analyse-llms); nothing here is guessed, and a number
 * that is not certain is left undefined.
 *
 * A preset name can be given to `loadCausalLM`, which looks for `data/models/<preset name>/` first (see
 * docs/MODELS.md for how to make that folder).
 * @module
 */

/** Model families: the paper's two, and current ones. `llama-3.1` covers the Llama 3.1 and 3.2 text models. */
export type ModelFamily = "pythia" | "llama-2" | "llama-3.1" | "qwen3";

/** Parameter counts as the model names give them. */
export type ModelSize =
  | "70m"
  | "160m"
  | "410m"
  | "0.6b"
  | "1b"
  | "1.4b"
  | "1.7b"
  | "2.8b"
  | "6.9b"
  | "7b"
  | "8b"
  | "13b";

/**
 * Training stage: pretrained, supervised fine-tuning, a preference method, Meta's Llama-2 chat model, or a
 * current vendor's post-trained ("instruct") release.
 */
export type ModelStage = "base" | "sft" | "dpo" | "ppo" | "kto" | "slic" | "chat" | "instruct";

/** Prompt templates, named as in data/prompts/templates.json (the original's names). */
export type PromptTemplateName = "plm" | "hh" | "llama2_chat" | "tulu";

/**
 * A preset's prompt template: one of the paper's named templates, or `"model"`: the model's own chat template
 * (`chat_template` in its tokenizer_config.json).
 */
export type PresetTemplate = PromptTemplateName | "model";

/** Every model family, in registry order. */
export const MODEL_FAMILIES: readonly ModelFamily[] = ["pythia", "llama-2", "llama-3.1", "qwen3"];

/** Every training stage. */
export const MODEL_STAGES: readonly ModelStage[] = [
  "base",
  "sft",
  "dpo",
  "ppo",
  "kto",
  "slic",
  "chat",
  "instruct",
];

/**
 * Sampling defaults a checkpoint ships in its generation_config.json, for documentation and `inspect-model`
 * only: the loader reads the real file of the folder it loads, never these.
 */
export interface PresetGenerationDefaults {
  /** `temperature`. */
  readonly temperature?: number;
  /** `top_p`. */
  readonly topP?: number;
  /** `top_k`. */
  readonly topK?: number;
  /** `eos_token_id` (all of them, in the file's order). */
  readonly eosTokenIds?: readonly number[];
  /** Where the values were read, or a caveat. */
  readonly note?: string;
}

/** One model. */
export interface ModelPreset {
  /** Registry name, also the folder name under `data/models/` (e.g. `pythia-2.8b-dpo`). */
  readonly name: string;
  /** Model family. */
  readonly family: ModelFamily;
  /** Size the model's name gives (for `paperConfigBug` presets, the paper's label, not the real size). */
  readonly size: ModelSize;
  /** Training stage. */
  readonly stage: ModelStage;
  /** Hugging Face hub id of the PyTorch checkpoint. */
  readonly hubId: string;
  /** Hub revision (branch, tag or commit); `main` unless the paper picked a checkpoint. */
  readonly revision: string;
  /**
   * Prompt template for completions: a protocol.json name (the paper's models, and base models), or `"model"`
   * for the folder's own chat template (every `instruct` preset).
   */
  readonly template: PresetTemplate;
  /**
   * Logits width (config `vocab_size`, the embedding rows): 50304 for Pythia ≤ 2.8B, 50432 for 6.9B, 32000 for
   * Llama-2, 128256 for Llama 3.1 / 3.2, 151936 for Qwen3. Undefined where not known for certain.
   */
  readonly vocabSize?: number;
  /** The preset of the pretrained model this one was fine-tuned from; undefined for base models. */
  readonly base?: string;
  /** What the checkpoint's generation_config.json sets (informational), where known for certain. */
  readonly generationDefaults?: PresetGenerationDefaults;
  /** A public transformers.js export of the same weights, if one is known to exist; else undefined. */
  readonly onnxExportId?: string;
  /** Set where the paper's configuration did not load what its label says. */
  readonly paperConfigBug?: string;
  /** The name the original code used (completion script `--model`), where it had one. */
  readonly paperModelName?: string;
  /** Stem of the paper's perplexity result file (`results/perplexity/<stem>-perplexity.json`), if any. */
  readonly perplexityStem?: string;
  /** Anything else worth knowing. */
  readonly note?: string;
}

const PYTHIA_SIZES: readonly ModelSize[] = ["70m", "160m", "410m", "1b", "1.4b", "2.8b"];
const PYTHIA_SMALL_VOCAB = 50304;
const PYTHIA_69B_VOCAB = 50432;
const LLAMA_VOCAB = 32000;
/** config.json `vocab_size` of Llama 3.1 and 3.2 (128,000 BPE tokens and 256 special tokens). */
const LLAMA3_VOCAB = 128256;
/** config.json `vocab_size` of Qwen3 0.6B and 1.7B (the tokenizer's 151,669 ids, padded). */
const QWEN3_VOCAB = 151936;

/** Exports in the transformers.js layout seen on the hub (Xenova's copies of the EleutherAI base models). */
const KNOWN_ONNX_EXPORTS: Readonly<Record<string, string>> = {
  "EleutherAI/pythia-70m": "Xenova/pythia-70m",
  "EleutherAI/pythia-160m": "Xenova/pythia-160m",
  "EleutherAI/pythia-410m": "Xenova/pythia-410m",
};

/** The paper's perplexity file stem; its size spelling varies (`pythia14b`, `pythia2.8b`, `pythia28b`). */
function perplexityStem(size: ModelSize, stage: ModelStage): string | undefined {
  const compact: Partial<Record<ModelSize, string>> = {
    "70m": "70m",
    "160m": "160m",
    "410m": "410m",
    "1b": "1b",
    "1.4b": "14b",
    "2.8b": stage === "dpo" ? "28b" : "2.8b",
    "6.9b": "69b",
  };
  const size_ = compact[size];
  return size_ === undefined ? undefined : `pythia${size_}-${stage}`;
}

function pythia(
  size: ModelSize,
  stage: ModelStage,
  hubId: string,
  extra: Partial<ModelPreset> = {},
): ModelPreset {
  const name = extra.name ?? (stage === "base" ? `pythia-${size}` : `pythia-${size}-${stage}`);
  const onnxExportId = KNOWN_ONNX_EXPORTS[hubId];
  return {
    name,
    family: "pythia",
    size,
    stage,
    hubId,
    revision: "main",
    template: stage === "base" ? "plm" : "hh",
    vocabSize: size === "6.9b" ? PYTHIA_69B_VOCAB : PYTHIA_SMALL_VOCAB,
    ...(stage === "base" ? {} : { base: `pythia-${size}` }),
    ...(onnxExportId ? { onnxExportId } : {}),
    ...extra,
  };
}

function llama(
  name: string,
  stage: ModelStage,
  hubId: string,
  extra: Partial<ModelPreset> = {},
): ModelPreset {
  return {
    name,
    family: "llama-2",
    size: "7b",
    stage,
    hubId,
    revision: "main",
    template: stage === "base" ? "plm" : stage === "chat" ? "llama2_chat" : "tulu",
    vocabSize: LLAMA_VOCAB,
    paperModelName: name,
    ...extra,
  };
}

/** Llama-2 chat: generation_config.json on `main` (earlier revisions of the file set other values). */
const LLAMA2_CHAT_DEFAULTS: PresetGenerationDefaults = {
  temperature: 0.6,
  topP: 0.9,
  eosTokenIds: [2],
  note: "generation_config.json on main; earlier revisions of the file set other values (the paper's " +
    "protocol notes top_p 0.9 or 0.6 depending on revision)",
};

/** A model outside the paper: base models get the `plm` template, instruct models their own (`model`). */
function current(
  name: string,
  family: ModelFamily,
  size: ModelSize,
  stage: ModelStage,
  hubId: string,
  vocabSize: number | undefined,
  extra: Partial<ModelPreset> = {},
): ModelPreset {
  return {
    name,
    family,
    size,
    stage,
    hubId,
    revision: "main",
    template: stage === "base" ? "plm" : "model",
    ...(vocabSize !== undefined ? { vocabSize } : {}),
    ...extra,
  };
}

function buildPresets(): ModelPreset[] {
  const out: ModelPreset[] = [];
  for (const size of PYTHIA_SIZES) {
    const paperName = (stage: string) => size === "2.8b" ? { paperModelName: `pythia-2.8b${stage}` } : {};
    out.push(
      pythia(size, "base", `EleutherAI/pythia-${size}`, {
        perplexityStem: perplexityStem(size, "base"),
        ...paperName(""),
      }),
      pythia(size, "sft", `lomahony/pythia-${size}-helpful-sft`, {
        perplexityStem: perplexityStem(size, "sft"),
        ...paperName("-sft"),
      }),
      pythia(size, "dpo", `lomahony/pythia-${size}-helpful-dpo`, {
        perplexityStem: perplexityStem(size, "dpo"),
        ...paperName("-dpo"),
      }),
      pythia(size, "sft", `lomahony/pythia-${size}-helpful-sft-epoch2`, {
        name: `pythia-${size}-sft-epoch2`,
        note: "SFT after a second epoch; only in the original's junk/ configs and results",
      }),
    );
  }
  // 6.9B: the original's sft/dpo configs loaded 2.8B models; the paper's 6.9b SFT/DPO numbers come from them.
  const bug = "these are 2.8B models";
  out.push(
    pythia("6.9b", "base", "EleutherAI/pythia-6.9b", { perplexityStem: perplexityStem("6.9b", "base") }),
    pythia("6.9b", "sft", "lomahony/eleuther-pythia2.8b-hh-sft", {
      vocabSize: PYTHIA_SMALL_VOCAB,
      base: "pythia-2.8b",
      paperConfigBug: bug,
      perplexityStem: perplexityStem("6.9b", "sft"),
      note:
        "preset_configs/pythia69b-sft.json (byte-identical to old_pythia28b-sft.json); no 6.9B SFT id is " +
        "known from the original",
    }),
    pythia("6.9b", "dpo", "lomahony/eleuther-pythia2.8b-hh-dpo", {
      vocabSize: PYTHIA_SMALL_VOCAB,
      base: "pythia-2.8b",
      paperConfigBug: bug,
      perplexityStem: perplexityStem("6.9b", "dpo"),
      note: "preset_configs/pythia69b-dpo.json; no 6.9B DPO id is known from the original",
    }),
    pythia("6.9b", "ppo", "usvsnsp/pythia-6.9b-ppo", { perplexityStem: perplexityStem("6.9b", "ppo") }),
    pythia("2.8b", "sft", "lomahony/eleuther-pythia2.8b-hh-sft", {
      name: "pythia-2.8b-sft-old",
      note: "old_pythia28b-sft.json: the earlier 2.8B HH SFT model, the one the 6.9b sft config loads",
    }),
    pythia("2.8b", "dpo", "lomahony/eleuther-pythia2.8b-hh-dpo", {
      name: "pythia-2.8b-dpo-old",
      note: "the earlier 2.8B HH DPO model, the one the 6.9b dpo config loads",
    }),
  );
  // 2.8B epoch sweeps: revision r = the checkpoint after epoch r (the original's epoch configs); "main" is the hub default.
  for (const revision of ["main", "1", "2", "3"]) {
    const suffix = revision === "main" ? "" : `_${revision}`;
    out.push(pythia("2.8b", "sft", "lomahony/pythia-2.8b-helpful-sft-3epochs", {
      name: `pythia-2.8b-sft3${suffix}`,
      revision,
      paperModelName: "pythia-2.8b-sft3",
      note: "SFT for 3 epochs",
    }));
    for (const k of [0, 1, 2, 3]) {
      out.push(pythia("2.8b", "dpo", `lomahony/pythia-2.8b-helpful-sfted${k}-dpo-3epochs`, {
        name: `pythia-2.8b-sfted${k}-dpo3${suffix}`,
        revision,
        paperModelName: `pythia-2.8b-sfted${k}-dpo3`,
        note:
          `DPO for 3 epochs starting from the SFT checkpoint after ${k} SFT epochs (k = 0: presumably the ` +
          "base model; the naming is inferred, not stated in the original)",
      }));
    }
  }
  // The Archangel suite (ContextualAI, HALOs) also has 13B and 30B sizes; 30B exists only for the first LLaMA,
  // so its "llama7b" is probably LLaMA-1 7B, not Llama-2-7b-hf. Both have 32,000 tokens. No base is claimed.
  const archangel =
    "Archangel suite (HALOs); the paper groups it with Llama-2, but its llama7b is probably " +
    "LLaMA-1 7B (the suite also has a 30B size, which Llama-2 lacks): check the model card";
  out.push(
    llama("llama2", "base", "meta-llama/Llama-2-7b-hf", { perplexityStem: "llama-7b" }),
    llama("llama2-chat", "chat", "meta-llama/Llama-2-7b-chat-hf", {
      perplexityStem: "llama-7b-chat",
      base: "llama2",
      generationDefaults: LLAMA2_CHAT_DEFAULTS,
    }),
    llama("llama2-sft", "sft", "ContextualAI/archangel_sft_llama7b", {
      perplexityStem: "llama-7b-sft",
      note: archangel,
    }),
    llama("llama2-dpo", "dpo", "ContextualAI/archangel_sft-dpo_llama7b", {
      perplexityStem: "llama-7b-dpo",
      note: archangel,
    }),
    llama("llama2-ppo", "ppo", "ContextualAI/archangel_sft-ppo_llama7b", {
      perplexityStem: "llama-7b-ppo",
      note: archangel,
    }),
    llama("llama2-kto", "kto", "ContextualAI/archangel_sft-kto_llama7b", { note: archangel }),
    llama("llama2-slic", "slic", "ContextualAI/archangel_sft-slic_llama7b", { note: archangel }),
  );
  // Not in the paper: the 13B Llama-2 pair, with the paper's templates for its family.
  out.push(
    current("llama2-13b", "llama-2", "13b", "base", "meta-llama/Llama-2-13b-hf", LLAMA_VOCAB),
    current("llama2-13b-chat", "llama-2", "13b", "chat", "meta-llama/Llama-2-13b-chat-hf", LLAMA_VOCAB, {
      template: "llama2_chat",
      base: "llama2-13b",
      generationDefaults: LLAMA2_CHAT_DEFAULTS,
    }),
  );
  // Current base / instruct pairs; instruct models use their own chat template.
  const llama3Instruct: PresetGenerationDefaults = {
    temperature: 0.6,
    topP: 0.9,
    eosTokenIds: [128001, 128008, 128009],
    note:
      "generation_config.json: do_sample true; 128001 <|end_of_text|>, 128008 <|eom_id|>, 128009 <|eot_id|>",
  };
  const qwen3Instruct: PresetGenerationDefaults = {
    temperature: 0.6,
    topK: 20,
    topP: 0.95,
    eosTokenIds: [151645, 151643],
    note: "generation_config.json: do_sample true (the thinking-mode settings); 151645 <|im_end|>, " +
      "151643 <|endoftext|>",
  };
  for (const [size, version] of [["8b", "3.1"], ["1b", "3.2"]] as const) {
    const base = `llama${version}-${size}`;
    const hub = `meta-llama/Llama-${version}-${size.toUpperCase()}`;
    out.push(
      current(base, "llama-3.1", size, "base", hub, LLAMA3_VOCAB),
      current(`${base}-instruct`, "llama-3.1", size, "instruct", `${hub}-Instruct`, LLAMA3_VOCAB, {
        base,
        generationDefaults: llama3Instruct,
      }),
    );
  }
  for (const size of ["0.6b", "1.7b"] as const) {
    const hub = `Qwen/Qwen3-${size.toUpperCase()}`;
    out.push(
      current(`qwen3-${size}-base`, "qwen3", size, "base", `${hub}-Base`, QWEN3_VOCAB),
      current(`qwen3-${size}`, "qwen3", size, "instruct", hub, QWEN3_VOCAB, {
        base: `qwen3-${size}-base`,
        generationDefaults: qwen3Instruct,
        note: "hybrid thinking model: its chat template takes enable_thinking (--template-var " +
          "enable_thinking=false for direct answers)",
      }),
    );
  }
  return out;
}

const PRESETS: readonly ModelPreset[] = Object.freeze(buildPresets().map((p) => Object.freeze(p)));
const BY_NAME: ReadonlyMap<string, ModelPreset> = new Map(PRESETS.map((p) => [p.name, p]));
// A registry bug, caught at import.
if (BY_NAME.size !== PRESETS.length) throw new Error("duplicate preset names");
for (const p of PRESETS) {
  if (p.base !== undefined && BY_NAME.get(p.base)?.stage !== "base") {
    throw new Error(`preset ${p.name}: base ${p.base} is not a base preset`);
  }
}

/**
 * Every preset, in registry order: the paper's (Pythia by size, then 6.9B, the 2.8B epoch sweeps, Llama-2 7B),
 * then Llama-2 13B, Llama 3.1 / 3.2 and Qwen3 pairs (base first).
 */
export function listPresets(): readonly ModelPreset[] {
  return PRESETS;
}

/** The presets of a family, in registry order. */
export function presetsOfFamily(family: ModelFamily): readonly ModelPreset[] {
  return PRESETS.filter((p) => p.family === family);
}

/** The preset of that name, or undefined. */
export function findPreset(name: string): ModelPreset | undefined {
  return BY_NAME.get(name);
}

/** The preset of that name; throws an error listing every known name when there is none. */
export function presetById(name: string): ModelPreset {
  const preset = BY_NAME.get(name);
  if (preset === undefined) {
    throw new Error(`unknown model preset "${name}"; known presets: ${[...BY_NAME.keys()].join(", ")}`);
  }
  return preset;
}
