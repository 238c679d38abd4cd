// The scoring progress line (lib/scoring/progress_text.ts), as `analyse score` and the next-token notebook show it.
import assert from "node:assert/strict";
import { scoreProgressText } from "../../lib/scoring/progress_text.ts";

Deno.test("progress texts: score events", () => {
  assert.equal(
    scoreProgressText({
      documentsRead: 2,
      documentsTotal: 12,
      tokens: 4850,
      tokensPerSecond: 301.6,
      etaSeconds: 7,
    }),
    "2/12 documents, 4,850 tokens, 302 tokens/s, ~7.0 s left",
  );
  assert.equal(
    scoreProgressText({ documentsRead: 5, tokens: 0, tokensPerSecond: 0 }),
    "5 documents, 0 tokens, 0 tokens/s",
  );
});
