/**
 * The KV cache kept in the toolkit's buffers (onnx_kv_buffer_graph.ts, kv_buffers.ts, causal_lm.ts): on every
 * fixture graph (GPT-NeoX, Llama 2 in fp32 with external data, fp16, q8 and q4, Llama 3, Qwen 3) the edited graph
 * gives the same logits, bit for bit, as the graph as exported — full forward passes, a prompt, rows selected and
 * repeated, steps, a branch from an older state (copied, not overwritten), growth past the first capacity — and
 * the same samples; graphs it does not recognise are left as exported, with the reason.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import type { CausalLM, DecodeState } from "../../lib/models/causal_lm.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import type { CausalLMDtype } from "../../lib/models/onnx_files.ts";
import { kvBufferGraph, kvBufferInputName } from "../../lib/models/onnx_kv_buffer_graph.ts";
import { presentOutputOf } from "../../lib/models/onnx_kv_buffer_session.ts";
import { keepGraphOutputs } from "../../lib/models/onnx_graph_outputs.ts";
import { externalTensorsOf } from "../../lib/models/onnx_external_data.ts";
import { FileBytes } from "../../lib/models/protobuf_fields.ts";
import {
  allocateKvBuffers,
  copyKvRows,
  kvCapacityFor,
  releaseKvBuffers,
  writeKvEntries,
} from "../../lib/models/kv_buffers.ts";
import type { KvBufferEntry } from "../../lib/models/onnx_kv_buffer_graph.ts";
import { generate } from "../../lib/sampling/generate.ts";

const FIXTURES = join(PROJECT_ROOT, "tests", "fixtures");
const CASES: { folder: string; dtype: CausalLMDtype }[] = [
  { folder: "tiny-gptneox/base", dtype: "fp32" },
  { folder: "tiny-llama2/base", dtype: "fp32" },
  { folder: "tiny-llama2/base", dtype: "fp16" },
  { folder: "tiny-llama2/base", dtype: "q8" },
  { folder: "tiny-llama2/base", dtype: "q4" },
  { folder: "tiny-llama3/base", dtype: "fp32" },
  { folder: "tiny-qwen3/base", dtype: "fp32" },
];

/** The external tensors of the graph `bytes` (written to a temporary file for the reader, then removed). */
async function externalTensorsIn(bytes: Uint8Array) {
  const path = await Deno.makeTempFile({ suffix: ".onnx" });
  try {
    await Deno.writeFile(path, bytes);
    return externalTensorsOf(path);
  } finally {
    await Deno.remove(path);
  }
}

/** The same calls on both models, every logits array compared bit for bit. */
async function sameLogits(buffered: CausalLM, exported: CausalLM, label: string): Promise<void> {
  const same = (a: Float32Array, b: Float32Array, what: string) =>
    assert.deepEqual(a, b, `${label}: ${what} differs`);
  const windows = [Int32Array.of(3, 1, 4, 1, 5), Int32Array.of(9, 2, 6, 5, 3)];
  same((await buffered.forward(windows)).logits, (await exported.forward(windows)).logits, "forward");

  const prompt = [Int32Array.of(2, 7, 1, 8)];
  const p = [await buffered.step(prompt), await exported.step(prompt)];
  same(p[0].logits, p[1].logits, "prompt");
  let states: DecodeState[] = p.map((x, i) => [buffered, exported][i].selectRows(x.state, [0, 0, 0]));
  const older: DecodeState[] = [];
  for (let t = 0; t < 4; t++) {
    const tokens = [Int32Array.of(10 + t), Int32Array.of(20 + t), Int32Array.of(30 + t)];
    const out = [await buffered.step(tokens, states[0]), await exported.step(tokens, states[1])];
    same(out[0].logits, out[1].logits, `step ${t}`);
    if (t === 1) older.push(states[0], states[1]);
    states = out.map((o) => o.state);
  }
  // A branch from a state that has already been stepped on from: the buffered model must copy it first.
  const branch = [Int32Array.of(40), Int32Array.of(41), Int32Array.of(42)];
  const b = [await buffered.step(branch, older[0]), await exported.step(branch, older[1])];
  same(b[0].logits, b[1].logits, "branch");
  assert.notEqual(b[0].state.buffers, older[0].buffers, "the branch stepped on a copy");
  // The line it branched from is intact.
  const on = [Int32Array.of(50), Int32Array.of(51), Int32Array.of(52)];
  const c = [await buffered.step(on, states[0]), await exported.step(on, states[1])];
  same(c[0].logits, c[1].logits, "the line after the branch");
  // Rows dropped and reordered.
  const picked = [buffered.selectRows(c[0].state, [2, 0]), exported.selectRows(c[1].state, [2, 0])];
  const two = [Int32Array.of(60), Int32Array.of(61)];
  const d = [await buffered.step(two, picked[0]), await exported.step(two, picked[1])];
  same(d[0].logits, d[1].logits, "selected rows");
}

