/**
 * The generation loop on the tiny GPT-NeoX fixture (Pythia architecture, KV-cache graph, real tokenizer):
 * KV-cache steps against full forward passes, greedy decoding against step-by-step argmax, per-token log-probs
 * against the scoring path, seeded reproducibility and independence from batching.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import type { CausalLM } from "../../lib/models/causal_lm.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { loadTokenizer, type Tokenizer } from "../../lib/models/tokenizer.ts";
import { generate, type GenerateOptions, worthAHelper } from "../../lib/sampling/generate.ts";
import { type SamplerHelper, startSamplerHelper } from "../../lib/sampling/sampler_helper.ts";
import { createPositionStats, scoreRows } from "../../lib/scoring/position_stats.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox");
const PROMPT = "What is the capital of France?  Sure let me answer your question. The";

let cached: Promise<{ base: CausalLM; tuned: CausalLM; tok: Tokenizer }> | undefined;
function models() {
  cached ??= (async () => ({
    base: await loadCausalLM(join(FIXTURE, "base")),
    tuned: await loadCausalLM(join(FIXTURE, "tuned")),
    tok: await loadTokenizer(join(FIXTURE, "base")),
  }))();
  return cached;
}

const sampled = (over: Partial<GenerateOptions> = {}): GenerateOptions => ({
  settings: { temperature: 1, topK: 50, topP: 1 },
  maxNewTokens: 30,
  stopTokenIds: [0],
  ...over,
});

/** Resolves once the helper's thread has loaded its kernel. */
async function waitUntilReady(helper: SamplerHelper): Promise<void> {
  for (let i = 0; i < 500 && !helper.ready; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(helper.ready, "the helper thread started");
}

function argmax(row: Float32Array): number {
  let a = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[a]) a = i;
  return a;
}

/** Full-forward logits of the last position of `ids`. */
async function lastLogits(model: CausalLM, ids: number[]): Promise<Float32Array> {
  const o = await model.forward([Int32Array.from(ids)]);
  return o.logits.slice((o.seq - 1) * o.vocab, o.seq * o.vocab);
}

Deno.test("KV-cache steps give the logits of full forward passes (1e-5), rows selected and repeated", async () => {
  const { base, tok } = await models();
  assert.equal(base.info.kvCache, true);
  assert.deepEqual(base.info.eosTokenIds, [0]);
  const ids = tok.encode(PROMPT);
  const first = await base.step([Int32Array.from(ids)]);
  assert.equal(first.batch, 1);
  assert.equal(first.state.length, ids.length);
  const full = await lastLogits(base, ids);
  let maxDiff = 0;
  for (let i = 0; i < full.length; i++) maxDiff = Math.max(maxDiff, Math.abs(full[i] - first.logits[i]));
  assert.ok(maxDiff < 1e-5, `prefill vs forward: ${maxDiff}`);

  // Three rows from one prompt state, each fed a different next token.
  const three = base.selectRows(first.state, [0, 0, 0]);
  assert.equal(three.batch, 3);
  const next = [11, 200, 4000];
  const stepped = await base.step(next.map((t) => Int32Array.of(t)), three);
  assert.equal(stepped.state.length, ids.length + 1);
  for (let r = 0; r < 3; r++) {
    const ref = await lastLogits(base, [...ids, next[r]]);
    const row = stepped.logits.subarray(r * stepped.vocab, (r + 1) * stepped.vocab);
    let d = 0;
    for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(ref[i] - row[i]));
    assert.ok(d < 1e-5, `row ${r}: ${d}`);
  }
  // Dropping row 1 keeps rows 0 and 2 intact.
  const kept = base.selectRows(stepped.state, [2, 0]);
  const again = await base.step([Int32Array.of(5), Int32Array.of(5)], kept);
  const ref2 = await lastLogits(base, [...ids, next[2], 5]);
  let d2 = 0;
  for (let i = 0; i < ref2.length; i++) d2 = Math.max(d2, Math.abs(ref2[i] - again.logits[i]));
  assert.ok(d2 < 1e-5, `selected row: ${d2}`);
  assert.throws(() => base.selectRows(stepped.state, [3]), /row 3 outside \[0, 3\)/);
  await assert.rejects(base.step([Int32Array.of(1)], stepped.state), /1 rows but the state holds 3/);
  await assert.rejects(base.step([Int32Array.of(60000)]), /id 60000 outside \[0, 50304\)/);
});

Deno.test("greedy generation equals step-by-step argmax of full forward passes", async () => {
  const { base, tuned, tok } = await models();
  for (const model of [base, tuned]) {
    const ids = tok.encode(PROMPT);
    const [g] = await generate(model, ids, [0], sampled({ settings: { temperature: 0, topK: 0, topP: 1 } }));
    const seq = [...ids];
    for (let i = 0; i < g.tokenIds.length; i++) seq.push(argmax(await lastLogits(model, seq)));
    assert.deepEqual(g.tokenIds, seq.slice(ids.length));
    assert.ok(g.entropiesNats.every((h) => h === 0));
    assert.ok(g.logprobsSampledNats.every((x) => x === 0));
  }
});

