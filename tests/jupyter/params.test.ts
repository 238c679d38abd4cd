// Parameter injection and .ipynb handling: no Jupyter needed.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cellSource,
  cellsTagged,
  type Notebook,
  NotebookFormatError,
  outputFigureCount,
  parseNotebook,
  readNotebook,
  serializeNotebook,
  splitLines,
  stripAnsi,
  unmetExpectations,
  writeNotebook,
} from "../../lib/jupyter/ipynb.ts";
import { topLevelSvgCount } from "../../lib/jupyter/browser.ts";
import {
  checkParams,
  INJECTED_TAG,
  injectedSource,
  injectParameters,
  notebookParameters,
  ParameterError,
  parseParamArgs,
  parseParametersCell,
  resolveParams,
} from "../../lib/jupyter/params.ts";
import { listNotebooks } from "../../lib/jupyter/notebook_list.ts";
import { FIXTURES } from "../notebooks/tools.ts";

const CELL = `// models to compare
let models: string[] = ["tiny-base", "tiny-collapsed"];
let maxWindows = 8; // per model
let label = 'paper';
let seed: number | null = null;
let options = { zoom: [0.8, 1] };
const fixed = 3;
let computed = Math.max(1, 2);
`;

Deno.test("parseParametersCell: names, keywords, types and JSON-literal defaults", () => {
  const d = parseParametersCell(CELL);
  assert.deepEqual(d.map((x) => [x.keyword, x.name, x.type ?? null, x.hasJsonDefault]), [
    ["let", "models", "string[]", true],
    ["let", "maxWindows", null, true],
    ["let", "label", null, false],
    ["let", "seed", "number | null", true],
    ["let", "options", null, false],
    ["const", "fixed", null, true],
    ["let", "computed", null, false],
  ]);
  assert.deepEqual(d[0].defaultValue, ["tiny-base", "tiny-collapsed"]);
  assert.equal(d[1].line, 3);
});

Deno.test("resolveParams: command-line text → JSON values, text kept for string parameters", () => {
  const d = parseParametersCell(CELL);
  assert.deepEqual(
    resolveParams(d, { models: '["a","b"]', maxWindows: "4", label: "123", seed: "7", other: "x" }),
    { models: ["a", "b"], maxWindows: 4, label: "123", seed: 7 },
  );
  assert.deepEqual(resolveParams(d, { label: '"quoted"' }), { label: "quoted" });
  assert.deepEqual(parseParamArgs(["a=1", "b=x=y", "c="]), { a: "1", b: "x=y", c: "" });
  assert.throws(() => parseParamArgs(["novalue"]), ParameterError);
  assert.throws(() => parseParamArgs(["1x=2"]), /not a variable name/);
});

Deno.test("checkParams: unknown names, const, and a different JSON kind than a literal default are errors", () => {
  const d = parseParametersCell(CELL);
  assert.deepEqual(checkParams(d, { maxWindows: 2, models: [] }, "nb"), [["models", []], ["maxWindows", 2]]);
  assert.throws(
    () => checkParams(d, { nope: 1 }, "nb"),
    /nb: unknown parameter "nope" \(its parameters cell declares: models, maxWindows/,
  );
  assert.throws(() => checkParams(d, { fixed: 4 }, "nb"), /declared with const .*declare it with let/);
  assert.throws(
    () => checkParams(d, { maxWindows: "many" }, "nb"),
    /defaults to a number \(8\); got a string \("many"\)/,
  );
  assert.throws(() => checkParams(d, { maxWindows: NaN }, "nb"), /must be a JSON value/);
  // null defaults and non-literal defaults accept any kind.
  assert.deepEqual(checkParams(d, { seed: 3, computed: "x", options: [1] }), [["seed", 3], ["options", [1]], [
    "computed",
    "x",
  ]]);
});

function notebook(...cells: [string, string[]][]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map(([src, tags], i) => ({
      cell_type: "code",
      id: `c${i}`,
      source: splitLines(src),
      metadata: { tags },
      outputs: [],
      execution_count: null,
    })),
  };
}

Deno.test("injectParameters: a tagged cell after the parameters cell, replacing an earlier one; input untouched", () => {
  const nb = notebook(["import x from './x.ts';", []], ["let n = 1;\nlet s = 'a';", ["parameters"]], [
    "n * 2",
    [],
  ]);
  const { notebook: out, injectedIndex, assignments } = injectParameters(nb, { s: "b", n: 5 });
  assert.equal(injectedIndex, 2);
  assert.deepEqual(assignments, [["n", 5], ["s", "b"]]);
  assert.deepEqual(cellsTagged(out, INJECTED_TAG), [2]);
  assert.equal(cellSource(out.cells[2]), injectedSource([["n", 5], ["s", "b"]]));
  assert.match(cellSource(out.cells[2]), /\nn = 5;\ns = "b";\nvoid 0;$/);
  assert.equal(nb.cells.length, 3, "input not modified");
  // Re-running an executed notebook replaces its injected cell instead of stacking another.
  const again = injectParameters(out, { n: 6 });
  assert.deepEqual(cellsTagged(again.notebook, INJECTED_TAG), [2]);
  assert.equal(again.notebook.cells.length, 4);
  assert.match(cellSource(again.notebook.cells[2]), /^n = 6;$/m);
  // No overrides: no injected cell (and a stale one is removed).
  assert.equal(injectParameters(out, {}).notebook.cells.length, 3);
  assert.equal(injectParameters(out, {}).injectedIndex, undefined);
  // Errors.
  assert.throws(
    () => injectParameters(notebook(["1", []]), { n: 1 }, "x.ipynb"),
    /x\.ipynb: has no code cell tagged "parameters"/,
  );
  assert.throws(
    () => injectParameters(notebook(["let a = 1;", ["parameters"]], ["let b = 1;", ["parameters"]]), {}),
    /2 cells are tagged "parameters"/,
  );
  // A JSON string with characters special to JS source stays one string literal.
  const tricky = 'a"b\\c\u2028`${x}`';
  const t = injectParameters(nb, { s: tricky });
  assert.equal(cellSource(t.notebook.cells[2]).split("\n")[1], `s = ${JSON.stringify(tricky)};`);
});

