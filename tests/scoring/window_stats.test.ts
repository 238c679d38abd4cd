/**
 * A window's statistics in two fixed halves: every row's statistics equal scoreRows' on the whole block; the sinks
 * follow the stated order (first half row by row into the caller's sink, second half into zeros, then added);
 * a helper thread gives bit-identical results (divergences from a base model too); a bad row in the second half
 * is named by its window row; and scoreCorpus gives the same accumulator with and without its helper thread.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { RandomState } from "../../lib/numeric/mt19937.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { createPositionStats, type PositionStats, scoreRows } from "../../lib/scoring/position_stats.ts";
import { createDivergenceStats, divergeRows } from "../../lib/scoring/divergence.ts";
import {
  divergeWindow,
  MIN_SPLIT_ROWS,
  scoreWindowStats,
  windowSplitRow,
  WindowStatsHelper,
} from "../../lib/scoring/window_stats.ts";
import { targetBytes, targetOver, type WindowRowsTarget } from "../../lib/scoring/window_rows.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { loadTokenizer, prefixTokenId } from "../../lib/models/tokenizer.ts";
import { CorpusAccumulator } from "../../lib/scoring/corpus_accumulator.ts";
import { defaultStatsHelper, scoreCorpus } from "../../lib/scoring/score_corpus.ts";
import type { CorpusDocument } from "../../lib/data/corpus_document.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const CORPUS = join(PROJECT_ROOT, "tests", "fixtures", "tiny-corpus", "corpus.jsonl");

/** Zeroed statistics and sinks for `rows` rows. */
function emptyTarget(rows: number, vocab: number): WindowRowsTarget {
  return targetOver(new ArrayBuffer(targetBytes(rows, vocab)), rows, vocab);
}

/** LM-like rows (scale 3), every fifth one peaked. */
function logitsOf(rows: number, vocab: number, seed: number): Float32Array {
  const rng = new RandomState(seed);
  const out = new Float32Array(rows * vocab);
  for (let i = 0; i < out.length; i++) out[i] = 3 * ((rng.nextUint32() + 0.5) / 4294967296 - 0.5);
  for (let r = 0; r < rows; r += 5) out[r * vocab + (r * 7) % vocab] += 25;
  return out;
}

function targetsOf(count: number, vocab: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => (i * 31 + 3) % vocab);
}

function sameStats(a: PositionStats, b: PositionStats, n: number, what: string): void {
  for (let i = 0; i < n; i++) {
    assert.ok(Object.is(a.logprobNats[i], b.logprobNats[i]), `${what} logprob ${i}`);
    assert.ok(Object.is(a.entropyNats[i], b.entropyNats[i]), `${what} entropy ${i}`);
    assert.ok(Object.is(a.confidence[i], b.confidence[i]), `${what} confidence ${i}`);
    assert.equal(a.argmax[i], b.argmax[i], `${what} argmax ${i}`);
    assert.equal(a.correct[i], b.correct[i], `${what} correct ${i}`);
  }
}

