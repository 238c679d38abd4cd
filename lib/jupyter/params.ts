/**
 * Notebook parameters, papermill-style, for TypeScript notebooks.
 *
 * Scheme: each notebook opens with one code cell tagged `parameters` that declares its parameters with `let`,
 * one per line, with their defaults:
 *
 * ```ts
 * let models = ["tiny-base", "tiny-collapsed"];
 * let maxWindows = 8; // windows scored per model
 * ```
 *
 * The runner inserts, right after it, a code cell tagged `injected-parameters` that assigns the overrides as JSON
 * values (`maxWindows = 4;`), so the notebook runs unchanged in JupyterLab (defaults) and headlessly (overrides),
 * and the executed notebook shows what was used. Overrides are checked against the declarations: unknown names,
 * `const` declarations and a JSON kind that differs from a literal default (a string for a number, …) are errors.
 * @module
 */
import { cellSource, cellsTagged, newCodeCell, type Notebook, type NotebookCell } from "./ipynb.ts";
import { checkWith, suggestion, v } from "../io/schema.ts";

/** Tag of the notebook's parameters cell. */
const PARAMETERS_TAG = "parameters";

/** Tag of the cell the runner injects. */
export const INJECTED_TAG = "injected-parameters";

/** One declaration of the parameters cell. */
export interface ParameterDecl {
  name: string;
  /** `let`, `var` or `const` (the last cannot be overridden). */
  keyword: "let" | "var" | "const";
  /** The type annotation, if any. */
  type?: string;
  /** The default's source text (first line only). */
  defaultText?: string;
  /** The default, when its text is a JSON literal. */
  defaultValue?: unknown;
  /** Whether {@link defaultValue} is set. */
  hasJsonDefault: boolean;
  /** Line number in the cell (1-based). */
  line: number;
}

/** A parameter problem: unknown name, const declaration, kind mismatch, missing parameters cell. */
export class ParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParameterError";
  }
}

const DECL =
  /^\s*(?:export\s+)?(let|var|const)\s+([A-Za-z_$][\w$]*)\s*(?::\s*([^=;]+?))?\s*(?:=\s*(.*?))?\s*;?\s*(?:\/\/.*)?$/;

/** The declarations of a parameters cell's source (top-level `let` / `var` / `const`, one per line). */
export function parseParametersCell(source: string): ParameterDecl[] {
  const decls: ParameterDecl[] = [];
  source.split("\n").forEach((text, i) => {
    const m = DECL.exec(text);
    if (m === null) return;
    const decl: ParameterDecl = {
      keyword: m[1] as ParameterDecl["keyword"],
      name: m[2],
      line: i + 1,
      hasJsonDefault: false,
    };
    if (m[3] !== undefined) decl.type = m[3].trim();
    if (m[4] !== undefined && m[4] !== "") {
      decl.defaultText = m[4].trim();
      try {
        decl.defaultValue = JSON.parse(decl.defaultText);
        decl.hasJsonDefault = true;
      } catch { /* not a JSON literal: no kind check */ }
    }
    decls.push(decl);
  });
  return decls;
}

/** The notebook's parameters cell index, or undefined; more than one is an error. */
function findParametersCell(nb: Notebook, where = "notebook"): number | undefined {
  const tagged = cellsTagged(nb, PARAMETERS_TAG);
  if (tagged.length > 1) {
    throw new ParameterError(
      `${where}: ${tagged.length} cells are tagged "${PARAMETERS_TAG}" (cells ${
        tagged.join(", ")
      }); keep one`,
    );
  }
  if (tagged.length === 1 && nb.cells[tagged[0]].cell_type !== "code") {
    throw new ParameterError(
      `${where}: the cell tagged "${PARAMETERS_TAG}" (cell ${tagged[0]}) is not a code cell`,
    );
  }
  return tagged[0];
}

/** The declared parameters of a notebook (empty when it has no parameters cell). */
export function notebookParameters(nb: Notebook, where = "notebook"): ParameterDecl[] {
  const at = findParametersCell(nb, where);
  return at === undefined ? [] : parseParametersCell(cellSource(nb.cells[at]));
}

/** JSON kind of a value: null, boolean, number, string, array or object. */
function jsonKind(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/**
 * `key=value` command-line arguments → raw strings. Values are kept as typed; {@link resolveParams} converts
 * them against a notebook's declarations.
 */
export function parseParamArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq <= 0) throw new ParameterError(`--param expects key=value, got "${a}"`);
    const key = a.slice(0, eq).trim();
    if (!/^[A-Za-z_$][\w$]*$/.test(key)) throw new ParameterError(`--param: "${key}" is not a variable name`);
    out[key] = a.slice(eq + 1);
  }
  return out;
}

/**
 * Converts raw command-line values for a notebook with declarations `decls`: a value is parsed as JSON
 * (`4`, `true`, `["a","b"]`, `"text"`), except that a parameter whose default is a string literal keeps the raw
 * text unless it is itself a JSON string; text that is not JSON stays a string. Names the notebook does not
 * declare are left out (the caller checks that each name is declared by some notebook).
 */
