/**
 * `deno task notebooks [--only name] [--param key=value ...] [--out results/notebooks]`: executes every
 * `notebooks/*.ipynb` headlessly through Jupyter with the Deno kernel (lib/jupyter/run_notebook.ts), with
 * parameter overrides injected, and writes the executed notebooks and their HTML. Exit status 1 when any
 * notebook fails.
 * @module
 */
import { join, relative, resolve } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandLine } from "./options.ts";
import { readNotebook } from "../lib/jupyter/ipynb.ts";
import {
  checkParams,
  notebookParameters,
  ParameterError,
  parseParamArgs,
  resolveParams,
} from "../lib/jupyter/params.ts";
import { listNotebooks, notebookName, NOTEBOOKS_DIR } from "../lib/jupyter/notebook_list.ts";
import { DEFAULT_GRACE_MS, DEFAULT_OUT_DIR } from "../lib/jupyter/run_notebook.ts";
import { NotebookRunError } from "../lib/jupyter/run_error.ts";
import { runNotebooks } from "../lib/jupyter/run_notebooks.ts";
import { checkRendered } from "../lib/jupyter/browser.ts";
import { notebooksAvailable, probeNotebookTools } from "../lib/setup/jupyter.ts";
import { RECOMPUTE_ENV } from "../lib/cache/result_cache.ts";
import { realPathOf } from "../lib/io/output_paths.ts";

const HELP = `usage: deno task notebooks [options]

Executes notebooks/*.ipynb headlessly (Jupyter + the Deno kernel) and writes <out>/<name>.ipynb and <name>.html.

options:
  --only NAME         run only this notebook (repeatable, or comma-separated); default: all
  --param KEY=VALUE   override a parameter of the notebooks' parameters cell (repeatable); VALUE is JSON
                      (4, true, ["a","b"]) or plain text for string parameters
  --out DIR           output folder (default results/notebooks)
  --dir DIR           notebooks folder (default notebooks/)
  --recompute         ignore cached results (sets ${RECOMPUTE_ENV}=1 for the kernel)
  --no-html           skip the HTML export
  --screenshots       render each HTML export in headless Chromium: <out>/screenshots/<name>.png, and fail
                      when a figure of the notebook is missing from the page
  --timeout S         limit per cell in seconds (default 1800; 0 = none)
  --grace-ms MS       quiet time after a cell's idle to collect late outputs (default ${DEFAULT_GRACE_MS})
  --fail-fast         stop at the first failing notebook
  --list              list the notebooks and their parameters, run nothing

writes <out>/<name>.ipynb and <out>/<name>.html (and <out>/screenshots/ with --screenshots); a notebook writes
its figures and results under its study's results folder.
`;

