/**
 * The onnxruntime session options the toolkit builds: intra-op spinning off unless asked for, only the settings
 * given copied, session configuration entries merged; and a model decodes the same tokens with spinning on or
 * off (a scheduling setting, not a numeric one).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ORT_SESSION_SETTING_NAMES, ortSessionOptions } from "../../lib/models/onnx_session.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { generate } from "../../lib/sampling/generate.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

Deno.test("ortSessionOptions: spinning off by default, on when asked; only given settings; entries merged", () => {
  assert.deepEqual(ortSessionOptions(), { extra: { session: { intra_op: { allow_spinning: "0" } } } });
  assert.deepEqual(ortSessionOptions({ intraOpSpinning: false }).extra, {
    session: { intra_op: { allow_spinning: "0" } },
  });
  assert.deepEqual(
    ortSessionOptions(
      { intraOpNumThreads: 3, enableCpuMemArena: false, enableMemPattern: true, intraOpSpinning: true },
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
  assert.deepEqual([...ORT_SESSION_SETTING_NAMES].sort(), [
    "enableCpuMemArena",
    "enableMemPattern",
    "intraOpNumThreads",
    "intraOpSpinning",
  ]);
});

Deno.test("a model samples the same tokens with intra-op spinning on and off", async () => {
  const folder = join(PROJECT_ROOT, "tests", "fixtures", "tiny-gptneox", "base");
  const runs = [];
  for (const intraOpSpinning of [false, true]) {
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
  assert.equal(runs[0].length, 3);
  assert.deepEqual(runs[0].map((s) => s.tokenIds), runs[1].map((s) => s.tokenIds));
  assert.deepEqual(runs[0].map((s) => s.logprobsModelNats), runs[1].map((s) => s.logprobsModelNats));
});
