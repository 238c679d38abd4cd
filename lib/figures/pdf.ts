/**
 * Vector PDF of a figure: headless Chromium (the one set-up installs for the notebook tests) prints an HTML page
 * that holds the SVG, with `@page` set to the figure's size, through the DevTools protocol (`Page.printToPDF`) —
 * text stays text, in embedded subsets of the fonts the SVG names. One browser serves every figure of a batch:
 * measured on the project's 2-core machine, starting it takes about 1.8 s and each figure 0.2–0.9 s, against
 * 4.3–5.4 s per figure for a `chromium --print-to-pdf` process each (and 0.5–1.5 s per figure for
 * pdfkit + svg-to-pdfkit, whose SVG parser has not been released since 2019 and which drew the F1 grid without
 * its italic subtitle; svg2pdf.js + jsPDF need a browser DOM). Chromium rounds page sizes up to 1/300 in; the
 * paper presets' figures are whole 1/12 in, so their pages are exact.
 *
 * The PDF's document information gets the figure's title, caption, preset and size (an incremental update
 * appended to Chromium's file, so `pdfinfo` shows them).
 * @module
 */
import { findChromium } from "../setup/jupyter.ts";
import { escapeMarkup } from "./escape.ts";
import { readFigureMetadata } from "./preset.ts";
import { svgSizePx, svgToString } from "./svg.ts";

/** Document information written into a figure's PDF. */
export interface PdfInfo {
  title?: string;
  /** The caption. */
  subject?: string;
  /** e.g. "preset=paper-double; width=6.75in". */
  keywords?: string;
  creator?: string;
}

/** Whether PDFs can be made here: the Chromium executable, or why not. */
export function pdfExportAvailable(): { ok: true; chromium: string } | { ok: false; reason: string } {
  const chromium = findChromium();
  if (chromium === undefined) {
    return {
      ok: false,
      reason: "PDF export needs Chromium (not found; `deno task setup` installs it as root, or set " +
        "MODE_COLLAPSE_CHROMIUM to its path)",
    };
  }
  return { ok: true, chromium };
}

/** The HTML page Chromium prints: the SVG alone on a page of its own size. */
function pdfPageHtml(svg: string, title = "figure"): string {
  const s = svgToString(svg);
  const { width, height } = svgSizePx(s);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeMarkup(title)}</title><style>
@page { size: ${width}px ${height}px; margin: 0 }
html, body { margin: 0; padding: 0; width: ${width}px; height: ${height}px; overflow: hidden; background: white }
svg { display: block }
</style></head><body>${s}</body></html>`;
}

type Pending = { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void };

/** A headless Chromium that prints figures to PDF; {@link ChromiumPdf.close} ends it. */
export class ChromiumPdf {
  #proc: Deno.ChildProcess;
  #ws: WebSocket;
  #dir: string;
  #session: string;
  #frame: string;
  #next = 0;
  #pending = new Map<number, Pending>();
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(proc: Deno.ChildProcess, ws: WebSocket, dir: string) {
    this.#proc = proc;
    this.#ws = ws;
    this.#dir = dir;
    this.#session = "";
    this.#frame = "";
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      if (m.id === undefined) return;
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error) p.reject(new Error(`Chromium: ${m.error.message}`));
      else p.resolve(m.result ?? {});
    };
    ws.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("Chromium closed the connection"));
      this.#pending.clear();
    };
  }

  /** Starts Chromium (headless, a temporary profile, DevTools on a free local port). */
  static async start(options: { chromium?: string; timeoutMs?: number } = {}): Promise<ChromiumPdf> {
    const exe = options.chromium ?? (() => {
      const a = pdfExportAvailable();
      if (!a.ok) throw new Error(a.reason);
      return a.chromium;
    })();
    const dir = await Deno.makeTempDir({ prefix: "mode-collapse-pdf-" });
    const args = [
      "--headless",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-background-networking",
      "--disable-sync",
      "--mute-audio",
      "--hide-scrollbars",
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      `--user-data-dir=${dir}`,
      ...(Deno.uid() === 0 ? ["--no-sandbox"] : []),
      "about:blank",
    ];
    const proc = new Deno.Command(exe, { args, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
    const reader = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let log = "";
    let url: string | undefined;
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      url = await Promise.race([
        (async () => {
          while (true) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`Chromium exited before it listened: ${log.trim().slice(-400)}`);
            log += value;
            const m = /DevTools listening on (ws:\/\/\S+)/.exec(log);
            if (m) return m[1];
          }
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`Chromium did not start within ${timeoutMs} ms: ${log.trim().slice(-400)}`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      try {
        proc.kill("SIGKILL");
      } catch { /* gone */ }
      await proc.status;
      await reader.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
    // Keep draining its stderr so the browser never blocks on a full pipe.
    (async () => {
      try {
        while (!(await reader.read()).done) { /* discard */ }
      } catch { /* closed */ }
    })();
    const ws = new WebSocket(url!);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot connect to Chromium at ${url}`));
    });
    const pdf = new ChromiumPdf(proc, ws, dir);
    const { targetId } = await pdf.#send("Target.createTarget", { url: "about:blank" }) as {
      targetId: string;
    };
    const { sessionId } = await pdf.#send("Target.attachToTarget", { targetId, flatten: true }) as {
      sessionId: string;
    };
    pdf.#session = sessionId;
    const tree = await pdf.#send("Page.getFrameTree", {}, sessionId) as {
      frameTree: { frame: { id: string } };
    };
    pdf.#frame = tree.frameTree.frame.id;
    return pdf;
  }

  #send(
    method: string,
    params: Record<string, unknown>,
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new Error("the PDF renderer is closed"));
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Prints one figure (SVG markup) to PDF bytes; figures are printed one at a time. */
  render(svg: string, info: PdfInfo = {}): Promise<Uint8Array> {
    const job = this.#queue.then(async () => {
      const html = pdfPageHtml(svg, info.title ?? readFigureMetadata(svg)?.title ?? "figure");
      await this.#send("Page.setDocumentContent", { frameId: this.#frame, html }, this.#session);
      const r = await this.#send("Page.printToPDF", {
        preferCSSPageSize: true,
        printBackground: true,
        marginTop: 0,
        marginBottom: 0,
        marginLeft: 0,
        marginRight: 0,
        displayHeaderFooter: false,
      }, this.#session) as { data: string };
      const bin = atob(r.data);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      return setPdfInfo(bytes, info);
    });
    this.#queue = job.catch(() => {});
    return job;
  }

  /** Ends the browser and removes its temporary profile. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    try {
      this.#ws.close();
    } catch { /* already closed */ }
    try {
      this.#proc.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#proc.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

let shared: { pdf: Promise<ChromiumPdf>; timer?: ReturnType<typeof setTimeout> } | undefined;

/**
 * Prints one figure to PDF with a browser shared by the calls of this process, which ends itself after
 * `idleMs` (default 3 s) without a figure — for notebooks and single saves; a batch should use its own
 * {@link ChromiumPdf}.
 */
export async function svgToPdf(svg: string, info: PdfInfo = {}, idleMs = 3000): Promise<Uint8Array> {
  if (shared === undefined) shared = { pdf: ChromiumPdf.start() };
  const s = shared;
  if (s.timer !== undefined) clearTimeout(s.timer);
  try {
    return await (await s.pdf).render(svg, info);
  } catch (e) {
    if (shared === s) shared = undefined;
    (await s.pdf.catch(() => undefined))?.close();
    throw e;
  } finally {
    if (shared === s) {
      const timer = setTimeout(() => closeSharedPdfRenderer(), idleMs);
      Deno.unrefTimer(timer as unknown as number);
      s.timer = timer;
    }
  }
}

/** Ends the browser {@link svgToPdf} shares (if any). */
async function closeSharedPdfRenderer(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (s === undefined) return;
  if (s.timer !== undefined) clearTimeout(s.timer);
  const pdf = await s.pdf.catch(() => undefined);
  await pdf?.close();
}

/** A PDF text string: `(ascii)` when plain ASCII, else UTF-16BE hex with a byte-order mark. */
function pdfString(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
  let hex = "FEFF";
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, "0").toUpperCase();
  return `<${hex}>`;
}

function pdfDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `D:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${
    p(d.getUTCMinutes())
  }${p(d.getUTCSeconds())}Z`;
}

/**
 * Appends an incremental update to a PDF with a classic cross-reference table (what Chromium writes) that
 * replaces its document information with `info` (Title, Subject, Keywords, Creator; Producer and dates kept
 * or set). A PDF it cannot parse that way is returned unchanged.
 */
export function setPdfInfo(pdf: Uint8Array, info: PdfInfo, now: Date = new Date()): Uint8Array {
  if (!info.title && !info.subject && !info.keywords && !info.creator) return pdf;
  const tail = new TextDecoder("latin1").decode(pdf.subarray(Math.max(0, pdf.length - 4096)));
  const startxref = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
  const trailerAt = tail.lastIndexOf("trailer");
  if (!startxref || trailerAt < 0) return pdf;
  const trailer = tail.slice(trailerAt, tail.lastIndexOf("startxref"));
  const size = /\/Size\s+(\d+)/.exec(trailer);
  const root = /\/Root\s+(\d+\s+\d+\s+R)/.exec(trailer);
  if (!size || !root) return pdf;
  const n = Number(size[1]);
  const whole = new TextDecoder("latin1").decode(pdf);
  const oldInfoRef = /\/Info\s+(\d+)\s+(\d+)\s+R/.exec(trailer);
  let producer: string | undefined, created: string | undefined;
  if (oldInfoRef) {
    const obj = new RegExp(`(?:^|\\s)${oldInfoRef[1]}\\s+${oldInfoRef[2]}\\s+obj([\\s\\S]*?)endobj`).exec(
      whole,
    );
    producer = obj ? /\/Producer\s*(\([^)]*\)|<[0-9A-Fa-f]*>)/.exec(obj[1])?.[1] : undefined;
    created = obj ? /\/CreationDate\s*(\([^)]*\))/.exec(obj[1])?.[1] : undefined;
  }
  const entries = [
    info.title ? `/Title ${pdfString(info.title)}` : "",
    info.subject ? `/Subject ${pdfString(info.subject)}` : "",
    info.keywords ? `/Keywords ${pdfString(info.keywords)}` : "",
    `/Creator ${pdfString(info.creator ?? "mode-collapse figures (Chromium print to PDF)")}`,
    producer ? `/Producer ${producer}` : "",
    `/CreationDate ${created ?? `(${pdfDate(now)})`}`,
    `/ModDate (${pdfDate(now)})`,
  ].filter((e) => e !== "").join(" ");
  const sep = pdf[pdf.length - 1] === 0x0a ? "" : "\n";
  const objOffset = pdf.length + sep.length;
  const obj = `${n} 0 obj\n<< ${entries} >>\nendobj\n`;
  const xrefOffset = objOffset + obj.length;
  const update = `${sep}${obj}xref\n${n} 1\n${String(objOffset).padStart(10, "0")} 00000 n \ntrailer\n` +
    `<< /Size ${n + 1} /Root ${root[1]} /Info ${n} 0 R /Prev ${
      startxref[1]
    } >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  const extra = Uint8Array.from(update, (c) => c.charCodeAt(0) & 0xff);
  const out = new Uint8Array(pdf.length + extra.length);
  out.set(pdf);
  out.set(extra, pdf.length);
  return out;
}
