/**
 * Headless notebook runner: executes `.ipynb` notebooks through Jupyter with the Deno kernel, with parameters
 * injected (./params.ts), and writes the executed notebook and its HTML export.
 *
 * Execution is done by `execute_notebook.py` beside this file, run by Debian's `/usr/bin/python3` with nbclient
 * (Jupyter's client is Python). That driver works around the Deno kernel's idle-before-result race: after a
 * cell's `status: idle` it keeps reading IOPub until no message for that cell arrived for `graceMs` (default
 * 500 ms), and appends the late outputs instead of dropping them (plain nbclient drops such
 * results: 1 to 4 of 80 per run, measured).
 *
 * Any cell error fails the run with a {@link NotebookRunError} naming the notebook, the cell (its index in the
 * source notebook) and the error; the executed notebook, error output included, is still written for inspection.
 * So does an unmet output expectation: a cell tagged `expect-result` without a result, `figure` without an SVG
 * output, or `expect-stream` without printed output (see ./ipynb.ts). Running several: ./run_notebooks.ts.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { PROJECT_ROOT } from "../project_root.ts";
import { runtimeDescription, TOOLKIT_VERSION } from "../version.ts";
import { ensureDenoKernel, jupyterEnv, SYSTEM_PYTHON } from "../setup/jupyter.ts";
import {
  cellSource,
  errorOutputs,
  type Notebook,
  readNotebook,
  serializeNotebook,
  stripAnsi,
  unmetExpectations,
  writeNotebook,
} from "./ipynb.ts";
import { injectParameters } from "./params.ts";
import { cellLabel, type CellReport, describeOutputs, firstLine, type LateOutput } from "./cell_report.ts";
import { notebookName } from "./notebook_list.ts";
import { type FailedCell, NotebookRunError } from "./run_error.ts";

/** Default output folder of executed notebooks and their HTML. */
export const DEFAULT_OUT_DIR: string = join(PROJECT_ROOT, "results", "notebooks");

/** The Python driver. */
export const DRIVER: string = join(PROJECT_ROOT, "lib", "jupyter", "execute_notebook.py");

/** Default quiet time after a cell's idle during which late outputs are still collected. */
export const DEFAULT_GRACE_MS = 500;

/** A runner progress event. */
export type RunEvent =
  | { kind: "start"; notebook: string; codeCells: number }
  | { kind: "cell"; notebook: string; cell: CellReport }
  | { kind: "done"; notebook: string; result: NotebookRunResult };

/** Options of {@link runNotebook}. */
export interface NotebookRunOptions {
  /** Parameter overrides (JSON values), checked against the notebook's parameters cell. */
  params?: Record<string, unknown>;
  /** Output folder (default {@link DEFAULT_OUT_DIR}). */
  outDir?: string;
  /** The kernel's working folder (default: the notebook's folder, so `../lib/...` imports resolve). */
  cwd?: string;
  /** Also export HTML (default true). */
  html?: boolean;
  /** Limit per cell in seconds (default 1800; 0 = none). */
  cellTimeoutS?: number;
  /** Kernel start limit in seconds (default 120). */
  startupTimeoutS?: number;
  /** Quiet time after idle in milliseconds (default {@link DEFAULT_GRACE_MS}). */
  graceMs?: number;
  /** Kernel name (default "deno"). */
  kernel?: string;
  /** Python with nbclient (default /usr/bin/python3). */
  python?: string;
  /** Extra environment for the kernel (e.g. MODE_COLLAPSE_RECOMPUTE=1). */
  env?: Record<string, string>;
  /** Progress lines (default: to stderr); pass `() => {}` for silence. */
  log?: (line: string) => void;
  /** Structured progress. */
  onEvent?: (e: RunEvent) => void;
  /**
   * Stops the run: the driver gets SIGINT (Jupyter shuts the kernel down and the cells executed so far are kept
   * in the executed notebook), then SIGTERM if it is still there after 3 s. The run fails as interrupted.
   */
  signal?: AbortSignal;
}

/** Result of a successful run. */
export interface NotebookRunResult {
  /** Notebook name (file name without `.ipynb`). */
  name: string;
  /** The source notebook. */
  source: string;
  /** The executed notebook written. */
  executed: string;
  /** The HTML export, when made. */
  html?: string;
  /** The overrides injected, in declaration order. */
  params: [string, unknown][];
  /** Per executed code cell. */
  cells: CellReport[];
  /** Total late outputs recovered. */
  lateOutputs: number;
  seconds: number;
}

let kernelReady: Promise<string> | undefined;

