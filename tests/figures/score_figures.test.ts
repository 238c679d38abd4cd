/** CDF, histograms, reliability, KL, token colouring and top-k figures on small synthetic inputs. */
import { scoreDoc } from "../helpers/score_doc.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { cdfFigure } from "../../lib/figures/cdf.ts";
import { confidenceHistogramFigure, entropyHistogramFigure } from "../../lib/figures/histograms.ts";
import { klFigure, klTableHtml } from "../../lib/figures/kl.ts";
import { eceFromBins, reliabilityFigure } from "../../lib/figures/reliability.ts";
import {
  readScoreFigureInput,
  toCdfInput,
  toConfidenceHistogramInput,
  toEntropyHistogramInput,
  toReliabilityInput,
} from "../../lib/figures/score_input.ts";
import {
  PROBABILITY_BINS,
  probabilityBin,
  tokenProbabilityHtml,
  tokensFromSample,
} from "../../lib/figures/token_colours.ts";
import { topKFigure, visibleToken } from "../../lib/figures/topk.ts";
import { JUPYTER_DISPLAY } from "../../lib/figures/display.ts";
import { writeNpy } from "../../lib/io/npy.ts";
import { NdArray } from "../../lib/io/py_value.ts";
import { sortedCumulative, vocabMassFraction } from "../../lib/scoring/corpus_stats.ts";
import type { CalibrationBin } from "../../lib/io/score_stats.ts";
import { count, parseHtml, parseSvg, texts } from "./svg_dom.ts";

function zipf(V: number, a: number): Float64Array {
  const p = new Float64Array(V).map((_, i) => 1 / Math.pow(i + 1, a));
  const z = p.reduce((x, y) => x + y, 0);
  return p.map((x) => x / z);
}

Deno.test("CDF: one line per model, 70/90% marks at the paper's indices, zoom range", () => {
  const inputs = [
    { model: "pythia-70m", sortedCumulative: sortedCumulative(zipf(5000, 1.0)) },
    { model: "pythia-70m-sft", sortedCumulative: sortedCumulative(zipf(5000, 1.2)) },
  ];
  const fig = cdfFigure(inputs);
  assert.equal(fig.data.lines.length, 2);
  for (const [i, l] of fig.data.lines.entries()) {
    const c = inputs[i].sortedCumulative;
    for (const m of l.marks) {
      assert.equal(m.paperFraction, vocabMassFraction(c, m.threshold)); // = score/1's vocab_mass_fraction
      assert.ok(c[m.tokens - 1] > m.threshold && (m.tokens === 1 || c[m.tokens - 2] <= m.threshold));
      assert.ok(l.points.some((p) => p.tokens === m.tokens));
    }
    assert.equal(l.points[l.points.length - 1].tokens, 5000);
    assert.ok(l.points.every((p) => p.cumulative === c[p.tokens - 1]));
  }
  assert.ok(fig.data.lines[1].marks[1].tokens < fig.data.lines[0].marks[1].tokens); // sharper → fewer tokens
  const doc = parseSvg(fig.svg);
  assert.equal(count(doc, 'g[aria-label="line"] path'), 2);
  const t = texts(doc);
  assert.ok(t.includes("Number of tokens") && t.includes("Cumulative average probability"));
  assert.ok(t.includes("70% of mass") && t.includes("90% of mass"));
  const zoom = cdfFigure(inputs, { zoom: true });
  assert.deepEqual(zoom.data.yDomain, [0.8, 1]);
  const zt = texts(parseSvg(zoom.svg));
  assert.ok(!zt.includes("70% of mass") && zt.includes("90% of mass"));
  assert.ok(zt.some((x) => x.includes("(zoom)")));
});

