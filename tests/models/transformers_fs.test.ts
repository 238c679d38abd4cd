/**
 * The guard against transformers.js 4.3.1 streaming every model file it opens into memory. Every read stream
 * opened in this module's isolate is recorded (a spy installed before the guard's module loads): without the
 * guard, loading the fixture opens a stream on model.onnx that reads the whole file while nobody consumes it;
 * with the guard, that stream is closed before it reads anything, and streams on other files still work.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { AutoModelForCausalLM, env } from "@huggingface/transformers";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

const opened: { path: string; stream: fs.ReadStream }[] = [];
const real = fs.createReadStream;
// deno-lint-ignore no-explicit-any
(fs as any).createReadStream = (...args: Parameters<typeof real>) => {
  const stream = real(...args);
  opened.push({ path: String(args[0]), stream });
  return stream;
};
const spy = fs.createReadStream;
// Imported after the spy, so the guard's "original" is the spy and every stream is seen.
const { withoutUnreadFileStreams } = await import("../../lib/models/transformers_fs.ts");

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base");
const GRAPH = join(FIXTURE, "onnx", "model.onnx");
const GRAPH_BYTES = fs.statSync(GRAPH).size;
const options = { local_files_only: true, dtype: "fp32" } as const;

/** The streams opened on the ONNX graph since `from`. */
const graphStreams = (from: number) =>
  opened.slice(from).filter((o) => o.path === GRAPH).map((o) => o.stream);

/** Turns the event loop until `done()` or `limitMs` passed. */
async function turnUntil(done: () => boolean, limitMs: number): Promise<void> {
  const end = performance.now() + limitMs;
  while (!done() && performance.now() < end) await new Promise((r) => setTimeout(r, 1));
}

Deno.test("transformers.js file streams: guarded, the graph's stream is closed before it reads a byte", async () => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  const from = opened.length;
  const model = await withoutUnreadFileStreams(
    [FIXTURE],
    () => AutoModelForCausalLM.from_pretrained(FIXTURE, options),
  );
  await turnUntil(() => false, 300);
  const streams = graphStreams(from);
  assert.ok(streams.length >= 1, "transformers.js opened a stream on the graph");
  for (const s of streams) {
    assert.equal(s.destroyed, true);
    assert.equal(s.bytesRead, 0);
  }
  assert.equal(fs.createReadStream, spy, "the previous createReadStream is back");
  await model.dispose();
});

Deno.test("transformers.js file streams: unguarded, the whole graph is read into a stream nobody consumes", async () => {
  const from = opened.length;
  const model = await AutoModelForCausalLM.from_pretrained(FIXTURE, options);
  const [stream] = graphStreams(from);
  assert.ok(stream !== undefined, "transformers.js opened a stream on the graph");
  await turnUntil(() => stream.bytesRead >= GRAPH_BYTES, 60_000);
  assert.equal(stream.bytesRead, GRAPH_BYTES, "the file was read to its end although nothing consumed it");
  stream.destroy();
  await model.dispose();
});

Deno.test("transformers.js file streams: streams on files outside the guarded folders are untouched", async () => {
  const other = join(PROJECT_ROOT, "deno.json");
  const text = await withoutUnreadFileStreams([FIXTURE], async () => {
    let out = "";
    for await (const chunk of fs.createReadStream(other, "utf8")) out += chunk;
    assert.equal(fs.createReadStream(join(FIXTURE, "config.json")).destroyed, true);
    return out;
  });
  assert.equal(text, Deno.readTextFileSync(other));
});
