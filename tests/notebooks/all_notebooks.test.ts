// Every notebook in notebooks/ executed headlessly through the runner (`deno task notebooks --param
// study=<file>`) on the embedded default study at CI size, its study results in a temporary folder: no error
// outputs, every cell tagged `figure` produced a figure (the expected minimum comes from the notebook's own
// tags; the runner also checks `expect-result` / `expect-stream`), the HTML export exists, and headless
// Chromium renders it with every figure in the page. Executed notebooks and HTML are kept in
// results/notebooks/ci/, one screenshot per notebook in results/notebooks/screenshots/ (CI artefacts).
// Notebooks run one after another, whichever exist. Skipped, with the reason in the test name, without Jupyter
// (the browser step without Chromium).
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { embeddedStudy, readStudy } from "../../lib/study/config.ts";
import {
  cellTags,
  errorOutputs,
  FIGURE_OR_NOTE_TAG,
  joinText,
  type NotebookCell,
  readNotebook,
  stripAnsi,
} from "../../lib/jupyter/ipynb.ts";
import { notebookParameters } from "../../lib/jupyter/params.ts";
import { listNotebooks, notebookName, NOTEBOOKS_DIR } from "../../lib/jupyter/notebook_list.ts";
import { checkRendered, type RenderCheck } from "../../lib/jupyter/browser.ts";
import { notebooksAvailable } from "../../lib/setup/jupyter.ts";
import { BROWSER_SKIP_NOTE, NOTEBOOK_SKIP_NOTE, SCREENSHOTS, TOOLS } from "./tools.ts";

/** Outputs of a cell that carry a figure: `image/svg+xml`, or `text/html` holding an `<svg>`. */
function figureOutputs(cell: NotebookCell): number {
  return (cell.outputs ?? []).filter((o) => {
    const data = (o as { data?: Record<string, unknown> }).data ?? {};
    if (data["image/svg+xml"] !== undefined) return true;
    const html = data["text/html"];
    return (typeof html === "string" || Array.isArray(html)) && /<svg\b/i.test(joinText(html as string[]));
  }).length;
}

const NOTEBOOKS = listNotebooks(NOTEBOOKS_DIR);

/**
 * What the notebooks stating a verdict must print for the embedded micro family (collapse from SFT and DPO
 * training): notebook 01, which runs before any sweep, every corpus check in the collapsed direction; notebook 03
 * the completions part (less diverse on more than half of the points).
 */
const TRAINED_COLLAPSE: Record<string, RegExp[]> = Object.fromEntries(
  [
    ["01_next_token_diversity", (m: string) =>
      new RegExp(
        `${m} vs micro-base: [^\\n]*Corpus: mean entropy \\(nats\\) [^(]*\\(collapsed direction\\), mean confidence [^(]*\\(collapsed direction\\), effective vocabulary [^(]*\\(collapsed direction\\), KL\\(base ‖ fine-tune\\) \\(nats\\) [^(]*\\(collapsed direction\\)`,
      )],
    ["03_output_diversity", (m: string) =>
      new RegExp(
        `${m} vs micro-base: less diverse on \\d+ of \\d+ points [^\\n]*more than half, the completions part of the rule holds`,
      )],
  ].map(([nb, re]) => [nb, ["micro-sft", "micro-dpo"].map(re as (m: string) => RegExp)]),
);
// Notebook 05's integer look: the DPO model's most likely integer is one of the rater's favourites.
TRAINED_COLLAPSE["05_mode_collapse_qualitative"] = [
  /micro-dpo: mass on " 0" … " 100" [\d.]+, ≈[\d.]+ integers in play, most likely (42|7|17|77) \(\d+% of the integer mass\)/,
];

/** Executed notebooks and their HTML (CI artefacts; kept apart from the full-size runs in results/notebooks). */
const OUT_DIR = join(PROJECT_ROOT, "results", "notebooks", "ci");

/** The CI study, written once for all notebooks (so 04 reuses the creative sweeps of 03). */
let setup: Promise<{ tmp: string; studyFile: string }> | undefined;
function ciStudy(): Promise<{ tmp: string; studyFile: string }> {
  setup ??= (async () => {
    const tmp = await Deno.makeTempDir({ prefix: "nb-all-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(tmp, { recursive: true });
      } catch { /* already gone */ }
    });
    const studyFile = join(tmp, "study-ci.json");
    const study = embeddedStudy("ci", join(tmp, "results"));
    await Deno.writeTextFile(studyFile, JSON.stringify(study, null, 2));
    assert.deepEqual(readStudy(studyFile), study, "the study file reads back as the embedded CI study");
    return { tmp, studyFile };
  })();
  return setup;
}

if (NOTEBOOKS.length === 0) {
  Deno.test({
    name: "notebooks/*.ipynb execute and render [skipped: no notebooks in notebooks/ yet]",
    ignore: true,
    fn() {},
  });
}

