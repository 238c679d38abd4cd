/** Factual accuracy: share of samples containing an answer key, case-insensitively, per cell and temperature. */
import assert from "node:assert/strict";
import { answerAccuracy, factualAccuracy } from "../../lib/metrics/factual_accuracy.ts";
import type { CompletionsDoc } from "../../lib/io/completions_doc.ts";

Deno.test("answerAccuracy counts samples containing any answer, ignoring case; null without samples", () => {
  assert.equal(answerAccuracy(["It is PARIS.", "Lyon", "paris!", "Par is"], ["Paris"]), 0.5);
  assert.equal(answerAccuracy(["three hundred", "365 days"], ["365", "three hundred sixty-five"]), 0.5);
  assert.equal(answerAccuracy([], ["x"]), null);
  assert.equal(answerAccuracy(["anything"], [""]), 0, "an empty answer matches nothing");
});

Deno.test("factualAccuracy: per cell, and per temperature over the prompts that have answers", () => {
  const texts = [[["Paris", "Rome"], ["water", "WATER"], ["x"]], [["no"], ["H2O is water"], ["y"]]];
  const doc: CompletionsDoc = {
    format: "completions/1",
    created: "2026-11-28T00:00:00Z",
    model: { id: "m" },
    prompt_set: "factual",
    prompts: [{ text: "a", answers: ["paris"] }, { text: "b", answers: ["water"] }, { text: "c" }],
    sampling: {
      temperatures: [0.5, 1],
      samples_per_prompt: 2,
      max_new_tokens: 5,
      top_k: 50,
      top_p: 1,
      seed: 0,
    },
    cells: texts.flatMap((row, t) =>
      row.map((cell, p) => ({
        temperature_index: t,
        prompt_index: p,
        temperature: [0.5, 1][t],
        samples: cell.map((text) => ({ text })),
      }))
    ),
    provenance: {},
  };
  const acc = factualAccuracy(doc);
  assert.deepEqual(acc.byCell, [[0.5, 1, null], [0, 1, null]]);
  assert.deepEqual(acc.byTemperature, [0.75, 0.5]);
  assert.deepEqual(acc.temperatures, [0.5, 1]);
});
