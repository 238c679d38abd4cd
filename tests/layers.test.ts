/**
 * Layers that point one way: every import in lib/ and cli/ (type-only and re-exports included) goes to the same
 * layer or a lower one, and no set of modules imports itself round in a cycle. The order (README, "Layout"):
 *
 *   numeric, io, cache, setup, slurm, progress, project_root, shared_dir, version → data, models, embeddings
 *   → scoring, sampling, metrics, diversity → figures → jupyter (notebook machinery) → study → views (notebook
 *   views) → lib/mod.ts (the public surface) → cli
 *
 * (setup/ — npm tarballs, probing Jupyter — needs only io/, and data/ and figures/ use it.)
 *
 * Known violations that remain are listed in {@link ALLOWED} with why; the test fails on any other, and on an
 * allowed entry that no longer occurs (so the list only shrinks). The README's "Layout" section is checked
 * against the tree too: every folder of lib/ and every layer here is named there, and nothing that is gone.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { PROJECT_ROOT } from "../lib/project_root.ts";

/** Layer of each top-level part of lib/ (and cli/), low to high. */
const LAYERS: readonly (readonly string[])[] = [
  [
    "lib/numeric",
    "lib/io",
    "lib/cache",
    "lib/setup",
    "lib/slurm",
    "lib/progress",
    "lib/project_root.ts",
    "lib/shared_dir.ts",
    "lib/version.ts",
  ],
  ["lib/data", "lib/models", "lib/embeddings"],
  ["lib/scoring", "lib/sampling", "lib/metrics", "lib/diversity"],
  ["lib/figures"],
  ["lib/jupyter"],
  ["lib/study"],
  ["lib/views"],
  ["lib/mod.ts"],
  ["cli"],
];

/**
 * Imports that run upward today, "from → to" (project-relative paths). Each is a debt, not a design: move the
 * code to the layer it belongs to and delete the line.
 */
const ALLOWED: ReadonlySet<string> = new Set([]);

/** Every .ts file under `dir`. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...tsFiles(p));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/**
 * The relative specifiers a module imports or re-exports (static, dynamic and type-only), and the modules it
 * names by URL to load at run time (`new URL("./x.ts", import.meta.url)`: deferred imports and workers).
 */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs = new Set<string>();
  for (const m of code.matchAll(/(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g)) {
    specs.add(m[1]);
  }
  for (const m of code.matchAll(/(?:^|[\s;])import\s*["']([^"']+)["']/g)) specs.add(m[1]);
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specs.add(m[1]);
  // Modules named at run time (importLater, workers): `new URL("./x.ts", import.meta.url)`.
  for (const m of code.matchAll(/\bnew URL\(\s*["']([^"']+\.ts)["']\s*,\s*import\.meta\.url\s*\)/g)) {
    specs.add(m[1]);
  }
  return [...specs].filter((s) =>
    (s.startsWith("./") || s.startsWith("../") || s.startsWith("@mode-collapse/")) && s.endsWith(".ts")
  );
}

function layerOf(rel: string): number {
  const i = LAYERS.findIndex((l) => l.some((p) => rel === p || rel.startsWith(p + "/")));
  if (i < 0) throw new Error(`${rel}: in no layer (add its folder to LAYERS and to the README's layout)`);
  return i;
}

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of [...tsFiles(join(PROJECT_ROOT, "lib")), ...tsFiles(join(PROJECT_ROOT, "cli"))]) {
    const rel = relative(PROJECT_ROOT, file);
    const deps = importsOf(Deno.readTextFileSync(file)).map((s) =>
      relative(
        PROJECT_ROOT,
        s.startsWith("@mode-collapse/") ? join(PROJECT_ROOT, "lib", s.slice(15)) : resolve(dirname(file), s),
      )
    );
    g.set(rel, deps);
  }
  return g;
}

Deno.test("layers: the import scanner sees static, type-only, re-exported, dynamic and run-time (URL) imports", () => {
  assert.deepEqual(
    importsOf(
      'import { a } from "./a.ts";\nimport type { B } from "../b.ts";\nexport { c } from "./c.ts";\n' +
        'import "./d.ts";\nconst e = await import("./e.ts");\nimport x from "npm:x";\n// import "./no.ts";\n' +
        'import {\n  f,\n  type G,\n} from "@mode-collapse/f.ts";\n' +
        'const later = importLater(new URL("../h.ts", import.meta.url));\nnew Worker(new URL("./w.ts", import.meta.url));',
    ).sort(),
    ["../b.ts", "../h.ts", "./a.ts", "./c.ts", "./d.ts", "./e.ts", "./w.ts", "@mode-collapse/f.ts"],
  );
});

