/**
 * `deno task analyse score` on the tiny Llama-2, Llama-3.1 (base and instruct) and Qwen3 fixtures — real
 * config.json / generation_config.json, the real tokenizers, ONNX graphs in the transformers.js layout — against
 * their float64 PyTorch references (tests/fixtures/tiny-{llama2,llama3,qwen3}/reference.json, made by
 * tools/make_family_fixtures.py): the generic loading path on three model families.
 *
 * The fixtures' tokenizer files are not committed: `deno task setup` copies them from data/tokenizers/<name>/.
 * Without them these tests are skipped, with the reason in their names.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";
import { FAMILY_TOKENIZERS, familyTokenizerPresent } from "../../lib/setup/family_tokenizers.ts";
import type { RefCorpus } from "../helpers/score_reference.ts";
import { analyse } from "../helpers/cli.ts";

const FIXTURES = join(PROJECT_ROOT, "tests", "fixtures");
const CORPUS = join(FIXTURES, "tiny-corpus", "corpus.jsonl");
/** Relative tolerance of every corpus statistic (the fp32 graphs' own statistics differ by < 1e-6, measured). */
const REL = 1e-4;

type RefDoc = {
  index: number;
  n_tokens: number;
  token_ids: number[];
  [model: string]: unknown;
};
interface FamilyReference {
  corpus: Record<string, RefCorpus>;
  settings: { vocab_size: number; prefix_token: number; max_seq_len: number; context_len: number };
  documents: RefDoc[];
}

/** A family fixture: its folder, the set-up's tokenizer name, its models (base first). */
interface Family {
  fixture: string;
  tokenizer: string;
  models: string[];
}

const FAMILIES: readonly Family[] = [
  { fixture: "tiny-llama2", tokenizer: "llama2", models: ["base"] },
  { fixture: "tiny-llama3", tokenizer: "llama3_1", models: ["base", "instruct"] },
  { fixture: "tiny-qwen3", tokenizer: "qwen3", models: ["base"] },
];

/** Why a family's tests cannot run here (set-up not run), or undefined. */
function familySkipReason(fam: Family): string | undefined {
  if (!familyTokenizerPresent(fam.tokenizer)) {
    return `data/tokenizers/${fam.tokenizer} absent; run \`deno task setup\``;
  }
  const spec = FAMILY_TOKENIZERS.find((s) => s.name === fam.tokenizer)!;
  for (const m of fam.models) {
    for (const f of spec.files) {
      if (!existsSync(join(FIXTURES, fam.fixture, m, f.name))) {
        return `${fam.fixture}/${m}/${f.name} absent; run \`deno task setup\``;
      }
    }
  }
  return undefined;
}

function readFamilyReference(fixture: string): FamilyReference {
  return JSON.parse(Deno.readTextFileSync(join(FIXTURES, fixture, "reference.json")));
}

function close(actual: number, expected: number, what: string, rel = REL): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected),
    `${what}: ${actual} vs reference ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`,
  );
}

// deno-lint-ignore no-explicit-any
type Out = Record<string, any>;

/** Runs the score CLI; returns its parsed output. */
async function scoreCli(dir: string, model: string, extra: string[] = []): Promise<Out> {
  const out = join(dir, `${model.replaceAll("/", "_")}.json`);
  const r = await analyse(
    "score",
    "--model",
    join(FIXTURES, model),
    "--data",
    CORPUS,
    "--max-seq-len",
    "64",
    "--out",
    out,
    ...extra,
  );
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(await Deno.readTextFile(out));
  assert.equal(o.format, "score/1");
  assert.equal(o.complete, true);
  return o;
}

/** Counts exactly; every corpus statistic to `rel`; vocabulary fractions to 5 ranks. */
function compareCorpus(out: Out, ref: RefCorpus, vocab: number, name: string, rel = REL): void {
  assert.equal(out.tokens, ref.tokens, `${name} tokens`);
  assert.equal(out.documents, ref.documents_scored, `${name} documents`);
  assert.equal(out.bytes, ref.utf8_bytes, `${name} bytes`);
  close(out.perplexity, ref.perplexity, `${name} perplexity`, rel);
  close(out.bits_per_byte, ref.bits_per_byte, `${name} bits_per_byte`, rel);
  close(out.mean_entropy, ref.mean_entropy, `${name} mean_entropy`, rel);
  close(out.mean_confidence, ref.mean_confidence, `${name} mean_confidence`, rel);
  close(out.doc_mean_confidence, ref.mean_confidence_doc_weighted, `${name} doc_mean_confidence`, rel);
  close(out.accuracy, ref.accuracy, `${name} accuracy`, rel);
  close(out.effective_vocab, ref.mean_distribution.effective_vocab, `${name} effective_vocab`, rel);
  // Where single tokens hold ~1e-5 of the mass, float32 logits may move the threshold crossing by a few ranks.
  assert.ok(Math.abs(out.vocab_mass_fraction["0.7"] - ref.mean_distribution.vocab_fraction_70) <= 5 / vocab);
  assert.ok(Math.abs(out.vocab_mass_fraction["0.9"] - ref.mean_distribution.vocab_fraction_90) <= 5 / vocab);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const fam of FAMILIES) {
  const skip = familySkipReason(fam);
  for (const model of fam.models) {
    const withBase = model !== "base";
    Deno.test({
      name:
        `families score: ${fam.fixture}/${model}${
          withBase ? " (with --base base)" : ""
        } equals the float64 ` +
        `PyTorch reference${skip ? ` [skipped: ${skip}]` : ""}`,
      ignore: skip !== undefined,
      fn: async () => {
        const dir = await Deno.makeTempDir();
        try {
          const ref = readFamilyReference(fam.fixture);
          const V = ref.settings.vocab_size;
          const o = await scoreCli(
            dir,
            `${fam.fixture}/${model}`,
            withBase ? ["--base", join(FIXTURES, fam.fixture, "base")] : [],
          );
          // The toolkit's prefix token is config.json's bos_token_id, as the reference's (lm-eval's convention).
          assert.equal(o.settings.prefix_token, ref.settings.prefix_token, "prefix token");
          assert.equal(o.settings.max_seq_len, 64);
          assert.equal(o.settings.context_len, ref.settings.context_len);
          assert.equal(o.vocab, V);
          assert.equal(o.model.vocabSize, V);
          compareCorpus(o, ref.corpus[model], V, `${fam.fixture}/${model}`);
          // Per document: token counts exactly (the tokenizer agrees), perplexity and mean entropy to 1e-4.
          const scored = ref.documents.filter((d) => d.n_tokens > 0);
          assert.equal(o.per_document.length, scored.length);
          scored.forEach((d, i) => {
            const row = o.per_document[i];
            const r = d[model] as { logprob: number[]; entropy: number[] };
            assert.equal(row.doc_index, d.index);
            assert.equal(row.tokens, d.n_tokens, `doc ${d.index} tokens`);
            close(row.perplexity, Math.exp(-mean(r.logprob)), `doc ${d.index} perplexity`);
            close(row.mean_entropy, mean(r.entropy), `doc ${d.index} mean entropy`);
          });
          if (withBase) {
            const c = ref.corpus[model];
            close(o.kl_from_base, c.mean_kl_from_base!, "kl_from_base");
            close(o.js_with_base, c.mean_js_with_base!, "js_with_base");
            close(o.argmax_changed, c.argmax_changed_share!, "argmax_changed");
            // The sharpened model is the collapsed one.
            assert.ok(o.kl_from_base > 1 && o.mean_entropy < ref.corpus.base.mean_entropy);
          } else {
            assert.equal(o.kl_from_base, undefined);
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    });
  }
}
