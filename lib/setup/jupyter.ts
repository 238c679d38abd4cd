/**
 * Set-up step for notebooks: the Jupyter client libraries (Debian packages, run on `/usr/bin/python3`), headless
 * Chromium (for the notebook screenshot tests) and the Deno Jupyter kernel, registered in a project-local
 * `XDG_DATA_HOME` (`.tools/jupyter`) so nothing outside the repository is touched.
 *
 * Missing Debian packages are installed with `apt-get` only when running as root and `apt-get` exists (and
 * `MODE_COLLAPSE_NO_APT` is not set); otherwise the step reports the notebook tools as unavailable with the exact
 * command to run. It never fails the set-up: notebook tests are then skipped with that reason.
 * @module
 */
import { existsSync, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import { PROJECT_ROOT } from "../project_root.ts";

/** Debian packages that execute and convert notebooks headlessly (Debian packages no JupyterLab). */
export const NOTEBOOK_APT_PACKAGES: readonly string[] = Object.freeze([
  "python3-nbclient",
  "jupyter-core",
  "jupyter-client",
  "jupyter-nbconvert",
]);

/** Debian package of the headless browser used by the notebook rendering tests. */
const BROWSER_APT_PACKAGES: readonly string[] = Object.freeze(["chromium"]);

/** The Python that has Debian's Jupyter packages (a pyenv `python3` first on PATH cannot import them). */
export const SYSTEM_PYTHON: string = Deno.env.get("MODE_COLLAPSE_PYTHON") || "/usr/bin/python3";

/** Project-local `XDG_DATA_HOME` given to `deno jupyter --install`. */
const JUPYTER_DATA_HOME: string = join(PROJECT_ROOT, ".tools", "jupyter");

/** The Jupyter data folder inside it (what goes on `JUPYTER_PATH`): holds `kernels/deno/`. */
const JUPYTER_PATH_DIR: string = join(JUPYTER_DATA_HOME, "jupyter");

/** Where the Deno kernelspec is registered. */
export const DENO_KERNEL_DIR: string = join(JUPYTER_PATH_DIR, "kernels", "deno");

/** Jupyter's runtime folder (connection files), also kept inside the project. */
const JUPYTER_RUNTIME_DIR: string = join(JUPYTER_DATA_HOME, "runtime");

/** Environment variable that stops the step from running apt-get (it then only reports). */
export const NO_APT_ENV = "MODE_COLLAPSE_NO_APT";

/** Environment variable naming the Chromium executable (default: `chromium` or `chromium-browser` on PATH). */
const CHROMIUM_ENV = "MODE_COLLAPSE_CHROMIUM";

/**
 * Environment for Jupyter processes: finds the project's Deno kernel first, keeps runtime files in the project,
 * and turns off ANSI colours in the kernel's `text/plain` results.
 */
export function jupyterEnv(base: Record<string, string> = Deno.env.toObject()): Record<string, string> {
  const path = base.JUPYTER_PATH ? `${JUPYTER_PATH_DIR}${delimiter}${base.JUPYTER_PATH}` : JUPYTER_PATH_DIR;
  return { ...base, JUPYTER_PATH: path, JUPYTER_RUNTIME_DIR, NO_COLOR: "1", PYTHONNOUSERSITE: "1" };
}

/** What is there for notebooks. */
export interface NotebookToolsStatus {
  /** Jupyter client libraries importable by {@link SYSTEM_PYTHON}, with their versions; undefined if not. */
  jupyter?: string;
  /** The registered Deno kernel's executable, if its kernelspec exists and points at an existing file. */
  kernel?: string;
  /** The Chromium executable, if any. */
  chromium?: string;
  /** Why notebooks cannot be executed (empty when they can). */
  problems: string[];
  /** Why the browser tests cannot run (empty when they can). */
  browserProblems: string[];
}

/** True when notebooks can be executed headlessly. */
export function notebooksAvailable(s: NotebookToolsStatus): boolean {
  return s.problems.length === 0;
}

async function output(cmd: string, args: string[], env?: Record<string, string>) {
  try {
    const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: r.success, stdout: dec.decode(r.stdout).trim(), stderr: dec.decode(r.stderr).trim() };
  } catch (e) {
    return { ok: false, stdout: "", stderr: (e as Error).message };
  }
}