export function resolveParams(decls: ParameterDecl[], raw: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of decls) {
    if (!(d.name in raw)) continue;
    const text = raw[d.name];
    const stringDefault = d.defaultText !== undefined && /^["'`]/.test(d.defaultText);
    if (stringDefault && !text.trimStart().startsWith('"')) {
      out[d.name] = text;
      continue;
    }
    try {
      out[d.name] = JSON.parse(text);
    } catch {
      out[d.name] = text;
    }
  }
  return out;
}

/**
 * The schema of a notebook's overrides, from its declarations: one optional field per declared name, a JSON
 * value (not undefined, NaN or ±Infinity) of the kind of a literal non-null default; `const` parameters and
 * undeclared names are problems (a near miss gets a suggestion). Each problem's message is a full sentence.
 */
function parametersSchema(decls: ParameterDecl[]) {
  const known = decls.map((x) => x.name);
  const entries = Object.fromEntries(decls.map((d) => {
    const jsonValue = v.custom<unknown>(
      (x) => x !== undefined && !(typeof x === "number" && !Number.isFinite(x)),
      (i) => `parameter "${d.name}" must be a JSON value, got ${String(i.input)}`,
    );
    if (d.keyword === "const") {
      return [
        d.name,
        v.exactOptional(
          v.custom<never>(
            () => false,
            () =>
              `parameter "${d.name}" is declared with const (line ${d.line} of the parameters cell); declare it ` +
              "with let so it can be overridden",
          ),
        ),
      ];
    }
    const kind = d.hasJsonDefault && d.defaultValue !== null ? jsonKind(d.defaultValue) : undefined;
    return [
      d.name,
      v.exactOptional(v.pipe(
        jsonValue,
        v.check(
          (x) => kind === undefined || x === null || jsonKind(x) === kind,
          (i) =>
            `parameter "${d.name}" defaults to a ${kind} (${d.defaultText}); got a ${jsonKind(i.input)} (${
              JSON.stringify(i.input)
            })`,
        ),
      )),
    ];
  }));
  return v.pipe(
    v.looseObject(entries),
    v.rawCheck(({ dataset, addIssue }) => {
      for (const name of Object.keys(dataset.value as Record<string, unknown>)) {
        if (known.includes(name)) continue;
        addIssue({
          message: `unknown parameter "${name}"${suggestion(name, known)} (its parameters cell declares: ${
            known.join(", ") || "none"
          })`,
        });
      }
    }),
  );
}

/** Checks overrides against the declarations (every problem at once); returns them in declaration order. */
export function checkParams(
  decls: ParameterDecl[],
  params: Record<string, unknown>,
  where = "notebook",
): [string, unknown][] {
  const r = checkWith(parametersSchema(decls), params);
  if (!r.ok) throw new ParameterError(r.problems.map((p) => `${where}: ${p.message}`).join("\n"));
  return decls.filter((d) => d.name in params).map((d) => [d.name, params[d.name]]);
}

/** Source of the injected cell. */
export function injectedSource(assignments: [string, unknown][]): string {
  const lines = assignments.map(([name, v]) => `${name} = ${JSON.stringify(v)};`);
  // `void 0` last: the cell's value is undefined, so the kernel shows no result for it.
  return [
    "// Parameters injected by `deno task notebooks`; they override the parameters cell above.",
    ...lines,
    "void 0;",
  ].join("\n");
}

/** Result of {@link injectParameters}. */
export interface Injected {
  /** A copy of the notebook with the injected cell (the input is not modified). */
  notebook: Notebook;
  /** Index of the injected cell, or undefined when nothing was injected. */
  injectedIndex?: number;
  /** The overrides, in declaration order. */
  assignments: [string, unknown][];
}

/**
 * Inserts the override cell after the parameters cell (replacing an earlier injected cell, as in a re-run of an
 * executed notebook). With no overrides the notebook is returned unchanged (less any stale injected cell).
 */
export function injectParameters(
  nb: Notebook,
  params: Record<string, unknown>,
  where = "notebook",
): Injected {
  const notebook = structuredClone(nb);
  for (const i of cellsTagged(notebook, INJECTED_TAG).reverse()) notebook.cells.splice(i, 1);
  const at = findParametersCell(notebook, where);
  if (Object.keys(params).length === 0) return { notebook, assignments: [] };
  if (at === undefined) {
    throw new ParameterError(
      `${where}: has no code cell tagged "${PARAMETERS_TAG}", so it takes no parameters`,
    );
  }
  const assignments = checkParams(parseParametersCell(cellSource(notebook.cells[at])), params, where);
  const cell: NotebookCell = newCodeCell(injectedSource(assignments), [INJECTED_TAG]);
  notebook.cells.splice(at + 1, 0, cell);
  return { notebook, injectedIndex: at + 1, assignments };
}
