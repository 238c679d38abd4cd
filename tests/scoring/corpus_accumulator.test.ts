/**
 * CorpusAccumulator: shards merged in any order equal one pass bit for bit; JSON round trips are bit-exact and
 * resume exactly; corrupt serialisations are rejected naming the field; misuse is refused.
 */
import assert from "node:assert/strict";
import { RandomState } from "../../lib/numeric/mt19937.ts";
import { f64ArrayToBase64, f64ToHex } from "../../lib/numeric/float64_codec.ts";
import type { AccumulatorJson } from "../../lib/scoring/accumulator_json.ts";
import { CorpusAccumulator } from "../../lib/scoring/corpus_accumulator.ts";
import { computeCorpusStats } from "../../lib/scoring/corpus_stats.ts";
import { createDivergenceStats, divergeRows } from "../../lib/scoring/divergence.ts";
import { createPositionStats, scoreRows } from "../../lib/scoring/position_stats.ts";
import { rollingWindows } from "../../lib/scoring/windows.ts";

const V = 37;
const WINDOW = { prefixToken: 0, maxSeqLen: 6, contextLen: 2 }; // later windows re-read context rows

interface Doc {
  index: number;
  bytes: number;
  tokens: Int32Array;
  /** Per window: tuned and base logits [input length, V]. */
  logits: { tuned: Float32Array; base: Float32Array }[];
}

function uniform01(rng: RandomState): number {
  return (rng.nextUint32() + 0.5) / 4294967296;
}

function normal(rng: RandomState): number {
  return Math.sqrt(-2 * Math.log(uniform01(rng))) * Math.cos(2 * Math.PI * uniform01(rng));
}

/** Random documents of 1–30 tokens; logits of very different sharpness so magnitudes vary across documents. */
function makeCorpus(n: number, seed: number): Doc[] {
  const rng = new RandomState(seed);
  const docs: Doc[] = [];
  for (let index = 0; index < n; index++) {
    const length = 1 + rng.randint(30);
    const tokens = Int32Array.from({ length }, () => rng.randint(V));
    const scale = [0.2, 2, 6, 12][index % 4];
    const logits = [...rollingWindows(tokens, WINDOW)].map((w) => {
      const tuned = Float32Array.from({ length: w.input.length * V }, () => scale * normal(rng));
      const base = Float32Array.from(tuned, (x) => x + normal(rng));
      return { tuned, base };
    });
    docs.push({ index, bytes: 1 + 3 * length + rng.randint(5), tokens, logits });
  }
  return docs;
}

const stats = createPositionStats(WINDOW.maxSeqLen);
const div = createDivergenceStats(WINDOW.maxSeqLen);

/** The intended calling pattern: context rows, then scored rows, per window. */
function feed(acc: CorpusAccumulator, doc: Doc): void {
  acc.beginDocument(doc.index, doc.bytes);
  let k = 0;
  for (const w of rollingWindows(doc.tokens, WINDOW)) {
    const { tuned, base } = doc.logits[k++];
    const L = w.input.length;
    const P = w.predict.length;
    scoreRows(tuned, V, 0, L - P, null, stats, { distributionSink: acc.windowSinks.context });
    acc.addContextRows(stats, 0, L - P);
    scoreRows(tuned, V, L - P, P, w.predict, stats, { distributionSink: acc.windowSinks.scored });
    if (acc.withBase) divergeRows(base, tuned, V, L - P, P, div);
    acc.addScoredRows(stats, 0, P, acc.withBase ? div : undefined);
    acc.endWindow();
  }
  acc.endDocument();
}

function accumulate(docs: Doc[], withBase: boolean): CorpusAccumulator {
  const acc = new CorpusAccumulator({ vocab: V, withBase });
  for (const d of docs) feed(acc, d);
  return acc;
}

/** Every number as its float64 bits, typed arrays included: equal strings ⇔ bit-identical. */
function bits(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === "number") return f64ToHex(v);
    if (v instanceof Float64Array) return Array.from(v, f64ToHex);
    return v;
  });
}

function results(acc: CorpusAccumulator): string {
  const r = computeCorpusStats(acc);
  return bits({ summary: acc.summary(), stats: r.stats, cdf: r.sortedCumulative });
}

function roundTrip(acc: CorpusAccumulator): CorpusAccumulator {
  return CorpusAccumulator.fromJSON(JSON.parse(JSON.stringify(acc)));
}

const CORPUS = makeCorpus(40, 2024);

