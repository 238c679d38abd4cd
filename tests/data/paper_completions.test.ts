/** Completions in the paper's `.npy` layout: conversion to a completions document and back is lossless. */
import assert from "node:assert/strict";
import {
  completionsFromPaperNpy,
  paperTemperatures,
  toPaperCells,
} from "../../lib/data/paper_completions.ts";
import { validateCompletionsDoc } from "../../lib/io/completions_schema.ts";

const FILE = "doc.json";

const cellsOf = (T: number, P: number, n: number) =>
  Array.from(
    { length: T },
    (_, t) => Array.from({ length: P }, (_, p) => Array.from({ length: n }, (_, k) => `t${t}p${p}s${k} ✓`)),
  );

Deno.test("completions/1: conversion to and from paper cells is lossless", () => {
  const cells = cellsOf(15, 2, 25);
  const doc = completionsFromPaperNpy(cells, { promptSet: "factual", modelId: "m" });
  assert.deepEqual(doc.sampling.temperatures, paperTemperatures());
  assert.equal(doc.sampling.temperatures[2], 0.3);
  assert.equal(doc.sampling.temperatures[14], 1.5);
  assert.equal(doc.sampling.max_new_tokens, 25);
  assert.equal(doc.sampling.samples_per_prompt, 25);
  assert.deepEqual(doc.prompts, [{ text: null }, { text: null }]);
  assert.deepEqual(toPaperCells(validateCompletionsDoc(doc, FILE)), cells);
  assert.throws(
    () => completionsFromPaperNpy(cells, { promptSet: "x", modelId: "m", temperatures: [1] }),
    /1 temperatures/,
  );
});
