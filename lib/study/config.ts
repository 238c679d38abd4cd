/**
 * A study: which models to compare, on which corpus and prompts, with which sizes — the one parameter object
 * the main job (`deno task reproduce`), the notebooks and the CLI share. `study/1` JSON files are validated on
 * read; {@link embeddedStudy} is the offline default that runs on any fresh machine.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { JsonFormatError, readJsonObjectSync } from "../io/json_file.ts";
import { PROJECT_ROOT } from "../shared_dir.ts";
import { MOBY_DICK_CORPUS } from "../data/public_corpus.ts";
import { type ChatTemplateVariables, checkTemplateVariables } from "../models/chat_template.ts";

/** The format tag of study files. */
export const STUDY_FORMAT = "study/1";

/** What a model is in the comparison. */
export type ModelRole = "base" | "sft" | "dpo" | "ppo" | "chat" | "kto" | "slic" | "collapsed";

/** One model of a study. */
export interface StudyModel {
  /** Short unique name used in file names and figures (e.g. `tiny-base`, `pythia-2.8b-dpo`). */
  name: string;
  /** Its role (colours and line styles follow it). */
  role: ModelRole;
  /** A model folder, preset name or hub id (what `loadCausalLM` takes). */
  source: string;
  /** Name of the study model it was fine-tuned from: scored against it (KL, JS, argmax changes). */
  base?: string;
  /**
   * Prompt template for the packs: a named template (`plm`, `hh`, …) or `"model"` for the model's own chat
   * template (default: the preset's, else `plm`).
   */
  template?: string;
  /** Variables of the model's chat template (e.g. `{"enable_thinking": false}`); only with `"model"`. */
  templateVars?: ChatTemplateVariables;
}

/** A study. */
export interface StudyConfig {
  /** Always {@link STUDY_FORMAT}. */
  format: typeof STUDY_FORMAT;
  /** Name shown in the report. */
  name: string;
  /** One paragraph on what it shows. */
  description: string;
  /** Where results go (figures, scores, completions, notebooks, report). */
  resultsDir: string;
  /** The models. */
  models: StudyModel[];
  /** Next-token statistics on a corpus. */
  corpus: {
    /** Pile-format `.jsonl` or `.jsonl.zst`. */
    path: string;
    /** Documents to score (null = all). */
    maxDocs: number | null;
    /** Rolling window length. */
    maxSeqLen: number;
    /** Context tokens re-read by each following window. */
    contextLen: number;
  };
  /** Completion sweeps. */
  sweep: {
    /** Prompt packs (names in data/prompts or files). */
    packs: string[];
    /** Only the first N prompts of each pack (null = all). */
    promptsPerPack: number | null;
    /** Temperatures. */
    temperatures: number[];
    /** Samples per (temperature, prompt) cell. */
    samples: number;
    /** Token limit for every pack (null = each pack's own: 70 / 25 / 70). */
    maxNewTokens: number | null;
    /** Top-k (0 = off; 50 as the paper). */
    topK: number;
    /** Top-p (1 = off). */
    topP: number;
    /** Run seed. */
    seed: number;
  };
  /** Output-diversity metrics of the sweeps. */
  diversity: {
    /** Word limits (the paper: 5 and 20; "all" = none). */
    words: (number | "all")[];
    /** `all`, `paper`, `deterministic`, `extras` or a comma list of keys. */
    metrics: string;
    /** Sentence embedder for the cosine metrics. */
    embedder: string;
  };
  /** The qualitative look: top-k next-token distributions and coloured generations. */
  qualitative: {
    /** Prompts, used as they are. */
    prompts: string[];
    /** Tokens shown per model. */
    topK: number;
  };
  /** The paper's result files (../shared/paper or a download), to redraw its figures; null = none. */
  paperDir: string | null;
}

/** The embedded tiny model family: Pythia architecture, a base and a deliberately collapsed variant of it. */
export const EMBEDDED_MODELS_DIR: string = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");

/** Sizes of the embedded study: `default` for `deno task reproduce`, `ci` for the tests (seconds, not minutes). */
export type StudySize = "default" | "ci";

/**
 * The offline default: the tiny Pythia-architecture family (base, and `collapsed` = the same weights with the
 * output logits doubled, a few token priors raised and three embedding rows replaced — an injected, known
 * collapse the instruments must detect) on Moby-Dick chapters and the paper's three prompt packs.
 */
export function embeddedStudy(
  size: StudySize = "default",
  resultsDir = join(PROJECT_ROOT, "results"),
): StudyConfig {
  const ci = size === "ci";
  return {
    format: STUDY_FORMAT,
    name: ci ? "embedded default (CI size)" : "embedded default",
    description:
      "A tiny model of the Pythia architecture and a deliberately sharpened ('collapsed') copy of it: " +
      "output logits ×2, five token priors raised, three rows replaced. Fine-tuning-like collapse is injected " +
      "on purpose, so every instrument has a known answer: lower entropy and higher confidence on the corpus, " +
      "KL from the base, and less diverse completions at every temperature.",
    resultsDir,
    models: [
      { name: "tiny-base", role: "base", source: join(EMBEDDED_MODELS_DIR, "base"), template: "plm" },
      {
        name: "tiny-collapsed",
        role: "collapsed",
        source: join(EMBEDDED_MODELS_DIR, "tuned"),
        base: "tiny-base",
        template: "plm",
      },
    ],
    corpus: { path: MOBY_DICK_CORPUS, maxDocs: ci ? 2 : 8, maxSeqLen: ci ? 256 : 1024, contextLen: 1 },
    sweep: {
      packs: ["creative", "factual", "seen"],
      promptsPerPack: ci ? 4 : null,
      temperatures: ci ? [0.5, 1.0, 1.5] : [0.3, 0.7, 1.1, 1.5],
      samples: ci ? 4 : 8,
      maxNewTokens: ci ? 12 : null,
      topK: 50,
      topP: 1,
      seed: 0,
    },
    diversity: { words: ci ? [20] : [5, 20], metrics: "deterministic", embedder: "glove-6b-100d-sif" },
    qualitative: {
      prompts: [
        "Tell me a random integer between 0 and 100. The number is",
        "I rolled a six-sided die and got a",
      ],
      topK: 12,
    },
    paperDir: null,
  };
}

