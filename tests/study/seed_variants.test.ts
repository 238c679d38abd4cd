/**
 * data/micro-family/seed_variants.json: the committed family's headline numbers beside three retrainings with
 * other seeds. The file validates against its schema (and broken copies are reported by JSON path); the rerun
 * tolerances keep their stated margin over every move the variants show; and the claims split as the README
 * says: those about the corpus statistics, the verdicts and the SFT stage hold on every variant.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EMBEDDED_MODELS_DIR } from "../../lib/study/config.ts";
import { RERUN_TOLERANCES } from "../../lib/study/family_headline.ts";
import { familyClaims } from "../../lib/study/family_claims.ts";
import { readSeedVariants, validateSeedVariants } from "../../lib/study/seed_variants_file.ts";
import { SEED_SPREAD_MARGIN, seedSpread } from "../../lib/study/seed_spread.ts";
import { sha256File } from "../../lib/io/sha256.ts";

const FILE = join(EMBEDDED_MODELS_DIR, "seed_variants.json");

Deno.test("seed variants: the committed file validates and measures the committed family", async () => {
  const f = readSeedVariants(FILE);
  // A rebuilt family must come with its own seed variants: the file names the export it measured.
  assert.equal(f.reference_export_sha256, await sha256File(join(EMBEDDED_MODELS_DIR, "export.json")));
  assert.ok(f.variants.length >= 3, `${f.variants.length} variants`);
  assert.equal(new Set(f.variants.map((x) => x.seed_offset)).size, f.variants.length);
});

Deno.test("seed variants: a broken copy is reported by file and JSON path, every field problem at once", () => {
  const f = JSON.parse(Deno.readTextFileSync(FILE));
  f.reference.corpus.sft.confidence = 1.3;
  f.reference.corpus.base.klFromBaseNats = 0.1;
  delete f.variants[2].headline.integers.dpo.top;
  let message = "";
  try {
    validateSeedVariants(f, "copy.json");
  } catch (e) {
    message = (e as Error).message;
  }
  assert.match(message, /copy\.json/);
  assert.match(message, /reference\.corpus\.sft\.confidence.*in \[0, 1\], got 1\.3/);
  assert.match(message, /reference\.corpus\.base\.klFromBaseNats.*expected null/);
  assert.match(message, /variants\[2\]\.headline\.integers\.dpo\.top: missing/);
  // Checks across fields run once every field is well-formed.
  const g = JSON.parse(Deno.readTextFileSync(FILE));
  g.variants[1].seed_offset = g.variants[0].seed_offset;
  assert.throws(
    () => validateSeedVariants(g, "copy.json"),
    /copy\.json: variants\[1\]\.seed_offset: \d+ appears twice/,
  );
  assert.throws(
    () => validateSeedVariants({ ...f, format: "unigram-counts/1" }, "x.json"),
    /expected "family-seed/,
  );
});

Deno.test("seed variants: every rerun tolerance is at least 1.5 × the widest move the variants show", () => {
  const rows = seedSpread(readSeedVariants(FILE), RERUN_TOLERANCES);
  const numeric = rows.filter((r) => r.widestUse !== null);
  assert.ok(numeric.length >= 30, `${numeric.length} numbers`);
  for (const r of numeric) {
    assert.ok(
      r.keepsMargin,
      `${r.name}: ${r.variants.join(", ")} vs ${r.reference} uses ${r.widestUse} of ${r.allowed} ` +
        `(at most ${1 / SEED_SPREAD_MARGIN})`,
    );
  }
  // The yes/no rows: both verdicts stay "collapse"; the DPO model's top integer is the one row no tolerance
  // covers (a variant tops a non-favourite; the README says so).
  const yesNo = rows.filter((r) => r.widestUse === null);
  assert.deepEqual(yesNo.filter((r) => !r.allWithin).map((r) => r.name), ["dpo top integer"]);
});

Deno.test("seed variants: the corpus, verdict and SFT claims hold on every variant", () => {
  const f = readSeedVariants(FILE);
  const fragile = (claim: string) =>
    claim.startsWith("factual: dpo") || (claim.startsWith("integer prompt:") && claim.includes("DPO"));
  assert.ok(familyClaims(f.reference).every((c) => c.holds), "every claim holds on the committed family");
  for (const x of f.variants) {
    const failing = familyClaims(x.headline).filter((c) => !c.holds);
    assert.deepEqual(
      failing.filter((c) => !fragile(c.claim)).map((c) => `${c.claim}: ${c.detail}`),
      [],
      `seed offset ${x.seed_offset}`,
    );
  }
});
