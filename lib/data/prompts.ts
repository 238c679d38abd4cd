/**
 * Prompt packs and prompt templates for completion sweeps, stored as versioned JSON in `data/prompts/`.
 *
 * Prompt pack schema (`"format": "prompt-pack/1"`), for writing your own:
 * ```jsonc
 * {
 *   "format": "prompt-pack/1",       // required, exactly this
 *   "name": "my-pack",               // required, non-empty
 *   "description": "…",              // optional
 *   "provenance": { … },             // optional, free-form object (where the texts come from)
 *   "max_new_tokens": 70,            // optional, integer ≥ 1: token limit per sample for this pack
 *   "prompts": [                     // required, non-empty
 *     {
 *       "id": "q-00",                // required, non-empty, unique within the pack
 *       "text": "Who invented the telephone?", // required, non-empty; used as is
 *       "guide": " The",             // optional: start of the answer, appended by the template's {guide}
 *       "answers": ["Graham Bell"]   // optional, non-empty: a completion is correct when it contains any one of
 *                                    //   them, compared case-insensitively as a substring
 *     }
 *   ]
 * }
 * ```
 * Template file schema (`"format": "prompt-templates/1"`):
 * ```jsonc
 * {
 *   "format": "prompt-templates/1",
 *   "description": "…", "provenance": { … },   // optional
 *   "templates": {
 *     "<name>": {
 *       "text": "Human: {prompt} Assistant:{guide}", // required, must contain {prompt}; {guide} optional
 *       "used_for": ["pythia-2.8b-sft"],           // optional (may be []): models it is the default for
 *       "paper_exact": true,                       // optional: the paper's own template, quirks included
 *       "corrects": "<other name>",                // optional: this one fixes a quirk of that template
 *       "notes": ["…"]                             // optional: one line per quirk or decision
 *     }
 *   }
 * }
 * ```
 * Unknown keys are rejected everywhere (a typo must not silently drop a field). Errors name the file and JSON path.
 * @module
 */
import { JsonFormatError, type JsonProblem } from "../io/json_file.ts";
import {
  anyObject,
  arr,
  bool,
  int,
  type MakeError,
  nonEmpty,
  parseJsonText,
  record,
  str,
  strict,
  suggestion,
  tag,
  v,
  validateWith,
} from "../io/schema.ts";
import { join, resolve } from "node:path";
import { readFile } from "node:fs/promises";
import { PROJECT_ROOT } from "../project_root.ts";

/** Format tag of prompt packs. */
export const PROMPT_PACK_FORMAT = "prompt-pack/1";
/** Format tag of template files. */
export const PROMPT_TEMPLATES_FORMAT = "prompt-templates/1";
/** Folder of the bundled packs and templates. */
export const PROMPTS_DIR: string = join(PROJECT_ROOT, "data", "prompts");

/** One prompt of a pack. */
export interface PackPrompt {
  /** Unique within the pack. */
  id: string;
  /** Prompt text, used as is. */
  text: string;
  /** Start of the answer, put where the template says `{guide}`. */
  guide?: string;
  /** Accepted answers (case-insensitive substrings; any one suffices). */
  answers?: string[];
}

/** A validated prompt pack. */
export interface PromptPack {
  /** Always {@link PROMPT_PACK_FORMAT}. */
  format: typeof PROMPT_PACK_FORMAT;
  /** Pack name. */
  name: string;
  /** What the prompts are for. */
  description?: string;
  /** Where the texts come from. */
  provenance?: Record<string, unknown>;
  /** Token limit per sample for this pack. */
  max_new_tokens?: number;
  /** The prompts, in order. */
  prompts: PackPrompt[];
}

/** One prompt template. */
export interface PromptTemplate {
  /** Template text with `{prompt}` and optionally `{guide}`. */
  text: string;
  /** Model names this template is the default for. */
  used_for?: string[];
  /** True for the paper's own template (quirks included). */
  paper_exact?: boolean;
  /** Name of the template whose quirk this one corrects. */
  corrects?: string;
  /** One line per quirk or decision. */
  notes?: string[];
}

/** A validated template file. */
export interface PromptTemplates {
  /** Always {@link PROMPT_TEMPLATES_FORMAT}. */
  format: typeof PROMPT_TEMPLATES_FORMAT;
  /** What the file holds. */
  description?: string;
  /** Where the templates come from. */
  provenance?: Record<string, unknown>;
  /** Templates by name. */
  templates: Record<string, PromptTemplate>;
}

/** An invalid pack or template file; names the file and the JSON path of each problem. */
export class PromptDataError extends JsonFormatError {
  constructor(path: string, jsonPath: string, what: string, more: readonly JsonProblem[] = []) {
    super(path, jsonPath, what, more);
    this.name = "PromptDataError";
  }
}

const promptDataError: MakeError = (file, problems) =>
  new PromptDataError(file, problems[0].jsonPath, problems[0].message, problems.slice(1));

/** Non-empty strings, at least one (`allowEmpty`: `[]` too). */
const strings = (allowEmpty = false) => arr(nonEmpty(), allowEmpty ? 0 : 1, "expected a non-empty array");

