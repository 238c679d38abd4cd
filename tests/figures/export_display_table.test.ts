/** saveFigure (SVG + PNG, atomic), display bundles, HTML tables (with a real danfojs DataFrame). */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  htmlDisplay,
  JUPYTER_DISPLAY,
  svgDisplay,
  VEGALITE_MIME,
  vegaLiteDisplay,
} from "../../lib/figures/display.ts";
import { saveFigure } from "../../lib/figures/export.ts";
import { makeFigure } from "../../lib/figures/figure.ts";
import { linePanel } from "../../lib/figures/panel.ts";
import { svgToString } from "../../lib/figures/svg.ts";
import { dataFrameToHtml, recordsToHtml } from "../../lib/figures/table.ts";
import { parseHtml, parseSvg } from "./svg_dom.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function smallPanel(): string {
  return linePanel({
    lines: [{ points: [{ x: 0, y: 1 }, { x: 1, y: 2 }], colour: "#d62728", marker: "circle" }],
    xLabel: "x label",
    yLabel: "y label",
  });
}

Deno.test("saveFigure writes a namespaced SVG and a PNG, atomically, and overwrites", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sub = join(dir, "figs");
    // a Plot element serialised without xmlns still gets one
    const bare = smallPanel().replace(' xmlns="http://www.w3.org/2000/svg"', "");
    assert.ok(!bare.includes("xmlns="));
    const saved = await saveFigure(bare, "panel", sub);
    assert.equal(saved.svgPath, join(sub, "panel.svg"));
    const svg = await Deno.readTextFile(saved.svgPath);
    assert.equal(parseSvg(svg).documentElement.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
    const png = await Deno.readFile(saved.pngPath!);
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    assert.ok(png.length > 1000);
    assert.ok(saved.pngWidthPx > 0 && saved.pngHeightPx > 0);
    // IHDR width = svg width × scale 2
    const ihdrWidth = new DataView(png.buffer, png.byteOffset).getUint32(16);
    assert.equal(ihdrWidth, saved.pngWidthPx);
    // overwrite with a Figure object; no temp files left behind
    const again = await saveFigure(makeFigure(svgToString(smallPanel()), {}), "panel", sub, { pngScale: 1 });
    assert.equal(again.pngWidthPx, saved.pngWidthPx / 2);
    const names = [...Deno.readDirSync(sub)].map((e) => e.name).sort();
    assert.deepEqual(names, ["panel.png", "panel.svg"]);
    await assert.rejects(() => saveFigure(bare, "../escape", sub), /plain file stem/);
    const svgOnly = await saveFigure(bare, "only", sub, { svgOnly: true });
    assert.equal(svgOnly.pngPath, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("display bundles: svg, html, vega-lite always with the SVG fallback", () => {
  const svg = smallPanel();
  assert.deepEqual(Object.keys(svgDisplay(svg)[JUPYTER_DISPLAY]()), ["image/svg+xml"]);
  const h = htmlDisplay("<b>x</b>", "x")[JUPYTER_DISPLAY]();
  assert.deepEqual(h, { "text/html": "<b>x</b>", "text/plain": "x" });
  const spec = { mark: "point" };
  const v = vegaLiteDisplay(spec, svg)[JUPYTER_DISPLAY]();
  assert.equal(v[VEGALITE_MIME], spec);
  assert.ok(String(v["image/svg+xml"]).startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
});

Deno.test("DataFrame (danfojs-node) → HTML table with the right rows", async () => {
  const dfd = await import("danfojs-node");
  const df = new dfd.DataFrame({
    model: ["PLM", "SFT", "D<PO"],
    perplexity: [12.3456, 15.1, 16.09],
    tokens: [1000, 2000, 3000],
  });
  const html = dataFrameToHtml(df as never);
  const doc = parseHtml(html);
  const rows = [...doc.querySelectorAll("tbody tr")];
  assert.equal(rows.length, 3);
  assert.deepEqual([...doc.querySelectorAll("thead th")].map((t) => t.textContent), [
    "",
    "model",
    "perplexity",
    "tokens",
  ]);
  assert.deepEqual([...rows[0].querySelectorAll("td")].map((t) => t.textContent), ["PLM", "12.35", "1,000"]);
  assert.ok(html.includes("D&lt;PO"));
  const noIndex = parseHtml(dataFrameToHtml(df as never, { showIndex: false }));
  assert.equal(noIndex.querySelectorAll("tbody th").length, 0);
  const rec = parseHtml(recordsToHtml([{ a: 1, b: 0.5 }, { a: 2, b: NaN }], { caption: "cap" }));
  assert.equal(rec.querySelectorAll("tbody tr").length, 2);
  assert.equal(rec.querySelector("caption")!.textContent, "cap");
});
