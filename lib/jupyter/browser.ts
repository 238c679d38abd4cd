/**
 * Headless Chromium over exported notebooks: the rendered page (`--dump-dom`), a screenshot, and a check that
 * every figure of the executed notebook is in the page.
 * @module
 */
import { dirname } from "node:path";
import { findChromium } from "../setup/jupyter.ts";
import { type Notebook, outputFigureCount } from "./ipynb.ts";

/** Flags that work headless on servers and in containers: no sandbox, GPU, network chatter or first-run UI. */
const CHROMIUM_FLAGS: readonly string[] = Object.freeze([
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
]);

/** Options of the Chromium calls. */
export interface ChromiumOptions {
  /** The executable (default: {@link findChromium}). */
  chromium?: string;
  /** Limit in milliseconds (default 90 000). */
  timeoutMs?: number;
}

/** Runs Chromium with {@link CHROMIUM_FLAGS}, a throw-away profile and `args`; returns its stdout. */
async function runChromium(args: string[], opts: ChromiumOptions = {}): Promise<string> {
  const exe = opts.chromium ?? findChromium();
  if (exe === undefined) throw new Error("chromium not found (run: deno task setup)");
  const profile = await Deno.makeTempDir({ prefix: "nb-chromium-" });
  try {
    const out = await new Deno.Command(exe, {
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 90_000),
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).split("\n").filter((l) => l.trim()).slice(-3).join(
        " | ",
      );
      throw new Error(`chromium exited with ${out.code}: ${err}`);
    }
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** The `file://` URL of a local path. */
function fileUrl(path: string): string {
  return new URL(`file://${path.startsWith("/") ? "" : "/"}${path}`).href;
}

/**
 * The page's DOM after rendering (scripts run). Under heavy load Chromium occasionally exits 0 having printed
 * nothing; that is retried (3 tries in all) and then reported as an error, never returned as an empty page.
 */
export async function dumpDom(htmlPath: string, opts: ChromiumOptions = {}): Promise<string> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dom = await runChromium(["--dump-dom", fileUrl(htmlPath)], opts);
    if (/<html[\s>]/i.test(dom)) return dom;
  }
  throw new Error(`chromium printed no page for ${htmlPath} (3 tries)`);
}

/** Writes a PNG screenshot of the page (default window 1280 × 2000). */
async function screenshot(
  htmlPath: string,
  pngPath: string,
  opts: ChromiumOptions & { width?: number; height?: number } = {},
): Promise<void> {
  await Deno.mkdir(dirname(pngPath), { recursive: true });
  await Deno.remove(pngPath).catch(() => {});
  await runChromium(
    [
      `--screenshot=${pngPath}`,
      `--window-size=${opts.width ?? 1280},${opts.height ?? 2000}`,
      fileUrl(htmlPath),
    ],
    opts,
  );
  const head = await Deno.readFile(pngPath).then((b) => b.subarray(0, 8)).catch(() => new Uint8Array());
  if (head.length < 8 || head[1] !== 0x50 || head[2] !== 0x4e || head[3] !== 0x47) {
    throw new Error(`chromium wrote no PNG screenshot to ${pngPath}`);
  }
}

/** `<svg` elements in a DOM dump that are not nested in another `<svg>` (one per figure). */
export function topLevelSvgCount(dom: string): number {
  let depth = 0;
  let count = 0;
  for (const m of dom.matchAll(/<(\/?)svg\b[^>]*?(\/?)>/gi)) {
    if (m[1] === "/") depth = Math.max(0, depth - 1);
    else if (m[2] === "/") count += depth === 0 ? 1 : 0;
    else {
      if (depth === 0) count++;
      depth++;
    }
  }
  return count;
}

/** Result of {@link checkRendered}. */
export interface RenderCheck {
  /** Figures (SVG outputs) in the executed notebook. */
  figures: number;
  /** Top-level `<svg>` elements in the rendered page. */
  svgInPage: number;
  /** The screenshot written. */
  screenshot: string;
}

/**
 * Renders an exported notebook in headless Chromium, writes its screenshot, and checks that the page holds at
 * least as many top-level `<svg>` elements as the executed notebook has SVG figures. Throws when it does not.
 */
export async function checkRendered(
  htmlPath: string,
  executed: Notebook,
  pngPath: string,
  opts: ChromiumOptions = {},
): Promise<RenderCheck> {
  const dom = await dumpDom(htmlPath, opts);
  const figures = executed.cells.reduce((a, c) => a + outputFigureCount(c), 0);
  const svgInPage = topLevelSvgCount(dom);
  await screenshot(htmlPath, pngPath, opts);
  if (svgInPage < figures) {
    throw new Error(
      `${htmlPath}: the notebook has ${figures} SVG figure(s) but the rendered page shows ${svgInPage} (screenshot: ${pngPath})`,
    );
  }
  return { figures, svgInPage, screenshot: pngPath };
}
