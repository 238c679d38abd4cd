/**
 * Prompts formatted by the model itself: one user turn through the folder's Jinja `chat_template`
 * (tokenizer_config.json or chat_template.jinja, rendered by transformers.js), with the generation prompt added —
 * the ids equal Hugging Face's `apply_chat_template(messages, add_generation_prompt=True, tokenize=True)`.
 * @module
 */
import type { Tokenizer } from "./tokenizer.ts";

/** Values of template variables (e.g. Qwen3's `enable_thinking`), passed to the Jinja template as given. */
export type ChatTemplateVariables = Record<string, string | number | boolean | null>;

/** A rendered and tokenized chat prompt. */
export interface ChatPrompt {
  /** The rendered text (special tokens written out, e.g. `<|im_start|>`). */
  text: string;
  /** Its token ids: the rendered text encoded without adding special tokens (the template writes them). */
  ids: number[];
}

/** Names the template machinery reserves; a user variable may not override them. */
const RESERVED = new Set([
  "messages",
  "add_generation_prompt",
  "tools",
  "documents",
  "chat_template",
  "tokenize",
]);

/** The folder's chat template (Jinja source), or undefined when it has none. */
export function chatTemplateOf(tokenizer: Tokenizer): string | undefined {
  const t = (tokenizer.hf as unknown as { chat_template?: unknown }).chat_template;
  if (typeof t === "string" && t !== "") return t;
  if (t !== null && typeof t === "object") {
    const dict = t as Record<string, unknown>;
    if (typeof dict.default === "string") return dict.default;
  }
  return undefined;
}

/** The template or an error saying the folder has none (never a silent fallback to another format). */
export function requireChatTemplate(tokenizer: Tokenizer): string {
  const t = chatTemplateOf(tokenizer);
  if (t === undefined) {
    throw new Error(
      `template "model": ${tokenizer.dir} has no chat template (no chat_template in tokenizer_config.json and ` +
        "no chat_template.jinja): it is not a chat model, or its export dropped the template; choose a named " +
        "template (plm, hh, llama2_chat, tulu, …) instead",
    );
  }
  return t;
}

/**
 * Parses `name=value` template variables: `true`/`false`/`null`, numbers and JSON strings as such, anything
 * else as text. Throws naming the bad item.
 */
export function parseTemplateVariables(items: readonly string[]): ChatTemplateVariables {
  const out: ChatTemplateVariables = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    const name = eq < 0 ? "" : item.slice(0, eq).trim();
    if (!/^[A-Za-z_]\w*$/.test(name)) {
      throw new Error(`template variable "${item}": expected name=value with a Jinja identifier as name`);
    }
    if (RESERVED.has(name)) throw new Error(`template variable "${name}" is set by the toolkit itself`);
    if (Object.hasOwn(out, name)) throw new Error(`template variable "${name}" is given twice`);
    const raw = item.slice(eq + 1).trim();
    let value: string | number | boolean | null = raw;
    if (raw === "true" || raw === "false") value = raw === "true";
    else if (raw === "null") value = null;
    else if (raw !== "" && Number.isFinite(Number(raw))) value = Number(raw);
    else if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new Error(`template variable "${name}": ${raw} is not a valid JSON string`);
      }
    }
    out[name] = value;
  }
  return out;
}

/** Checks variables given in a study file or API call (names and value types), throwing naming the bad one. */
export function checkTemplateVariables(vars: Record<string, unknown>, where: string): ChatTemplateVariables {
  for (const [name, value] of Object.entries(vars)) {
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`${where}: "${name}" is not a template variable name`);
    if (RESERVED.has(name)) throw new Error(`${where}: "${name}" is set by the toolkit itself`);
    if (value !== null && !["string", "number", "boolean"].includes(typeof value)) {
      throw new Error(`${where}.${name}: expected a string, number, boolean or null`);
    }
  }
  return vars as ChatTemplateVariables;
}

/**
 * One user turn rendered by the model's chat template with the generation prompt added, and its ids (equal to
 * HF `apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=True,
 * **variables)`). Variables the template does not use have no effect, as in Python.
 */
export function renderUserTurn(
  tokenizer: Tokenizer,
  prompt: string,
  variables: ChatTemplateVariables = {},
): ChatPrompt {
  requireChatTemplate(tokenizer);
  const messages = [{ role: "user", content: prompt }];
  const options = { ...variables, add_generation_prompt: true };
  const text = tokenizer.hf.apply_chat_template(messages, { ...options, tokenize: false }) as string;
  const ids = tokenizer.hf.apply_chat_template(messages, {
    ...options,
    tokenize: true,
    return_tensor: false,
    return_dict: false,
  }) as unknown as number[];
  return { text, ids: Array.from(ids, Number) };
}