/** The study's models with every base model before the models fine-tuned from it (else study order). */
export function baseFirstOrder(study: StudyConfig): StudyModel[] {
  const out: StudyModel[] = [];
  const placed = new Set<string>();
  const visit = (m: StudyModel, path: Set<string>) => {
    if (placed.has(m.name)) return;
    if (path.has(m.name)) throw new Error(`model "${m.name}" is its own base (via ${[...path].join(" → ")})`);
    path.add(m.name);
    const base = m.base === undefined ? undefined : study.models.find((x) => x.name === m.base);
    if (base) visit(base, path);
    placed.add(m.name);
    out.push(m);
  };
  for (const m of study.models) visit(m, new Set());
  return out;
}

function fail(path: string, at: string, what: string): never {
  throw new JsonFormatError(path, at, what);
}

/** Validates a parsed study; relative paths are resolved against `baseDir`. */
export function validateStudy(value: unknown, path: string, baseDir = "."): StudyConfig {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(path, "", "expected an object");
  }
  const s = value as Record<string, unknown>;
  if (s.format !== STUDY_FORMAT) {
    fail(path, "format", `expected "${STUDY_FORMAT}", got ${JSON.stringify(s.format)}`);
  }
  const base = embeddedStudy();
  const str = (v: unknown, at: string) =>
    typeof v === "string" && v !== "" ? v : fail(path, at, "expected a string");
  if (!Array.isArray(s.models) || s.models.length === 0) fail(path, "models", "expected a non-empty array");
  const names = new Set<string>();
  const templateVarsOf = (o: Record<string, unknown>, i: number): ChatTemplateVariables => {
    const at = `models[${i}].templateVars`;
    if (o.template !== "model") fail(path, at, 'template variables need "template": "model"');
    const v = o.templateVars;
    if (v === null || typeof v !== "object" || Array.isArray(v)) fail(path, at, "expected an object");
    try {
      return checkTemplateVariables(v as Record<string, unknown>, at);
    } catch (e) {
      return fail(path, at, (e as Error).message);
    }
  };
  const models = (s.models as unknown[]).map((m, i) => {
    const o = m as Record<string, unknown>;
    if (o === null || typeof o !== "object") fail(path, `models[${i}]`, "expected an object");
    const name = str(o.name, `models[${i}].name`);
    if (!/^[\w.-]+$/.test(name)) fail(path, `models[${i}].name`, "use letters, digits, '.', '_' or '-'");
    if (names.has(name)) fail(path, `models[${i}].name`, `duplicate name "${name}"`);
    names.add(name);
    const role = str(o.role, `models[${i}].role`) as ModelRole;
    const src = str(o.source, `models[${i}].source`);
    const isPath = src.startsWith(".") || src.startsWith("/");
    return {
      name,
      role,
      source: isPath ? resolve(baseDir, src) : src,
      ...(o.base !== undefined ? { base: str(o.base, `models[${i}].base`) } : {}),
      ...(o.template !== undefined ? { template: str(o.template, `models[${i}].template`) } : {}),
      ...(o.templateVars !== undefined ? { templateVars: templateVarsOf(o, i) } : {}),
    };
  });
  models.forEach((m, i) => {
    if (m.base !== undefined && !names.has(m.base)) {
      fail(path, `models[${i}].base`, `"${m.base}" is not a model of this study`);
    }
  });
  const merged: StudyConfig = {
    ...base,
    ...s,
    models,
    corpus: { ...base.corpus, ...(s.corpus as object ?? {}) },
    sweep: { ...base.sweep, ...(s.sweep as object ?? {}) },
    diversity: { ...base.diversity, ...(s.diversity as object ?? {}) },
    qualitative: { ...base.qualitative, ...(s.qualitative as object ?? {}) },
  } as StudyConfig;
  merged.resultsDir = resolve(baseDir, String(merged.resultsDir));
  merged.corpus.path = resolve(baseDir, String(merged.corpus.path));
  if (merged.paperDir !== null) merged.paperDir = resolve(baseDir, String(merged.paperDir));
  if (!Array.isArray(merged.sweep.temperatures) || merged.sweep.temperatures.some((t) => !(t >= 0))) {
    fail(path, "sweep.temperatures", "expected temperatures ≥ 0");
  }
  for (const k of ["samples", "topK", "seed"] as const) {
    if (!Number.isSafeInteger(merged.sweep[k]) || merged.sweep[k] < 0) {
      fail(path, `sweep.${k}`, "expected an integer ≥ 0");
    }
  }
  return merged;
}

/** Reads and validates a `study/1` file (relative paths inside it are relative to the file). */
export function readStudy(path: string): StudyConfig {
  const abs = resolve(path);
  return validateStudy(readJsonObjectSync(abs), abs, dirname(abs));
}
