/**
 * lib/mod.ts, the library's public surface: every export line carries its JSDoc line, and every value it
 * documents is there when the module is imported.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import * as mod from "../lib/mod.ts";

const MOD_SOURCE = Deno.readTextFileSync(join(PROJECT_ROOT, "lib", "mod.ts"));

/** The export statements of lib/mod.ts, each with the line before it. */
function exportLines(source: string): { line: string; before: string }[] {
  const lines = source.split("\n");
  return lines.flatMap((line, i) => line.startsWith("export ") ? [{ line, before: lines[i - 1] ?? "" }] : []);
}

/** The names a value re-export line gives (`export { a } from`, `export * as ns from`); none for types. */
function valueNames(line: string): string[] {
  if (line.startsWith("export type ")) return [];
  const star = line.match(/^export \* as (\w+) from /);
  if (star) return [star[1]];
  const named = line.match(/^export \{([^}]*)\} from /);
  assert.ok(named, `unexpected export form: ${line}`);
  return named[1].split(",").map((n) => n.trim()).filter((n) => n !== "");
}

Deno.test("mod.ts: every export is a one-name re-export with a JSDoc line before it", () => {
  const exports = exportLines(MOD_SOURCE);
  assert.ok(exports.length >= 40, `only ${exports.length} exports`);
  for (const { line, before } of exports) {
    assert.match(line, /^export (type )?(\{ \w+ \}|\* as \w+) from "\.\/[\w/]+\.ts";$/, line);
    assert.match(before.trim(), /^\/\*\* .+ \*\/$/, `no JSDoc line before: ${line}`);
  }
  // Nothing exported without a line of its own (a multi-line export block would hide undocumented names).
  assert.equal(MOD_SOURCE.match(/^export /gm)?.length, exports.length);
});

Deno.test("mod.ts: each documented value is present (functions as functions)", () => {
  const names = exportLines(MOD_SOURCE).flatMap(({ line }) => valueNames(line));
  assert.deepEqual(Object.keys(mod).sort(), [...new Set(names)].sort());
  const values = mod as Record<string, unknown>;
  for (const name of names) {
    const value = values[name];
    assert.notEqual(value, undefined, name);
    if (/^[a-z]/.test(name) && name !== "figures") assert.equal(typeof value, "function", name);
  }
  for (const name of ["MODEL_ROLES", "METRICS"]) assert.ok(Array.isArray(values[name]), name);
  assert.equal(typeof mod.COLLAPSE_RULE.lessDiverseShare, "number");
});

Deno.test("mod.ts: the entry points a researcher needs are there", () => {
  for (
    const name of [
      "loadCausalLM",
      "loadTokenizer",
      "runScoreJob",
      "runSweep",
      "analyseCompletions",
      "METRICS",
      "readScoreFile",
      "parseCompletionsJson",
      "parseDiversityFile",
      "readNpy",
      "openStudy",
      "collapseVerdict",
      "figures",
    ]
  ) assert.ok(name in mod, name);
  assert.equal(typeof mod.figures.diversityGrid, "function");
  assert.equal(typeof mod.figures.saveFigure, "function");
});