Deno.test("layers: no import in lib/ or cli/ runs upward (beyond the listed, known ones)", () => {
  const g = graph();
  const upward: string[] = [];
  for (const [from, deps] of g) {
    for (const to of deps) if (layerOf(to) > layerOf(from)) upward.push(`${from} → ${to}`);
  }
  const unexpected = upward.filter((u) => !ALLOWED.has(u));
  assert.deepEqual(unexpected, [], "imports that run upward (move the code down, or the import up)");
  const stale = [...ALLOWED].filter((a) => !upward.includes(a));
  assert.deepEqual(stale, [], "allow-list entries that no longer occur: delete them");
});

Deno.test("layers: no import cycle between modules of lib/ and cli/ (type-only imports included)", () => {
  const g = graph();
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 1);
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].join(" → "));
      else if (state.get(d) === undefined && g.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...g.keys()].sort()) if (state.get(n) === undefined) visit(n);
  const unexpected = cycles.filter((c) => !ALLOWED_CYCLES.has(c));
  assert.deepEqual(unexpected, [], "import cycles");
  const stale = [...ALLOWED_CYCLES].filter((a) => !cycles.includes(a));
  assert.deepEqual(stale, [], "allowed cycles that no longer occur: delete them");
});

/** The code blocks of the README's "Layout" section: the layer diagram, then the tree. */
function readmeLayoutBlocks(): string[] {
  const readme = Deno.readTextFileSync(join(PROJECT_ROOT, "README.md"));
  const start = readme.indexOf("\n## Layout\n");
  assert.ok(start >= 0, 'README.md has no "## Layout" section');
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The entries the Layout tree lists directly under `lib/` (two-space indent): folders end in "/". */
function layoutLibEntries(tree: string): string[] {
  const lines = tree.split("\n");
  const lib = lines.findIndex((l) => l.startsWith("lib/"));
  assert.ok(lib >= 0, "the Layout tree has no lib/ line");
  const out: string[] = [];
  for (const line of lines.slice(lib + 1)) {
    if (/^\S/.test(line)) break; // the next top-level entry (cli/, notebooks/, …)
    const m = line.match(/^ {2}(\S+)/);
    if (m) out.push(m[1]);
  }
  return out;
}

Deno.test("layers: the README's Layout names every folder of lib/ and lib/mod.ts, and only ones that exist", () => {
  const blocks = readmeLayoutBlocks();
  assert.equal(blocks.length, 2, "the Layout section has a layer diagram and a tree");
  const [diagram, tree] = blocks;
  const listed = layoutLibEntries(tree);
  const folders = [...Deno.readDirSync(join(PROJECT_ROOT, "lib"))].filter((e) => e.isDirectory).map((e) =>
    e.name + "/"
  ).sort();
  const missing = [...folders, "mod.ts"].filter((f) => !listed.includes(f));
  assert.deepEqual(missing, [], "lib/ entries the README's Layout tree does not describe");
  const gone = listed.filter((f) => {
    try {
      const info = Deno.statSync(join(PROJECT_ROOT, "lib", f));
      return f.endsWith("/") ? !info.isDirectory : !info.isFile;
    } catch {
      return true;
    }
  });
  assert.deepEqual(gone, [], "entries the README's Layout tree lists under lib/ that do not exist");
  // Every layer of the test's LAYERS is in the diagram, by its last path component.
  const words = new Set(diagram.match(/[\w.]+/g) ?? []);
  const absent = LAYERS.flat().map((p) => p.split("/").at(-1)!).filter((name) => !words.has(name));
  assert.deepEqual(absent, [], "layers missing from the README's layer diagram");
});

/**
 * Cycles that exist today (each listed once, as the depth-first search from the sorted file list finds it): none.
 * A cycle that cannot be broken at once goes here with why, as a debt to pay off.
 */
const ALLOWED_CYCLES: ReadonlySet<string> = new Set<string>([]);
