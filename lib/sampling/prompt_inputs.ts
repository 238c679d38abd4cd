/**
 * What a sweep feeds the model for each prompt: the exact text and token ids, built either from one of the
 * paper's named templates (`plm`, `hh`, `llama2_chat`, `tulu`, corrected variants; filled literally, then
 * tokenized as the paper did, with the tokenizer's own special tokens) or from the model's own chat template
 * (`"model"`: one user turn, generation prompt added, then the guide).
 * @module
 */
import type { PromptEntry, TemplateRef } from "../io/completions_doc.ts";
import { applyTemplate, getTemplate, type PromptPack, type PromptTemplates } from "../data/prompts.ts";
import type { Tokenizer } from "../models/tokenizer.ts";
import { type ChatTemplateVariables, renderUserTurn, requireChatTemplate } from "../models/chat_template.ts";

/** The template name that means "the model's own chat template". */
export const MODEL_TEMPLATE = "model";

/** How prompts are formatted. */
export interface TemplateChoice {
  /** A template of the templates file, or {@link MODEL_TEMPLATE}. */
  name: string;
  /** Variables for the model's chat template (only with {@link MODEL_TEMPLATE}); recorded in the output. */
  variables?: ChatTemplateVariables;
}

/** Prompts as a sweep records them, with the text and ids fed to the model. */
export interface PromptInputs {
  /** The prompts (text, guide, answers, and the exact `input_ids`). */
  prompts: PromptEntry[];
  /** The text fed to the model per prompt (the template filled; with a chat template, rendered + guide). */
  inputs: string[];
  /** The token ids fed to the model per prompt. */
  inputIds: number[][];
  /** The template as recorded (absent for ad-hoc prompts used as they are). */
  template?: TemplateRef;
}

/** One prompt to format: its text and, optionally, the guide that starts the answer. */
export interface RawPrompt {
  /** Prompt text. */
  text: string;
  /** Start of the answer (the paper's guide). */
  guide?: string;
  /** Accepted answers (factual prompts). */
  answers?: string[];
}

/** The prompts of a pack (the first `limit`, when given). */
export function packRawPrompts(pack: PromptPack, limit: number | null = null): RawPrompt[] {
  const chosen = limit === null ? pack.prompts : pack.prompts.slice(0, limit);
  return chosen.map((p) => ({
    text: p.text,
    ...(p.guide !== undefined ? { guide: p.guide } : {}),
    ...(p.answers !== undefined ? { answers: p.answers } : {}),
  }));
}

function entry(p: RawPrompt, ids: number[]): PromptEntry {
  return {
    text: p.text,
    ...(p.guide !== undefined ? { guide: p.guide } : {}),
    ...(p.answers !== undefined ? { answers: p.answers } : {}),
    input_ids: ids,
  };
}

function checkIds(ids: number[], i: number): number[] {
  if (ids.length === 0) throw new RangeError(`prompt ${i} encodes to no tokens`);
  return ids;
}

/**
 * Formats prompts for a model. `choice` undefined: ad-hoc prompts used as they are (tokenized with the
 * tokenizer's special tokens, guide ignored). A named template: filled literally and tokenized the same way (so
 * Llama's BOS is added, as in the paper). {@link MODEL_TEMPLATE}: the chat template renders one user turn with
 * the generation prompt; the guide, with its leading spaces removed (the generation prompt already ends the
 * header), is tokenized without special tokens and appended to those ids.
 */
export function formatPrompts(
  raw: readonly RawPrompt[],
  tokenizer: Tokenizer,
  choice: TemplateChoice | undefined,
  templates?: PromptTemplates,
): PromptInputs {
  if (choice === undefined) {
    const inputIds = raw.map((p, i) => checkIds(tokenizer.encode(p.text), i));
    return { prompts: raw.map((p, i) => entry(p, inputIds[i])), inputs: raw.map((p) => p.text), inputIds };
  }
  if (choice.name === MODEL_TEMPLATE) {
    const source = requireChatTemplate(tokenizer);
    const variables = choice.variables ?? {};
    const inputs: string[] = [];
    const inputIds: number[][] = [];
    raw.forEach((p, i) => {
      const chat = renderUserTurn(tokenizer, p.text, variables);
      const guide = (p.guide ?? "").replace(/^\s+/, "");
      const guideIds = guide === "" ? [] : tokenizer.encode(guide, { addSpecialTokens: false });
      inputs.push(chat.text + guide);
      inputIds.push(checkIds([...chat.ids, ...guideIds], i));
    });
    return {
      prompts: raw.map((p, i) => entry(p, inputIds[i])),
      inputs,
      inputIds,
      template: {
        name: MODEL_TEMPLATE,
        text: source,
        variables,
        guide_join: "leading whitespace of the guide removed; guide ids appended to the chat-template ids",
      },
    };
  }
  if (choice.variables !== undefined && Object.keys(choice.variables).length > 0) {
    throw new Error(`template variables apply only to the model's own chat template (--template model)`);
  }
  if (templates === undefined) throw new Error(`template "${choice.name}" needs the templates file`);
  const template = getTemplate(templates, choice.name);
  const inputs = raw.map((p) => applyTemplate(template, p.text, p.guide ?? ""));
  const inputIds = inputs.map((text, i) => checkIds(tokenizer.encode(text), i));
  return {
    prompts: raw.map((p, i) => entry(p, inputIds[i])),
    inputs,
    inputIds,
    template: { name: choice.name, text: template.text },
  };
}
