/**
 * Test access to the notebook tools (Jupyter client libraries, the registered Deno kernel, Chromium). Tests
 * that need them are registered as ignored — reported as skipped, with the reason in their name — when they are
 * missing (e.g. `deno task setup` could not run apt-get), never as passed.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { ensureDenoKernel, notebooksAvailable, probeNotebookTools } from "../../lib/setup/jupyter.ts";

// Registering the kernel for this deno is cheap and needs no root; the apt packages are set-up's job.
try {
  await ensureDenoKernel();
} catch { /* reported below through the probe */ }

/** What the machine has. */
export const TOOLS = await probeNotebookTools();

/** Reason appended to the names of skipped notebook tests ("" when they run). */
export const NOTEBOOK_SKIP_NOTE = notebooksAvailable(TOOLS) ? "" : ` [skipped: ${TOOLS.problems.join("; ")}]`;

/** Reason appended to the names of skipped browser steps ("" when they run). */
export const BROWSER_SKIP_NOTE = TOOLS.chromium !== undefined
  ? ""
  : ` [skipped: ${TOOLS.browserProblems.join("; ")}]`;

/** The fixture notebooks. */
export const FIXTURES: string = join(PROJECT_ROOT, "tests", "fixtures", "notebooks");

/** Where screenshots go (a CI artefact). */
export const SCREENSHOTS: string = join(PROJECT_ROOT, "results", "notebooks", "screenshots");

/** `Deno.test` for a check that executes notebooks: ignored (skipped) with a visible reason without Jupyter. */
export function notebookTest(name: string, fn: (t: Deno.TestContext) => void | Promise<void>): void {
  Deno.test({ name: name + NOTEBOOK_SKIP_NOTE, ignore: !notebooksAvailable(TOOLS), fn });
}
