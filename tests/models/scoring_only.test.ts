/**
 * Scoring-only loading (`loadCausalLM(…, { scoringOnly: true })`): for a graph with external data (the tiny
 * Llama-2 fixture, every weight in `onnx/model.onnx_data` as the hub's large exports) the graph's `present.*`
 * outputs are dropped at the protobuf level before onnxruntime loads it. The edit leaves every other byte as it
 * was, the edited session returns logits bit-identical to the ordinary transformers.js session's, and decoding
 * is refused with a message saying why. A graph holding its own weights (tiny GPT-NeoX) loads as usual.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { graphOutputNames, keepGraphOutputs } from "../../lib/models/onnx_graph_outputs.ts";

const LLAMA = join(PROJECT_ROOT, "tests", "fixtures", "tiny-llama2", "base");
const LLAMA_GRAPH = join(LLAMA, "onnx", "model.onnx");
const NEOX = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base");

Deno.test("keepGraphOutputs drops only the named graph outputs; keeping all returns the same bytes", () => {
  const bytes = new Uint8Array(readFileSync(LLAMA_GRAPH));
  const names = graphOutputNames(bytes, LLAMA_GRAPH);
  assert.deepEqual(names, [
    "logits",
    "present.0.key",
    "present.0.value",
    "present.1.key",
    "present.1.value",
  ]);
  const same = keepGraphOutputs(bytes, () => true, LLAMA_GRAPH);
  assert.deepEqual(same.removed, []);
  assert.deepEqual(same.bytes, bytes);
  const edited = keepGraphOutputs(bytes, (n) => !n.startsWith("present."), LLAMA_GRAPH);
  assert.deepEqual(edited.removed, names.slice(1));
  assert.deepEqual(graphOutputNames(edited.bytes), ["logits"]);
  // Only the four ValueInfoProto entries (and the graph's length prefix) went away.
  assert.ok(edited.bytes.length < bytes.length && edited.bytes.length > bytes.length - 1000);
});

Deno.test("keepGraphOutputs refuses a truncated file and an edit that keeps no output, naming the file", () => {
  const bytes = new Uint8Array(readFileSync(LLAMA_GRAPH));
  assert.throws(
    () => keepGraphOutputs(bytes.subarray(0, bytes.length - 7), () => true, "cut.onnx"),
    /cut\.onnx: .*(runs past the end|truncated)/,
  );
  assert.throws(
    () => keepGraphOutputs(bytes, () => false, "m.onnx"),
    /m\.onnx: no graph output would remain/,
  );
  assert.throws(
    () => keepGraphOutputs(new Uint8Array([8, 1]), () => true, "x.onnx"),
    /x\.onnx: expected one graph/,
  );
});

Deno.test("a scoring-only load of an external-data graph gives the same logits and refuses to decode", async () => {
  const full = await loadCausalLM(LLAMA);
  const scoring = await loadCausalLM(LLAMA, { scoringOnly: true });
  try {
    assert.equal(scoring.scoringOnly, true);
    assert.equal(full.scoringOnly, false);
    const windows = [
      Int32Array.from([1, 450, 4996, 17354, 1701, 432, 29871, 13]),
      Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
    ];
    const a = await full.forward(windows);
    const b = await scoring.forward(windows);
    assert.deepEqual([b.batch, b.seq, b.vocab], [a.batch, a.seq, a.vocab]);
    assert.deepEqual(b.logits, a.logits);
    await assert.rejects(() => scoring.step([Int32Array.from([1])]), /loaded for scoring only/);
    // The ordinary load still decodes.
    const s = await full.step([Int32Array.from([1, 450])]);
    assert.equal(s.logits.length, full.info.vocabSize);
  } finally {
    await scoring.dispose();
    await full.dispose();
  }
});

Deno.test("scoringOnly leaves a graph that holds its own weights as it is (it still decodes)", async () => {
  const model = await loadCausalLM(NEOX, { scoringOnly: true });
  try {
    assert.equal(model.scoringOnly, false);
    const s = await model.step([Int32Array.from([5, 6, 7])]);
    assert.equal(s.logits.length, model.info.vocabSize);
  } finally {
    await model.dispose();
  }
});