/** Registers the Deno kernel for this deno once per process (cheap when already registered). */
function ensureKernelOnce(): Promise<string> {
  kernelReady ??= ensureDenoKernel();
  return kernelReady;
}

interface DriverEvent {
  event: string;
  [key: string]: unknown;
}

/** The lines of a byte stream, as they complete. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  const dec = new TextDecoder();
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf !== "") yield buf;
}

/** Executes one notebook; see the module doc. */
export async function runNotebook(path: string, opts: NotebookRunOptions = {}): Promise<NotebookRunResult> {
  const source = resolve(path);
  const name = notebookName(source);
  const log = opts.log ?? ((l: string) => console.error(l));
  const outDir = resolve(opts.outDir ?? DEFAULT_OUT_DIR);
  const executed = join(outDir, `${name}.ipynb`);
  const html = opts.html === false ? undefined : join(outDir, `${name}.html`);
  const cwd = resolve(opts.cwd ?? dirname(source));
  const started = performance.now();

  const nb = await readNotebook(source);
  const injected = injectParameters(nb, opts.params ?? {}, source);
  const inj = injected.injectedIndex;
  const sourceIndexOf = (i: number): number | "injected" =>
    inj === undefined || i < inj ? i : i === inj ? "injected" : i - 1;
  const codeIndexes = injected.notebook.cells.flatMap((c, i) => (c.cell_type === "code" ? [i] : []));

  await ensureKernelOnce();
  await Deno.mkdir(outDir, { recursive: true });
  const tag = `${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`;
  const input = join(outDir, `.${name}.input.${tag}.ipynb`);
  const rawOut = join(outDir, `.${name}.executed.${tag}.ipynb`);
  await Deno.writeTextFile(input, serializeNotebook(injected.notebook));
  if (html !== undefined) await Deno.remove(html).catch(() => {});

  const args = [
    DRIVER,
    "--input",
    input,
    "--output",
    rawOut,
    "--cwd",
    cwd,
    "--kernel",
    opts.kernel ?? "deno",
    "--timeout",
    String(opts.cellTimeoutS ?? 1800),
    "--startup-timeout",
    String(opts.startupTimeoutS ?? 120),
    "--grace",
    String((opts.graceMs ?? DEFAULT_GRACE_MS) / 1000),
  ];
  if (html !== undefined) args.push("--html", html);
  const cells: CellReport[] = [];
  let fatal: string | undefined;
  let failed: FailedCell | undefined;
  const stderrTail: string[] = [];
  const paramNote = injected.assignments.length > 0
    ? ` with ${injected.assignments.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`
    : "";
  log(`notebooks: ${name}: running ${codeIndexes.length} code cells in ${cwd}${paramNote}`);
  opts.onEvent?.({ kind: "start", notebook: name, codeCells: codeIndexes.length });

  let proc: Deno.ChildProcess;
  try {
    proc = new Deno.Command(opts.python ?? SYSTEM_PYTHON, {
      args,
      cwd,
      env: { ...jupyterEnv(), ...(opts.env ?? {}) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    await Deno.remove(input).catch(() => {});
    throw new NotebookRunError(
      `${source}: cannot start ${opts.python ?? SYSTEM_PYTHON}: ${
        (e as Error).message
      } (run: deno task setup)`,
      source,
    );
  }
  let status: Deno.CommandStatus;
  let stopTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    log(`notebooks: ${name}: interrupted; stopping the kernel`);
    try {
      proc.kill("SIGINT");
    } catch { /* already gone */ }
    stopTimer = setTimeout(() => {
      try {
        proc.kill("SIGTERM");
      } catch { /* already gone */ }
    }, 3000);
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const readErr = (async () => {
      for await (const line of lines(proc.stderr)) {
        stderrTail.push(line);
        if (stderrTail.length > 40) stderrTail.shift();
      }
    })();
    for await (const line of lines(proc.stdout)) {
      if (!line.startsWith("@@nbrun ")) {
        log(`notebooks: ${name}: kernel: ${line}`);
        continue;
      }
      let e: DriverEvent;
      try {
        e = JSON.parse(line.slice("@@nbrun ".length)) as DriverEvent;
      } catch {
        log(`notebooks: ${name}: unreadable driver event: ${line}`);
        continue;
      }
      const index = e.index as number;
      if (e.event === "cell_done") {
        const report: CellReport = {
          index,
          sourceIndex: sourceIndexOf(index),
          ordinal: codeIndexes.indexOf(index) + 1,
          of: codeIndexes.length,
          seconds: e.seconds as number,
          outputs: e.outputs as string[],
          late: e.late as LateOutput[],
        };
        cells.push(report);
        log(
          `notebooks: ${name}: ${cellLabel(report.sourceIndex)} (${report.ordinal}/${report.of}) ok ${
            report.seconds.toFixed(2)
          } s: ${describeOutputs(report)}`,
        );
        opts.onEvent?.({ kind: "cell", notebook: name, cell: report });
      } else if (e.event === "cell_error") {
        failed = {
          index,
          sourceIndex: sourceIndexOf(index),
          excerpt: firstLine(cellSource(injected.notebook.cells[index])),
          ename: String(e.ename ?? ""),
          evalue: String(e.evalue ?? ""),
          traceback: (e.traceback as string[] | undefined) ?? [],
        };
        log(`notebooks: ${name}: ${cellLabel(failed.sourceIndex)} FAILED: ${failed.ename}: ${failed.evalue}`);
      } else if (e.event === "fatal") {
        fatal = String(e.message);
      }
    }
    status = await proc.status;
    await readErr;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    clearTimeout(stopTimer);
    await Deno.remove(input).catch(() => {});
  }

  // The executed notebook, even a failed one, is kept for inspection.
  let written: string | undefined;
  let result: Notebook | undefined;
  if (existsSync(rawOut)) {
    try {
      result = await readNotebook(rawOut);
      result.metadata.mode_collapse = {
        executed_by: "deno task notebooks",
        source: source.startsWith(PROJECT_ROOT + "/") ? source.slice(PROJECT_ROOT.length + 1) : source,
        params: Object.fromEntries(injected.assignments),
        toolkit_version: TOOLKIT_VERSION,
        runtime: runtimeDescription(),
        late_outputs_recovered: cells.reduce((a, c) => a + c.late.length, 0),
        status: status.code === 0 && failed === undefined ? "ok" : "failed",
      };
      await writeNotebook(executed, result);
      written = executed;
    } finally {
      await Deno.remove(rawOut).catch(() => {});
    }
  }

  if (opts.signal?.aborted) {
    throw new NotebookRunError(
      `${source}: interrupted${written ? ` (the cells run so far are in ${written})` : ""}`,
      source,
      written,
    );
  }
  if (failed !== undefined) {
    const where = cellLabel(failed.sourceIndex);
    const trace = failed.traceback.map(stripAnsi).join("\n").split("\n").filter((l) => l.trim() !== "")
      .slice(0, 12).map((l) => `    ${l}`).join("\n");
    throw new NotebookRunError(
      `${source}: ${where} (code cell ${codeIndexes.indexOf(failed.index) + 1} of ${codeIndexes.length}: ${
        JSON.stringify(failed.excerpt)
      }) failed: ${failed.ename}: ${failed.evalue}${trace ? `\n${trace}` : ""}${
        written ? `\n  executed notebook: ${written}` : ""
      }`,
      source,
      written,
      failed,
    );
  }
  if (status.code !== 0 || fatal !== undefined) {
    const tail = stderrTail.filter((l) => !/"deno jupyter" is unstable/.test(l)).slice(-8).join("\n    ");
    throw new NotebookRunError(
      `${source}: execution failed (exit ${status.code}): ${fatal ?? "see the driver's output"}${
        tail ? `\n    ${tail}` : ""
      }`,
      source,
      written,
    );
  }
  if (result === undefined || written === undefined) {
    throw new NotebookRunError(`${source}: the driver wrote no executed notebook`, source);
  }
  const errs = errorOutputs(result);
  if (errs.length > 0) {
    const e = errs[0];
    throw new NotebookRunError(
      `${source}: cell ${e.cell} has an error output: ${e.output.ename}: ${stripAnsi(e.output.evalue ?? "")}`,
      source,
      written,
    );
  }
  const unmet = unmetExpectations(result);
  if (unmet.length > 0) {
    throw new NotebookRunError(
      `${source}: ${
        unmet.map((u) => `${cellLabel(sourceIndexOf(u.cell))} is ${u.problem}`).join("; ")
      }\n  executed notebook: ${written}`,
      source,
      written,
    );
  }
  const out: NotebookRunResult = {
    name,
    source,
    executed: written,
    html: html !== undefined && existsSync(html) ? html : undefined,
    params: injected.assignments,
    cells,
    lateOutputs: cells.reduce((a, c) => a + c.late.length, 0),
    seconds: (performance.now() - started) / 1000,
  };
  log(
    `notebooks: ${name}: ok in ${
      out.seconds.toFixed(1)
    } s (${cells.length} cells, ${out.lateOutputs} late outputs recovered) → ${written}${
      out.html ? `, ${out.html}` : ""
    }`,
  );
  opts.onEvent?.({ kind: "done", notebook: name, result: out });
  return out;
}
