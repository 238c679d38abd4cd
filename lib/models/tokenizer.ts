/**
 * Tokenizers from local folders through transformers.js, with the few operations the pipelines need (encode,
 * decode, special ids) and the project's rule for the token that prefixes every document when scoring.
 * @module
 */
import { AutoTokenizer, env, type PreTrainedTokenizer } from "@huggingface/transformers";
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { PROJECT_ROOT } from "../project_root.ts";
import { withoutUnreadFileStreams } from "./transformers_fs.ts";

/** Files a tokenizer folder must hold for transformers.js. */
const REQUIRED_TOKENIZER_FILES: readonly string[] = ["tokenizer.json", "tokenizer_config.json"];

/** Folders where a bare name (`"pythia"`) is looked up, in order. */
export const TOKENIZER_SEARCH_DIRS: readonly string[] = [
  join(PROJECT_ROOT, "data", "tokenizers"),
  join(PROJECT_ROOT, "data", "models"),
];

/** transformers.js cache folder (its default lies inside node_modules). */
export const TRANSFORMERS_CACHE_DIR: string = join(PROJECT_ROOT, "data", "cache", "transformers");

/** The end-of-text token that the paper prefixes to every document. */
const END_OF_TEXT = "<|endoftext|>";

/** Ids of a tokenizer's special tokens; undefined where the tokenizer has none. */
export interface SpecialTokenIds {
  /** Beginning-of-sequence token. */
  bos?: number;
  /** End-of-sequence token. */
  eos?: number;
  /** Unknown token. */
  unk?: number;
  /** Padding token, only when the config names one (Pythia has none, as in Python). */
  pad?: number;
  /** Every token marked special in tokenizer.json (what `skipSpecialTokens` drops). */
  all: readonly number[];
}

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Let the tokenizer add its special tokens, as Python's `encode_plus` does by default (default true). GPT-NeoX
   * adds none; a Llama tokenizer prepends BOS.
   */
  addSpecialTokens?: boolean;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Drop special tokens (`<|endoftext|>`, `<|padding|>`) from the text (default false). */
  skipSpecialTokens?: boolean;
  /**
   * Remove spaces before punctuation and contractions (" ." → "."); default: what the folder's
   * tokenizer_config.json says (true when it is silent, like Python transformers of the paper's time).
   */
  cleanUpTokenizationSpaces?: boolean;
}

/** A loaded tokenizer. */
export interface Tokenizer {
  /** Absolute folder it was loaded from. */
  readonly dir: string;
  /** `tokenizer_class` from its config (e.g. `GPTNeoXTokenizer`). */
  readonly className: string;
  /** Number of entries in the vocabulary including added tokens (50,277 for Pythia). */
  readonly vocabSize: number;
  /** Special token ids. */
  readonly special: SpecialTokenIds;
  /** Token ids of a text. For GPT-NeoX no BOS/EOS is added. */
  encode(text: string, opts?: EncodeOptions): number[];
  /** Text of token ids; ids outside the vocabulary are dropped, as Hugging Face tokenizers do. */
  decode(ids: ArrayLike<number>, opts?: DecodeOptions): string;
  /** Id of a token string, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined;
  /** The underlying transformers.js tokenizer, for what this interface does not cover. */
  readonly hf: PreTrainedTokenizer;
}

/** Options of {@link loadTokenizer}. */
export interface LoadTokenizerOptions {
  /** Folders where a bare name is looked up (default {@link TOKENIZER_SEARCH_DIRS}). */
  searchDirs?: readonly string[];
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The folder a path or bare name refers to: an existing folder as given, else `<searchDir>/<name>`. */
export function resolveTokenizerDir(
  dirOrId: string,
  searchDirs: readonly string[] = TOKENIZER_SEARCH_DIRS,
): string {
  const direct = resolve(dirOrId);
  if (isDir(direct)) return direct;
  const tried = [direct];
  if (!isAbsolute(dirOrId)) {
    for (const base of searchDirs) {
      const candidate = join(base, dirOrId);
      if (isDir(candidate)) return candidate;
      tried.push(candidate);
    }
  }
  const hint = dirOrId === "pythia" || dirOrId.endsWith("tokenizers/pythia")
    ? " (run `deno task setup` to install the Pythia tokenizer)"
    : "";
  throw new Error(`tokenizer folder "${dirOrId}" not found; looked in: ${tried.join(", ")}${hint}`);
}

/** Throws an error naming each required file missing from `dir` (transformers.js would only say `tokenizer_class`). */
export function checkTokenizerFolder(dir: string): void {
  const missing = REQUIRED_TOKENIZER_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new Error(`tokenizer folder ${dir} lacks ${missing.join(" and ")}`);
  }
}