Deno.test("per-token model log-probs equal the scoring path's on prompt + generated text", async () => {
  const { tuned, tok } = await models();
  const ids = tok.encode(PROMPT);
  const samples = await generate(
    tuned,
    ids,
    [7, 8],
    sampled({ settings: { temperature: 0.9, topK: 0, topP: 0.95 } }),
  );
  for (const s of samples) {
    const seq = [...ids, ...s.tokenIds];
    const o = await tuned.forward([Int32Array.from(seq)]);
    const rows = s.tokenIds.length;
    const stats = createPositionStats(rows);
    // Row i of the forward predicts token i + 1: rows ids.length−1 … seq.length−2 predict the generated tokens.
    scoreRows(o.logits, o.vocab, ids.length - 1, rows, s.tokenIds, stats);
    for (let i = 0; i < rows; i++) {
      assert.ok(
        Math.abs(stats.logprobNats[i] - s.logprobsModelNats[i]) < 1e-5,
        `token ${i}: ${s.logprobsModelNats[i]} vs scoring ${stats.logprobNats[i]}`,
      );
      assert.ok(s.logprobsSampledNats[i] <= 0 && s.entropiesNats[i] >= 0);
    }
  }
});

Deno.test("seeded: the same seeds reproduce, other seeds differ, batching changes no token", async () => {
  const { base, tok } = await models();
  const ids = tok.encode(PROMPT);
  const seeds = Array.from({ length: 8 }, (_, i) => 1000 + i);
  const a = await generate(base, ids, seeds, sampled());
  const b = await generate(base, ids, seeds, sampled());
  assert.deepEqual(a, b, "same seeds, same batch: bit-identical");
  const other = await generate(base, ids, seeds.map((s) => s + 1_000_000), sampled());
  assert.ok(a.some((s, i) => s.tokenIds.join() !== other[i].tokenIds.join()), "other seeds differ");
  assert.equal(new Set(a.map((s) => s.tokenIds.join())).size, a.length, "8 different samples");
  // Batches of 3 and one sample alone: the same tokens (float rounding of the batched matmul may move
  // log-probs in the 6th decimal).
  const small = await generate(base, ids, seeds, sampled({ batchSize: 3 }));
  const alone = await generate(base, ids, [seeds[5]], sampled());
  assert.deepEqual(small.map((s) => s.tokenIds), a.map((s) => s.tokenIds));
  assert.deepEqual(alone[0].tokenIds, a[5].tokenIds);
  for (let i = 0; i < alone[0].logprobsModelNats.length; i++) {
    assert.ok(Math.abs(alone[0].logprobsModelNats[i] - a[5].logprobsModelNats[i]) < 1e-4);
  }
});

Deno.test("generation stops at a stop token (kept) or the token limit, and reports progress", async () => {
  const { base, tok } = await models();
  const ids = tok.encode(PROMPT);
  const free = await generate(base, ids, [1, 2, 3], sampled({ stopTokenIds: [] }));
  assert.ok(free.every((s) => s.tokenIds.length === 30 && s.finish === "length"));
  // Make the 4th generated token of sample 0 a stop token: that sample ends there, the others run on.
  const stopId = free[0].tokenIds[3];
  const seen: number[] = [];
  const stopped = await generate(
    base,
    ids,
    [1, 2, 3],
    sampled({ stopTokenIds: [stopId], onTokens: (n) => seen.push(n) }),
  );
  const firstStop = free[0].tokenIds.indexOf(stopId);
  assert.deepEqual(stopped[0].tokenIds, free[0].tokenIds.slice(0, firstStop + 1));
  assert.equal(stopped[0].finish, "stop_token");
  for (const [i, s] of stopped.entries()) {
    const k = free[i].tokenIds.indexOf(stopId);
    assert.deepEqual(s.tokenIds, k < 0 ? free[i].tokenIds : free[i].tokenIds.slice(0, k + 1));
  }
  assert.equal(seen.at(-1), stopped.reduce((n, s) => n + s.tokenIds.length, 0));
  await assert.rejects(generate(base, [], [1], sampled()), /no tokens/);
  await assert.rejects(generate(base, ids, [1], sampled({ maxNewTokens: 0 })), /maxNewTokens/);
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    generate(base, ids, [1], sampled({ helperThread: "yes" as any })),
    /helperThread must be true, false or a SamplerHelper, got "yes"/,
  );
  const controller = new AbortController();
  controller.abort(new Error("stop now"));
  await assert.rejects(generate(base, ids, [1], sampled({ signal: controller.signal })), /stop now/);
});

