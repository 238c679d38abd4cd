/** Running several notebooks one after another, collecting every failure. @module */
import { notebookName } from "./notebook_list.ts";
import { NotebookRunError } from "./run_error.ts";
import { type NotebookRunOptions, type NotebookRunResult, runNotebook } from "./run_notebook.ts";

/** Result of {@link runNotebooks}. */
export interface RunAllResult {
  results: NotebookRunResult[];
  failures: NotebookRunError[];
}

/**
 * Runs several notebooks one after another. A failure does not stop the others unless `failFast`; every
 * failure is returned. `paramsFor` gives each notebook its overrides (default: `opts.params` for all).
 */
export async function runNotebooks(
  paths: string[],
  opts: NotebookRunOptions & {
    failFast?: boolean;
    paramsFor?: (path: string) => Record<string, unknown> | Promise<Record<string, unknown>>;
  } = {},
): Promise<RunAllResult> {
  const results: NotebookRunResult[] = [];
  const failures: NotebookRunError[] = [];
  for (const p of paths) {
    if (opts.signal?.aborted) break;
    try {
      const params = opts.paramsFor ? await opts.paramsFor(p) : opts.params;
      results.push(await runNotebook(p, { ...opts, params }));
    } catch (e) {
      const err = e instanceof NotebookRunError
        ? e
        : new NotebookRunError(`${p}: ${(e as Error).message}`, p);
      failures.push(err);
      (opts.log ?? ((l: string) => console.error(l)))(
        `notebooks: ${notebookName(p)}: FAILED\n${err.message}`,
      );
      if (opts.failFast) break;
    }
  }
  return { results, failures };
}