Deno.test("score/1 input: sorted cumulative from the .meandist.npy beside it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dist = Float64Array.from([0.1, 0.5, 0.15, 0.25]);
    await writeNpy(join(dir, "s.meandist.npy"), new NdArray("<f8", [4], dist));
    const score = scoreDoc({
      model: { source: "data/models/pythia-70m-sft" },
      base: null,
      mean_distribution_file: "s.meandist.npy",
      cdf: { ranks: [1, 4], cumulative: [0.5, 1] },
      entropy_histogram: { lower: 0, upper: 1, counts: [1] },
      confidence_histogram: { lower: 0, upper: 1, counts: [1] },
      calibration: [{ lower: 0, upper: 1, count: 4, mean_confidence: 0.5, accuracy: 0.25 }],
      ece: 0.25,
      vocab: 4,
      paper_compat: { cdf: { ranks: [1, 4], cumulative: [0.6, 1] } },
    });
    await Deno.writeTextFile(join(dir, "s.json"), JSON.stringify(score));
    const input = await readScoreFigureInput(join(dir, "s.json"));
    assert.equal(input.model, "pythia-70m-sft");
    assert.deepEqual([...input.sortedCumulative!], [0.5, 0.75, 0.9, 1]);
    const fig = cdfFigure([{ model: input.model, sortedCumulative: input.sortedCumulative! }]);
    assert.deepEqual(fig.data.lines[0].marks.map((m) => m.tokens), [2, 4]);
    assert.equal(toCdfInput(input).sortedCumulative, input.sortedCumulative);
    assert.deepEqual(toCdfInput(input, { paperCompat: true }).points!.cumulative, [0.6, 1]);
    assert.equal(toEntropyHistogramInput(input).histogram, input.score.entropy_histogram);
    assert.equal(toConfidenceHistogramInput(input).histogram, input.score.confidence_histogram);
    assert.equal(reliabilityFigure([toReliabilityInput(input)]).data.panels[0].ece, 0.25);
    await Deno.remove(join(dir, "s.meandist.npy"));
    const noDist = await readScoreFigureInput(join(dir, "s.json"), "named");
    assert.equal(noDist.sortedCumulative, null);
    const fromPoints = cdfFigure([{ model: "named", points: noDist.score.cdf, vocab: 4 }]);
    assert.equal(fromPoints.data.lines[0].marks[0].exact, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("histograms: shares per bin sum to 1, one step line per model", () => {
  const fig = entropyHistogramFigure([
    { model: "a", histogram: { lower: 0, upper: 2, counts: [1, 3, 0, 4] } },
    { model: "a-sft", histogram: { lower: 0, upper: 2, counts: [2, 2, 2, 2] } },
  ]);
  const bins = fig.data.lines[0].bins;
  assert.deepEqual(bins.map((b) => b.share), [0.125, 0.375, 0, 0.5]);
  assert.deepEqual(bins.map((b) => [b.lower, b.upper]), [[0, 0.5], [0.5, 1], [1, 1.5], [1.5, 2]]);
  assert.equal(fig.data.lines[0].total, 8);
  const doc = parseSvg(fig.svg);
  assert.equal(count(doc, 'g[aria-label="line"] path'), 2);
  assert.ok(texts(doc).includes("Next-token entropy (nats)"));
  const conf = confidenceHistogramFigure([{ model: "a", histogram: { lower: 0, upper: 1, counts: [0, 0] } }]);
  assert.deepEqual(conf.data.lines[0].bins.map((b) => b.share), [0, 0]);
});

Deno.test("reliability diagram: ECE of the bins in the title", () => {
  const bins: CalibrationBin[] = [
    { lower: 0, upper: 0.5, count: 30, mean_confidence: 0.3, accuracy: 0.2 },
    { lower: 0.5, upper: 1, count: 10, mean_confidence: 0.8, accuracy: 0.9 },
    { lower: 1, upper: 1, count: 0, mean_confidence: NaN, accuracy: NaN },
  ];
  assert.ok(Math.abs(eceFromBins(bins) - (0.75 * 0.1 + 0.25 * 0.1)) < 1e-15);
  const fig = reliabilityFigure([{ model: "pythia-70m-sft", calibration: bins }]);
  assert.ok(Math.abs(fig.data.panels[0].ece - 0.1) < 1e-15);
  const t = texts(parseSvg(fig.svg));
  assert.ok(t.includes("pythia-70m-sft — ECE = 0.1000"));
  assert.ok(t.includes("Confidence") && t.includes("Accuracy"));
  const stored = reliabilityFigure([{ model: "m", calibration: bins, ece: 0.25 }, {
    model: "n",
    calibration: bins,
  }]);
  assert.equal(stored.data.panels[0].ece, 0.25);
  assert.equal(count(parseSvg(stored.svg), "g.panel"), 2);
});

Deno.test("KL bars and table", () => {
  const rows = [
    {
      model: "pythia-70m-sft",
      base: "pythia-70m",
      klFromBaseNats: 0.3125,
      jsWithBaseNats: 0.05,
      argmaxChangedShare: 0.2,
    },
    { model: "pythia-70m-dpo", klFromBaseNats: 0.5 },
  ];
  const fig = klFigure(rows);
  const doc = parseSvg(fig.svg);
  assert.equal(count(doc, 'g[aria-label="bar"] rect'), 2);
  assert.ok(texts(doc).includes("0.3125"));
  const table = parseHtml(klTableHtml(rows));
  assert.equal(table.querySelectorAll("tbody tr").length, 2);
  assert.equal(table.querySelectorAll("tbody tr")[1].querySelectorAll("td")[3].textContent, "–");
});

Deno.test("token colouring: every token escaped, bins, legend, newline visible", () => {
  const tokens = [
    { text: "<b>", logprob: Math.log(0.995) },
    { text: " & ", logprob: Math.log(0.3) },
    { text: "\n", logprob: Math.log(0.005) },
    { text: "\"q'", logprob: Math.log(0.92) },
  ];
  const out = tokenProbabilityHtml(tokens, { title: "70m <SFT>" });
  assert.deepEqual(out.tokens.map((t) => t.bin), [9, 4, 0, 7]);
  for (const esc of ["&lt;b&gt;", " &amp; ", "&quot;q&#39;", "70m &lt;SFT&gt;"]) {
    assert.ok(out.html.includes(esc), esc);
  }
  assert.ok(!out.html.includes("<b>"));
  const doc = parseHtml(out.html);
  const spans = [...doc.querySelectorAll("span.tok")];
  assert.equal(spans.length, 4);
  assert.equal(spans[0].textContent, "<b>");
  assert.ok(
    spans[2].innerHTML.includes("\\n") && !spans[2].innerHTML.includes("<br>"),
    "one line break per newline (pre-wrap)",
  );
  assert.equal(spans[1].getAttribute("title"), "p=0.3000");
  assert.ok(spans[0].getAttribute("style")!.includes(PROBABILITY_BINS[9].background));
  assert.equal(doc.querySelectorAll(".token-prob-legend span.bin").length, PROBABILITY_BINS.length);
  assert.ok(out[JUPYTER_DISPLAY]()["text/html"] === out.html);
  assert.equal(probabilityBin(0.99), 9);
  assert.equal(probabilityBin(0.0099), 0);
  assert.equal(probabilityBin(0.5), 5);
  assert.equal(probabilityBin(1), 9);
  assert.deepEqual(tokensFromSample({ text: "ab", logprobs: [-1, -2] }, ["a", "b"]), [
    { text: "a", logprob: -1 },
    { text: "b", logprob: -2 },
  ]);
  assert.throws(() => tokensFromSample({ text: "ab", logprobs: [-1] }, ["a", "b"]));
});

Deno.test("top-k: each model labelled with its own tokens, sorted, truncated to k", () => {
  const fig = topKFigure([
    {
      model: "pythia-410m",
      tokens: [{ text: " 0", prob: 0.0786 }, { text: "\n", prob: 0.1238 }, { text: " 1", prob: 0.0363 }],
    },
    {
      model: "pythia-410m-sft",
      tokens: [{ text: "\n", prob: 0.2341 }, { text: "  ", prob: 0.0771 }, { text: " 0", prob: 0.0635 }],
    },
  ], { k: 2 });
  assert.deepEqual(fig.data.panels.map((p) => p.tokens.map((t) => t.text)), [["\n", " 0"], ["\n", "  "]]);
  assert.equal(visibleToken(" 0\n"), "␣0\\n");
  const doc = parseSvg(fig.svg);
  assert.equal(count(doc, "g.panel"), 2);
  assert.equal(count(doc, 'g[aria-label="bar"] rect'), 4);
  const t = texts(doc);
  assert.ok(t.includes("2. ␣0") && t.includes("2. ␣␣"));
});
