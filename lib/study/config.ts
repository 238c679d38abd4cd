/**
 * A study: which models to compare, on which corpus and prompts, with which sizes — the one parameter object
 * the main job (`deno task reproduce`), the notebooks and the CLI share. `study/1` JSON files are validated on
 * read; {@link embeddedStudy} is the offline default that runs on any fresh machine.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { existsSync, statSync } from "node:fs";
import { JsonFormatError, type JsonProblem } from "../io/json_file.ts";
import {
  arr,
  checkWith,
  formatJsonPath,
  int,
  isPlainObject,
  nonEmpty,
  num,
  numbers,
  oneOf,
  readJsonSync,
  record,
  str,
  strict,
  suggestion,
  tag,
  v,
  validateWith,
} from "../io/schema.ts";
import {
  PROMPTS_DIR,
  resolvePromptPackPath,
  validatePromptPack,
  validateTemplates,
} from "../data/prompts.ts";
import { PAPER_PACKS } from "../data/packs.ts";
import { resolveModelSource } from "../models/model_source.ts";
import { MODEL_ROLES, type ModelRole } from "../models/roles.ts";
import { METRIC_SELECTIONS, METRICS, selectMetrics } from "../metrics/registry.ts";
import { listEmbedders, MINILM_FOLDER, MINILM_MODEL_ID, MINILM_ONNX_ID } from "../embeddings/registry.ts";
import { PROJECT_ROOT } from "../project_root.ts";
import { MOBY_DICK_CORPUS } from "../data/public_corpus.ts";
import { type ChatTemplateVariables, checkTemplateVariables } from "../models/chat_template.ts";

/** The format tag of study files. */
export const STUDY_FORMAT = "study/1";

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
  /** The paper's result files (e.g. from `reproduce --fetch-paper`), to redraw its figures; null = none. */
  paperDir: string | null;
}

/** The embedded micro family (base, SFT, DPO): Pythia architecture, trained here by tools/micro_family/. */
export const EMBEDDED_MODELS_DIR: string = join(PROJECT_ROOT, "data", "micro-family");

/**
 * What the micro family's training made of it that a measurement needs: the simulated rater's favourite integers
 * (tools/micro_family/rater.py), the qualitative notebook's integer prompt, and the training split's token counts
 * (relative to the family's folder).
 */
export const MICRO_FAMILY = {
  favourites: [42, 7, 17, 77] as readonly number[],
  integerPrompt: "Tell me a random integer between 0 and 100. The number is",
  unigramCountsFile: "unigram_counts.json",
} as const;

/** Sizes of the embedded study: `default` for `deno task reproduce`, `ci` for the tests (seconds, not minutes). */
export type StudySize = "default" | "ci";

/**
 * The offline default: the micro family (a 7.35 M-parameter Pythia-architecture base pre-trained on public-domain
 * text, its SFT fine-tune in the HH format and a DPO tune of that on a simulated rater's preferences; see
 * data/micro-family/README.md) on held-out Moby-Dick chapters and the paper's three prompt packs.
 */
