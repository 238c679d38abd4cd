/**
 * Vector PDF export through headless Chromium, checked with poppler: every figure type in both paper presets
 * (and one on screen) prints to one page whose size is the figure's (the preset's width exactly), with embedded
 * fonts and the preset in the document information; `pdftoppm` renders it, and the render matches resvg's raster
 * of the same SVG within a measured tolerance; `pdftotext -bbox` finds no word outside the page and none cut by a
 * panel's edge. Skipped, with the reason in the test name, without Chromium or poppler (`deno task setup`
 * installs both as root).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { ChromiumPdf, pdfExportAvailable, setPdfInfo } from "../../lib/figures/pdf.ts";
import { type FigurePresetName, readFigureMetadata } from "../../lib/figures/preset.ts";
import { FONT_FAMILY } from "../../lib/figures/style.ts";
import { probeFigureTools } from "../../lib/setup/figure_tools.ts";
import { drawEveryFigure, type FigureType } from "./figure_samples.ts";
import { parseSvg } from "./svg_dom.ts";

const chromium = pdfExportAvailable();
const poppler = probeFigureTools();
const missing = [
  ...(chromium.ok ? [] : [chromium.reason]),
  ...(Object.keys(poppler.poppler).length === 3 ? [] : poppler.problems.filter((p) => p.includes("pdf"))),
];
const SKIP = missing.length ? ` [skipped: ${missing.join("; ")}]` : "";

async function tool(cmd: string, args: string[]): Promise<string> {
  const r = await new Deno.Command(poppler.poppler[cmd] ?? cmd, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout);
}

/** A binary PGM (P5) → width, height, grey bytes. */
function readPgm(bytes: Uint8Array): { width: number; height: number; grey: Uint8Array } {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 64));
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head);
  if (!m) throw new Error("not a binary PGM");
  return { width: Number(m[1]), height: Number(m[2]), grey: bytes.subarray(m[0].length) };
}

/** resvg's raster of the SVG at `scale`, as grey (Rec. 601 luma, as pdftoppm -gray). */
function resvgGrey(svg: string, scale: number): { width: number; height: number; grey: Uint8Array } {
  const img = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY },
  }).render();
  const px = img.pixels;
  const grey = new Uint8Array(img.width * img.height);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = Math.round(0.299 * px[4 * i] + 0.587 * px[4 * i + 1] + 0.114 * px[4 * i + 2]);
  }
  return { width: img.width, height: img.height, grey };
}

/**
 * How far two rasters of one figure differ, after blurring both with a 5 × 5 box (anti-aliasing and glyph
 * hinting differ between Skia → poppler and resvg): the mean |Δ| per pixel (0–255) and the share of pixels
 * off by more than 64 grey levels.
 */
function rasterDifference(
  a: { width: number; height: number; grey: Uint8Array },
  b: { width: number; height: number; grey: Uint8Array },
): { mean: number; off: number } {
  const w = Math.min(a.width, b.width), h = Math.min(a.height, b.height);
  const blur = (img: typeof a) => {
    const out = new Float64Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0, n = 0;
        for (let dy = -2; dy <= 2; dy++) {
          for (let dx = -2; dx <= 2; dx++) {
            const yy = y + dy, xx = x + dx;
            if (yy < 0 || xx < 0 || yy >= h || xx >= w) continue;
            s += img.grey[yy * img.width + xx];
            n++;
          }
        }
        out[y * w + x] = s / n;
      }
    }
    return out;
  };
  const ba = blur(a), bb = blur(b);
  let sum = 0, off = 0;
  for (let i = 0; i < w * h; i++) {
    const d = Math.abs(ba[i] - bb[i]);
    sum += d;
    if (d > 64) off++;
  }
  return { mean: sum / (w * h), off: off / (w * h) };
}

