/**
 * The generation settings a model folder ships: `generation_config.json` (Hugging Face's `GenerationConfig`)
 * over `config.json`, as `transformers` resolves them. Its EOS list is what stops Hugging Face's `generate`
 * (every id in it), and its temperature / top-p / top-k are what `generate` would sample with when a caller
 * passes none — recorded next to the settings a sweep actually uses.
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readJsonObjectSync } from "../io/json_file.ts";

/** Where the EOS ids came from. */
export type EosSource = "generation_config.json" | "config.json" | "none";

/** What a folder says about generation. */
export interface ShippedGeneration {
  /** Ids that end generation, in the order the file lists them (empty: the folder names none). */
  eosTokenIds: number[];
  /** The file the EOS ids were read from. */
  eosSource: EosSource;
  /** `bos_token_id` from config.json (the scoring prefix), else from generation_config.json. */
  bosTokenId?: number;
  /** Sampling defaults from generation_config.json (absent when it does not set them). */
  temperature?: number;
  /** Nucleus filter default. */
  topP?: number;
  /** Top-k default. */
  topK?: number;
  /** Whether `generate` samples by default. */
  doSample?: boolean;
  /** Whether the folder has a generation_config.json. */
  hasGenerationConfig: boolean;
}

/** A list of ids from a config value (a number, a list of numbers, or null/absent); throws naming `where`. */
function idList(value: unknown, where: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  for (const id of list) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) {
      throw new Error(`${where}: expected a token id or a list of token ids, got ${JSON.stringify(value)}`);
    }
  }
  return list as number[];
}

function optionalNumber(o: Record<string, unknown>, key: string, file: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`${file}: ${key} must be a number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Reads a folder's generation settings. `config` is the parsed config.json (already read by the caller);
 * generation_config.json is read here if present. EOS ids: generation_config.json's `eos_token_id` when it
 * sets one, else config.json's. Every id is checked against `vocabSize` (an id outside the logits can never be
 * drawn, so generation would silently never stop).
 */
export function readShippedGeneration(
  folder: string,
  config: Record<string, unknown>,
  vocabSize: number,
): ShippedGeneration {
  const configFile = join(folder, "config.json");
  const genFile = join(folder, "generation_config.json");
  const gen = existsSync(genFile) ? readJsonObjectSync(genFile) as Record<string, unknown> : undefined;
  const fromGen = gen ? idList(gen.eos_token_id, `${genFile}: eos_token_id`) : undefined;
  const fromConfig = idList(config.eos_token_id, `${configFile}: eos_token_id`);
  const eosSource: EosSource = fromGen !== undefined
    ? "generation_config.json"
    : fromConfig !== undefined
    ? "config.json"
    : "none";
  const eosTokenIds = [...new Set(fromGen ?? fromConfig ?? [])];
  for (const id of eosTokenIds) {
    if (id >= vocabSize) {
      throw new Error(
        `${eosSource === "generation_config.json" ? genFile : configFile}: eos_token_id ${id} is outside ` +
          `the vocabulary (config.json vocab_size = ${vocabSize}); generation could never stop on it`,
      );
    }
  }
  const bos = idList(config.bos_token_id, `${configFile}: bos_token_id`) ??
    (gen ? idList(gen.bos_token_id, `${genFile}: bos_token_id`) : undefined);
  if (bos !== undefined && bos.length > 0 && bos[0] >= vocabSize) {
    throw new Error(
      `${configFile}: bos_token_id ${bos[0]} is outside the vocabulary (vocab_size ${vocabSize})`,
    );
  }
  const out: ShippedGeneration = {
    eosTokenIds,
    eosSource,
    hasGenerationConfig: gen !== undefined,
    ...(bos !== undefined && bos.length > 0 ? { bosTokenId: bos[0] } : {}),
  };
  if (gen !== undefined) {
    const temperature = optionalNumber(gen, "temperature", genFile);
    const topP = optionalNumber(gen, "top_p", genFile);
    const topK = optionalNumber(gen, "top_k", genFile);
    if (temperature !== undefined) out.temperature = temperature;
    if (topP !== undefined) out.topP = topP;
    if (topK !== undefined) out.topK = topK;
    if (typeof gen.do_sample === "boolean") out.doSample = gen.do_sample;
  }
  return out;
}
