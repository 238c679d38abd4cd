// A notebook executed into a results folder reruns where it lies: the executed copy, re-executed by nbclient
// with its own folder as the kernel's working folder (as JupyterLab does when a researcher opens
// results/notebooks/<name>.ipynb and reruns it), imports the library through the `@mode-collapse/` specifier
// of deno.json (the kernel finds deno.json by walking up from its working folder) and reads its data through
// project-root paths, so no cell errors. Runs notebook 05 on the embedded CI study (a few tokens per
// generation), its results in a git-ignored folder under results/. Skipped, with the reason, without Jupyter.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { embeddedStudy } from "../../lib/study/config.ts";
import { cellTags, errorOutputs, readNotebook } from "../../lib/jupyter/ipynb.ts";
import { NOTEBOOKS_DIR } from "../../lib/jupyter/notebook_list.ts";
import { DRIVER, runNotebook } from "../../lib/jupyter/run_notebook.ts";
import { jupyterEnv, SYSTEM_PYTHON } from "../../lib/setup/jupyter.ts";
import { notebookTest } from "./tools.ts";

notebookTest(
  "notebooks: an executed notebook reruns from its results folder (no ../lib imports)",
  async () => {
    const root = join(PROJECT_ROOT, "results", `rerun-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
    await Deno.mkdir(root, { recursive: true });
    try {
      const studyFile = join(root, "study-ci.json");
      await Deno.writeTextFile(
        studyFile,
        JSON.stringify(embeddedStudy("ci", join(root, "study-results")), null, 2),
      );
      const source = join(NOTEBOOKS_DIR, "05_mode_collapse_qualitative.ipynb");
      const quiet = () => {};
      const first = await runNotebook(source, {
        outDir: join(root, "notebooks"),
        params: { study: studyFile, maxNewTokens: 4 },
        html: false,
        log: quiet,
      });
      const executed = await readNotebook(first.executed);
      assert.deepEqual(errorOutputs(executed), [], "first run: no error outputs");
      assert.ok(
        executed.cells.some((c) => cellTags(c).includes("injected-parameters")),
        "the executed copy records its parameters",
      );
      // Rerun the EXECUTED copy where it lies, as JupyterLab would: nbclient (the runner's driver) on the file
      // as written, injected parameters included, the kernel's working folder results/rerun-test-…/notebooks.
      const here = dirname(first.executed);
      assert.equal(here, join(root, "notebooks"));
      const rerunPath = join(root, "rerun.ipynb");
      const out = await new Deno.Command(SYSTEM_PYTHON, {
        args: [DRIVER, "--input", first.executed, "--output", rerunPath, "--cwd", here, "--timeout", "600"],
        cwd: here,
        env: jupyterEnv(),
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `the rerun failed:\n${text.slice(-3000)}`);
      const rerun = await readNotebook(rerunPath);
      assert.deepEqual(errorOutputs(rerun), [], "rerun from the results folder: no error outputs");
      const ran = rerun.cells.filter((c) => c.cell_type === "code" && c.execution_count != null);
      assert.equal(
        ran.length,
        executed.cells.filter((c) => c.cell_type === "code").length,
        "every code cell ran again",
      );
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test("notebooks: no notebook imports the library by a relative path", async () => {
  for (const entry of Deno.readDirSync(NOTEBOOKS_DIR)) {
    if (!entry.name.endsWith(".ipynb")) continue;
    const nb = await readNotebook(join(NOTEBOOKS_DIR, entry.name));
    for (const cell of nb.cells) {
      if (cell.cell_type !== "code") continue;
      const src = Array.isArray(cell.source) ? cell.source.join("") : String(cell.source);
      assert.doesNotMatch(
        src,
        /["']\.\.?\/(lib|data|results)\//,
        `${entry.name}: use "@mode-collapse/…" and projectPath`,
      );
    }
  }
});
