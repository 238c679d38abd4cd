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
import { JsonFormatError } from "../io/json_file.ts";
import { join, resolve } from "node:path";
import { readFile } from "node:fs/promises";
import { PROJECT_ROOT } from "../shared_dir.ts";

/** Format tag of prompt packs. */
export const PROMPT_PACK_FORMAT = "prompt-pack/1";
/** Format tag of template files. */
export const PROMPT_TEMPLATES_FORMAT = "prompt-templates/1";
/** Folder of the bundled packs and templates. */
export const PROMPTS_DIR: string = join(PROJECT_ROOT, "data", "prompts");
/** Names of the paper's three bundled packs. */
export const PAPER_PACKS = ["creative", "factual", "seen"] as const;

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

/** An invalid pack or template file; names the file and the JSON path. */
export class PromptDataError extends JsonFormatError {
  constructor(path: string, jsonPath: string, what: string) {
    super(path, jsonPath, what);
    this.name = "PromptDataError";
  }
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  return Array.isArray(v) ? "array" : typeof v;
}

function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Path-tracking checks that throw {@link PromptDataError}. */
class Checker {
  constructor(private readonly file: string) {}
  fail(path: string, what: string): never {
    throw new PromptDataError(this.file, path, what);
  }
  object(v: unknown, path: string, allowed: readonly string[], required: readonly string[]) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      this.fail(path, `expected object, got ${jsonType(v)}`);
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(at(path, k), `unknown field (allowed: ${allowed.join(", ")})`);
    }
    for (const k of required) if (!(k in o)) this.fail(at(path, k), "missing required field");
    return o;
  }
  string(v: unknown, path: string, nonEmpty = false): string {
    if (typeof v !== "string") this.fail(path, `expected string, got ${jsonType(v)}`);
    if (nonEmpty && v === "") this.fail(path, "expected a non-empty string");
    return v;
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== "boolean") this.fail(path, `expected boolean, got ${jsonType(v)}`);
    return v;
  }
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected array, got ${jsonType(v)}`);
    return v;
  }
  /** An array of non-empty strings; `allowEmpty` permits `[]`. */
  strings(v: unknown, path: string, allowEmpty = false): string[] {
    const a = this.array(v, path);
    if (!allowEmpty && a.length === 0) this.fail(path, "expected a non-empty array");
    return a.map((x, i) => this.string(x, `${path}[${i}]`, true));
  }
  record(v: unknown, path: string): Record<string, unknown> {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      this.fail(path, `expected object, got ${jsonType(v)}`);
    }
    return v as Record<string, unknown>;
  }
  format(v: unknown, expected: string): void {
    if (v !== expected) this.fail("format", `expected "${expected}", got ${JSON.stringify(v)}`);
  }
}

const PACK_FIELDS = ["format", "name", "description", "provenance", "max_new_tokens", "prompts"];
const PROMPT_FIELDS = ["id", "text", "guide", "answers"];
const TEMPLATES_FIELDS = ["format", "description", "provenance", "templates"];
const TEMPLATE_FIELDS = ["text", "used_for", "paper_exact", "corrects", "notes"];

/** Validates a parsed value as a `prompt-pack/1` document; errors name `file` and the JSON path. */
export function validatePromptPack(value: unknown, file: string): PromptPack {
  const c = new Checker(file);
  const o = c.object(value, "", PACK_FIELDS, ["format", "name", "prompts"]);
  c.format(o.format, PROMPT_PACK_FORMAT);
  c.string(o.name, "name", true);
  if ("description" in o) c.string(o.description, "description");
  if ("provenance" in o) c.record(o.provenance, "provenance");
  if ("max_new_tokens" in o) {
    const n = o.max_new_tokens;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
      c.fail("max_new_tokens", `expected an integer ≥ 1, got ${JSON.stringify(n)}`);
    }
  }
  const prompts = c.array(o.prompts, "prompts");
  if (prompts.length === 0) c.fail("prompts", "expected at least one prompt");
  const seen = new Map<string, number>();
  prompts.forEach((p: unknown, i: number) => {
    const path = `prompts[${i}]`;
    const e = c.object(p, path, PROMPT_FIELDS, ["id", "text"]);
    const id = c.string(e.id, `${path}.id`, true);
    const first = seen.get(id);
    if (first !== undefined) c.fail(`${path}.id`, `duplicate id "${id}" (first used by prompts[${first}])`);
    seen.set(id, i);
    c.string(e.text, `${path}.text`, true);
    if ("guide" in e) c.string(e.guide, `${path}.guide`);
    if ("answers" in e) c.strings(e.answers, `${path}.answers`);
  });
  return value as PromptPack;
}

/** Validates a parsed value as a `prompt-templates/1` document; errors name `file` and the JSON path. */
export function validateTemplates(value: unknown, file: string): PromptTemplates {
  const c = new Checker(file);
  const o = c.object(value, "", TEMPLATES_FIELDS, ["format", "templates"]);
  c.format(o.format, PROMPT_TEMPLATES_FORMAT);
  if ("description" in o) c.string(o.description, "description");
  if ("provenance" in o) c.record(o.provenance, "provenance");
  const all = c.record(o.templates, "templates");
  const names = Object.keys(all);
  if (names.length === 0) c.fail("templates", "expected at least one template");
  for (const name of names) {
    const path = `templates.${name}`;
    const t = c.object(all[name], path, TEMPLATE_FIELDS, ["text"]);
    const text = c.string(t.text, `${path}.text`, true);
    if (!text.includes("{prompt}")) c.fail(`${path}.text`, "template has no {prompt} placeholder");
    if ("used_for" in t) c.strings(t.used_for, `${path}.used_for`, true);
    if ("paper_exact" in t) c.bool(t.paper_exact, `${path}.paper_exact`);
    if ("corrects" in t) {
      const target = c.string(t.corrects, `${path}.corrects`, true);
      if (!(target in all)) c.fail(`${path}.corrects`, `no template named "${target}" in this file`);
    }
    if ("notes" in t) c.strings(t.notes, `${path}.notes`);
  }
  return value as PromptTemplates;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PromptDataError(file, "", `invalid JSON: ${(e as Error).message}`);
  }
}

/** Parses and validates prompt-pack JSON text. */
export function parsePromptPack(text: string, file: string): PromptPack {
  return validatePromptPack(parseJson(text, file), file);
}

/** Parses and validates template-file JSON text. */
export function parseTemplates(text: string, file: string): PromptTemplates {
  return validateTemplates(parseJson(text, file), file);
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
