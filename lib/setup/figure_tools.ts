/**
 * Set-up step for paper figures: poppler's `pdftoppm` / `pdfinfo` / `pdftotext` (Debian `poppler-utils`; the
 * figure tests render and measure the PDFs with them) and the Times-metric serif of the paper presets (Debian
 * `fonts-liberation`: Liberation Serif). The PDFs themselves are printed by the Chromium that the notebook step
 * installs (lib/setup/jupyter.ts).
 *
 * Missing packages are installed with `apt-get` only as root, when `apt-get` exists and `MODE_COLLAPSE_NO_APT` is
 * unset; otherwise the step says what is missing and the command to run. It never fails the set-up: the tests
 * that need the tools are skipped with the reason.
 * @module
 */
import { existsSync } from "node:fs";
import { aptCommand, NO_APT_ENV, which } from "./jupyter.ts";

/** The poppler tools the figure tests use. */
const POPPLER_TOOLS: readonly string[] = Object.freeze(["pdftoppm", "pdfinfo", "pdftotext"]);

/** Where Debian's fonts-liberation puts the serif the paper presets name first. */
const LIBERATION_SERIF = "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf";

/** What is there for paper figures. */
export interface FigureToolsStatus {
  /** Path of each poppler tool found. */
  poppler: Record<string, string>;
  /** True when Liberation Serif is installed. */
  serifFont: boolean;
  /** What is missing, each with the command that installs it (empty when nothing is). */
  problems: string[];
}

/** Checks the tools without changing anything. */
export function probeFigureTools(): FigureToolsStatus {
  const poppler: Record<string, string> = {};
  for (const t of POPPLER_TOOLS) {
    const p = which(t);
    if (p) poppler[t] = p;
  }
  const problems: string[] = [];
  const missing = POPPLER_TOOLS.filter((t) => !poppler[t]);
  if (missing.length > 0) {
    problems.push(`${missing.join(", ")} not found (install: ${aptCommand(["poppler-utils"])})`);
  }
  const serifFont = existsSync(LIBERATION_SERIF);
  if (!serifFont) {
    problems.push(
      `Liberation Serif not installed; paper figures fall back to DejaVu Serif (install: ${
        aptCommand(["fonts-liberation"])
      })`,
    );
  }
  return { poppler, serifFont, problems };
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; stderr: string }> {
  try {
    const r = await new Deno.Command(cmd, {
      args,
      env: { ...Deno.env.toObject(), DEBIAN_FRONTEND: "noninteractive" },
      stdout: "null",
      stderr: "piped",
    }).output();
    return { ok: r.success, stderr: new TextDecoder().decode(r.stderr).trim() };
  } catch (e) {
    return { ok: false, stderr: (e as Error).message };
  }
}

/**
 * Installs what is missing when allowed (root, apt-get, `MODE_COLLAPSE_NO_APT` unset) and says what is there.
 * Never throws for a missing tool.
 */
export async function ensureFigureTools(
  opts: { apt?: boolean; log?: (line: string) => void } = {},
): Promise<{ detail: string; status: FigureToolsStatus }> {
  const log = opts.log ?? ((l: string) => console.error(`setup: figure tools: ${l}`));
  const canApt = opts.apt ??
    (Deno.uid() === 0 && which("apt-get") !== undefined && !Deno.env.get(NO_APT_ENV));
  let status = probeFigureTools();
  const notes: string[] = [];
  const wanted = [
    ...(Object.keys(status.poppler).length < POPPLER_TOOLS.length ? ["poppler-utils"] : []),
    ...(status.serifFont ? [] : ["fonts-liberation"]),
  ];
  if (wanted.length > 0 && canApt) {
    log(`apt-get install ${wanted.join(" ")} …`);
    let r = await run("apt-get", ["install", "-y", "-q", ...wanted]);
    if (!r.ok) {
      // A fresh image has no package lists: update once and retry.
      log("apt-get update …");
      const u = await run("apt-get", ["update", "-q"]);
      r = u.ok ? await run("apt-get", ["install", "-y", "-q", ...wanted]) : u;
    }
    if (!r.ok) notes.push(`apt-get failed: ${r.stderr.split("\n").filter((l) => l).at(-1)}`);
    status = probeFigureTools();
  }
  const detail = status.problems.length === 0
    ? `poppler ${Object.values(status.poppler).join(", ")}; Liberation Serif installed`
    : `incomplete (the PDF rendering tests will be skipped): ${[...status.problems, ...notes].join("; ")}`;
  return { detail, status };
}
