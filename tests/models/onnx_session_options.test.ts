/**
 * The onnxruntime session options the toolkit builds: intra-op threads spinning during runs only unless asked
 * otherwise, a mode outside the three refused, only the settings given copied, session configuration entries
 * merged; and a model decodes the same tokens in every spinning mode (a scheduling setting, not a numeric one).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ORT_SESSION_SETTING_NAMES,
  ORT_SPINNING_MODES,
  ortSessionOptions,
} from "../../lib/models/onnx_session.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { generate } from "../../lib/sampling/generate.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

Deno.test("ortSessionOptions: spinning during runs by default, always or off when asked; only given settings; entries merged", () => {
  const during = { intra_op: { allow_spinning: "1" }, force_spinning_stop: "1" };
  assert.deepEqual(ortSessionOptions(), { extra: { session: during } });
  assert.deepEqual(ortSessionOptions({ intraOpSpinning: "run" }).extra, { session: during });
  assert.deepEqual(ortSessionOptions({ intraOpSpinning: "off" }).extra, {
    session: { intra_op: { allow_spinning: "0" } },
  });
  assert.deepEqual(
    ortSessionOptions(
      { intraOpNumThreads: 3, enableCpuMemArena: false, enableMemPattern: true, intraOpSpinning: "always" },
      { model_external_initializers_file_folder_path: "/m" },
    ),
    {
      intraOpNumThreads: 3,
      enableCpuMemArena: false,
      enableMemPattern: true,
      extra: {
        session: { intra_op: { allow_spinning: "1" }, model_external_initializers_file_folder_path: "/m" },
      },
    },
  );
  for (const bad of [true, false, "on", ""]) {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => ortSessionOptions({ intraOpSpinning: bad as any }),
      new RangeError(`intraOpSpinning: ${JSON.stringify(bad)} is not one of run, always, off`),
    );
  }
  assert.deepEqual([...ORT_SESSION_SETTING_NAMES].sort(), [
    "enableCpuMemArena",
    "enableMemPattern",
    "intraOpNumThreads",
    "intraOpSpinning",
  ]);
});

Deno.test("a model samples the same tokens in every intra-op spinning mode", async () => {
  const folder = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base");
  const runs = [];
  for (const intraOpSpinning of ORT_SPINNING_MODES) {
    const model = await loadCausalLM(folder, { session: { intraOpSpinning } });
    try {
      runs.push(
        await generate(model, [1, 2, 3], [0, 1, 2], {
          settings: { temperature: 1, topK: 50, topP: 1 },
          maxNewTokens: 6,
          stopTokenIds: [],
        }),
      );
    } finally {
      await model.dispose();
    }
  }
  assert.equal(runs.length, 3);
  assert.equal(runs[0].length, 3);
  for (const run of runs.slice(1)) {
    assert.deepEqual(run.map((s) => s.tokenIds), runs[0].map((s) => s.tokenIds));
    assert.deepEqual(run.map((s) => s.logprobsModelNats), runs[0].map((s) => s.logprobsModelNats));
  }
});