Deno.test("ipynb: validation names the file and the cell; writing is atomic and in Jupyter's layout; fixtures parse", async () => {
  assert.throws(
    () => parseNotebook("{", "a.ipynb"),
    (e: Error) => e instanceof NotebookFormatError && /a\.ipynb: not valid JSON/.test(e.message),
  );
  assert.throws(() => parseNotebook('{"nbformat": 3}', "a.ipynb"), /a\.ipynb: nbformat: expected 4/);
  const bad = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{ cell_type: "code", source: "", metadata: {} }],
  };
  assert.throws(
    () => parseNotebook(JSON.stringify(bad), "b.ipynb"),
    /b\.ipynb: cells\[0\]\.outputs: missing/,
  );
  const tags = { ...bad, cells: [{ cell_type: "markdown", source: "", metadata: { tags: "x" } }] };
  assert.throws(() => parseNotebook(JSON.stringify(tags), "c.ipynb"), /cells\[0\]\.metadata\.tags/);

  const smoke = await readNotebook(join(FIXTURES, "smoke.ipynb"));
  assert.deepEqual(notebookParameters(smoke).map((d) => d.name), ["greeting", "count", "values"]);
  const dir = await Deno.makeTempDir({ prefix: "ipynb-" });
  const path = join(dir, "out.ipynb");
  await writeNotebook(path, smoke);
  const text = await Deno.readTextFile(path);
  assert.equal(text, serializeNotebook(smoke));
  assert.match(text, /^\{\n "cells": \[/);
  assert.ok(text.endsWith("}\n"));
  assert.deepEqual(await readNotebook(path), JSON.parse(text));
  await assert.rejects(writeNotebook(path, { ...smoke, nbformat: 3 }), NotebookFormatError);
  assert.equal(await Deno.readTextFile(path), text, "a bad notebook does not replace a good one");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out.ipynb"]);
  await Deno.remove(dir, { recursive: true });

  assert.deepEqual(splitLines("a\nb\n\nc"), ["a\n", "b\n", "\n", "c"]);
  assert.equal(stripAnsi("\x1b[33m'x'\x1b[39m"), "'x'");
  assert.deepEqual(listNotebooks(FIXTURES).map((p) => p.split("/").at(-1)), ["failing.ipynb", "smoke.ipynb"]);
  assert.deepEqual(listNotebooks(FIXTURES, ["smoke.ipynb"]).length, 1);
  assert.throws(() => listNotebooks(FIXTURES, ["x"]), /no notebook "x" .*available: failing, smoke/);
  assert.deepEqual(listNotebooks(join(dir, "missing")), []);
});

Deno.test("unmetExpectations and topLevelSvgCount: what the runner and the render check count", () => {
  const nb = notebook(["1", ["expect-result", "figure"]], ["2", ["expect-stream"]], ["3", []]);
  nb.cells[0].outputs = [{
    output_type: "execute_result",
    data: { "text/plain": "1" },
    metadata: {},
    execution_count: 1,
  }];
  assert.deepEqual(unmetExpectations(nb), [
    { cell: 0, problem: 'tagged "figure" but has no SVG output' },
    { cell: 1, problem: 'tagged "expect-stream" but printed nothing' },
  ]);
  nb.cells[0].outputs.push({
    output_type: "display_data",
    data: { "text/html": ["<figure><svg>", "</svg></figure>"] },
  });
  nb.cells[1].outputs = [{ output_type: "stream", name: "stdout", text: "hi\n" }];
  assert.deepEqual(unmetExpectations(nb), []);
  // figure-or-note: a figure, or a printed note saying why there is none; nothing at all is a problem.
  const fn = notebook(["1", ["figure-or-note"]], ["2", ["figure-or-note"]], ["3", ["figure-or-note"]]);
  fn.cells[1].outputs = [{ output_type: "stream", name: "stdout", text: "no integer look\n" }];
  fn.cells[2].outputs = [{ output_type: "display_data", data: { "image/svg+xml": "<svg></svg>" } }];
  assert.deepEqual(unmetExpectations(fn), [
    { cell: 0, problem: 'tagged "figure-or-note" but has neither an SVG output nor a note' },
  ]);
  assert.equal(outputFigureCount(nb.cells[0]), 1);
  assert.equal(
    topLevelSvgCount('<svg a="1"><g><svg/></g><svg></svg></svg><p/><SVG viewBox="0 0 1 1"></SVG><svg/>'),
    3,
  );
});

Deno.test("checkParams: every problem at once, each a sentence; a near-miss name gets a suggestion", () => {
  const d = parseParametersCell(CELL);
  assert.throws(
    () => checkParams(d, { maxWindow: 2, fixed: 1, models: "a", seed: undefined }, "nb"),
    (e: Error) => {
      assert.ok(e instanceof ParameterError);
      const lines = e.message.split("\n");
      assert.equal(lines.length, 4, e.message);
      assert.ok(lines.every((l) => l.startsWith("nb: ")), e.message);
      assert.match(e.message, /unknown parameter "maxWindow"; did you mean "maxWindows"\?/);
      assert.match(e.message, /parameter "fixed" is declared with const/);
      assert.match(e.message, /parameter "models" defaults to a array/);
      assert.match(e.message, /parameter "seed" must be a JSON value, got undefined/);
      return true;
    },
  );
});