/** Chromium checks run in the background while the next notebook executes (Chromium takes ~7 s to start here). */
type RenderOutcome = { ok: true; check: RenderCheck; bytes: number } | { ok: false; error: unknown };
const renders = new Map<string, Promise<RenderOutcome>>();

for (const path of NOTEBOOKS) {
  const name = notebookName(path);
  Deno.test({
    name:
      `notebooks/${name}.ipynb runs headlessly on the embedded default at CI size: no errors, every figure ` +
      `cell has its figure, HTML exported${NOTEBOOK_SKIP_NOTE}`,
    ignore: !notebooksAvailable(TOOLS),
    // The Chromium check it starts is awaited by the render test below.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const { studyFile } = await ciStudy();
      const source = await readNotebook(path);
      const declared = new Set(notebookParameters(source, path).map((d) => d.name));
      // On the embedded default every figure can be drawn: `figure-or-note` cells must draw theirs too.
      const drawn = (c: NotebookCell) => cellTags(c).some((t) => t === "figure" || t === FIGURE_OR_NOTE_TAG);
      const taggedFigures = source.cells.filter(drawn).length;
      const executedPath = join(OUT_DIR, `${name}.ipynb`);
      const htmlPath = join(OUT_DIR, `${name}.html`);

      const args = ["task", "notebooks", "--only", name, "--out", OUT_DIR, "--timeout", "300"];
      if (declared.has("study")) args.push("--param", `study=${studyFile}`);
      if (declared.has("size")) args.push("--param", "size=ci");
      const started = performance.now();
      const out = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: PROJECT_ROOT,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const seconds = (performance.now() - started) / 1000;
      const log = stripAnsi(new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout));
      assert.equal(
        out.code,
        0,
        `deno task notebooks ${args.slice(1).join(" ")} failed:\n${log.split("\n").slice(-40).join("\n")}`,
      );
      console.log(`${name}: executed in ${seconds.toFixed(1)} s`);

      const nb = await readNotebook(executedPath);
      assert.deepEqual(
        errorOutputs(nb).map((e) => `cell ${e.cell}: ${e.output.ename}: ${e.output.evalue}`),
        [],
        "no error outputs",
      );
      const params =
        (nb.metadata.mode_collapse as { params?: Record<string, unknown> } | undefined)?.params ?? {};
      if (declared.has("study")) assert.equal(params.study, studyFile, "ran on the CI study file");
      const figureCells = nb.cells.filter(drawn);
      assert.equal(figureCells.length, taggedFigures, "every figure cell is in the executed notebook");
      for (const c of figureCells) {
        assert.ok(figureOutputs(c) > 0, `figure cell ${c.id ?? "?"} has no SVG output`);
      }
      const figures = nb.cells.reduce((a, c) => a + figureOutputs(c), 0);
      assert.ok(figures >= taggedFigures, `${figures} figures, expected at least ${taggedFigures}`);
      assert.ok(existsSync(htmlPath), `HTML export ${htmlPath} exists`);
      // The micro family's trained collapse, stated by the one rule (lib/study/verdict.ts) in the notebooks
      // that state a verdict (the notebooks themselves do not assert it).
      const expect = TRAINED_COLLAPSE[name];
      if (expect !== undefined) {
        const printed = nb.cells.map((c) =>
          (c.outputs ?? []).map((o) => joinText(((o as { text?: string | string[] }).text) ?? "")).join("")
        ).join("\n");
        for (const re of expect) assert.match(printed, re, `${name} states the trained collapse`);
      }

      if (TOOLS.chromium !== undefined) {
        const png = join(SCREENSHOTS, `${name}.png`);
        renders.set(
          name,
          checkRendered(htmlPath, nb, png).then(
            async (check): Promise<RenderOutcome> => ({
              ok: true,
              check,
              bytes: (await Deno.stat(png)).size,
            }),
            (error): RenderOutcome => ({ ok: false, error }),
          ),
        );
      }
    },
  });
}

Deno.test({
  name:
    "notebooks: each executed notebook's HTML renders in headless Chromium with every figure in the page " +
    `(screenshots in results/notebooks/screenshots/)${NOTEBOOK_SKIP_NOTE}${BROWSER_SKIP_NOTE}`,
  ignore: !notebooksAvailable(TOOLS) || TOOLS.chromium === undefined || NOTEBOOKS.length === 0,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    for (const path of NOTEBOOKS) {
      const name = notebookName(path);
      await t.step({
        name: `${name}: rendered, figures in the page, screenshot ${name}.png` +
          (renders.has(name) ? "" : " [skipped: the notebook did not execute or was filtered out]"),
        ignore: !renders.has(name),
        fn: async () => {
          const r = await renders.get(name)!;
          if (!r.ok) throw r.error;
          assert.ok(
            r.check.svgInPage >= r.check.figures,
            `${r.check.svgInPage} <svg> in the page for ${r.check.figures} figures`,
          );
          assert.ok(r.bytes > 20_000, `a real page, not a blank one (${r.bytes} bytes)`);
        },
      });
    }
  },
});
