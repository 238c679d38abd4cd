/**
 * The models of the paper (O'Mahony et al. 2024) as a typed registry: Hugging Face hub id and revision,
 * family, size, fine-tuning stage, the prompt template the paper used with it, the logits width, and, where
 * a public transformers.js export is known to exist, its id. Ids come from ../shared/docs/SEED.md §2 (the
 * original's preset configs and completion script); nothing here is guessed.
 *
 * A preset name can be given to `loadCausalLM`, which looks for `data/models/<preset name>/` first (see
 * docs/MODELS.md for how to make that folder).
 * @module
 */

/** Model families of the paper. */
export type ModelFamily = "pythia" | "llama-2";

/** Parameter counts as the model names give them. */
export type ModelSize = "70m" | "160m" | "410m" | "1b" | "1.4b" | "2.8b" | "6.9b" | "7b";

/** Training stage: pretrained, supervised fine-tuning, a preference method, or Meta's chat model. */
export type ModelStage = "base" | "sft" | "dpo" | "ppo" | "kto" | "slic" | "chat";

/** Prompt templates, named as in ../shared/paper/protocol.json `templates`. */
export type PromptTemplateName = "plm" | "hh" | "llama2_chat" | "tulu";

/** One model of the paper. */
export interface ModelPreset {
  /** Registry name, also the folder name under `data/models/` (e.g. `pythia-2.8b-dpo`). */
  readonly name: string;
  /** Model family. */
  readonly family: ModelFamily;
  /** Size the paper labels it with (for `paperConfigBug` presets, not the real size). */
  readonly size: ModelSize;
  /** Training stage. */
  readonly stage: ModelStage;
  /** Hugging Face hub id of the PyTorch checkpoint. */
  readonly hubId: string;
  /** Hub revision (branch, tag or commit); `main` unless the paper picked a checkpoint. */
  readonly revision: string;
  /** Prompt template for completions (protocol.json names). */
  readonly template: PromptTemplateName;
  /** Logits width (embedding rows): 50304 for Pythia ≤ 2.8B, 50432 for 6.9B, 32000 for Llama-2. */
  readonly vocabSize?: number;
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
      paperConfigBug: bug,
      perplexityStem: perplexityStem("6.9b", "sft"),
      note:
        "preset_configs/pythia69b-sft.json (byte-identical to old_pythia28b-sft.json); no 6.9B SFT id is " +
        "known from the original",
    }),
    pythia("6.9b", "dpo", "lomahony/eleuther-pythia2.8b-hh-dpo", {
      vocabSize: PYTHIA_SMALL_VOCAB,
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
  // 2.8B epoch sweeps: revision r = the checkpoint after epoch r (SEED.md §2.1); "main" is the hub default.
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
  out.push(
    llama("llama2", "base", "meta-llama/Llama-2-7b-hf", { perplexityStem: "llama-7b" }),
    llama("llama2-chat", "chat", "meta-llama/Llama-2-7b-chat-hf", { perplexityStem: "llama-7b-chat" }),
    llama("llama2-sft", "sft", "ContextualAI/archangel_sft_llama7b", { perplexityStem: "llama-7b-sft" }),
    llama("llama2-dpo", "dpo", "ContextualAI/archangel_sft-dpo_llama7b", { perplexityStem: "llama-7b-dpo" }),
    llama("llama2-ppo", "ppo", "ContextualAI/archangel_sft-ppo_llama7b", { perplexityStem: "llama-7b-ppo" }),
    llama("llama2-kto", "kto", "ContextualAI/archangel_sft-kto_llama7b"),
    llama("llama2-slic", "slic", "ContextualAI/archangel_sft-slic_llama7b"),
  );
  return out;
}

const PRESETS: readonly ModelPreset[] = Object.freeze(buildPresets().map((p) => Object.freeze(p)));
const BY_NAME: ReadonlyMap<string, ModelPreset> = new Map(PRESETS.map((p) => [p.name, p]));
// A registry bug, caught at import.
if (BY_NAME.size !== PRESETS.length) throw new Error("duplicate preset names");

/** Every preset, in registry order (Pythia by size, then 6.9B, the 2.8B epoch sweeps, Llama-2). */
export function listPresets(): readonly ModelPreset[] {
  return PRESETS;
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