for (const { folder, dtype } of CASES) {
  Deno.test(`${folder} (${dtype}): the KV cache in buffers gives the graph's own logits, bit for bit`, async () => {
    const dir = join(FIXTURES, folder);
    const buffered = await loadCausalLM(dir, { dtype });
    const exported = await loadCausalLM(dir, { dtype, kvBuffer: false });
    try {
      assert.equal(buffered.kvBuffer, true);
      assert.equal("kvBuffer" in buffered.info, false, "how it runs is not what was loaded");
      assert.equal(exported.kvBuffer, false);
      await sameLogits(buffered, exported, `${folder} ${dtype}`);
    } finally {
      await buffered.dispose();
      await exported.dispose();
    }
  });
}

Deno.test("the KV buffers grow past their first capacity; samples equal the exported graph's", async () => {
  const dir = join(FIXTURES, "tiny-gptneox", "base");
  const buffered = await loadCausalLM(dir);
  const exported = await loadCausalLM(dir, { kvBuffer: false });
  try {
    // One row, 3 + 80 positions: the first capacity (3 + 64) is outgrown once.
    let s = [await buffered.step([Int32Array.of(1, 2, 3)]), await exported.step([Int32Array.of(1, 2, 3)])];
    const firstCapacity = s[0].state.buffers!.capacity;
    assert.equal(firstCapacity, 3 + 64);
    for (let t = 0; t < 80; t++) {
      const tok = [Int32Array.of((t * 37) % 1000)];
      s = [await buffered.step(tok, s[0].state), await exported.step(tok, s[1].state)];
      assert.deepEqual(s[0].logits, s[1].logits, `step ${t}`);
    }
    assert.equal(s[0].state.buffers!.capacity, 2 * firstCapacity);
    for (const bad of [0, -3, 2.5, Number.NaN]) {
      await assert.rejects(
        buffered.step([Int32Array.of(1)], undefined, bad),
        new RangeError(`step: reserve must be a positive integer, got ${bad}`),
      );
    }
    // A reserve sizes the first buffers (a smaller one than the need is ignored).
    assert.equal((await buffered.step([Int32Array.of(1, 2, 3)], undefined, 50)).state.buffers!.capacity, 50);
    assert.equal((await buffered.step([Int32Array.of(1, 2, 3)], undefined, 2)).state.buffers!.capacity, 67);
    // generate reserves prompt + new tokens: every state of the call has exactly that room, nothing grows.
    const capacities = new Set<number | undefined>();
    const watched: CausalLM = {
      ...buffered,
      step: async (tokens, state, reserve) => {
        const out = await buffered.step(tokens, state, reserve);
        capacities.add(out.state.buffers?.capacity);
        return out;
      },
    };
    const opts = { settings: { temperature: 1, topK: 50, topP: 1 }, maxNewTokens: 12, stopTokenIds: [] };
    assert.deepEqual(
      await generate(watched, [5, 6, 7], [0, 1, 2, 3], opts),
      await generate(exported, [5, 6, 7], [0, 1, 2, 3], opts),
    );
    assert.deepEqual([...capacities], [3 + 12]);
  } finally {
    await buffered.dispose();
    await exported.dispose();
  }
});

Deno.test("loadCausalLM refuses a kvBuffer, scoringOnly or allowRemote that is not a boolean, before loading", async () => {
  const dir = join(FIXTURES, "tiny-gptneox", "base");
  for (const flag of ["kvBuffer", "scoringOnly", "allowRemote"]) {
    await assert.rejects(
      loadCausalLM(dir, { [flag]: "no" }),
      new TypeError(`${flag} must be true or false, got "no"`),
    );
  }
});