/** Versions of nbclient / nbconvert / jupyter_client as seen by `python`, or undefined with the error. */
async function probeJupyter(python = SYSTEM_PYTHON): Promise<{ versions?: string; error?: string }> {
  const code = "import nbclient, nbconvert, nbformat, jupyter_client;" +
    "print(f'nbclient {nbclient.__version__}, nbconvert {nbconvert.__version__}, " +
    "jupyter_client {jupyter_client.__version__}')";
  const r = await output(python, ["-c", code]);
  if (r.ok) return { versions: r.stdout };
  const last = r.stderr.split("\n").filter((l) => l.trim() !== "").at(-1) ?? "failed";
  return { error: `${python}: ${last}` };
}

/** The executable named by the registered Deno kernelspec, if it exists; else a reason. */
export function probeDenoKernel(dir = DENO_KERNEL_DIR): { deno?: string; error?: string } {
  const spec = join(dir, "kernel.json");
  if (!existsSync(spec)) return { error: `no Deno kernel registered in ${dir}` };
  try {
    const argv = (JSON.parse(Deno.readTextFileSync(spec)) as { argv?: unknown }).argv;
    const exe = Array.isArray(argv) && typeof argv[0] === "string" ? argv[0] : undefined;
    if (exe === undefined) return { error: `${spec} has no argv` };
    if (!existsSync(exe)) return { error: `${spec} names ${exe}, which does not exist` };
    return { deno: exe };
  } catch (e) {
    return { error: `${spec}: ${(e as Error).message}` };
  }
}

