/**
 * Every model-free value in shared/reference/metric_vectors.json: the synthetic sets (all keys, seeded order-q,
 * exact order-q, intermediates) and the paper cells (float64 references and the paper's stored float32 values).
 */
import assert from "node:assert/strict";
import { readSharedJson, sharedTest } from "../helpers/shared.ts";
import { SampleSet } from "../../lib/metrics/sample_set.ts";
import type { MetricContext } from "../../lib/metrics/definition.ts";
import { metricByKey } from "../../lib/metrics/registry.ts";
import { MetricUndefinedError } from "../../lib/metrics/errors.ts";
import { RandomState } from "../../lib/numeric/mt19937.ts";
import { matrixSimilarity, orderQExact, orderQMonteCarlo } from "../../lib/metrics/order_q.ts";
import { selfBleuScores } from "../../lib/metrics/self_bleu.ts";
import { ncd } from "../../lib/metrics/ncd.ts";
import { pySplit, truncateWords, utf8Length } from "../../lib/metrics/text.ts";
import { symmetricEigenvalues } from "../../lib/numeric/eigh.ts";

interface SyntheticSet {
  name: string;
  sentences: string[];
  values: Record<string, number | null>;
  detail?: {
    gzip_len?: number[];
    utf8_len?: number[];
    py_split?: string[][];
    ncd_0_1?: number;
    ncd_1_0?: number;
    gzip_len_joint_0_1?: number;
    bleu_per_hypothesis?: number[];
    jaccard2_matrix?: number[][];
    vendi_jaccard2_eigenvalues_of_K_over_n?: number[];
  };
}
interface PaperCell {
  model: string;
  max_num_words: number;
  stored_group: string;
  index_temp_prompt: number[];
  sentences_truncated: string[];
  sentences_raw?: string[];
  stored_float32: Record<string, number | null>;
  reference_float64: Record<string, number | null>;
}
interface Vectors {
  synthetic: SyntheticSet[];
  paper_cells: PaperCell[];
  rng_vectors: Record<string, { mt19937_first10_u32: number[]; randint_0_25_first30: number[] }>;
}

const noContext: MetricContext = {
  rng: () => {
    throw new Error("not stochastic");
  },
  cosineMatrix: () => {
    throw new Error("no embeddings");
  },
};

/** Runs one registry key, mapping an undefined value to NaN (the vectors' null). */
function value(key: string, set: SampleSet): number {
  try {
    return metricByKey(key).compute(set, noContext);
  } catch (e) {
    if (e instanceof MetricUndefinedError) return NaN;
    throw e;
  }
}

/** Keys that must agree bit for bit in float64 (no log, exp or eigensolver); the others get a tolerance. */
const BIT_EXACT = new Set([
  "average_pairwise_ncd",
  "average_pairwise_jaccard_2",
  "average_pairwise_jaccard_3",
  "average_pairwise_jaccard_4",
  "avg_compression_ratio_full",
  "avg_compression_ratio_target",
]);
const TOLERANCE: Record<string, number> = { selfBleuSmoothed: 4e-15, vendi_jaccard_2: 1e-9 };

