/** A study and its paths from a notebook's parameters, independent of the working folder. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { embeddedStudy } from "../../lib/study/config.ts";
import { openStudy, projectPath, studyFromParams } from "../../lib/study/load.ts";
import { activeFigurePreset, setFigurePreset } from "../../lib/figures/preset.ts";

Deno.test("projectPath: relative paths against the project root, absolute ones unchanged", () => {
  assert.equal(projectPath("data/prompts"), join(PROJECT_ROOT, "data", "prompts"));
  assert.equal(projectPath("/tmp/x.json"), "/tmp/x.json");
});

Deno.test("openStudy: the study, recompute, figures folder, roles and word limit from the parameters", async () => {
  const ci = embeddedStudy("ci");
  const o = openStudy({ study: "", size: "ci", recompute: false });
  assert.deepEqual(o.S, ci);
  assert.equal(o.figuresDir, join(ci.resultsDir, "figures"));
  assert.equal(o.roles["micro-dpo"], "dpo");
  assert.equal(o.roles["micro-base"], "base");
  assert.equal(o.words, ci.diversity.words.map(String).includes("20") ? "20" : String(ci.diversity.words[0]));
  assert.equal(openStudy({ study: "", size: "ci", recompute: true }).force, true);
  assert.throws(() => studyFromParams("", "huge"), /size must be/);
  // A study file named relative to the project root (no chdir here: test files may share the process).
  const dir = await Deno.makeTempDir({ dir: join(PROJECT_ROOT, "results"), prefix: "load-test-" }).catch(
    async () => {
      await Deno.mkdir(join(PROJECT_ROOT, "results"), { recursive: true });
      return Deno.makeTempDir({ dir: join(PROJECT_ROOT, "results"), prefix: "load-test-" });
    },
  );
  try {
    const file = join(dir, "study.json");
    await Deno.writeTextFile(file, JSON.stringify(ci, null, 2));
    const rel = file.slice(PROJECT_ROOT.length + 1);
    assert.deepEqual(studyFromParams(rel), ci);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openStudy: the figurePreset parameter sets the look of the notebook's later figures", () => {
  try {
    openStudy({ study: "", size: "ci", figurePreset: "paper-single" });
    assert.equal(activeFigurePreset().name, "paper-single");
    assert.throws(
      () => openStudy({ study: "", size: "ci", figurePreset: "poster" }),
      /unknown figure preset "poster"/,
    );
    setFigurePreset(undefined, { env: false });
    openStudy({ study: "", size: "ci", figurePreset: "" });
    assert.equal(activeFigurePreset().name, "screen", '"" keeps the run\'s own look');
  } finally {
    setFigurePreset(undefined, { env: false });
  }
});
