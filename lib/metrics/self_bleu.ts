/**
 * `selfBleuSmoothed`: mean over samples of NLTK's sentence BLEU of each sample against all the others, with
 * uniform 4-gram weights and smoothing method 1 (ε = 0.1). A similarity: higher means less diverse.
 * Semantics follow NLTK's `corpus_bleu` exactly (docs/METRICS.md, `selfBleuSmoothed`): case-sensitive
 * whitespace tokens, clipping by the maximum count in any one reference, the closest reference length with
 * ties to the shorter, BP, `math.fsum`.
 * @module
 */
import { fsum } from "../numeric/fsum.ts";
import { pythonSum } from "../numeric/numpy_sum.ts";
import { undefinedMetric } from "./errors.ts";
import { asSampleSet, type Samples } from "./sample_set.ts";

const MAX_N = 4;
const EPSILON = 0.1; // SmoothingFunction().method1

/**
 * The n-grams (n = 1..4) of every sample as dense integer ids, with per-sample counts. n-gram ids are interned
 * level by level (an n-gram is its (n−1)-gram prefix id and its last token), so no strings are built.
 */
interface NgramTable {
  /** `counts[n-1][i]`: map n-gram id → count in sample i. */
  counts: Map<number, number>[][];
  /** `top[n-1]`: per n-gram id, the largest count in any sample, which sample has it, and the runner-up count. */
  best: Int32Array[];
  bestSample: Int32Array[];
  second: Int32Array[];
}

function ngramTable(tokens: readonly (readonly string[])[]): NgramTable {
  const vocab = new Map<string, number>();
  let prev: number[][] = tokens.map((toks) =>
    toks.map((t) => {
      let id = vocab.get(t);
      if (id === undefined) vocab.set(t, id = vocab.size);
      return id;
    })
  );
  const tokenIds = prev;
  const table: NgramTable = { counts: [], best: [], bestSample: [], second: [] };
  let size = vocab.size;
  for (let n = 1; n <= MAX_N; n++) {
    let ids = prev;
    if (n > 1) {
      const intern = new Map<number, number>();
      ids = prev.map((p, i) => {
        const out: number[] = [];
        for (let k = 0; k + 1 < p.length; k++) {
          const key = p[k] * vocab.size + tokenIds[i][k + n - 1];
          let id = intern.get(key);
          if (id === undefined) intern.set(key, id = intern.size);
          out.push(id);
        }
        return out;
      });
      size = intern.size;
    }
    const best = new Int32Array(size),
      bestSample = new Int32Array(size).fill(-1),
      second = new Int32Array(size);
    const counts = ids.map((list, i) => {
      const m = new Map<number, number>();
      for (const g of list) m.set(g, (m.get(g) ?? 0) + 1);
      for (const [g, c] of m) {
        if (c > best[g]) {
          second[g] = best[g];
          best[g] = c;
          bestSample[g] = i;
        } else if (c > second[g]) second[g] = c;
      }
      return m;
    });
    table.counts.push(counts);
    table.best.push(best);
    table.bestSample.push(bestSample);
    table.second.push(second);
    prev = ids;
  }
  return table;
}

/**
 * NLTK `sentence_bleu(references, hypothesis, smoothing_function=method1)` of sample `hyp` against every other
 * sample of the table, given the token counts `lengths` (the references are all samples but `hyp`).
 */
function bleuAgainstOthers(hyp: number, table: NgramTable, lengths: readonly number[]): number {
  const hypLen = lengths[hyp];
  const numerators: number[] = [];
  const denominators: number[] = [];
  for (let n = 0; n < MAX_N; n++) {
    const best = table.best[n], bestSample = table.bestSample[n], second = table.second[n];
    let clipped = 0, total = 0;
    for (const [g, c] of table.counts[n][hyp]) {
      // Clip by the largest count in any one reference (the best sample other than the hypothesis).
      const maxRef = bestSample[g] === hyp ? second[g] : best[g];
      clipped += Math.min(c, maxRef);
      total += c;
    }
    numerators.push(clipped);
    denominators.push(Math.max(1, total));
  }
  // NLTK returns 0 before smoothing when no unigram matches (this also covers an empty hypothesis).
  if (numerators[0] === 0) return 0;
  // Closest reference length; ties go to the shorter reference.
  let closest = -1;
  for (let r = 0; r < lengths.length; r++) {
    if (r === hyp) continue;
    const len = lengths[r], d = Math.abs(len - hypLen), dc = Math.abs(closest - hypLen);
    if (closest < 0 || d < dc || (d === dc && len < closest)) closest = len;
  }
  const bp = hypLen > closest ? 1 : hypLen === 0 ? 0 : Math.exp(1 - closest / hypLen);
  const logs: number[] = [];
  for (let n = 0; n < MAX_N; n++) {
    const p = numerators[n] === 0 ? EPSILON / denominators[n] : numerators[n] / denominators[n];
    logs.push(0.25 * Math.log(p));
  }
  return bp * Math.exp(fsum(logs));
}

/** Per-sample BLEU scores against the other samples (the values the self-BLEU mean is taken over). */
export function selfBleuScores(samples: Samples): number[] {
  const set = asSampleSet(samples);
  const n = set.size;
  if (n === 0) undefinedMetric("no_samples", "self-BLEU of an empty set");
  if (n === 1) undefinedMetric("fewer_than_2_samples", "self-BLEU needs at least one reference (2 samples)");
  const tokens = set.tokens();
  const table = ngramTable(tokens);
  const lengths = tokens.map((t) => t.length);
  return Array.from({ length: n }, (_, i) => bleuAgainstOthers(i, table, lengths));
}

/** `selfBleuSmoothed`: `sum(scores) / n` (Python's left-to-right sum). Similarity, in [0, 1]. */
export function selfBleuSmoothed(samples: Samples): number {
  const scores = selfBleuScores(samples);
  return pythonSum(scores) / scores.length;
}
