/**
 * Figure presets: every figure type renders in every preset, at the paper presets' exact width, with the preset in
 * the SVG's metadata, 8–9 pt text, the role colours of the style; how a preset is chosen (per call, per process,
 * from the environment); the layout helpers (text widths, ticks, wrapping); the PNG's resolution.
 */
import assert from "node:assert/strict";
import { pngDpi, saveFigure, setPngDpi, svgToPng } from "../../lib/figures/export.ts";
import { diversityGrid } from "../../lib/figures/diversity_grid.ts";
import {
  activeFigurePreset,
  FIGURE_PRESET_ENV,
  FIGURE_PRESET_NAMES,
  FIGURE_PRESETS,
  linearTicks,
  niceDomain,
  PX_PER_PT,
  readFigureMetadata,
  setFigurePreset,
  textWidthPx,
  withFigurePreset,
  wrapText,
} from "../../lib/figures/preset.ts";
import { OKABE_ITO, ROLE_STYLES } from "../../lib/figures/style.ts";
import { drawEveryFigure, FIGURE_TYPES, sampleSeries } from "./figure_samples.ts";
import { parseSvg } from "./svg_dom.ts";

for (const preset of FIGURE_PRESET_NAMES) {
  Deno.test(`preset ${preset}: every figure type renders, sized and labelled for it`, async () => {
    const p = FIGURE_PRESETS[preset];
    const figures = await drawEveryFigure(preset);
    assert.deepEqual(Object.keys(figures).sort(), [...FIGURE_TYPES].sort());
    for (const [type, svg] of Object.entries(figures)) {
      const doc = parseSvg(svg);
      const root = doc.documentElement;
      const meta = readFigureMetadata(svg);
      assert.ok(meta, `${type}: no figure metadata`);
      assert.equal(meta.preset, preset, type);
      assert.equal(root.getAttribute("data-preset"), preset, type);
      const width = Number(root.getAttribute("width"));
      const height = Number(root.getAttribute("height"));
      assert.equal(meta.widthPx, width, type);
      assert.equal(meta.heightPx, height, type);
      if (p.widthPx !== null) {
        assert.equal(width, p.widthPx, `${type}: width ${width} px, preset ${p.widthPx} px`);
        assert.equal(height % 8, 0, `${type}: height ${height} px is not a whole 1/12 in`);
        assert.ok(height / 96 <= 9.5, `${type}: ${height / 96} in does not fit a page`);
        // Every font size is 8 pt or more and 9 pt at most. (Plot writes font-size="10" on each panel's root
        // and overrides it with its style attribute, checked as `font-size: …px`.)
        const sizes = [...doc.querySelectorAll("[font-size]")]
          .filter((e) => !(e.tagName.toLowerCase() === "svg" && e.getAttribute("font-size") === "10"))
          .map((e) => parseFloat(e.getAttribute("font-size")!));
        const styled = [...svg.matchAll(/font-size:\s*([\d.]+)px/g)].map((m) => Number(m[1]));
        for (const s of [...sizes, ...styled]) {
          assert.ok(s >= 8 * PX_PER_PT - 0.01 && s <= 9 * PX_PER_PT + 0.01, `${type}: font size ${s} px`);
        }
        const family = type === "vegaLiteGrid"
          ? doc.querySelector("text")?.getAttribute("font-family")
          : root.getAttribute("font-family");
        assert.ok(family?.startsWith("Liberation Serif"), `${type}: font ${family}`);
      }
    }
    // The grid's lines keep their roles' colours and markers.
    const grid = parseSvg(figures.diversityGrid);
    const strokes = new Set(
      [...grid.querySelectorAll('g[aria-label="line"]')].map((g) => g.getAttribute("stroke")),
    );
    for (const role of ["base", "sft", "dpo"] as const) {
      assert.ok(strokes.has(ROLE_STYLES[role].colour), `${role} colour ${ROLE_STYLES[role].colour} missing`);
    }
  });
}

Deno.test("paper-double lays the 8 × 2 diversity grid out 4 × 4; paper-single 8 × 2; screen as before", () => {
  const series = sampleSeries();
  const position = (preset: string) => {
    const doc = parseSvg(withFigurePreset(preset, () => diversityGrid(series).svg));
    const panels = [...doc.querySelectorAll("g.panel > svg")];
    return {
      xs: new Set(panels.map((s) => s.getAttribute("x"))).size,
      ys: new Set(panels.map((s) => s.getAttribute("y"))).size,
      titles: doc.querySelectorAll("text.column-title").length,
    };
  };
  assert.deepEqual(position("paper-double"), { xs: 4, ys: 4, titles: 4 });
  assert.deepEqual(position("paper-single"), { xs: 2, ys: 8, titles: 2 });
  assert.deepEqual(position("screen"), { xs: 2, ys: 8, titles: 2 });
});

