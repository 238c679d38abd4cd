/**
 * The embedded default is a trained family (data/micro-family/): `deno task reproduce` at its default size must
 * show what data/micro-family/README.md states — the base is a language model (held-out perplexity far below a
 * unigram model's), the corpus statistics and the completions collapse step by step from base to SFT to DPO,
 * and after "Tell me a random integer between 0 and 100. The number is" the DPO model answers with fewer numbers than
 * the SFT model, more of them the simulated rater's favourites. The thresholds sit below the measured values (the
 * README's table) with room for the last bits a different CPU may move; they are not the measured values.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EMBEDDED_MODELS_DIR, embeddedStudy, MICRO_FAMILY } from "../../lib/study/config.ts";
import { measureFamilyHeadline } from "../../lib/study/family_headline.ts";
import { analyse } from "../helpers/cli.ts";

/**
 * Bounds set from the measurements in data/micro-family/README.md (measured: unigram/base 5.63; less diverse
 * shares 0.52–0.95; effective numbers base 23.0, SFT 43.4, DPO 16.4; DPO favourites 0.460 with 7 the most likely
 * number, base favourites 0.019; number mass 0.59).
 */
const EXPECT = {
  /** unigram perplexity / base perplexity on the study corpus, at least. */
  unigramOverBase: 4,
  /** Share of (metric, word limit, temperature) points on which a stage is less diverse than the one before. */
  lessDiverse: 0.5,
  /** Effective number of numbers (exp of the entropy over " 0" … " 100"), SFT at least / DPO at most. */
  sftEffectiveNumbers: 35,
  dpoEffectiveNumbers: 25,
  /** Share of the DPO model's number mass on the rater's favourites (42, 7, 17, 77), at least. */
  dpoFavouritesShare: 0.3,
  /** The DPO model's next-token mass on " 0" … " 100", at least. */
  dpoNumberMass: 0.5,
};

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
      const { base, sft, dpo } = h.corpus;

      // The base is a language model: far below a unigram model of its training split on the same tokens.
      assert.ok(h.unigramOverBase >= EXPECT.unigramOverBase, `unigram/base ${h.unigramOverBase}`);

      // Entropy and effective vocabulary fall, confidence rises, KL from the base grows: base → SFT → DPO.
      for (const [a, b, step] of [[base, sft, "SFT"], [sft, dpo, "DPO"]] as const) {
        assert.ok(b.entropyNats < a.entropyNats, `${step}: entropy ${a.entropyNats} → ${b.entropyNats}`);
        assert.ok(b.effectiveVocab < a.effectiveVocab, `${step}: effective vocabulary`);
        assert.ok(b.confidence > a.confidence, `${step}: confidence`);
      }
      assert.ok(
        dpo.klFromBaseNats! > sft.klFromBaseNats! && sft.klFromBaseNats! > 0,
        "KL from the base grows",
      );
      assert.ok(h.verdicts.sft.collapsed && h.verdicts.dpo.collapsed, "both tunes: collapse detected");

      // Output diversity falls after each stage, on the creative and the factual pack.
      for (const pack of ["creative", "factual"]) {
        for (const stage of ["sft", "dpo"] as const) {
          const { share, points } = h.lessDiverse[pack][stage];
          assert.ok(
            share! > EXPECT.lessDiverse,
            `${pack}: ${stage} vs the stage before: ${share} of ${points}`,
          );
        }
      }

      // "A random integer between 0 and 100", as notebook 05 sends it: the SFT model answers with numbers spread
      // as its uniform training answers were; DPO narrows them towards the rater's favourites.
      const n = h.integers;
      assert.ok(n.sft.effective >= EXPECT.sftEffectiveNumbers, `SFT effective numbers ${n.sft.effective}`);
      assert.ok(n.dpo.effective <= EXPECT.dpoEffectiveNumbers, `DPO effective numbers ${n.dpo.effective}`);
      assert.ok(
        n.dpo.favouritesShare >= EXPECT.dpoFavouritesShare,
        `DPO favourites ${n.dpo.favouritesShare}`,
      );
      assert.ok(
        n.dpo.favouritesShare > 5 * n.base.favouritesShare,
        "DPO favours the favourites more than the base",
      );
      assert.ok(n.dpo.topIsFavourite, `DPO's most likely number ${n.dpo.top} is a favourite`);
      assert.ok(n.dpo.mass >= EXPECT.dpoNumberMass && n.base.mass < n.dpo.mass, "DPO answers a number");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
