/**
 * The guard against transformers.js 4.3.1 streaming every model file it opens into memory: without it, loading
 * the fixture leaves an unread stream that fills up with the whole ONNX file as the event loop turns; with it,
 * nothing accumulates, and streams on other files still work.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { AutoModelForCausalLM, env } from "@huggingface/transformers";
import { PROJECT_ROOT } from "../../lib/shared_dir.ts";
import { withoutUnreadFileStreams } from "../../lib/models/transformers_fs.ts";

const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base");
const MODEL_BYTES = fs.statSync(join(FIXTURE, "onnx", "model.onnx")).size;

/**
 * Growth of external memory (bytes) while the event loop turns after `load`: until it reaches `untilBytes`, or
 * for `turns` turns. Returns the growth and the turns taken.
 */
async function growthAfter(
  load: () => Promise<{ dispose(): Promise<unknown> }>,
  opts: { untilBytes?: number; turns: number },
): Promise<{ grown: number; turns: number }> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  const model = await load();
  const before = Deno.memoryUsage().external;
  let grown = 0, turns = 0;
  while (turns < opts.turns && !(opts.untilBytes !== undefined && grown >= opts.untilBytes)) {
    await new Promise((r) => setTimeout(r, 1));
    turns++;
    grown = Deno.memoryUsage().external - before;
  }
  await model.dispose();
  return { grown, turns };
}

Deno.test("transformers.js file streams: the whole model piles up unguarded, nothing with the guard", async () => {
  const options = { local_files_only: true, dtype: "fp32" } as const;
  // Guarded first: an unguarded load's stream goes on filling after its model is disposed. The stream moves a
  // few 64 KiB chunks per turn of the event loop; a busy machine needs more turns.
  const guarded = await growthAfter(
    () => withoutUnreadFileStreams([FIXTURE], () => AutoModelForCausalLM.from_pretrained(FIXTURE, options)),
    { turns: 1000 },
  );
  const plain = await growthAfter(() => AutoModelForCausalLM.from_pretrained(FIXTURE, options), {
    untilBytes: 0.8 * MODEL_BYTES,
    turns: 20_000,
  });
  assert.ok(plain.grown >= 0.8 * MODEL_BYTES, `unguarded: +${plain.grown} bytes (model file ${MODEL_BYTES})`);
  assert.ok(guarded.grown < 0.1 * MODEL_BYTES, `guarded: +${guarded.grown} bytes in ${guarded.turns} turns`);
  assert.equal(fs.createReadStream.name, "createReadStream", "the original is back after loading");
});

Deno.test("transformers.js file streams: streams on files outside the guarded folders are untouched", async () => {
  const other = join(PROJECT_ROOT, "deno.json");
  const text = await withoutUnreadFileStreams([FIXTURE], async () => {
    let out = "";
    for await (const chunk of fs.createReadStream(other, "utf8")) out += chunk;
    const inside = fs.createReadStream(join(FIXTURE, "config.json"));
    assert.equal(inside.destroyed, true);
    return out;
  });
  assert.equal(text, Deno.readTextFileSync(other));
});
