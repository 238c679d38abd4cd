/**
 * One cell's samples (the completions for one prompt at one temperature, already truncated) with the derived data
 * several metrics share — word tokens, lower-cased tokens, gzip lengths, the Jaccard-2 matrix — computed once.
 * Every metric accepts a plain `string[]` too; it is wrapped on the fly.
 * @module
 */
import { type GzipLengthBackend, openGzipLength } from "./gzip_length.ts";
import { pyLower, pySplit } from "./text.ts";

let defaultGzip: GzipLengthBackend | undefined;

/** The process-wide gzip backend (system zlib if exact, else pako), opened on first use. */
export function defaultGzipBackend(): GzipLengthBackend {
  defaultGzip ??= openGzipLength("auto");
  return defaultGzip;
}

/** A set of samples with memoised derived data. Immutable once built. */
export class SampleSet {
  /** The samples, in order. */
  readonly samples: readonly string[];
  readonly #gzip: GzipLengthBackend;
  #tokens?: string[][];
  #lowerTokens?: string[][];
  #gzipMemo = new Map<string, number>();
  #ngramIds = new Map<number, Int32Array[]>();
  #uniqueIds?: Int32Array;
  #bytes?: Uint8Array[];
  #memo = new Map<string, unknown>();
  #jaccard = new Map<number, Float64Array>();
  /** Embeddings of the samples, set by the caller for the cosine family (one unit vector per sample). */
  embeddings?: readonly Float32Array[];

  constructor(samples: readonly string[], options: { gzip?: GzipLengthBackend } = {}) {
    this.samples = samples;
    this.#gzip = options.gzip ?? defaultGzipBackend();
  }

  /** Number of samples. */
  get size(): number {
    return this.samples.length;
  }

  /** The gzip backend used for compression-based metrics. */
  get gzipBackend(): GzipLengthBackend {
    return this.#gzip;
  }

  /** Python `s.split()` of every sample (equal to `s.strip().split()`). */
  tokens(): readonly (readonly string[])[] {
    this.#tokens ??= this.samples.map(pySplit);
    return this.#tokens;
  }

  /** Python `s.lower().split()` of every sample. */
  lowerTokens(): readonly (readonly string[])[] {
    this.#lowerTokens ??= this.samples.map((s) => pySplit(pyLower(s)));
    return this.#lowerTokens;
  }

  /** UTF-8 bytes of every sample (Python's `s.encode()`; check for lone surrogates first where it matters). */
  bytes(): readonly Uint8Array[] {
    if (this.#bytes === undefined) {
      const enc = new TextEncoder();
      this.#bytes = this.samples.map((s) => enc.encode(s));
    }
    return this.#bytes;
  }

  /** A value computed once per set under `key` (for intermediate results several metrics share). */
  memo<T>(key: string, compute: () => T): T {
    if (this.#memo.has(key)) return this.#memo.get(key) as T;
    const v = compute();
    this.#memo.set(key, v);
    return v;
  }

  /** `len(gzip.compress(s.encode()))`, memoised per distinct string (duplicates are common at low temperature). */
  gzipLength(s: string): number {
    let v = this.#gzipMemo.get(s);
    if (v === undefined) {
      v = this.#gzip.lengthOfString(s);
      this.#gzipMemo.set(s, v);
    }
    return v;
  }

  /** `[C(prefix), C(prefix + suffix)]`, memoised; the backend shares the work on the common prefix. */
  gzipLengthsWithSuffix(prefix: string, suffix: string): [number, number] {
    const whole = prefix + suffix;
    const a = this.#gzipMemo.get(prefix), b = this.#gzipMemo.get(whole);
    if (a !== undefined && b !== undefined) return [a, b];
    const [c, d] = this.#gzip.lengthsWithSuffix(prefix, suffix);
    this.#gzipMemo.set(prefix, c);
    this.#gzipMemo.set(whole, d);
    return [c, d];
  }

  /**
   * Each sample's index of the first sample with identical text. Identical samples are common at low
   * temperature, and every pairwise quantity of two texts needs computing only once.
   */
  uniqueIds(): Int32Array {
    if (this.#uniqueIds === undefined) {
      const first = new Map<string, number>();
      this.#uniqueIds = Int32Array.from(this.samples, (s, i) => {
        const f = first.get(s);
        if (f !== undefined) return f;
        first.set(s, i);
        return i;
      });
    }
    return this.#uniqueIds;
  }

  /**
   * The set of lower-cased word n-grams of each sample, as sorted distinct integer ids (equal n-grams get equal
   * ids within this set). n-grams are interned level by level, so no n-gram strings are built.
   */
  ngramIdSets(n: number): readonly Int32Array[] {
    let sets = this.#ngramIds.get(n);
    if (sets === undefined) {
      const vocab = new Map<string, number>();
      const tokenIds = this.lowerTokens().map((toks) =>
        toks.map((t) => {
          let id = vocab.get(t);
          if (id === undefined) vocab.set(t, id = vocab.size);
          return id;
        })
      );
      let ids = tokenIds;
      for (let k = 2; k <= n; k++) {
        const intern = new Map<number, number>();
        ids = ids.map((prev, i) => {
          const out: number[] = [];
          for (let j = 0; j + 1 < prev.length; j++) {
            const key = prev[j] * vocab.size + tokenIds[i][j + k - 1];
            let id = intern.get(key);
            if (id === undefined) intern.set(key, id = intern.size);
            out.push(id);
          }
          return out;
        });
      }
      sets = ids.map((list) => {
        const sorted = Int32Array.from(list).sort();
        let m = 0;
        for (let j = 0; j < sorted.length; j++) {
          if (j === 0 || sorted[j] !== sorted[j - 1]) sorted[m++] = sorted[j];
        }
        return sorted.slice(0, m);
      });
      this.#ngramIds.set(n, sets);
    }
    return sets;
  }

  /**
   * The full n×n matrix of pairwise n-gram Jaccard similarities (row-major), diagonal included: 1 for a sample
   * with at least n tokens, 0 for a shorter one (the original's `pairwise_ngram` returns 0 for an empty union).
   */
  jaccardMatrix(n: number): Float64Array {
    let m = this.#jaccard.get(n);
    if (m === undefined) {
      const sets = this.ngramIdSets(n);
      const uid = this.uniqueIds();
      const k = sets.length;
      m = new Float64Array(k * k);
      for (let a = 0; a < k; a++) {
        m[a * k + a] = sets[a].length > 0 ? 1 : 0;
        for (let b = a + 1; b < k; b++) {
          // Identical texts repeat an earlier pair's value.
          const v = uid[a] !== a || uid[b] !== b
            ? m[uid[a] * k + uid[b]]
            : jaccardOfSortedIds(sets[a], sets[b]);
          m[a * k + b] = v;
          m[b * k + a] = v;
        }
      }
      this.#jaccard.set(n, m);
    }
    return m;
  }
}

/** |A ∩ B| / |A ∪ B| of two sorted distinct id lists, 0 when both are empty — `pairwise_ngram` of the original. */
function jaccardOfSortedIds(a: Int32Array, b: Int32Array): number {
  let i = 0, j = 0, inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  const union = a.length + b.length - inter;
  return union === 0 ? 0 : inter / union;
}

/** What every metric function accepts: plain strings or a prepared set. */
export type Samples = readonly string[] | SampleSet;

/** Wraps plain strings in a {@link SampleSet}; passes a set through. */
export function asSampleSet(samples: Samples): SampleSet {
  return samples instanceof SampleSet ? samples : new SampleSet(samples);
}
