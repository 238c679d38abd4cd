// The notebook set-up step (lib/setup/jupyter.ts). The install path itself (apt-get) is exercised by
// `deno task setup`; here: the project-local kernel, and the "unavailable" path that must not fail set-up.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import {
  aptCommand,
  DENO_KERNEL_DIR,
  ensureNotebookTools,
  jupyterEnv,
  NOTEBOOK_APT_PACKAGES,
  notebooksAvailable,
  probeDenoKernel,
  probeNotebookTools,
} from "../../lib/setup/jupyter.ts";
import { notebookTest, TOOLS } from "./tools.ts";

Deno.test("notebook set-up: the Deno kernel is registered inside the project for this deno", () => {
  assert.ok(DENO_KERNEL_DIR.startsWith(join(PROJECT_ROOT, ".tools") + "/"));
  const k = probeDenoKernel();
  assert.equal(k.error, undefined);
  assert.equal(Deno.realPathSync(k.deno!), Deno.realPathSync(Deno.execPath()));
  const spec = JSON.parse(Deno.readTextFileSync(join(DENO_KERNEL_DIR, "kernel.json")));
  assert.deepEqual(spec.argv.slice(1), ["jupyter", "--kernel", "--conn", "{connection_file}"]);
  const env = jupyterEnv({ PATH: "/bin", JUPYTER_PATH: "/elsewhere" });
  assert.equal(env.JUPYTER_PATH, `${join(PROJECT_ROOT, ".tools", "jupyter", "jupyter")}:/elsewhere`);
  assert.equal(env.NO_COLOR, "1");
  assert.ok(env.JUPYTER_RUNTIME_DIR.startsWith(PROJECT_ROOT));
});

Deno.test("notebook set-up: without the Jupyter libraries and without apt-get it reports, names the command, and does not throw", async () => {
  const lines: string[] = [];
  const r = await ensureNotebookTools({
    python: "/nonexistent/python3",
    apt: false,
    browser: false,
    log: (l) => lines.push(l),
  });
  assert.equal(notebooksAvailable(r.status), false);
  assert.match(r.detail, /^UNAVAILABLE \(notebook tests will be skipped\): Jupyter client libraries missing/);
  assert.ok(r.detail.includes(aptCommand(NOTEBOOK_APT_PACKAGES)), r.detail);
  assert.match(aptCommand(["a", "b"]), /^(sudo )?apt-get install -y a b$/);
  assert.deepEqual(lines, [], "nothing installed");
  const probe = await probeNotebookTools("/nonexistent/python3");
  assert.match(
    probe.problems[0],
    /install: (sudo )?apt-get install -y python3-nbclient jupyter-core jupyter-client jupyter-nbconvert/,
  );
});

notebookTest(
  "notebook set-up: on this machine everything is there (Jupyter libraries, kernel, Chromium)",
  async () => {
    const r = await ensureNotebookTools({ apt: false });
    assert.ok(notebooksAvailable(r.status), r.detail);
    assert.match(r.detail, /^available: nbclient [\d.]+, nbconvert [\d.]+, jupyter_client [\d.]+ on /);
    assert.equal(r.status.chromium, TOOLS.chromium);
  },
);

Deno.test("runner without a usable Python: a NotebookRunError that says to run set-up, and no stray files", async () => {
  const { runNotebook } = await import("../../lib/jupyter/run_notebook.ts");
  const { NotebookRunError } = await import("../../lib/jupyter/run_error.ts");
  const outDir = await Deno.makeTempDir({ prefix: "nb-nopython-" });
  await assert.rejects(
    runNotebook(join(PROJECT_ROOT, "tests", "fixtures", "notebooks", "smoke.ipynb"), {
      outDir,
      python: "/nonexistent/python3",
      log: () => {},
    }),
    (e: Error) =>
      e instanceof NotebookRunError &&
      /cannot start \/nonexistent\/python3: .*run: deno task setup/.test(e.message),
  );
  assert.deepEqual([...Deno.readDirSync(outDir)], []);
  await Deno.remove(outDir, { recursive: true });
});
