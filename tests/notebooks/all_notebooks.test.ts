// Every notebook in notebooks/ executes headlessly with its default parameters (the embedded default), with no
// error output and every tagged expectation met (`expect-result`, `figure`, `expect-stream`), and its HTML
// export renders in headless Chromium with all its figures; the executed notebooks, their HTML and one
// screenshot per notebook are kept in results/notebooks/ (CI artefacts).
import assert from "node:assert/strict";
import { join } from "node:path";
import { readNotebook } from "../../lib/notebooks/ipynb.ts";
import { checkRendered } from "../../lib/notebooks/browser.ts";
import {
  DEFAULT_OUT_DIR,
  listNotebooks,
  notebookName,
  NOTEBOOKS_DIR,
  runNotebook,
} from "../../lib/notebooks/runner.ts";
import { BROWSER_SKIP_NOTE, notebookTest, SCREENSHOTS, TOOLS } from "./tools.ts";

const notebooks = listNotebooks(NOTEBOOKS_DIR);

if (notebooks.length === 0) {
  Deno.test({
    name: "notebooks/*.ipynb execute and render [skipped: no notebooks in notebooks/ yet]",
    ignore: true,
    fn() {},
  });
}

for (const path of notebooks) {
  const name = notebookName(path);
  notebookTest(
    `notebooks/${name}.ipynb executes headlessly without errors and renders with its figures`,
    async (t) => {
      const result = await runNotebook(path, { outDir: DEFAULT_OUT_DIR });
      assert.ok(result.html !== undefined, "HTML exported");
      await t.step({
        name:
          `HTML renders in headless Chromium (screenshot results/notebooks/screenshots/${name}.png)${BROWSER_SKIP_NOTE}`,
        ignore: TOOLS.chromium === undefined,
        fn: async () => {
          const check = await checkRendered(
            result.html!,
            await readNotebook(result.executed),
            join(SCREENSHOTS, `${name}.png`),
          );
          assert.ok(check.svgInPage >= check.figures);
        },
      });
    },
  );
}