/** Points transformers.js at local files only, and its cache inside the project. */
function configureEnv(): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  // We pass absolute folders, which transformers.js reads directly; localModelPath only serves bare hub-style
  // ids given to it elsewhere, and its default lies inside node_modules.
  env.localModelPath = join(PROJECT_ROOT, "data", "models") + "/";
  env.cacheDir = TRANSFORMERS_CACHE_DIR;
}

/**
 * Loads the tokenizer in a local folder (a path, or a bare name looked up in `data/tokenizers/` then
 * `data/models/`), never from the network.
 */
export async function loadTokenizer(dirOrId: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const dir = resolveTokenizerDir(dirOrId, options.searchDirs);
  checkTokenizerFolder(dir);
  configureEnv();
  // An absolute path is not a valid hub id, so transformers.js reads <dir>/<file> and memoises per folder.
  const hf = await withoutUnreadFileStreams(
    [dir],
    () => AutoTokenizer.from_pretrained(dir, { local_files_only: true }),
  );
  return wrap(dir, hf);
}

function wrap(dir: string, hf: PreTrainedTokenizer): Tokenizer {
  const config = hf.config as Record<string, unknown>;
  const tokenToId = (token: string): number | undefined => {
    const id = hf.convert_tokens_to_ids(token) as number | undefined;
    return typeof id === "number" ? id : undefined;
  };
  const idOf = (token: unknown): number | undefined => {
    // config values are strings or AddedToken-like objects ({ content: "..." })
    const text = typeof token === "string" ? token : (token as { content?: unknown } | null)?.content;
    return typeof text === "string" ? tokenToId(text) : undefined;
  };
  const known = new Set<number>();
  for (const [token, id] of hf.get_vocab()) if (token !== undefined) known.add(id);
  const vocabSize = known.size;
  const special: SpecialTokenIds = Object.freeze({
    bos: idOf(config.bos_token),
    eos: idOf(config.eos_token),
    unk: idOf(config.unk_token),
    pad: idOf(config.pad_token),
    all: Object.freeze([...hf.all_special_ids]),
  });
  return {
    dir,
    className: typeof config.tokenizer_class === "string" ? config.tokenizer_class : "PreTrainedTokenizer",
    vocabSize,
    special,
    hf,
    tokenToId,
    encode(text: string, opts: EncodeOptions = {}): number[] {
      return hf.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true });
    },
    decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
      const kept = Array.from(ids).filter((id) => known.has(id));
      if (kept.length === 0) return ""; // transformers.js throws on an empty list
      return hf.decode(kept, {
        skip_special_tokens: opts.skipSpecialTokens ?? false,
        // undefined lets the folder's config decide
        clean_up_tokenization_spaces: opts.cleanUpTokenizationSpaces,
      });
    },
  };
}

/** Options of {@link prefixTokenId}. */
export interface PrefixTokenOptions {
  /**
   * Reproduce the original: `convert_tokens_to_ids("<|endoftext|>")`, which gives the unknown-token id when the
   * vocabulary lacks it (Llama: `<unk>`, id 0; the paper's quirk, see docs/MODELS.md).
   */
  paperCompat?: boolean;
  /** config.json's `bos_token_id` of the model being scored (it wins over the tokenizer's own BOS). */
  configBosTokenId?: number;
}

/**
 * The token read before each document's first token in rolling-window scoring (lm-evaluation-harness's
 * convention): the model config's `bos_token_id`, else the tokenizer's BOS, else its EOS. Pythia: 0
 * (`<|endoftext|>`); Llama-2: 1 (`<s>`); Llama-3: 128000; Qwen3: 151643 (`<|endoftext|>`, which its config
 * names as BOS although the tokenizer adds none). Throws when there is none (or, with `paperCompat`, when there
 * is neither `<|endoftext|>` nor an unknown token).
 */
export function prefixTokenId(tokenizer: Tokenizer, opts: PrefixTokenOptions = {}): number {
  if (opts.paperCompat) {
    const eot = tokenizer.tokenToId(END_OF_TEXT);
    if (eot !== undefined) return eot;
    if (tokenizer.special.unk !== undefined) return tokenizer.special.unk;
    throw new Error(
      `${tokenizer.dir}: no ${END_OF_TEXT} and no unknown token (the original would have failed too)`,
    );
  }
  if (opts.configBosTokenId !== undefined) return opts.configBosTokenId;
  if (tokenizer.special.bos !== undefined) return tokenizer.special.bos;
  if (tokenizer.special.eos !== undefined) return tokenizer.special.eos;
  throw new Error(
    `${tokenizer.dir}: no bos_token_id in the model's config.json and neither a BOS nor an EOS token in the ` +
      "tokenizer to prefix documents with",
  );
}
