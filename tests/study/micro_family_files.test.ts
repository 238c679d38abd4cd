/**
 * The committed micro family is byte for byte what the training tool exported: every file that
 * data/micro-family/export.json lists (written by tools/micro_family/export.py) has the recorded size and sha256,
 * and each model folder holds no ONNX graph the export did not write. (A formatter or an editor touching a
 * tokenizer.json would otherwise go unnoticed: the files are excluded from `deno fmt` for this reason.)
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EMBEDDED_MODELS_DIR } from "../../lib/study/config.ts";

Deno.test("micro family: every committed file matches export.json's size and sha256", () => {
  const exported = JSON.parse(readFileSync(join(EMBEDDED_MODELS_DIR, "export.json"), "utf8"));
  const models = Object.keys(exported.files);
  assert.deepEqual(models.sort(), ["base", "dpo", "sft"]);
  for (const model of models) {
    const files = exported.files[model] as Record<string, { bytes: number; sha256: string }>;
    assert.ok(Object.keys(files).includes("onnx/model.onnx"), `${model}: export.json lists its graph`);
    for (const [name, want] of Object.entries(files)) {
      const bytes = readFileSync(join(EMBEDDED_MODELS_DIR, model, name));
      assert.equal(bytes.length, want.bytes, `${model}/${name}: size`);
      assert.equal(createHash("sha256").update(bytes).digest("hex"), want.sha256, `${model}/${name}: sha256`);
    }
    const graphs = readdirSync(join(EMBEDDED_MODELS_DIR, model, "onnx")).map((f) => `onnx/${f}`);
    assert.deepEqual(
      graphs.filter((g) => !(g in files)),
      [],
      `${model}: ONNX files export.json does not list`,
    );
  }
});