for (const withBase of [false, true]) {
  Deno.test(`accumulator (withBase ${withBase}): shards merged in any order equal one pass bit for bit`, () => {
    const whole = accumulate(CORPUS, withBase);
    const expected = results(whole);
    assert.equal(whole.documents, 40);

    // The test is only meaningful if order matters for plain float sums: it does for the distribution.
    const rows = CORPUS.map((d) => {
      const a = accumulate([d], withBase);
      return a.summary().distributionSum;
    });
    const naive = (order: Float64Array[]) =>
      order.reduce((acc, r) => acc.map((x, i) => x + r[i]), new Float64Array(V));
    assert.notEqual(
      bits(naive(rows)),
      bits(naive([...rows].reverse())),
      "plain sums happen to be order-free",
    );

    for (const cuts of [[13], [5, 21, 30], [1, 2, 39], [0, 20]]) {
      const bounds = [0, ...cuts, CORPUS.length];
      const shards = bounds.slice(1).map((end, i) => accumulate(CORPUS.slice(bounds[i], end), withBase));
      const orders = [
        shards.map((_, i) => i),
        shards.map((_, i) => shards.length - 1 - i),
        shards.map((_, i) => (i + 1) % shards.length),
      ];
      for (const order of orders) {
        const copies = shards.map(roundTrip); // merging mutates; also exercises deserialised shards
        const target = new CorpusAccumulator({ vocab: V, withBase });
        for (const i of order) target.merge(copies[i]);
        assert.equal(results(target), expected, `cuts ${cuts}, order ${order}`);
      }
      // Tree merge: ((0 1) (2 3)) …
      let level = shards.map(roundTrip);
      while (level.length > 1) {
        const next: CorpusAccumulator[] = [];
        for (let i = 0; i < level.length; i += 2) {
          if (i + 1 < level.length) level[i + 1].merge(level[i]);
          next.push(level[i + 1] ?? level[i]);
        }
        level = next;
      }
      assert.equal(results(level[0]), expected, `cuts ${cuts}, tree merge`);
    }

    // Documents fed in another order (they are summed exactly across documents) give the same result too.
    const shuffled = [...CORPUS].sort((a, b) => ((a.index * 7919) % 41) - ((b.index * 7919) % 41));
    assert.equal(results(accumulate(shuffled, withBase)), expected);
  });
}

Deno.test("accumulator: JSON round trip is bit-exact and a resumed run ends with the same numbers", () => {
  const whole = accumulate(CORPUS, true);
  const json = JSON.stringify(whole.toJSON());
  const back = CorpusAccumulator.fromJSON(JSON.parse(json));
  assert.equal(JSON.stringify(back.toJSON()), json);
  assert.equal(results(back), results(whole));

  // Checkpoint after 17 documents, restore, continue.
  const first = accumulate(CORPUS.slice(0, 17), true);
  const resumed = CorpusAccumulator.fromJSON(JSON.parse(JSON.stringify(first)));
  for (const d of CORPUS.slice(17)) feed(resumed, d);
  assert.equal(results(resumed), results(whole));

  // An open document is not part of the serialisation (a checkpoint taken mid-document resumes before it).
  const partial = accumulate(CORPUS.slice(0, 3), false);
  const before = JSON.stringify(partial);
  partial.beginDocument(3, 10);
  scoreRows(CORPUS[3].logits[0].tuned, V, 0, 1, [1], stats, { distributionSink: partial.windowSinks.scored });
  partial.addScoredRows(stats, 0, 1);
  assert.equal(JSON.stringify(partial), before);
  partial.discardDocument();
  assert.equal(partial.documentOpen, false);
  feed(partial, CORPUS[3]);
  assert.equal(results(partial), results(accumulate(CORPUS.slice(0, 4), false)));
});

