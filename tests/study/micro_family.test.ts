/**
 * The embedded default is a trained family (data/micro-family/): `deno task reproduce` at its default size must
 * show what data/micro-family/README.md states — the base is a language model (held-out perplexity far below a
 * unigram model's), the corpus statistics and the completions collapse step by step from base to SFT to DPO,
 * and after "Tell me a random integer between 0 and 100. The number is" the DPO model answers with fewer numbers than
 * the SFT model, more of them the simulated rater's favourites. The claims and their bounds live in
 * lib/study/family_claims.ts (below the measured values, with room for what a retraining moves).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EMBEDDED_MODELS_DIR, embeddedStudy, MICRO_FAMILY } from "../../lib/study/config.ts";
import { measureFamilyHeadline } from "../../lib/study/family_headline.ts";
import { familyClaims } from "../../lib/study/family_claims.ts";
import { analyse } from "../helpers/cli.ts";

Deno.test({
  name: "micro family: a language model whose SFT and DPO tunes collapse, as the README states",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "micro-family-" });
    try {
      const r = await analyse("reproduce", "--results", dir, "--no-notebooks");
      assert.equal(r.code, 0, r.stderr);
      const study = embeddedStudy("default", dir);
      const summary = JSON.parse(await Deno.readTextFile(join(dir, "summary.json")));
      const h = await measureFamilyHeadline(study, summary, {
        unigramCounts: join(EMBEDDED_MODELS_DIR, MICRO_FAMILY.unigramCountsFile),
        integerPrompt: MICRO_FAMILY.integerPrompt,
        favourites: MICRO_FAMILY.favourites,
      });
      console.log(`headline: ${JSON.stringify(h)}`);
      // Every claim the README makes (lib/study/family_claims.ts states the bounds and why they sit where they do).
      const claims = familyClaims(h);
      assert.ok(claims.length >= 20, `${claims.length} claims`);
      for (const c of claims) assert.ok(c.holds, `${c.claim}: ${c.detail}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