function sameArray(a: Float64Array, b: Float64Array, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${what} ${i}: ${a[i]} ≠ ${b[i]}`);
}

Deno.test("windowSplitRow: windows below MIN_SPLIT_ROWS stay whole, longer ones are cut in half", () => {
  assert.equal(MIN_SPLIT_ROWS, 64);
  assert.equal(windowSplitRow(1), 1);
  assert.equal(windowSplitRow(63), 63);
  assert.equal(windowSplitRow(64), 32);
  assert.equal(windowSplitRow(101), 50);
  assert.equal(windowSplitRow(1024), 512);
});

Deno.test("scoreWindowStats: per-row statistics as scoreRows', sinks in the stated order, a helper thread bit-identical", async () => {
  const vocab = 700, rows = 101;
  const logits = logitsOf(rows, vocab, 5);
  const helper = new WindowStatsHelper();
  try {
    // No context rows, context rows before the cut, and context rows past it.
    for (const nContext of [0, 30, 70]) {
      const predict = targetsOf(rows - nContext, vocab);
      const cut = windowSplitRow(rows);
      // The stated order, by hand with scoreRows: the first half into zeroed sinks row by row, the second half
      // into zeros of its own, then added entry by entry.
      const ctx = createPositionStats(rows), scored = createPositionStats(rows);
      const first = { context: new Float64Array(vocab), scored: new Float64Array(vocab) };
      const second = { context: new Float64Array(vocab), scored: new Float64Array(vocab) };
      const block = (from: number, to: number, sinks: typeof first) => {
        const ctxEnd = Math.min(to, nContext);
        if (from < ctxEnd) {
          scoreRows(logits, vocab, from, ctxEnd - from, null, ctx, {
            distributionSink: sinks.context,
            outOffset: from,
          });
        }
        const s = Math.max(from, nContext);
        if (s < to) {
          scoreRows(logits, vocab, s, to - s, predict.subarray(s - nContext, to - nContext), scored, {
            distributionSink: sinks.scored,
            outOffset: s - nContext,
          });
        }
      };
      block(0, cut, first);
      block(cut, rows, second);
      const expected = {
        context: first.context.map((v, i) => v + second.context[i]),
        scored: first.scored.map((v, i) => v + second.scored[i]),
      };
      // Per-row statistics do not depend on the cut: the same as one scoreRows call over each kind of row.
      const wholeCtx = createPositionStats(rows), wholeScored = createPositionStats(rows);
      if (nContext > 0) scoreRows(logits, vocab, 0, nContext, null, wholeCtx);
      scoreRows(logits, vocab, nContext, rows - nContext, predict, wholeScored);
      sameStats(ctx, wholeCtx, nContext, "by hand vs whole, context");
      sameStats(scored, wholeScored, rows - nContext, "by hand vs whole, scored");

      for (const [label, h] of [["here", null], ["helper", helper]] as const) {
        for (const kernel of ["wasm", "js"] as const) {
          const target = emptyTarget(rows, vocab);
          await scoreWindowStats({ logits, vocab, nContext, predict }, target, h, kernel);
          const what = `nContext ${nContext}, ${label}, ${kernel}`;
          sameStats(target.context, ctx, nContext, `${what} context`);
          sameStats(target.scored, scored, rows - nContext, `${what} scored`);
          sameArray(target.contextSink, expected.context, `${what} context sink`);
          sameArray(target.scoredSink, expected.scored, `${what} scored sink`);
        }
      }
      // The split order differs from one sink over every row only in the last bits.
      const single = new Float64Array(vocab);
      scoreRows(logits, vocab, nContext, rows - nContext, predict, createPositionStats(rows), {
        distributionSink: single,
      });
      for (let v = 0; v < vocab; v++) {
        assert.ok(Math.abs(single[v] - expected.scored[v]) <= 1e-14 * expected.scored[v] + 1e-300);
      }
    }
    // Every second half above ran on the thread (none fell back to this one).
    assert.equal(helper.stats.parts, 3 * 2);
    assert.equal(helper.stats.failures, 0);
    // A short window is not cut: one scoreRows call, sinks included, bit for bit.
    const short = logitsOf(40, vocab, 9), predict = targetsOf(40, vocab);
    const target = emptyTarget(40, vocab);
    await scoreWindowStats({ logits: short, vocab, nContext: 0, predict }, target, helper);
    const sink = new Float64Array(vocab), stats = createPositionStats(40);
    scoreRows(short, vocab, 0, 40, predict, stats, { distributionSink: sink });
    sameStats(target.scored, stats, 40, "short");
    sameArray(target.scoredSink, sink, "short sink");
  } finally {
    helper.close();
  }
});

Deno.test("scoreWindowStats: a row without a distribution in either half is named by its window row", async () => {
  const vocab = 300, rows = 80;
  const helper = new WindowStatsHelper();
  try {
    for (const bad of [10, 65]) {
      const logits = logitsOf(rows, vocab, 2);
      logits[bad * vocab + 17] = NaN;
      for (const h of [null, helper]) {
        await assert.rejects(
          scoreWindowStats(
            { logits, vocab, nContext: 0, predict: targetsOf(rows, vocab) },
            emptyTarget(rows, vocab),
            h,
          ),
          (e: Error) => e instanceof RangeError && e.message.startsWith(`row ${bad}:`),
        );
      }
    }
    assert.equal(helper.stats.failures, 1);
    // The helper thread is still usable after a failure.
    const logits = logitsOf(rows, vocab, 3);
    const a = emptyTarget(rows, vocab), b = emptyTarget(rows, vocab);
    await scoreWindowStats({ logits, vocab, nContext: 0, predict: targetsOf(rows, vocab) }, a, helper);
    await scoreWindowStats({ logits, vocab, nContext: 0, predict: targetsOf(rows, vocab) }, b, null);
    sameArray(a.scoredSink, b.scoredSink, "after a failure");
    // Wrong sizes are refused before any work.
    await assert.rejects(
      scoreWindowStats({ logits, vocab, nContext: 0, predict: targetsOf(rows - 1, vocab) }, a, helper),
      /logits hold 24000 values, not 79 rows × 300/,
    );
  } finally {
    helper.close();
  }
});

Deno.test("divergeWindow: the helper thread's half equals divergeRows bit for bit; a bad row is named", async () => {
  const vocab = 500, nContext = 7, nScored = 90, rows = nContext + nScored;
  const base = logitsOf(rows, vocab, 11), tuned = logitsOf(rows, vocab, 12);
  const expected = createDivergenceStats(nScored);
  divergeRows(base, tuned, vocab, nContext, nScored, expected);
  const helper = new WindowStatsHelper();
  try {
    for (const h of [null, helper]) {
      const out = createDivergenceStats(nScored);
      await divergeWindow(base, tuned, vocab, nContext, nScored, out, h);
      for (let i = 0; i < nScored; i++) {
        assert.ok(Object.is(out.klNats[i], expected.klNats[i]), `kl ${i}`);
        assert.ok(Object.is(out.jsNats[i], expected.jsNats[i]), `js ${i}`);
        assert.equal(out.argmaxChanged[i], expected.argmaxChanged[i]);
      }
    }
    assert.equal(helper.stats.parts, 1);
    // A NaN in the helper's half: the error names the window row, as divergeRows does.
    tuned[80 * vocab + 3] = NaN;
    await assert.rejects(
      divergeWindow(base, tuned, vocab, nContext, nScored, createDivergenceStats(nScored), helper),
      (e: Error) => e instanceof RangeError && /\brow 80\b/.test(e.message),
    );
  } finally {
    helper.close();
  }
});

Deno.test({
  name:
    "scoreWindowStats: a helper that cannot start its thread falls back to this one, with the same results",
  permissions: { read: false },
  async fn() {
    const vocab = 200, rows = 70;
    const logits = logitsOf(rows, vocab, 4), predict = targetsOf(rows, vocab);
    const helper = new WindowStatsHelper();
    try {
      const here = emptyTarget(rows, vocab);
      await scoreWindowStats({ logits, vocab, nContext: 0, predict }, here, null);
      // Two windows: the first finds the thread cannot load its code, the second does not try again.
      for (let w = 0; w < 2; w++) {
        const t = emptyTarget(rows, vocab);
        await scoreWindowStats({ logits, vocab, nContext: 0, predict }, t, helper);
        sameArray(t.scoredSink, here.scoredSink, `fallback sink, window ${w}`);
        sameStats(t.scored, here.scored, rows, `fallback, window ${w}`);
      }
      assert.equal(helper.stats.parts, 0);
      assert.equal(helper.stats.failures, 2);
    } finally {
      helper.close();
    }
  },
});

Deno.test("scoreCorpus: the same accumulator with and without the statistics helper thread", async () => {
  const model = await loadCausalLM(join(FIXTURE, "tuned"));
  const base = await loadCausalLM(join(FIXTURE, "base"));
  const tokenizer = await loadTokenizer(join(FIXTURE, "tuned"));
  try {
    const lines = (await Deno.readTextFile(CORPUS)).split("\n").filter((l) => l.trim() !== "");
    const docs: CorpusDocument[] = lines.map((line, index) => {
      const text = (JSON.parse(line) as { text: string }).text;
      return { index, line: index + 1, text, bytes: new TextEncoder().encode(text).length };
    });
    const run = async (statsHelper: boolean, withBase: boolean) => {
      const accumulator = new CorpusAccumulator({ vocab: model.info.vocabSize, withBase });
      const r = await scoreCorpus(
        (async function* () {
          yield* docs;
        })(),
        {
          model,
          ...(withBase ? { base } : {}),
          tokenizer,
          // Windows long enough to be cut, and final windows with context rows on both sides of the cut.
          maxSeqLen: 96,
          contextLen: 60,
          prefixToken: prefixTokenId(tokenizer),
          accumulator,
          statsHelper,
        },
      );
      return { r, json: JSON.stringify(accumulator.toJSON()) };
    };
    for (const withBase of [false, true]) {
      const on = await run(true, withBase), off = await run(false, withBase);
      assert.ok(on.r.tokensScored > 96 * 3, `${on.r.tokensScored} tokens`);
      assert.equal(off.r.helperParts, 0);
      // Every window here is cut: statistics, and with a base model divergences too, on the helper.
      assert.ok(on.r.helperParts >= 3 * (withBase ? 2 : 1), `${on.r.helperParts} parts on the helper`);
      assert.deepEqual({ ...on.r, helperParts: 0 }, off.r);
      assert.equal(on.json, off.json);
    }
  } finally {
    await model.dispose();
    await base.dispose();
  }
});

Deno.test("defaultStatsHelper: on for a CPU model that holds its weights, off for one loaded for scoring only, on for a GPU", async () => {
  const twoCores = (navigator.hardwareConcurrency ?? 1) >= 2;
  const neox = await loadCausalLM(join(FIXTURE, "base"));
  const llama = await loadCausalLM(join(PROJECT_ROOT, "tests", "fixtures", "tiny-llama2", "base"), {
    scoringOnly: true,
  });
  try {
    assert.equal(llama.scoringOnly, true, "the Llama fixture keeps its weights in external data");
    assert.equal(defaultStatsHelper(neox), twoCores);
    assert.equal(defaultStatsHelper(llama), false);
    // The same model as a CUDA session would describe it (no GPU here to load one).
    assert.equal(defaultStatsHelper({ ...llama, info: { ...llama.info, device: "cuda" } }), twoCores);
  } finally {
    await neox.dispose();
    await llama.dispose();
  }
});