Deno.test("choosing a preset: per call, per process, from the environment; restored afterwards", () => {
  const before = Deno.env.get(FIGURE_PRESET_ENV);
  try {
    Deno.env.delete(FIGURE_PRESET_ENV);
    setFigurePreset(undefined);
    assert.equal(activeFigurePreset().name, "screen");
    Deno.env.set(FIGURE_PRESET_ENV, "paper-single");
    assert.equal(activeFigurePreset().name, "paper-single");
    const series = sampleSeries();
    // Per call wins over the environment, and nests.
    const svg = diversityGrid(series, { preset: "paper-double" }).svg;
    assert.equal(readFigureMetadata(svg)?.preset, "paper-double");
    withFigurePreset("screen", () => {
      assert.equal(activeFigurePreset().name, "screen");
      withFigurePreset("paper-double", () => assert.equal(activeFigurePreset().name, "paper-double"));
      assert.equal(activeFigurePreset().name, "screen");
    });
    assert.equal(activeFigurePreset().name, "paper-single");
    // Per process: also exported to the environment, for notebook kernels started later.
    setFigurePreset("paper-double");
    assert.equal(Deno.env.get(FIGURE_PRESET_ENV), "paper-double");
    assert.equal(readFigureMetadata(diversityGrid(series).svg)?.preset, "paper-double");
    setFigurePreset(undefined);
    assert.equal(Deno.env.get(FIGURE_PRESET_ENV), undefined);
    assert.throws(() => withFigurePreset("poster", () => 0), /unknown figure preset "poster"; known: screen/);
  } finally {
    setFigurePreset(undefined, { env: false });
    if (before === undefined) Deno.env.delete(FIGURE_PRESET_ENV);
    else Deno.env.set(FIGURE_PRESET_ENV, before);
  }
});

Deno.test("layout helpers: glyph widths, d3's ticks and nice domains, wrapping", () => {
  const times = FIGURE_PRESETS["paper-single"], dejavu = FIGURE_PRESETS.screen;
  // Liberation Serif digits are 0.5 em, DejaVu Sans 0.636 em.
  assert.equal(textWidthPx("0123456789", 10, { preset: times }), 50);
  assert.ok(Math.abs(textWidthPx("0123456789", 10, { preset: dejavu }) - 63.6) < 1e-9);
  assert.deepEqual(linearTicks([0, 1], 5), {
    values: [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1],
    labels: ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"],
  });
  assert.deepEqual(linearTicks([0, 5000], 6).labels, ["0", "1,000", "2,000", "3,000", "4,000", "5,000"]);
  assert.deepEqual(linearTicks([-0.05, 0.05], 2).labels, ["−0.05", "0.00", "0.05"]);
  assert.deepEqual(niceDomain([0.03, 0.92], 4), [0, 1]);
  const lines = wrapText("a title that is far too long for one line of a narrow figure", 120, 12, {
    preset: times,
  });
  assert.ok(lines.length > 1 && lines.every((l) => textWidthPx(l, 12, { preset: times }) <= 120));
});

Deno.test("PNG resolution: the preset's dpi, written into pHYs; saveFigure writes no PDF on screen", async () => {
  const svg = withFigurePreset(
    "paper-single",
    () => diversityGrid(sampleSeries(), { metrics: ["selfBleuSmoothed"] }).svg,
  );
  const { png } = svgToPng(svg, 1);
  assert.equal(pngDpi(png), undefined);
  assert.equal(pngDpi(setPngDpi(setPngDpi(png, 150), 300)), 300); // stored as 11811 px/m
  const dir = await Deno.makeTempDir();
  try {
    const saved = await saveFigure(svg, "grid", dir, { pdf: false });
    assert.equal(saved.preset, "paper-single");
    assert.equal(saved.pngDpi, 300);
    assert.equal(saved.pngWidthPx, Math.round(3.25 * 300));
    assert.equal(pngDpi(Deno.readFileSync(saved.pngPath!)), 300);
    assert.equal(saved.pdfPath, null);
    const screen = await saveFigure(
      diversityGrid(sampleSeries(), { metrics: ["selfBleuSmoothed"] }),
      "s",
      dir,
    );
    assert.equal(screen.preset, "screen");
    assert.equal(screen.pngDpi, 192);
    assert.equal(screen.pdfPath, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the palette is Okabe–Ito, one marker per role", () => {
  const okabeIto = new Set(Object.values(OKABE_ITO));
  const roles = Object.values(ROLE_STYLES).filter((s) => s.role !== "other");
  for (const s of roles) assert.ok(okabeIto.has(s.colour as never), `${s.role}: ${s.colour}`);
  assert.equal(new Set(roles.map((s) => s.colour)).size, roles.length);
  assert.equal(
    new Set(Object.values(ROLE_STYLES).map((s) => s.marker)).size,
    Object.keys(ROLE_STYLES).length,
  );
});