/** The `notebooks` command. */
const command: Command = {
  summary: "execute the notebooks headlessly (parameters, executed .ipynb + HTML)",
  async run(argv: string[]): Promise<number> {
    let args;
    try {
      args = parseCommandLine({
        args: argv,
        options: {
          only: { type: "string", multiple: true },
          param: { type: "string", multiple: true },
          out: { type: "string" },
          dir: { type: "string" },
          recompute: { type: "boolean" },
          "no-html": { type: "boolean" },
          screenshots: { type: "boolean" },
          timeout: { type: "string" },
          "grace-ms": { type: "string" },
          "fail-fast": { type: "boolean" },
          list: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
        allowPositionals: false,
      }).values;
    } catch (e) {
      console.error(`${(e as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (args.help) {
      console.log(HELP);
      return 0;
    }
    const dir = args.dir ?? NOTEBOOKS_DIR;
    const only = (args.only ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "");
    const num = (v: string | undefined, what: string, dflt: number) => {
      if (v === undefined) return dflt;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) {
        throw new ParameterError(`--${what} expects a number ≥ 0, got "${v}"`);
      }
      return n;
    };
    let paths: string[];
    let raw: Record<string, string>;
    let timeout: number;
    let grace: number;
    const params = new Map<string, Record<string, unknown>>();
    try {
      paths = listNotebooks(dir, only);
      raw = parseParamArgs(args.param ?? []);
      timeout = num(args.timeout, "timeout", 1800);
      grace = num(args["grace-ms"], "grace-ms", DEFAULT_GRACE_MS);
      const declared = new Set<string>();
      for (const p of paths) {
        const decls = notebookParameters(await readNotebook(p), p);
        decls.forEach((d) => declared.add(d.name));
        const resolved = resolveParams(decls, raw);
        checkParams(decls, resolved, p);
        params.set(p, resolved);
        if (args.list) {
          const list = decls.map((d) =>
            `${d.keyword} ${d.name}${d.defaultText ? ` = ${d.defaultText}` : ""}`
          );
          console.log(
            `${notebookName(p)}\t${relative(Deno.cwd(), p)}\n  ${list.join("\n  ") || "(no parameters)"}`,
          );
        }
      }
      const unknown = Object.keys(raw).filter((k) => !declared.has(k));
      if (unknown.length > 0) {
        throw new ParameterError(
          `no selected notebook declares parameter(s) ${unknown.join(", ")} (declared: ${
            [...declared].join(", ") || "none"
          })`,
        );
      }
    } catch (e) {
      console.error(`notebooks: ${(e as Error).message}`);
      return 2;
    }
    if (args.list) return 0;
    if (paths.length === 0) {
      console.error(`notebooks: no notebooks in ${dir}; nothing to run`);
      return 0;
    }
    if (args.out !== undefined) {
      // The executed notebooks are written under the sources' names: never into the notebooks folder itself.
      if (realPathOf(args.out) === realPathOf(dir)) {
        console.error(
          `notebooks: --out ${args.out} is the notebooks folder ${dir}: the executed notebooks would replace them`,
        );
        return 2;
      }
    }
    console.error(`notebooks: writes ${resolve(args.out ?? DEFAULT_OUT_DIR)}`);
    const tools = await probeNotebookTools();
    if (!notebooksAvailable(tools)) {
      console.error(`notebooks: cannot execute notebooks: ${tools.problems.join("; ")}`);
      return 3;
    }
    const { results, failures } = await runNotebooks(paths, {
      outDir: args.out ?? DEFAULT_OUT_DIR,
      html: !args["no-html"],
      cellTimeoutS: timeout,
      graceMs: grace,
      failFast: args["fail-fast"],
      env: args.recompute ? { [RECOMPUTE_ENV]: "1" } : undefined,
      paramsFor: (p) => params.get(p) ?? {},
    });
    if (args.screenshots && !args["no-html"]) {
      for (const r of results.splice(0)) {
        const png = join(args.out ?? DEFAULT_OUT_DIR, "screenshots", `${r.name}.png`);
        try {
          const check = await checkRendered(r.html!, await readNotebook(r.executed), png);
          console.error(
            `notebooks: ${r.name}: rendered, ${check.svgInPage} SVG in the page for ${check.figures} figure(s) → ${png}`,
          );
          results.push(r);
        } catch (e) {
          failures.push(
            new NotebookRunError(
              `${r.source}: render check failed: ${(e as Error).message}`,
              r.source,
              r.executed,
            ),
          );
          console.error(`notebooks: ${r.name}: FAILED render check: ${(e as Error).message}`);
        }
      }
    }
    const late = results.reduce((a, r) => a + r.lateOutputs, 0);
    console.error(
      `notebooks: ${results.length} ok, ${failures.length} failed` +
        (late > 0 ? ` (${late} late kernel outputs recovered)` : ""),
    );
    for (const f of failures) console.error(`notebooks: FAILED ${f.source}`);
    return failures.length > 0 ? 1 : 0;
  },
};

if (import.meta.main) {
  Deno.exit(await command.run(Deno.args));
}