function assertClose(actual: number, expected: number | null, key: string, where: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${where} ${key}: expected NaN, got ${actual}`);
    return;
  }
  if (BIT_EXACT.has(key)) {
    assert.equal(actual, expected, `${where} ${key}`);
    return;
  }
  const tol = TOLERANCE[key] ?? 1e-12;
  const scale = Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol * scale, `${where} ${key}: ${actual} vs ${expected}`);
}

/** Order-q keys in the vectors look like `order_3_jaccard_2__seed42` or `order_3_jaccard_2__exactmu`. */
function orderQValue(set: SampleSet, name: string): number {
  const m = /^order_(\d)_jaccard_2__(seed(\d+)|exactmu)$/.exec(name);
  if (!m) throw new Error(`unexpected key ${name}`);
  const q = Number(m[1]);
  const n = set.size;
  const matrix = set.jaccardMatrix(2);
  try {
    return m[3] === undefined
      ? orderQExact(matrix, n, q)
      : orderQMonteCarlo(n, q, matrixSimilarity(matrix, n), new RandomState(Number(m[3])));
  } catch (e) {
    if (e instanceof MetricUndefinedError) return NaN;
    throw e;
  }
}

sharedTest("metric vectors: RNG matches numpy RandomState", () => {
  const v = readSharedJson<Vectors>("reference", "metric_vectors.json");
  for (const [name, seed] of [["seed0", 0], ["seed42", 42]] as const) {
    const rng = new RandomState(seed);
    assert.deepEqual(
      Array.from({ length: 10 }, () => rng.nextUint32()),
      v.rng_vectors[name].mt19937_first10_u32,
    );
    const rng2 = new RandomState(seed);
    assert.deepEqual(
      Array.from({ length: 30 }, () => rng2.randint(25)),
      v.rng_vectors[name].randint_0_25_first30,
    );
  }
});

sharedTest("metric vectors: synthetic sets, every key and intermediate", () => {
  const v = readSharedJson<Vectors>("reference", "metric_vectors.json");
  assert.equal(v.synthetic.length, 13);
  let checked = 0;
  for (const s of v.synthetic) {
    const set = new SampleSet(s.sentences);
    for (const [name, expected] of Object.entries(s.values)) {
      const actual = name.startsWith("order_") ? orderQValue(set, name) : value(name, set);
      assertClose(actual, expected, name.startsWith("order_") ? "order_q" : name, s.name);
      checked++;
    }
    const d = s.detail;
    if (d === undefined) continue;
    if (d.gzip_len) assert.deepEqual(s.sentences.map((x) => set.gzipLength(x)), d.gzip_len, `${s.name} gzip`);
    if (d.utf8_len) assert.deepEqual(s.sentences.map(utf8Length), d.utf8_len, `${s.name} utf8`);
    if (d.py_split) assert.deepEqual(s.sentences.map(pySplit), d.py_split, `${s.name} split`);
    if (d.gzip_len_joint_0_1 !== undefined) {
      assert.equal(set.gzipLength(s.sentences[0] + " " + s.sentences[1]), d.gzip_len_joint_0_1);
    }
    if (d.ncd_0_1 !== undefined) assert.equal(ncd(set, s.sentences[0], s.sentences[1]), d.ncd_0_1);
    if (d.ncd_1_0 !== undefined) assert.equal(ncd(set, s.sentences[1], s.sentences[0]), d.ncd_1_0);
    if (d.bleu_per_hypothesis) {
      const scores = selfBleuScores(set);
      d.bleu_per_hypothesis.forEach((b, i) =>
        assertClose(scores[i], b, "selfBleuSmoothed", `${s.name} hyp ${i}`)
      );
    }
    if (d.jaccard2_matrix) {
      const n = set.size, m = set.jaccardMatrix(2);
      assert.deepEqual(
        Array.from({ length: n }, (_, i) => Array.from(m.subarray(i * n, i * n + n))),
        d.jaccard2_matrix,
      );
    }
    if (d.vendi_jaccard2_eigenvalues_of_K_over_n) {
      const n = set.size, m = set.jaccardMatrix(2).map((x) => x / n);
      const w = symmetricEigenvalues(m, n);
      d.vendi_jaccard2_eigenvalues_of_K_over_n.forEach((e, i) =>
        assert.ok(Math.abs(w[i] - e) < 1e-12, `eig ${i}`)
      );
    }
  }
  assert.ok(checked > 300, `checked ${checked} values`);
});

sharedTest("metric vectors: paper cells reproduce float64 references and stored float32 values", () => {
  const v = readSharedJson<Vectors>("reference", "metric_vectors.json");
  assert.equal(v.paper_cells.length, 8);
  for (const c of v.paper_cells) {
    const where = `${c.model} ${c.max_num_words}w ${c.stored_group}[${c.index_temp_prompt}]`;
    if (c.sentences_raw) {
      assert.deepEqual(
        c.sentences_raw.map((s) => truncateWords(s, c.max_num_words)),
        c.sentences_truncated,
        where,
      );
    }
    const set = new SampleSet(c.sentences_truncated);
    for (const [name, expected] of Object.entries(c.reference_float64)) {
      const actual = name.startsWith("order_") ? orderQValue(set, name) : value(name, set);
      assertClose(actual, expected, name.startsWith("order_") ? "order_q" : name, where);
      const stored = c.stored_float32[name];
      if (!name.startsWith("order_")) {
        // Rounded to float32, as np.float32 arrays store them, the value equals the paper's.
        if (stored === null) assert.ok(Number.isNaN(actual), `${where} ${name} stored NaN`);
        else assert.equal(Math.fround(actual), stored, `${where} ${name} float32`);
      }
    }
  }
});