/** The `prompt-pack/1` schema. */
const PROMPT_PACK_SCHEMA: v.GenericSchema<unknown, PromptPack> = strict(
  {
    format: tag(PROMPT_PACK_FORMAT),
    name: nonEmpty(),
    description: v.optional(str()),
    provenance: v.optional(anyObject()),
    max_new_tokens: v.optional(int({ min: 1 })),
    prompts: arr(
      strict({
        id: nonEmpty(),
        text: nonEmpty(),
        guide: v.optional(str()),
        answers: v.optional(strings()),
      }),
      1,
      "expected at least one prompt",
    ),
  },
  (pack, report) => {
    const seen = new Map<string, number>();
    pack.prompts.forEach(({ id }, i) => {
      const first = seen.get(id);
      if (first !== undefined) {
        report(["prompts", i, "id"], `duplicate id "${id}" (first used by prompts[${first}])`);
      } else seen.set(id, i);
    });
  },
);

/** The `prompt-templates/1` schema. */
const PROMPT_TEMPLATES_SCHEMA: v.GenericSchema<unknown, PromptTemplates> = strict(
  {
    format: tag(PROMPT_TEMPLATES_FORMAT),
    description: v.optional(str()),
    provenance: v.optional(anyObject()),
    templates: record(strict({
      text: v.pipe(
        nonEmpty(),
        v.check((t) => t.includes("{prompt}"), "template has no {prompt} placeholder"),
      ),
      used_for: v.optional(strings(true)),
      paper_exact: v.optional(bool()),
      corrects: v.optional(nonEmpty()),
      notes: v.optional(strings()),
    })),
  },
  ({ templates }, report) => {
    const names = Object.keys(templates);
    if (names.length === 0) report(["templates"], "expected at least one template");
    for (const name of names) {
      const target = templates[name].corrects;
      if (target !== undefined && !Object.hasOwn(templates, target)) {
        report(
          ["templates", name, "corrects"],
          `no template named "${target}" in this file${suggestion(target, names)}`,
        );
      }
    }
  },
);

/** Validates a parsed value as a `prompt-pack/1` document; errors name `file` and the JSON path. */
export function validatePromptPack(value: unknown, file: string): PromptPack {
  return validateWith(PROMPT_PACK_SCHEMA, value, file, {
    makeError: promptDataError,
    formats: [PROMPT_PACK_FORMAT],
  });
}

/** Validates a parsed value as a `prompt-templates/1` document; errors name `file` and the JSON path. */
export function validateTemplates(value: unknown, file: string): PromptTemplates {
  return validateWith(PROMPT_TEMPLATES_SCHEMA, value, file, {
    makeError: promptDataError,
    formats: [PROMPT_TEMPLATES_FORMAT],
  });
}

/** Parses and validates prompt-pack JSON text. */
export function parsePromptPack(text: string, file: string): PromptPack {
  return validatePromptPack(parseJsonText(text, file, promptDataError), file);
}

/** Parses and validates template-file JSON text. */
function parseTemplates(text: string, file: string): PromptTemplates {
  return validateTemplates(parseJsonText(text, file, promptDataError), file);
}

/** Where {@link loadPromptPack} looks: a bare name (no path separator, no `.json`) means `data/prompts/<name>.json`. */
export function resolvePromptPackPath(nameOrPath: string): string {
  const bare = !/[\\/]/.test(nameOrPath) && !nameOrPath.toLowerCase().endsWith(".json");
  return bare ? join(PROMPTS_DIR, `${nameOrPath}.json`) : resolve(nameOrPath);
}

/** Loads and validates a prompt pack by bundled name (`creative`, `factual`, `seen`) or file path. */
export async function loadPromptPack(nameOrPath: string): Promise<PromptPack> {
  const file = resolvePromptPackPath(nameOrPath);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read prompt pack '${nameOrPath}' (${file}): ${(e as Error).message}`);
  }
  return parsePromptPack(text, file);
}

/** Loads and validates a template file (default: the bundled `data/prompts/templates.json`). */
export async function loadTemplates(
  path: string = join(PROMPTS_DIR, "templates.json"),
): Promise<PromptTemplates> {
  return parseTemplates(await readFile(path, "utf8"), path);
}

/** Looks a template up by name; the error lists the available names. */
export function getTemplate(templates: PromptTemplates, name: string): PromptTemplate {
  const t = Object.hasOwn(templates.templates, name) ? templates.templates[name] : undefined;
  if (t === undefined) {
    throw new Error(`unknown template '${name}' (available: ${Object.keys(templates.templates).join(", ")})`);
  }
  return t;
}

/** The paper-exact template whose `used_for` lists `model` (e.g. "pythia-2.8b-dpo"), or undefined. */
export function templateNameForModel(templates: PromptTemplates, model: string): string | undefined {
  const hits = Object.entries(templates.templates).filter(([, t]) => t.used_for?.includes(model));
  return (hits.find(([, t]) => t.paper_exact) ?? hits[0])?.[0];
}

/**
 * Fills a template: each `{prompt}` and `{guide}` is replaced once, literally, in a single pass. Unlike the paper's
 * second `.format()` call, braces or `$` in the prompt or guide are kept exactly as they are. A missing guide is "".
 */
export function applyTemplate(template: PromptTemplate | string, prompt: string, guide = ""): string {
  const text = typeof template === "string" ? template : template.text;
  // A replacer function, so `$&`-style patterns in the values are not interpreted either.
  return text.replace(/\{(prompt|guide)\}/g, (_m, key: string) => key === "prompt" ? prompt : guide);
}

/** True when `text` contains any of `answers`, compared case-insensitively as substrings (the factual check). */
export function answerMatches(text: string, answers: readonly string[]): boolean {
  const hay = text.toLowerCase();
  return answers.some((a) => a !== "" && hay.includes(a.toLowerCase()));
}