export function embeddedStudy(
  size: StudySize = "default",
  resultsDir = join(PROJECT_ROOT, "results"),
  familyDir = EMBEDDED_MODELS_DIR,
): StudyConfig {
  const ci = size === "ci";
  return {
    format: STUDY_FORMAT,
    name: ci ? "embedded default (CI size)" : "embedded default",
    description:
      "The micro family, a small analogue of the paper's models trained on a 2-core machine in 51 minutes: a " +
      "7.35 M-parameter Pythia-architecture base pre-trained on 1.84 M tokens of Moby-Dick and the State of the " +
      "Union addresses, its SFT fine-tune on 6,000 instructions in the HH format, and a DPO tune of the SFT model " +
      "on 1,998 pairs judged by a simulated rater with stated tastes (data/micro-family/README.md). Not the " +
      "paper's models: those run with --study. The corpus is held-out Moby-Dick chapters.",
    resultsDir,
    models: [
      { name: "micro-base", role: "base", source: join(familyDir, "base"), template: "plm" },
      {
        name: "micro-sft",
        role: "sft",
        source: join(familyDir, "sft"),
        base: "micro-base",
        template: "hh",
      },
      {
        name: "micro-dpo",
        role: "dpo",
        source: join(familyDir, "dpo"),
        base: "micro-base",
        template: "hh",
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
        MICRO_FAMILY.integerPrompt,
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

// ---------------------------------------------------------------------------------------------------------------
// The study/1 schema and the checks across the whole study
// ---------------------------------------------------------------------------------------------------------------

const templateVariable = v.custom<string | number | boolean | null>(
  (x) => x === null || ["string", "number", "boolean"].includes(typeof x),
  "expected a string, number, boolean or null",
);

const studyModelSchema = strict({
  name: v.pipe(nonEmpty(), v.regex(/^[\w.-]+$/, "use letters, digits, '.', '_' or '-'")),
  role: oneOf(MODEL_ROLES, "a role:"),
  source: nonEmpty(),
  base: v.optional(nonEmpty()),
  template: v.optional(nonEmpty()),
  templateVars: v.optional(record(templateVariable)),
});

/**
 * The `study/1` file schema: `format` and `models` are required; every other field is optional and takes the
 * embedded default's value (section by section, field by field).
 */
const STUDY_FILE_SCHEMA = strict({
  format: tag(STUDY_FORMAT),
  name: v.optional(nonEmpty()),
  description: v.optional(str()),
  resultsDir: v.optional(nonEmpty()),
  models: arr(studyModelSchema, 1, "expected a non-empty array"),
  corpus: v.optional(strict({
    path: v.optional(nonEmpty()),
    maxDocs: v.optional(v.nullable(int({ min: 1 }))),
    maxSeqLen: v.optional(int({ min: 1 })),
    contextLen: v.optional(int({ min: 1 })),
  })),
  sweep: v.optional(strict({
    packs: v.optional(arr(nonEmpty(), 1, "expected at least one pack")),
    promptsPerPack: v.optional(v.nullable(int({ min: 1 }))),
    temperatures: v.optional(numbers({
      min: 0,
      noun: "a temperature",
      minItems: 1,
      minItemsMessage: "expected at least one temperature",
    })),
    samples: v.optional(int({ min: 1 })),
    maxNewTokens: v.optional(v.nullable(int({ min: 1 }))),
    topK: v.optional(int({ min: 0 })),
    topP: v.optional(num({ min: 0, exclusiveMin: true, max: 1 })),
    seed: v.optional(int({ min: 0 })),
  })),
  diversity: v.optional(strict({
    words: v.optional(arr(
      v.union(
        [int({ min: 1 }), v.literal("all")],
        (i) => `expected a word limit (an integer ≥ 1) or "all", got ${JSON.stringify(i.input)}`,
      ),
      1,
      "expected at least one word limit",
    )),
    metrics: v.optional(nonEmpty()),
    embedder: v.optional(nonEmpty()),
  })),
  qualitative: v.optional(strict({
    prompts: v.optional(arr(str())),
    topK: v.optional(int({ min: 1 })),
  })),
  paperDir: v.optional(v.nullable(nonEmpty())),
});

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A relative path in a study file is relative to the file: `./x`, `../x` and absolute paths always are paths;
 * another relative name is one when it exists beside the study file (else it stays a name: a preset, a hub id, a
 * bundled pack, an embedder).
 */
function resolveIfPath(value: string, baseDir: string): string {
  if (
    value.startsWith("/") || value.startsWith("./") || value.startsWith("../") || value === "." ||
    value === ".."
  ) {
    return resolve(baseDir, value);
  }
  return existsSync(join(baseDir, value)) ? resolve(baseDir, value) : value;
}

/**
 * Why a model source cannot be loaded from disk (a study never downloads), or undefined when it can: a folder,
 * a preset whose folder is in data/models, or a hub id found there (the loader's own resolution and message).
 */
function sourceProblem(source: string): string | undefined {
  try {
    resolveModelSource(source); // remote loading off: a folder on disk, or an error saying where it looked
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The template names of the bundled template file (undefined when it cannot be read: reported elsewhere). */
function bundledTemplateNames(): string[] {
  const file = join(PROMPTS_DIR, "templates.json");
  return Object.keys(validateTemplates(readJsonSync(file), file).templates);
}

/** The embedders a study may name: the registry's names and the paper model's aliases (else a folder). */
const NAMED_EMBEDDERS = [
  ...listEmbedders().map((e) => e.name).filter((n) => !n.startsWith("<")),
  MINILM_MODEL_ID,
  MINILM_ONNX_ID,
  MINILM_FOLDER,
];

const isObj = isPlainObject;
const isStr = (x: unknown): x is string => typeof x === "string" && x !== "";
const isInt = (x: unknown): x is number => Number.isSafeInteger(x);

/**
 * Checks a study as a whole, on top of the schema: unique names, bases that are study models (no cycles),
 * templates that exist, template variables only with "model", sources that load from disk, packs that resolve
 * and are valid packs, a corpus that exists, contextLen < maxSeqLen, a metric selection that selects, a known
 * embedder, folders that exist. Works on whatever parts are well-formed, so every problem is found in one pass.
 */
function studyProblems(raw: Record<string, unknown>, baseDir: string, base: StudyConfig): JsonProblem[] {
  const out: JsonProblem[] = [];
  const report = (parts: (string | number)[], message: string) =>
    out.push({ jsonPath: formatJsonPath(parts), message });

  // models
  const models = Array.isArray(raw.models) ? raw.models : [];
  const names = new Map<string, number>();
  models.forEach((m, i) => {
    if (isObj(m) && isStr(m.name)) {
      const first = names.get(m.name);
      if (first !== undefined) {
        report(["models", i, "name"], `duplicate name "${m.name}" (also models[${first}])`);
      } else names.set(m.name, i);
    }
  });
  let templates: string[] | undefined;
  models.forEach((m, i) => {
    if (!isObj(m)) return;
    if (isStr(m.base)) {
      if (m.base === m.name) report(["models", i, "base"], `"${m.base}" is the model itself`);
      else if (!names.has(m.base)) {
        report(
          ["models", i, "base"],
          `"${m.base}" is not a model of this study${suggestion(m.base, names.keys())}`,
        );
      }
    }
    if (isStr(m.template) && m.template !== "model") {
      try {
        templates ??= bundledTemplateNames();
        if (!templates.includes(m.template)) {
          report(
            ["models", i, "template"],
            `no template "${m.template}" in data/prompts/templates.json (or "model" for the model's own chat ` +
              `template)${suggestion(m.template, [...templates, "model"])}`,
          );
        }
      } catch (e) {
        report(["models", i, "template"], (e as Error).message);
      }
    }
    if (m.templateVars !== undefined) {
      if (m.template !== "model") {
        report(["models", i, "templateVars"], 'template variables need "template": "model"');
      } else if (isObj(m.templateVars)) {
        try {
          checkTemplateVariables(m.templateVars, "templateVars");
        } catch (e) {
          report(["models", i, "templateVars"], (e as Error).message.replace(/^templateVars[.:]\s*/, ""));
        }
      }
    }
    if (isStr(m.source)) {
      const problem = sourceProblem(resolveIfPath(m.source, baseDir));
      if (problem !== undefined) report(["models", i, "source"], problem);
    }
  });
  // bases: no cycles (a → b → a)
  const baseOf = new Map<string, string>();
  for (const m of models) if (isObj(m) && isStr(m.name) && isStr(m.base)) baseOf.set(m.name, m.base);
  for (const [name, i] of names) {
    const seen = [name];
    for (let at = baseOf.get(name); at !== undefined && names.has(at); at = baseOf.get(at)) {
      if (at === name && seen.length > 1) {
        report(["models", i, "base"], `the bases form a cycle (${[...seen, name].join(" → ")})`);
        break;
      }
      if (seen.includes(at)) break;
      seen.push(at);
    }
  }

  // corpus
  const corpus = isObj(raw.corpus) ? raw.corpus : {};
  if (isStr(corpus.path)) {
    const path = resolve(baseDir, corpus.path);
    if (path !== MOBY_DICK_CORPUS && !existsSync(path)) report(["corpus", "path"], `${path} does not exist`);
  }
  const maxSeqLen = corpus.maxSeqLen ?? base.corpus.maxSeqLen,
    contextLen = corpus.contextLen ?? base.corpus.contextLen;
  if (isInt(maxSeqLen) && isInt(contextLen) && contextLen >= maxSeqLen) {
    report(
      ["corpus", "contextLen" in corpus ? "contextLen" : "maxSeqLen"],
      `contextLen (${contextLen}) must be less than maxSeqLen (${maxSeqLen}): each window must score a token`,
    );
  }

  // sweep packs
  const sweep = isObj(raw.sweep) ? raw.sweep : {};
  if (Array.isArray(sweep.packs)) {
    const packNames = new Map<string, number>();
    sweep.packs.forEach((pack, i) => {
      if (!isStr(pack)) return;
      const file = resolvePromptPackPath(resolveIfPath(pack, baseDir));
      if (!existsSync(file)) {
        const bundled = PAPER_PACKS as readonly string[];
        report(["sweep", "packs", i], `no prompt pack ${file}${suggestion(pack, bundled)}`);
        return;
      }
      try {
        const name = validatePromptPack(readJsonSync(file), file).name;
        const first = packNames.get(name);
        if (first !== undefined) {
          report(
            ["sweep", "packs", i],
            `its name "${name}" is also sweep.packs[${first}]'s: their results would collide`,
          );
        } else packNames.set(name, i);
      } catch (e) {
        report(["sweep", "packs", i], (e as Error).message.split("\n").join("; "));
      }
    });
  }

  // diversity
  const diversity = isObj(raw.diversity) ? raw.diversity : {};
  if (isStr(diversity.metrics)) {
    try {
      selectMetrics(diversity.metrics);
    } catch (e) {
      const unknown = /unknown metric key "([^"]*)"/.exec((e as Error).message)?.[1];
      const keys = [...Object.keys(METRIC_SELECTIONS), ...METRICS.map((d) => d.key)];
      report(
        ["diversity", "metrics"],
        unknown !== undefined
          ? `unknown metric "${unknown}"${
            suggestion(unknown, keys)
          } (use all, paper, deterministic, extras or keys)`
          : (e as Error).message,
      );
    }
  }
  if (isStr(diversity.embedder) && !NAMED_EMBEDDERS.includes(diversity.embedder)) {
    const folder = resolveIfPath(diversity.embedder, baseDir);
    if (!isDir(folder)) {
      report(
        ["diversity", "embedder"],
        `unknown embedder "${diversity.embedder}": not one of ${
          NAMED_EMBEDDERS.join(", ")
        } nor a model folder` +
          suggestion(diversity.embedder, NAMED_EMBEDDERS),
      );
    }
  }

  // folders
  if (isStr(raw.paperDir) && !isDir(resolve(baseDir, raw.paperDir))) {
    report(["paperDir"], `${resolve(baseDir, raw.paperDir)} is not a folder`);
  }
  if (isStr(raw.resultsDir)) {
    const dir = resolve(baseDir, raw.resultsDir);
    if (existsSync(dir) && !isDir(dir)) report(["resultsDir"], `${dir} exists and is not a folder`);
  }
  return out;
}

/**
 * Validates a parsed study WHOLE — its schema, then the study across fields and against the disk (see
 * {@link studyProblems}) — and throws one {@link JsonFormatError} listing every problem with its JSON path, so
 * nothing loads until the study is right. Relative paths (model sources that are paths, `corpus.path`,
 * `resultsDir`, `paperDir`, pack files, an embedder folder) are resolved against `baseDir`, the study file's
 * folder. Fields the file leaves out take the embedded default's values.
 */
export function validateStudy(value: unknown, path: string, baseDir = "."): StudyConfig {
  const base = embeddedStudy();
  if (isPlainObject(value) && value.format !== STUDY_FORMAT) {
    validateWith(STUDY_FILE_SCHEMA, value, path, { formats: [STUDY_FORMAT] });
  }
  const checked = checkWith(STUDY_FILE_SCHEMA, value);
  const problems = [
    ...(checked.ok ? [] : checked.problems),
    ...(isPlainObject(value) ? studyProblems(value, baseDir, base) : []),
  ];
  if (problems.length > 0 || !checked.ok) {
    throw new JsonFormatError(path, problems[0].jsonPath, problems[0].message, problems.slice(1));
  }
  const s = checked.value;
  const models: StudyModel[] = s.models.map((m) => ({
    name: m.name,
    role: m.role,
    source: resolveIfPath(m.source, baseDir),
    ...(m.base !== undefined ? { base: m.base } : {}),
    ...(m.template !== undefined ? { template: m.template } : {}),
    ...(m.templateVars !== undefined ? { templateVars: m.templateVars } : {}),
  }));
  const sweep = { ...base.sweep, ...s.sweep };
  sweep.packs = sweep.packs.map((p) => {
    const resolved = resolveIfPath(p, baseDir);
    return resolved === p ? p : resolvePromptPackPath(resolved);
  });
  const diversity = { ...base.diversity, ...s.diversity };
  if (!NAMED_EMBEDDERS.includes(diversity.embedder)) {
    diversity.embedder = resolveIfPath(diversity.embedder, baseDir);
  }
  const paperDir = s.paperDir === undefined ? base.paperDir : s.paperDir;
  return {
    format: STUDY_FORMAT,
    name: s.name ?? base.name,
    description: s.description ?? base.description,
    resultsDir: resolve(baseDir, s.resultsDir ?? base.resultsDir),
    models,
    corpus: { ...base.corpus, ...s.corpus, path: resolve(baseDir, s.corpus?.path ?? base.corpus.path) },
    sweep,
    diversity,
    qualitative: { ...base.qualitative, ...s.qualitative },
    paperDir: paperDir === null ? null : resolve(baseDir, paperDir),
  };
}

/** Reads and validates a `study/1` file (relative paths inside it are relative to the file). */
export function readStudy(path: string): StudyConfig {
  const abs = resolve(path);
  return validateStudy(readJsonSync(abs), abs, dirname(abs));
}