Deno.test("accumulator: corrupt serialisations are rejected naming the field", () => {
  const good = JSON.parse(JSON.stringify(accumulate(CORPUS.slice(0, 5), true))) as AccumulatorJson;
  // deno-lint-ignore no-explicit-any -- mutating arbitrary fields of the parsed JSON
  const cases: [string, (j: any) => void, RegExp][] = [
    [
      "format",
      (j) => (j.format = "accumulator/2"),
      /accumulator\/1: format: expected "accumulator\/1", got "accumulator\/2"/,
    ],
    ["missing", (j) => delete j.counts.tokens, /counts\.tokens: missing/],
    ["unknown", (j) => (j.extra = 1), /extra: unknown field/],
    ["not an object", (j) => (j.sums = []), /sums: expected an object/],
    ["negative", (j) => (j.counts.bytes = -1), /counts\.bytes: expected an integer ≥ 0, got -1/],
    ["bytes mismatch", (j) => (j.counts.bytes += 1), /counts\.bytes: \d+ ≠ the documents' bytes/],
    [
      "hex",
      (j) => (j.sums.logprobNats.partials[0] = "xyz"),
      /sums\.logprobNats\.partials\[0\]: expected 16 lowercase hex/,
    ],
    ["special", (j) => (j.sums.klNats.special = f64ToHex(2)), /sums\.klNats\.special: must be 0/],
    [
      "base64",
      (j) => (j.distribution.hi = f64ArrayToBase64(new Float64Array(36))),
      /distribution\.hi: expected 37 float64 values \(296 bytes\), got 36/,
    ],
    ["alphabet", (j) => (j.windowDistribution.lo = "!!!!"), /windowDistribution\.lo: expected base64/],
    [
      "non-finite",
      (j) => (j.distribution.hi = f64ArrayToBase64(new Float64Array(37).fill(Infinity))),
      /distribution\.hi\[0\]: not finite/,
    ],
    ["histogram length", (j) => j.entropyHistogram.pop(), /entropyHistogram: expected 100 entries, got 99/],
    ["histogram sum", (j) => j.confidenceHistogram[3]++, /confidenceHistogram: \d+ ≠ counts\.tokens/],
    [
      "calibration",
      (j) => (j.calibration.sumConfidence = []),
      /calibration\.sumConfidence: expected 20 sums/,
    ],
    ["doc column", (j) => (j.documents.tokens = ""), /documents\.tokens: expected 5 float64 values/],
    ["first doc", (j) => (j.firstDocument.docIndex = 3), /firstDocument\.docIndex: 3 is not the lowest/],
    ["first doc null", (j) => (j.firstDocument = null), /firstDocument: is null but there are documents/],
    [
      "overflow",
      (j) => (j.distribution.overflow = [[99, []]]),
      /distribution\.overflow\[0\]\[0\]: index 99 ≥ vocab 37/,
    ],
    ["root", (j) => (j.vocab = "37"), /vocab: expected an integer ≥ 0, got "37"/],
  ];
  for (const [name, mutate, message] of cases) {
    const j = structuredClone(good);
    mutate(j);
    assert.throws(() => CorpusAccumulator.fromJSON(j), message, name);
  }
  assert.throws(() => CorpusAccumulator.fromJSON(null), /\(root\): expected an object, got null/);
  CorpusAccumulator.fromJSON(structuredClone(good)); // the unmodified copy is fine
});

Deno.test("accumulator: misuse is refused with a message", () => {
  const acc = new CorpusAccumulator({ vocab: V });
  assert.throws(() => acc.addScoredRows(stats, 0, 1), /no document is open/);
  assert.throws(() => acc.endWindow(), /no document is open/);
  acc.beginDocument(0, 5);
  assert.throws(() => acc.beginDocument(1, 5), /document 0 is still open/);
  const logits = CORPUS[0].logits[0].tuned;
  scoreRows(logits, V, 0, 1, null, stats);
  assert.throws(() => acc.addScoredRows(stats, 0, 1), /row 0 has no target log-prob/);
  scoreRows(logits, V, 0, 1, [3], stats); // no sink passed
  acc.addScoredRows(stats, 0, 1);
  assert.throws(() => acc.endWindow(), /windowSinks\.scored sums to 0 for 1 rows/);
  assert.throws(() => acc.endDocument(), /call endWindow/);
  assert.throws(() => acc.addScoredRows(stats, 0, 1, div), /built without withBase/);
  assert.throws(() => acc.addContextRows(stats, 5, 3), /exceed capacity 6/);
  acc.discardDocument();
  assert.throws(() => acc.endWindow(), /no document is open/);

  // A document without scored rows is counted apart and changes nothing else.
  acc.beginDocument(7, 0);
  assert.equal(acc.endDocument(), false);
  assert.equal(acc.summary().emptyDocuments, 1);
  assert.equal(acc.documents, 0);

  feed(acc, CORPUS[1]);
  assert.throws(() => feed(acc, CORPUS[1]), /document 1 was already accumulated/);
  acc.discardDocument();
  const other = accumulate([CORPUS[1], CORPUS[2]], false);
  assert.throws(() => acc.merge(other), /document 1 is in both accumulators/);
  assert.throws(() => acc.merge(accumulate([CORPUS[3]], true)), /withBase differs/);
  assert.throws(() => acc.merge(new CorpusAccumulator({ vocab: V + 1 })), /vocab differs/);
  assert.throws(() => acc.merge(acc), /into itself/);
  const based = new CorpusAccumulator({ vocab: V, withBase: true });
  based.beginDocument(0, 1);
  assert.throws(() => based.addScoredRows(stats, 0, 1), /pass the rows' divergences/);
});