Deno.test({
  name: "a sampling helper thread, shared, per call or none, changes no token, log-prob or entropy",
  ignore: navigator.hardwareConcurrency < 2, // no helper starts on one core
}, async () => {
  const { base, tok } = await models();
  const ids = tok.encode(PROMPT);
  const seeds = Array.from({ length: 6 }, (_, i) => 77 + i);
  // Rows stop at different steps (a stop token), so steps of 6, then fewer rows go through the helper.
  const opts = sampled({ stopTokenIds: [13, 15] });
  const none = await generate(base, ids, seeds, { ...opts, helperThread: false });
  assert.ok(new Set(none.map((s) => s.tokenIds.length)).size > 1, "samples end at different steps");
  const helper = startSamplerHelper(6, base.info.vocabSize)!;
  try {
    await waitUntilReady(helper);
    for (
      const settings of [opts.settings, { temperature: 0.7, topK: 0, topP: 0.9 }, {
        temperature: 0,
        topK: 50,
        topP: 1,
      }]
    ) {
      const alone = await generate(base, ids, seeds, { ...opts, settings, helperThread: false });
      const shared = await generate(base, ids, seeds, { ...opts, settings, helperThread: helper });
      assert.deepEqual(shared, alone, `settings ${JSON.stringify(settings)}`);
    }
    assert.ok(helper.stats.helperRows > 0, "the helper prepared rows");
    assert.equal(helper.stats.fallbacks, 0);
    // A batch larger than the helper was started for runs on this thread alone.
    const wider = Array.from({ length: 9 }, (_, i) => 77 + i);
    assert.deepEqual(
      await generate(base, ids, wider, { ...opts, helperThread: helper }),
      await generate(base, ids, wider, { ...opts, helperThread: false }),
    );
  } finally {
    helper.close();
  }
  // A helper started for the call alone (its thread may not be ready for the first steps: those run here).
  assert.deepEqual(await generate(base, ids, seeds, { ...opts, helperThread: true }), none);
  assert.equal(worthAHelper(25, 25 * 70, 50_304), true, "the benchmark's call repays a thread of its own");
  assert.equal(worthAHelper(25, 25 * 20, 50_304), false, "a short call does not");
  assert.equal(worthAHelper(1, 1e9, 50_304), false, "one row has nothing to share");
});

Deno.test("release frees a decoding state's cache tensors at once (the graph as exported)", async () => {
  const { tok } = await models();
  const exported = await loadCausalLM(join(FIXTURE, "base"), { kvBuffer: false });
  try {
    assert.equal(exported.kvBuffer, false);
    const first = await exported.step([Int32Array.from(tok.encode(PROMPT))]);
    const two = exported.selectRows(first.state, [0, 0]);
    const next = await exported.step([Int32Array.of(5), Int32Array.of(6)], two);
    const tensors = [...two.past!.values()];
    assert.ok(tensors.every((t) => (t.data as Float32Array).length > 0));
    exported.release(two);
    assert.ok(tensors.every((t) => (t.data as Float32Array).length === 0), "detached");
    // The state the step returned is untouched, and steps on.
    const after = await exported.step([Int32Array.of(7), Int32Array.of(8)], next.state);
    assert.equal(after.state.length, next.state.length + 1);
    exported.release(after.state);
    exported.release(after.state); // twice: nothing left to free, no error
  } finally {
    await exported.dispose();
  }
});

Deno.test("release frees a decoding line's KV buffers with its newest state, and only then", async () => {
  const { base, tok } = await models();
  assert.equal(base.kvBuffer, true);
  const first = await base.step([Int32Array.from(tok.encode(PROMPT))]);
  const two = base.selectRows(first.state, [0, 0]);
  base.release(first.state); // the newest state on the prompt's buffers: they go (two has its own copy)
  assert.ok(first.state.buffers!.data.every((d) => d.length === 0), "the prompt's buffers detached");
  const next = await base.step([Int32Array.of(5), Int32Array.of(6)], two);
  assert.equal(next.state.buffers, two.buffers, "a step writes after the cache it read");
  base.release(two); // next.state still reads these buffers: nothing is freed
  assert.ok(two.buffers!.data.every((d) => d.length > 0));
  const after = await base.step([Int32Array.of(7), Int32Array.of(8)], next.state);
  assert.equal(after.state.length, next.state.length + 1);
  base.release(after.state);
  assert.ok(after.state.buffers!.data.every((d) => d.length === 0), "detached");
  base.release(after.state); // twice: nothing left to free, no error
  // Every state of the line is spent with its buffers.
  await assert.rejects(base.step([Int32Array.of(1), Int32Array.of(2)], next.state), /KV cache was released/);
  assert.throws(() => base.selectRows(two, [1]), /KV cache was released/);
});

Deno.test("dispose the fixture models", async () => {
  const { base, tuned } = await models();
  await base.dispose();
  await tuned.dispose();
});
