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
import { EMBEDDED_MODELS_DIR, embeddedStudy } from "../../lib/study/config.ts";
import { type ScoreHeadline, studyPaths } from "../../lib/study/steps.ts";
import { lessDiverseShare } from "../../lib/study/verdict.ts";
import { parseDiversityFile } from "../../lib/io/diversity_format.ts";
import { readCorpus } from "../../lib/data/corpus_reader.ts";
import { loadCausalLM } from "../../lib/models/load_causal_lm.ts";
import { loadTokenizer } from "../../lib/models/tokenizer.ts";
import { topKNextTokens } from "../../lib/sampling/next_token.ts";
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

const FAVOURITES = [42, 7, 17, 77];
const NUMBER_PROMPT = "Tell me a random integer between 0 and 100. The number is";

/** The next-token mass over " 0" … " 100" after `prompt`: effective count and the favourites' share. */
async function numberLook(folder: string, prompt: string) {
  const tokenizer = await loadTokenizer(folder);
  const model = await loadCausalLM(folder);
  try {
    const all = await topKNextTokens(model, tokenizer, prompt, model.info.vocabSize);
    const byId = new Map(all.map((t) => [t.id, t.prob]));
    const mass = Array.from({ length: 101 }, (_, n) => {
      const ids = tokenizer.encode(` ${n}`);
      assert.equal(ids.length, 1, `" ${n}" is one token`);
      return byId.get(ids[0]) ?? 0;
    });
    const total = mass.reduce((a, b) => a + b, 0);
    const entropy = -mass.reduce((a, p) => (p > 0 ? a + (p / total) * Math.log(p / total) : a), 0);
    return {
      total,
      effective: Math.exp(entropy),
      favourites: FAVOURITES.reduce((a, n) => a + mass[n], 0) / total,
      top: mass.indexOf(Math.max(...mass)),
    };
  } finally {
    await model.dispose();
  }
}

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
      const s = summary.scores as Record<string, ScoreHeadline>;
      const [base, sft, dpo] = ["micro-base", "micro-sft", "micro-dpo"].map((m) => s[m]);

      // The base is a language model: far below a unigram model of its training split on the same tokens.
      const unigram = await unigramPerplexity(study.corpus.path, study.corpus.maxDocs!);
      const ratio = unigram / base.perplexity!;
      console.log(
        `base perplexity ${base.perplexity!.toFixed(2)}, unigram ${unigram.toFixed(2)} (×${
          ratio.toFixed(2)
        })`,
      );
      assert.ok(ratio >= EXPECT.unigramOverBase, `unigram/base ${ratio}`);

      // Entropy and effective vocabulary fall, confidence rises, KL from the base grows: base → SFT → DPO.
      for (const [a, b, step] of [[base, sft, "SFT"], [sft, dpo, "DPO"]] as const) {
        assert.ok(
          b.mean_entropy! < a.mean_entropy!,
          `${step}: entropy ${a.mean_entropy} → ${b.mean_entropy}`,
        );
        assert.ok(b.effective_vocab! < a.effective_vocab!, `${step}: effective vocabulary`);
        assert.ok(b.mean_confidence! > a.mean_confidence!, `${step}: confidence`);
      }
      assert.ok(dpo.kl_from_base! > sft.kl_from_base! && sft.kl_from_base! > 0, "KL from the base grows");

      // Output diversity falls after each stage, on the creative and the factual pack.
      const files = async (model: string, pack: string) => [
        parseDiversityFile(await Deno.readTextFile(studyPaths.diversity(study, model, pack))),
      ];
      for (const pack of ["creative", "factual"]) {
        for (const [from, to] of [["micro-base", "micro-sft"], ["micro-sft", "micro-dpo"]]) {
          const { share, points } = lessDiverseShare(await files(from, pack), await files(to, pack));
          console.log(
            `${pack}: ${to} less diverse than ${from} on ${(100 * share!).toFixed(0)}% of ${points}`,
          );
          assert.ok(share! > EXPECT.lessDiverse, `${pack}: ${to} vs ${from}: ${share} of ${points}`);
        }
      }

      // "A random integer between 0 and 100", as notebook 05 sends it: the SFT model answers with numbers spread
      // as its uniform training answers were; DPO narrows them towards the rater's favourites.
      const [lookBase, lookSft, lookDpo] = await Promise.all(
        ["base", "sft", "dpo"].map((m) => numberLook(join(EMBEDDED_MODELS_DIR, m), NUMBER_PROMPT)),
      );
      console.log(`numbers: ${JSON.stringify({ base: lookBase, sft: lookSft, dpo: lookDpo })}`);
      assert.ok(
        lookSft.effective >= EXPECT.sftEffectiveNumbers,
        `SFT effective numbers ${lookSft.effective}`,
      );
      assert.ok(
        lookDpo.effective <= EXPECT.dpoEffectiveNumbers,
        `DPO effective numbers ${lookDpo.effective}`,
      );
      assert.ok(lookDpo.favourites >= EXPECT.dpoFavouritesShare, `DPO favourites ${lookDpo.favourites}`);
      assert.ok(
        lookDpo.favourites > 5 * lookBase.favourites,
        "DPO favours the favourites more than the base",
      );
      assert.ok(FAVOURITES.includes(lookDpo.top), `DPO's most likely number ${lookDpo.top} is a favourite`);
      assert.ok(
        lookDpo.total >= EXPECT.dpoNumberMass && lookBase.total < lookDpo.total,
        "DPO answers a number",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * Perplexity of the add-one-smoothed unigram model of the training split (data/micro-family/unigram_counts.json,
 * written by the training tool) on the tokens the study scores: every token of the first `maxDocs` documents.
 */
async function unigramPerplexity(corpus: string, maxDocs: number): Promise<number> {
  const u = JSON.parse(await Deno.readTextFile(join(EMBEDDED_MODELS_DIR, "unigram_counts.json")));
  const tokenizer = await loadTokenizer(join(EMBEDDED_MODELS_DIR, "base"));
  const denominator = u.train_tokens + u.tokenizer_entries;
  let nats = 0, n = 0;
  for await (const doc of readCorpus(corpus, { maxDocs })) {
    for (const id of tokenizer.encode(doc.text)) {
      nats -= Math.log((u.counts[id] + 1) / denominator);
      n++;
    }
  }
  return Math.exp(nats / n);
}