/** Words with their boxes (PDF points, origin top left) from `pdftotext -bbox`. */
async function words(
  pdf: string,
): Promise<{ text: string; x0: number; y0: number; x1: number; y1: number }[]> {
  const html = await tool("pdftotext", ["-bbox", pdf, "-"]);
  return [
    ...html.matchAll(
      /<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<\/word>/g,
    ),
  ]
    .map((m) => ({ x0: +m[1], y0: +m[2], x1: +m[3], y1: +m[4], text: m[5] }));
}

/** The panels' boxes (px): nested `<svg>`s of `g.panel` placed with x/y (not those inside a scaled group). */
function panelBoxes(svg: string): { x: number; y: number; w: number; h: number }[] {
  const doc = parseSvg(svg);
  return [...doc.querySelectorAll("g.panel > svg")]
    .filter((s) => !s.parentElement?.parentElement?.getAttribute("transform"))
    .map((s) => ({
      x: Number(s.getAttribute("x")),
      y: Number(s.getAttribute("y")),
      w: Number(s.getAttribute("width")),
      h: Number(s.getAttribute("height")),
    }));
}

/**
 * Tolerances, from the measured differences of every figure type (printed by the test): mean |Δ| 0.5–2.3 grey
 * levels and at most 0.03% of pixels off by more than 64, at 192 dpi after the 5 × 5 blur. A blank page is
 * 6–74 levels away (also checked), so a missing or misplaced figure fails.
 */
const MAX_MEAN_DIFF = 4;
const MAX_OFF_SHARE = 0.002;

const CASES: [FigurePresetName, FigureType[] | "all"][] = [
  ["paper-single", "all"],
  ["paper-double", "all"],
  ["screen", ["cdf", "diversityGrid"]],
];

