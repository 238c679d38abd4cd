/** The project's notebooks: where they are, their names, and picking some by name. @module */
import { basename, join } from "node:path";
import { existsSync, readdirSync } from "node:fs";
import { PROJECT_ROOT } from "../project_root.ts";

/** Where the project's notebooks live. */
export const NOTEBOOKS_DIR: string = join(PROJECT_ROOT, "notebooks");

/** The notebook's name: its file name without `.ipynb`. */
export function notebookName(path: string): string {
  return basename(path).replace(/\.ipynb$/, "");
}

/**
 * The notebooks in `dir` (`*.ipynb`, sorted; checkpoints and dot files left out). `only` selects by name (with
 * or without `.ipynb`); an unknown name is an error listing the available ones.
 */
export function listNotebooks(dir: string = NOTEBOOKS_DIR, only: string[] = []): string[] {
  const all = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith(".ipynb") && !f.startsWith(".")).sort().map((f) =>
      join(dir, f)
    )
    : [];
  if (only.length === 0) return all;
  return only.map((want) => {
    const hit = all.find((p) => notebookName(p) === notebookName(want));
    if (hit === undefined) {
      const names = all.map(notebookName).join(", ") || "none";
      throw new Error(`no notebook "${want}" in ${dir} (available: ${names})`);
    }
    return hit;
  });
}
