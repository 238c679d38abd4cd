/** Diversity-grid statistics and style on small synthetic series (no shared folder needed). */
import assert from "node:assert/strict";
import type { DiversitySeries } from "../../lib/data/diversity_series.ts";
import { seriesFromDiversityFile } from "../../lib/data/diversity_series.ts";
import { diversityGrid, diversityGridData } from "../../lib/figures/diversity_grid.ts";
import { meanAndStandardError } from "../../lib/figures/stats.ts";
import { assignModelStyles, ROLE_STYLES, roleOfModel } from "../../lib/figures/style.ts";
import type { DiversityFile } from "../../lib/io/diversity_format.ts";
import { count, parseSvg } from "./svg_dom.ts";

function series(model: string, promptSet: string, grid: number[][]): DiversitySeries {
  return {
    model,
    promptSet,
    words: "20",
    temperatures: grid.map((_, t) => (t + 1) / 10),
    values: { selfBleuSmoothed: grid },
    labels: "correct",
    source: `${model}-${promptSet}`,
  };
}

Deno.test("meanAndStandardError: numpy semantics (ddof 0 default, nan omit / propagate)", () => {
  const s = meanAndStandardError([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.equal(s.std, Math.sqrt(1.25));
  assert.equal(s.se, Math.sqrt(1.25) / 2);
  assert.equal(s.n, 4);
  assert.equal(meanAndStandardError([1, 2, 3, 4], { ddof: 1 }).std, Math.sqrt(5 / 3));
  const withNan = meanAndStandardError([1, NaN, 3]);
  assert.deepEqual([withNan.mean, withNan.n], [2, 2]);
  assert.equal(withNan.se, 1 / Math.sqrt(2));
  assert.ok(Number.isNaN(meanAndStandardError([1, NaN, 3], { nan: "propagate" }).mean));
  assert.equal(meanAndStandardError([NaN]).n, 0);
});

Deno.test("grid data: means, ±2·SE bands, NaN policy, one line per model present", () => {
  const s = [
    series("m", "factual", [[0.1, 0.3], [0.5, NaN]]),
    series("m", "creative", [[1, 2], [3, 5]]),
    series("m-sft", "creative", [[0, 0], [1, 1]]),
  ];
  const d = diversityGridData(s, { metrics: ["selfBleuSmoothed"] });
  assert.equal(d.panels.length, 2);
  const [fact, crea] = d.panels;
  assert.equal(fact.lines.length, 1); // m-sft has no factual series
  assert.equal(crea.lines.length, 2);
  assert.ok(Math.abs(fact.lines[0].points[0].mean - 0.2) < 1e-15);
  assert.equal(fact.lines[0].points[1].mean, 0.5);
  assert.equal(fact.lines[0].points[1].n, 1);
  const p = crea.lines[0].points[1];
  assert.deepEqual([p.mean, p.se, p.lower, p.upper], [
    4,
    1 / Math.sqrt(2),
    4 - 2 / Math.sqrt(2),
    4 + 2 / Math.sqrt(2),
  ]);
  const prop = diversityGridData(s, { metrics: ["selfBleuSmoothed"], nan: "propagate" });
  assert.ok(Number.isNaN(prop.panels[0].lines[0].points[1].mean));
  const svg = diversityGrid(s, { metrics: ["selfBleuSmoothed"], bands: false }).svg;
  const doc = parseSvg(svg);
  assert.equal(count(doc, 'g[aria-label="line"] path'), 3);
  assert.equal(count(doc, 'g[aria-label="area"]'), 0);
});

Deno.test("mixing correct and paper labels is refused", () => {
  const a = series("m", "factual", [[1]]);
  const b = { ...series("n", "creative", [[1]]), labels: "paper" as const };
  assert.throws(() => diversityGridData([a, b], { metrics: ["selfBleuSmoothed"] }), /mix/);
});

Deno.test("diversity/1 files become series with null as NaN", () => {
  const file = {
    format: "diversity/1",
    input: {
      path: "x/pythia-70m-dpo_creative.json",
      sha256: "",
      format: "completions/1",
      prompt_set: "creative",
    },
    temperatures: [0.5, 1],
    results: { "20": { selfBleuSmoothed: [[0.5, null], [0.25, 0.75]] } },
  } as unknown as DiversityFile;
  const [s] = seriesFromDiversityFile(file);
  assert.equal(s.model, "pythia-70m-dpo_creative");
  assert.equal(s.promptSet, "creative");
  assert.ok(Number.isNaN(s.values.selfBleuSmoothed[0][1]));
  assert.equal(
    diversityGridData([s], { metrics: ["selfBleuSmoothed"], promptSets: ["creative"] }).panels[0].lines[0]
      .points[1].mean,
    0.5,
  );
});

Deno.test("model roles and fixed colours", () => {
  assert.equal(roleOfModel("pythia-2.8b"), "base");
  assert.equal(roleOfModel("pythia-2.8b-sft"), "sft");
  assert.equal(roleOfModel("pythia-2.8b-sfted0-dpo3_1"), "dpo");
  assert.equal(roleOfModel("llama2-chat"), "chat");
  assert.equal(roleOfModel("llama2-ppo"), "ppo");
  const st = assignModelStyles(["pythia-2.8b", "pythia-2.8b-sft", "pythia-2.8b-dpo"]);
  assert.equal(st.get("pythia-2.8b")!.colour, ROLE_STYLES.base.colour);
  assert.equal(st.get("pythia-2.8b-dpo")!.label, "DPO");
  const two = assignModelStyles(["pythia-6.9b", "llama2"]);
  assert.notEqual(two.get("pythia-6.9b")!.colour, two.get("llama2")!.colour);
  assert.equal(two.get("llama2")!.label, "llama2");
});