Deno.test({
  name: "PDF: one page of the figure's size, fonts embedded, preset in the info; renders like the SVG" + SKIP,
  ignore: SKIP !== "",
  async fn() {
    const dir = await Deno.makeTempDir();
    const pdf = await ChromiumPdf.start();
    const measured: string[] = [];
    try {
      for (const [preset, which] of CASES) {
        const figures = await drawEveryFigure(preset);
        const types = which === "all" ? Object.keys(figures) as FigureType[] : which;
        for (const type of types) {
          const svg = figures[type];
          const what = `${preset} ${type}`;
          const meta = readFigureMetadata(svg)!;
          const path = join(dir, `${preset}-${type}.pdf`);
          const bytes = await pdf.render(svg, {
            title: `${type} figure`,
            subject: "a caption — with “quotes” and (parentheses)",
            keywords: `preset=${preset}`,
          });
          await Deno.writeFile(path, bytes);
          const info = await tool("pdfinfo", [path]);
          assert.match(info, /^Pages:\s+1$/m, what);
          const size = /^Page size:\s+([\d.]+) x ([\d.]+) pts/m.exec(info)!;
          const [w, h] = [Number(size[1]), Number(size[2])];
          if (preset === "screen") {
            // Chromium rounds pages up to 1/300 in.
            assert.ok(
              w - meta.widthPx * 0.75 >= -0.01 && w - meta.widthPx * 0.75 < 0.25,
              `${what}: width ${w}`,
            );
          } else {
            assert.equal(w, preset === "paper-single" ? 234 : 486, `${what}: page width ${w} pt`);
            assert.equal(h, meta.heightPx * 0.75, `${what}: page height ${h} pt`);
          }
          assert.match(info, new RegExp(`^Keywords:\\s+preset=${preset}$`, "m"), what);
          assert.match(info, /^Subject:\s+a caption — with “quotes” and \(parentheses\)$/m, what);
          assert.match(info, new RegExp(`^Title:\\s+${type} figure$`, "m"), what);
          const fonts = (await tool("pdffonts", [path])).split("\n").slice(2).filter((l) => l.trim() !== "");
          assert.ok(fonts.length > 0, `${what}: no fonts (text was not kept as text)`);
          for (const f of fonts) assert.match(f, /\syes\s+yes\s+yes\s/, `${what}: font not embedded: ${f}`);
          if (preset !== "screen") {
            assert.ok(
              fonts.some((f) => f.includes("LiberationSerif")) || !poppler.serifFont,
              `${what}: ${fonts}`,
            );
          }
          // Render with poppler at 2 px per CSS px, compare with resvg's raster.
          await tool("pdftoppm", ["-gray", "-r", "192", "-singlefile", path, join(dir, "page")]);
          const page = readPgm(await Deno.readFile(join(dir, "page.pgm")));
          const ref = resvgGrey(svg, 2);
          // Screen figures are not whole 1/300 in: Chromium's page is up to 0.24 pt (< 1 px) larger.
          const slack = preset === "screen" ? 3 : 1;
          assert.ok(
            Math.abs(page.width - ref.width) <= slack && Math.abs(page.height - ref.height) <= slack,
            `${what}: poppler ${page.width} × ${page.height}, resvg ${ref.width} × ${ref.height}`,
          );
          const d = rasterDifference(page, ref);
          const blank = rasterDifference(page, { ...page, grey: new Uint8Array(page.grey.length).fill(255) });
          const line = `${what}: mean |Δ| ${d.mean.toFixed(2)}, off ${
            (100 * d.off).toFixed(3)
          }% (blank page: ${blank.mean.toFixed(2)})`;
          assert.ok(blank.mean > MAX_MEAN_DIFF, `${what}: a blank page would pass (${blank.mean})`);
          measured.push(line);
          assert.ok(d.mean <= MAX_MEAN_DIFF && d.off <= MAX_OFF_SHARE, line);
          // Every word inside the page, none cut by a panel's edge.
          const pageW = w, pageH = h;
          const boxes = panelBoxes(svg).map((b) => ({
            x0: b.x * 0.75,
            y0: b.y * 0.75,
            x1: (b.x + b.w) * 0.75,
            y1: (b.y + b.h) * 0.75,
          }));
          const ws = await words(path);
          assert.ok(ws.length > 0, `${what}: no text found`);
          for (const t of ws) {
            assert.ok(
              t.x0 >= -0.5 && t.y0 >= -0.5 && t.x1 <= pageW + 0.5 && t.y1 <= pageH + 0.5,
              `${what}: "${t.text}" outside the page`,
            );
            for (const b of boxes) {
              const overlaps = t.x1 > b.x0 && t.x0 < b.x1 && t.y1 > b.y0 && t.y0 < b.y1;
              const inside = t.x0 >= b.x0 - 0.5 && t.x1 <= b.x1 + 0.5 && t.y0 >= b.y0 - 0.5 &&
                t.y1 <= b.y1 + 0.5;
              assert.ok(!overlaps || inside, `${what}: "${t.text}" cut by a panel's edge`);
            }
          }
        }
      }
    } finally {
      await pdf.close();
      await Deno.remove(dir, { recursive: true });
      console.log(measured.join("\n"));
    }
  },
});

Deno.test(
  "PDF info: an incremental update that pdf readers take (Title, Subject, Keywords, Creator)" + SKIP,
  {
    ignore: SKIP !== "",
  },
  async () => {
    const dir = await Deno.makeTempDir();
    const pdf = await ChromiumPdf.start();
    try {
      const svg =
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="48"><text x="4" y="20">Δ hi</text></svg>';
      const plain = await pdf.render(svg);
      const path = join(dir, "a.pdf");
      await Deno.writeFile(path, setPdfInfo(plain, { title: "Ünïcode title", keywords: "preset=screen" }));
      const info = await tool("pdfinfo", [path]);
      assert.match(info, /^Title:\s+Ünïcode title$/m);
      assert.match(info, /^Keywords:\s+preset=screen$/m);
      assert.match(info, /^Creator:\s+mode-collapse figures/m);
      assert.match(info, /^Page size:\s+72 x 36 pts/m);
      assert.match(await tool("pdftotext", [path, "-"]), /Δ hi/);
      // Not a PDF with a classic trailer: returned unchanged.
      const junk = new TextEncoder().encode("%PDF-1.7 nothing else");
      assert.equal(setPdfInfo(junk, { title: "x" }), junk);
    } finally {
      await pdf.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