/** Finds an executable on PATH. */
export function which(name: string): string | undefined {
  if (name.includes("/")) return existsSync(name) ? name : undefined;
  for (const dir of (Deno.env.get("PATH") ?? "").split(delimiter)) {
    if (dir === "") continue;
    const p = join(dir, name);
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

/** The Chromium executable: `$MODE_COLLAPSE_CHROMIUM`, else `chromium` / `chromium-browser` on PATH. */
export function findChromium(): string | undefined {
  const fromEnv = Deno.env.get(CHROMIUM_ENV);
  if (fromEnv) return which(fromEnv);
  return which("chromium") ?? which("chromium-browser");
}

/** Checks everything notebooks need, without changing anything. */
export async function probeNotebookTools(python = SYSTEM_PYTHON): Promise<NotebookToolsStatus> {
  const problems: string[] = [];
  const browserProblems: string[] = [];
  const j = await probeJupyter(python);
  if (j.error) {
    problems.push(
      `Jupyter client libraries missing (${j.error}); install: ${aptCommand(NOTEBOOK_APT_PACKAGES)}`,
    );
  }
  const k = probeDenoKernel();
  if (k.error) problems.push(`${k.error} (run: deno task setup)`);
  const chromium = findChromium();
  if (chromium === undefined) {
    browserProblems.push(`chromium not found (install: ${aptCommand(BROWSER_APT_PACKAGES)})`);
  }
  return { jupyter: j.versions, kernel: k.deno, chromium, problems, browserProblems };
}

/** The command a user should run to install `packages` (with sudo when not root). */
export function aptCommand(packages: readonly string[]): string {
  const sudo = Deno.uid() === 0 ? "" : "sudo ";
  return `${sudo}apt-get install -y ${packages.join(" ")}`;
}

/**
 * Registers the Deno kernel in {@link JUPYTER_DATA_HOME} with `deno jupyter --install --force`, unless it is
 * already registered for this very deno executable. Returns what it did.
 */
export async function ensureDenoKernel(deno = Deno.execPath()): Promise<string> {
  const current = probeDenoKernel();
  const same = (a: string, b: string) => {
    try {
      return realpathSync(a) === realpathSync(b);
    } catch {
      return false;
    }
  };
  if (current.deno !== undefined && same(current.deno, deno)) {
    return `Deno kernel registered in ${DENO_KERNEL_DIR}`;
  }
  await Deno.mkdir(JUPYTER_DATA_HOME, { recursive: true });
  const r = await output(deno, ["jupyter", "--install", "--force"], {
    ...Deno.env.toObject(),
    XDG_DATA_HOME: JUPYTER_DATA_HOME,
    NO_COLOR: "1",
  });
  const after = probeDenoKernel();
  if (!r.ok || after.error) {
    throw new Error(`deno jupyter --install failed: ${r.stderr || after.error}`);
  }
  return `Deno kernel ${current.deno ? "re-registered" : "registered"} in ${DENO_KERNEL_DIR} (${deno})`;
}

/** Options of {@link ensureNotebookTools}. */
export interface EnsureNotebookToolsOptions {
  /** Allow apt-get (default: when root, apt-get exists and `MODE_COLLAPSE_NO_APT` is unset). */
  apt?: boolean;
  /** The Python to check (default {@link SYSTEM_PYTHON}). */
  python?: string;
  /** Also install Chromium (default true). */
  browser?: boolean;
  /** Progress messages (default: stderr). */
  log?: (line: string) => void;
}

/** Result of {@link ensureNotebookTools}. */
export interface EnsureNotebookToolsResult {
  /** One line for the set-up log. */
  detail: string;
  /** The state after the step. */
  status: NotebookToolsStatus;
}

async function aptInstall(
  packages: readonly string[],
  log: (l: string) => void,
): Promise<string | undefined> {
  const env = { ...Deno.env.toObject(), DEBIAN_FRONTEND: "noninteractive" };
  const install = () => output("apt-get", ["install", "-y", "-q", ...packages], env);
  log(`apt-get install ${packages.join(" ")} …`);
  let r = await install();
  if (!r.ok) {
    // A fresh image has no package lists: update once and retry.
    log("apt-get update …");
    const u = await output("apt-get", ["update", "-q"], env);
    if (!u.ok) return `apt-get update failed: ${u.stderr.split("\n").at(-1)}`;
    r = await install();
  }
  return r.ok ? undefined : `apt-get install failed: ${r.stderr.split("\n").filter((l) => l).at(-1)}`;
}

/**
 * Makes notebooks runnable: installs the missing Debian packages when allowed, registers the Deno kernel, and
 * says what is there. Never throws for a missing tool; the detail names what to run instead.
 */
export async function ensureNotebookTools(
  opts: EnsureNotebookToolsOptions = {},
): Promise<EnsureNotebookToolsResult> {
  const python = opts.python ?? SYSTEM_PYTHON;
  const log = opts.log ?? ((l: string) => console.error(`setup: notebooks: ${l}`));
  const canApt = opts.apt ??
    (Deno.uid() === 0 && which("apt-get") !== undefined && !Deno.env.get(NO_APT_ENV));
  const notes: string[] = [];

  if ((await probeJupyter(python)).error && canApt) {
    const err = await aptInstall(NOTEBOOK_APT_PACKAGES, log);
    if (err) notes.push(err);
  }
  if (opts.browser !== false && findChromium() === undefined && canApt) {
    const err = await aptInstall(BROWSER_APT_PACKAGES, log);
    if (err) notes.push(`chromium: ${err}`);
  }
  try {
    notes.push(await ensureDenoKernel());
  } catch (e) {
    notes.push((e as Error).message);
  }
  const status = await probeNotebookTools(python);

  const parts: string[] = [];
  if (notebooksAvailable(status)) {
    parts.push(`available: ${status.jupyter} on ${python}; ${notes.join("; ")}`);
  } else {
    parts.push(`UNAVAILABLE (notebook tests will be skipped): ${[...status.problems, ...notes].join("; ")}`);
  }
  parts.push(
    status.chromium ? `chromium ${status.chromium}` : `no browser: ${status.browserProblems.join("; ")}`,
  );
  return { detail: parts.join("; "), status };
}
