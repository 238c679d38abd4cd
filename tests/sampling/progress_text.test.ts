// The sweep progress line (lib/sampling/progress_text.ts), as `analyse generate` and the completions notebook show it.
import assert from "node:assert/strict";
import { sweepProgressText } from "../../lib/sampling/progress_text.ts";

Deno.test("progress texts: sweep events", () => {
  assert.equal(
    sweepProgressText({
      cellsDone: 3,
      cellsTotal: 12,
      cellsResumed: 1,
      tokens: 1234,
      elapsedMs: 4500,
      etaMs: 95_000,
    }),
    "3/12 cells (25%), 1,234 tokens (274 tokens/s), 4.5 s elapsed, 1 resumed, ~1 min 35 s left",
  );
  assert.equal(
    sweepProgressText({
      cellsDone: 12,
      cellsTotal: 12,
      cellsResumed: 0,
      tokens: 10,
      elapsedMs: 12_000,
      etaMs: 0,
    }),
    "12/12 cells (100%), 10 tokens (1 tokens/s), 12 s elapsed",
  );
  // No rate before 10 ms, nor without tokens; thousands grouped.
  const at = (tokens: number, elapsedMs: number) =>
    sweepProgressText({ cellsDone: 0, cellsTotal: 2, cellsResumed: 0, tokens, elapsedMs });
  assert.equal(at(5, 9), "0/2 cells (0%), 5 tokens, 0.0 s elapsed");
  assert.equal(at(0, 5000), "0/2 cells (0%), 0 tokens, 5.0 s elapsed");
  assert.equal(at(25_000, 10_000), "0/2 cells (0%), 25,000 tokens (2,500 tokens/s), 10 s elapsed");
});
