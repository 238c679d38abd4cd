// The notebooks' view helpers: next-token summary (order, roles, headline table), the
// completions browser (summary records, cell choice, cell HTML) and the sampling-entropy figure. No models or
// Jupyter needed.
import assert from "node:assert/strict";
import { embeddedStudy, type StudyConfig } from "../../lib/study/config.ts";
import type { ScoreHeadline } from "../../lib/study/steps.ts";
import { baseFirstOrder, headlineRecords, headlineTableHtml } from "../../lib/views/next_token_summary.ts";
import { figureRoles } from "../../lib/study/figure_selection.ts";
import {
  cellBrowserHtml,
  chooseCell,
  meanSampledEntropy,
  promptInput,
  sweepSummaryRecords,
} from "../../lib/views/completions_browser.ts";
import type { CompletionsDoc } from "../../lib/io/completions_doc.ts";
import { sampledEntropyByTemperature, sampledEntropyFigure } from "../../lib/figures/sweep_entropy.ts";

function headline(over: Partial<ScoreHeadline>): ScoreHeadline {
  return {
    documents: 2,
    tokens: 100,
    perplexity: 10,
    bits_per_byte: 1,
    mean_entropy: 3,
    mean_confidence: 0.4,
    doc_mean_confidence: 0.4,
    accuracy: 0.1,
    effective_vocab: 300,
    vocab_mass_fraction: { "0.7": 0.01, "0.9": 0.05 },
    kl_from_base: null,
    js_with_base: null,
    argmax_changed: null,
    ...over,
  };
}

Deno.test("next-token summary: bases first, figure roles, headline table", () => {
  const s: StudyConfig = {
    ...embeddedStudy("ci"),
    models: [
      { name: "m-dpo", role: "dpo", source: "x", base: "m-sft" },
      { name: "m-sft", role: "sft", source: "x", base: "m" },
      { name: "m", role: "base", source: "x" },
      { name: "c", role: "collapsed", source: "x", base: "m" },
    ],
  };
  assert.deepEqual(baseFirstOrder(s).map((m) => m.name), ["m", "m-sft", "m-dpo", "c"]);
  assert.deepEqual(figureRoles(s), { "m-dpo": "dpo", "m-sft": "sft", m: "base", c: "collapsed" });
  const rows = headlineRecords([{ model: "m", headline: headline({}) }]);
  assert.equal(rows.find((r) => r.statistic === "perplexity")?.m, 10);
  assert.equal(rows.find((r) => String(r.statistic).startsWith("KL"))?.m, null);
  const html = headlineTableHtml([{ model: "m", headline: headline({}) }]);
  assert.match(html, /<th>m<\/th>/);
  assert.match(html, /vocabulary fraction for 90% of mass/);
});

function doc(): CompletionsDoc {
  const sample = (text: string, ents: number[]) => ({
    text,
    token_ids: ents.map((_, i) => 100 + i),
    logprobs: ents.map(() => -0.5),
    entropies_nats: ents,
    finish: "length" as const,
  });
  return {
    format: "completions/1",
    created: "2026-01-01T00:00:00Z",
    model: { id: "m" },
    template: { name: "plm", text: "{prompt} {guide}" },
    prompt_set: "factual",
    prompts: [
      { text: "Capital of France?", guide: " The", answers: ["Paris"] },
      { text: "<b>?</b>", answers: ["x"] },
    ],
    sampling: {
      temperatures: [0.5, 1],
      samples_per_prompt: 2,
      max_new_tokens: 2,
      top_k: 50,
      top_p: 1,
      seed: 0,
    },
    cells: [
      {
        temperature_index: 0,
        prompt_index: 0,
        temperature: 0.5,
        samples: [sample(" Paris", [1, 3]), sample(" Rome", [2, 2])],
        answer_accuracy: 0.5,
      },
      {
        temperature_index: 0,
        prompt_index: 1,
        temperature: 0.5,
        samples: [sample(" x", [0, 0]), sample(" y", [0, 0])],
      },
      { temperature_index: 1, prompt_index: 0, temperature: 1, samples: [sample(" Lyon", [4, 4])] },
      { temperature_index: 1, prompt_index: 1, temperature: 1, samples: [] },
    ],
    provenance: {},
  };
}

Deno.test("completions browser: summary records", () => {
  const d = doc();
  assert.equal(meanSampledEntropy(d.cells.filter((c) => c.temperature_index === 0)), 1);
  assert.equal(meanSampledEntropy([]), null);
  const { records, columns } = sweepSummaryRecords([{ model: "m", pack: "factual", doc: d }]);
  assert.deepEqual(columns, [
    "model",
    "pack",
    "cells",
    "samples",
    "tokens",
    "entropy T=0.5",
    "entropy T=1",
    "accuracy T=0.5",
    "accuracy T=1",
  ]);
  assert.deepEqual(records[0], {
    model: "m",
    pack: "factual",
    cells: 4,
    samples: 5,
    tokens: 10,
    "entropy T=0.5": 1,
    "entropy T=1": 4,
    "accuracy T=0.5": 0.5,
    "accuracy T=1": 0,
  });
});

Deno.test("completions browser: cell choice, model input and cell HTML", () => {
  const d = doc();
  assert.deepEqual(chooseCell(d, 0.9, 1), { temperatureIndex: 1, promptIndex: 1 });
  assert.deepEqual(chooseCell(d, 0.75, 0), { temperatureIndex: 0, promptIndex: 0 }); // tie: lower
  assert.deepEqual(chooseCell(d, -1, 0), { temperatureIndex: 1, promptIndex: 0 });
  assert.throws(() => chooseCell(d, 1, 2), /prompt index 2 is not in 0…1/);
  assert.equal(promptInput(d, 0), "Capital of France?  The");
  const html = cellBrowserHtml(d, { temperatureIndex: 0, promptIndex: 0 }, {
    model: "m",
    decodeToken: (id) => `<t${id}>`,
  });
  assert.match(html, /m · factual · T=0\.5 · prompt 0/);
  assert.match(html, /answers<\/b>: Paris/);
  assert.match(html, /2 samples, accuracy 0\.5/);
  assert.match(html, /&lt;t100&gt;/); // decoded tokens, escaped
  assert.match(html, /token probability:/); // legend
  const empty = cellBrowserHtml(d, { temperatureIndex: 1, promptIndex: 1 }, {
    model: "m",
    decodeToken: String,
  });
  assert.match(empty, /&lt;b&gt;\?&lt;\/b&gt;/);
  assert.match(empty, /no samples/);
});

Deno.test("sweep entropy figure: per-temperature means over prompts with ±2 SE, one panel per pack", () => {
  const d = doc();
  const pts = sampledEntropyByTemperature(d);
  // T=0.5: prompt 0 mean (1+3+2+2)/4 = 2, prompt 1 mean 0 → mean 1, population sd 1, 2·SE = 2/√2
  assert.equal(pts[0].mean, 1);
  assert.equal(pts[0].prompts, 2);
  assert.ok(Math.abs(pts[0].twoSe - Math.SQRT2) < 1e-12);
  assert.deepEqual(pts[1], { temperature: 1, mean: 4, twoSe: 0, prompts: 1 });
  const fig = sampledEntropyFigure([
    { model: "m", pack: "factual", doc: d },
    { model: "m-sft", pack: "factual", doc: d },
  ]);
  assert.deepEqual(fig.data.packs, ["factual"]);
  assert.equal(fig.data.lines.length, 2);
  assert.match(fig.svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});