Deno.test("which loads keep the KV cache in buffers: the CPU by default, scoring-only loads of inline graphs", async () => {
  const inline = await loadCausalLM(join(FIXTURES, "tiny-gptneox", "base"), { scoringOnly: true });
  const external = await loadCausalLM(join(FIXTURES, "tiny-llama2", "base"), { scoringOnly: true });
  try {
    // A graph holding its weights has no scoring-only edit: the buffer graph (no present.* outputs) serves it.
    assert.equal(inline.kvBuffer, true);
    assert.equal(inline.scoringOnly, false);
    // External data: the scoring-only session, which cannot decode.
    assert.equal(external.kvBuffer, false);
    assert.equal(external.scoringOnly, true);
  } finally {
    await inline.dispose();
    await external.dispose();
  }
});

Deno.test("a graph file linked in from another folder keeps its KV cache in buffers, same logits", async () => {
  const dir = await Deno.makeTempDir();
  const src = join(FIXTURES, "tiny-gptneox", "base");
  try {
    await Deno.mkdir(join(dir, "onnx"));
    for await (const e of Deno.readDir(src)) {
      if (e.isFile) await Deno.copyFile(join(src, e.name), join(dir, e.name));
    }
    await Deno.symlink(join(src, "onnx", "model.onnx"), join(dir, "onnx", "model.onnx"));
    const linked = await loadCausalLM(dir);
    const exported = await loadCausalLM(src, { kvBuffer: false });
    try {
      assert.equal(linked.kvBuffer, true);
      await sameLogits(linked, exported, "linked graph");
    } finally {
      await linked.dispose();
      await exported.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kvBufferGraph edits the inputs and outputs only, and names why a graph is left alone", async () => {
  const file = join(FIXTURES, "tiny-gptneox", "base", "onnx", "model.onnx");
  const bytes = await readFile(file);
  const edited = kvBufferGraph(bytes, presentOutputOf, file);
  assert.ok(typeof edited !== "string", String(edited));
  assert.equal(edited.entries.length, 2 * 2); // two layers, keys and values
  assert.deepEqual(edited.entries.map((e) => e.input), edited.entries.map((e) => kvBufferInputName(e.past)));
  assert.deepEqual(edited.entries[0], {
    past: "past_key_values.0.key",
    input: "kv_buffer.0.key",
    output: edited.entries[0].output,
    heads: 2,
    headSize: 8,
    type: "float32",
  });
  // The edited graph is a graph the edit no longer applies to (no past inputs left), and its byte count
  // grew by the new fields only (every node and initializer copied).
  assert.equal(
    kvBufferGraph(edited.bytes, presentOutputOf, "edited"),
    "the graph has no past-key-value inputs",
  );
  assert.ok(edited.bytes.length > bytes.length && edited.bytes.length < bytes.length + 4096);
  // Read from the file with its weights referred to where they lie (as the loader opens it): the same entries,
  // a graph of a few kB, every large initializer an external-data reference into the graph file itself.
  const handle = Deno.openSync(file);
  let referred;
  try {
    referred = kvBufferGraph(new FileBytes(handle, bytes.length), presentOutputOf, file, {
      location: "model.onnx",
      minBytes: 1024,
    });
  } finally {
    handle.close();
  }
  assert.ok(typeof referred !== "string", String(referred));
  assert.deepEqual(referred.entries, edited.entries);
  assert.ok(referred.bytes.length < bytes.length / 20, `${referred.bytes.length} bytes of ${bytes.length}`);
  const external = await externalTensorsIn(referred.bytes);
  assert.ok(external.length > 0 && external.every((t) => t.location === "model.onnx"));
  for (const t of external) {
    assert.ok(t.lengthBytes! >= 1024 && t.offsetBytes + t.lengthBytes! <= bytes.length, t.name);
  }
  // Without its present.* outputs (a scoring-only graph) there is nothing to cut.
  const noPresent = keepGraphOutputs(bytes, (n) => !n.startsWith("present."), file).bytes;
  assert.equal(kvBufferGraph(noPresent, presentOutputOf, file), "present.0.key is not a graph output");
  // A graph that is not a decoder.
  const bert = join(FIXTURES, "tiny-bert", "onnx", "model.onnx");
  assert.equal(
    kvBufferGraph(await readFile(bert), presentOutputOf, bert),
    "the graph has no past-key-value inputs",
  );
  // A past input mapped to an output made by something other than the Concat.
  assert.match(
    kvBufferGraph(
      bytes,
      (p) => p === "past_key_values.0.key" ? "logits" : presentOutputOf(p),
      file,
    ) as string,
    /^logits is not made by a Concat of two inputs$/,
  );
  assert.throws(
    () => kvBufferGraph(bytes.subarray(0, 1000), presentOutputOf, file),
    new RegExp(`^RangeError: ${file}`),
  );
});

Deno.test("KV buffers: capacity policy, rows copied, entries written, sizes and releases checked", () => {
  assert.equal(kvCapacityFor(10, 0), 74);
  assert.equal(kvCapacityFor(10, 74), 74);
  assert.equal(kvCapacityFor(75, 74), 148);
  assert.equal(kvCapacityFor(200, 74), 264);
  assert.equal(kvCapacityFor(75, 74, 100), 100, "no more room than the model has positions");
  assert.equal(kvCapacityFor(120, 74, 100), 184, "a limit below the need is the caller's error to report");
  assert.equal(kvCapacityFor(10, 0, undefined, 82), 82, "the reserve, when it covers the need");
  assert.equal(kvCapacityFor(90, 82, undefined, 82), 164, "past the reserve: doubled");
  assert.equal(kvCapacityFor(10, 0, 50, 82), 50);
  const e: KvBufferEntry = { past: "p", input: "i", output: "o", heads: 2, headSize: 3, type: "float32" };
  const entries = [e, { ...e, type: "float16" as const }];
  const b = allocateKvBuffers(entries, 2, 4);
  assert.deepEqual(b.data.map((d) => d.length), [2 * 2 * 4 * 3, 2 * 2 * 4 * 3]);
  assert.ok(b.data[1] instanceof Uint16Array);
  // Two positions for both rows: entry value = 100 row + 10 head + position, in every slot of the head size.
  const news = (n: number, at: number) =>
    Float32Array.from({ length: 2 * 2 * n * 3 }, (_, i) => {
      const bh = Math.floor(i / (n * 3)), pos = Math.floor((i % (n * 3)) / 3);
      return 100 * Math.floor(bh / 2) + 10 * (bh % 2) + at + pos;
    });
  writeKvEntries(b, entries, [news(2, 0), Uint16Array.from(news(2, 0))], 0, 2);
  writeKvEntries(b, entries, [news(1, 2), Uint16Array.from(news(1, 2))], 2, 1);
  assert.equal(b.written, 3);
  const at = (d: ArrayLike<number>, cap: number, row: number, head: number, pos: number) =>
    d[((row * 2 + head) * cap + pos) * 3];
  assert.equal(at(b.data[0], 4, 1, 1, 2), 112);
  assert.equal(at(b.data[1], 4, 0, 1, 1), 11);
  const c = copyKvRows(b, entries, [1, 1, 0], 3, 8);
  assert.equal(c.batch, 3);
  assert.equal(c.written, 3);
  for (const [row, from] of [[0, 1], [1, 1], [2, 0]]) {
    for (let h = 0; h < 2; h++) {
      for (let p = 0; p < 3; p++) assert.equal(at(c.data[0], 8, row, h, p), 100 * from + 10 * h + p);
      assert.equal(at(c.data[0], 8, row, h, 3), 0, "nothing past the copied length");
    }
  }
  assert.throws(() => writeKvEntries(b, entries, [news(2, 3), news(2, 3)], 3, 2), /exceed room for 4/);
  assert.throws(
    () => writeKvEntries(b, entries, [news(1, 3).subarray(1), news(1, 3)], 3, 1),
    /o has 11 entries/,
  );
  assert.throws(() => copyKvRows(b, entries, [0], 4, 8), /cannot copy 4 positions \(written 3/);
  releaseKvBuffers(b);
  assert.ok(b.released && b.data.every((d) => d.length === 0));
  assert.throws(() => copyKvRows(b, entries, [0], 1, 8), /KV cache was released/);
});
