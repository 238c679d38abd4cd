/**
 * The paper's own files: for every Pythia-2.8B model in shared/paper, both completion files at 5 and 20 words,
 * the 7 deterministic keys equal the stored float32 values in every cell (NaN positions identical) and
 * vendi_jaccard_2 agrees within 1e-6 relative — with the corrected creative/factual labels. Writes the side-by-side
 * report (order-q, seeded) to results/conformance/paper_check.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SHARED, sharedPath, sharedTest } from "../helpers/shared.ts";
import {
  checkPaperModel,
  findPaperFiles,
  renderPaperCheckMarkdown,
} from "../../lib/diversity/paper_check.ts";
import type { ModelCheck } from "../../lib/diversity/paper_check.ts";
import { METRIC_SELECTIONS } from "../../lib/metrics/registry.ts";
import { writeFileAtomic } from "../../lib/io/atomic.ts";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { DEFAULT_EMBEDDER, openEmbedder } from "../../lib/embeddings/registry.ts";
import type { SentenceEmbedder } from "../../lib/embeddings/embedder.ts";

const MODELS = ["pythia-2.8b", "pythia-2.8b-sft", "pythia-2.8b-dpo"];
const KEYS = [
  ...METRIC_SELECTIONS.deterministic().map((m) => m.key),
  // Side by side only: the paper's order-q draws were unseeded and its cosines came from MiniLM, not GloVe.
  "order_2_jaccard_2",
  "order_4_jaccard_2",
  "cosine_similarity",
  "order_2_cosine",
  "vendi_cosine",
];
const checks: ModelCheck[] = [];
let embedder: Promise<SentenceEmbedder> | undefined;

for (const model of MODELS) {
  sharedTest(`paper conformance: ${model}, creative + factual files, 5 and 20 words`, async () => {
    const files = findPaperFiles(sharedPath("paper")).find((f) => f.model === model);
    assert.ok(files, `paper files of ${model}`);
    assert.deepEqual(Object.keys(files.results).map(Number).sort((a, b) => a - b), [5, 20]);
    assert.ok(files.completions.creative && files.completions.factual);
    embedder ??= openEmbedder(DEFAULT_EMBEDDER);
    const result = await checkPaperModel(files, { keys: KEYS, seed: 0, embedder: await embedder });
    checks.push(result);
    const exact = result.checks.filter((c) => c.mode !== "side-by-side");
    // 8 keys × 2 word limits × 2 prompt sets.
    assert.equal(exact.length, 32);
    for (const c of exact) {
      assert.equal(
        c.matching,
        c.cells,
        `${model} ${c.words}w ${c.group} ${c.key}: ${c.cells - c.matching} cells differ`,
      );
      assert.equal(c.cells, 300);
    }
    // The stored NaNs are all in avg_compression_ratio_target (cells with an empty completion).
    const nanKeys = new Set(exact.filter((c) => c.nanStored > 0).map((c) => c.key));
    for (const k of nanKeys) assert.equal(k, "avg_compression_ratio_target");
    assert.ok(result.ok);
  });
}

sharedTest("paper conformance: the portable pako compressor reproduces the gzip-based keys too", async () => {
  const files = findPaperFiles(sharedPath("paper")).find((f) => f.model === "pythia-2.8b-dpo")!;
  const result = await checkPaperModel(
    { ...files, completions: { factual: files.completions.factual } },
    {
      keys: ["average_pairwise_ncd", "avg_compression_ratio_full", "avg_compression_ratio_target"],
      gzip: "pako",
    },
  );
  assert.equal(result.checks.length, 6);
  for (const c of result.checks) assert.equal(c.matching, c.cells, `${c.key} ${c.words}w`);
});

sharedTest("paper conformance: without the label fix the stored values do not match", async () => {
  const files = findPaperFiles(sharedPath("paper")).find((f) => f.model === "pythia-2.8b")!;
  // Feed the creative completions where the paper's *stored* label says creative: nothing lines up.
  const swapped = {
    ...files,
    completions: { creative: files.completions.factual, factual: files.completions.creative },
  };
  const result = await checkPaperModel(swapped, { keys: ["average_pairwise_jaccard_2", "vendi_jaccard_2"] });
  for (const c of result.checks) {
    assert.ok(c.matching < c.cells / 2, `${c.key} ${c.words}w matched ${c.matching}`);
  }
});

sharedTest("paper conformance: report written", async () => {
  if (checks.length === 0) return; // the model tests did not run (filtered)
  await (await embedder)?.dispose();
  const md = renderPaperCheckMarkdown(checks, SHARED ? join(SHARED, "paper") : "");
  assert.match(md, /all exact keys reproduced/);
  await writeFileAtomic(join(PROJECT_ROOT, "results", "conformance", "paper_check.md"), md);
});
