/**
 * Gathers seed variants of the micro family into data/micro-family/seed_variants.json (`family-seed-variants/1`)
 * and prints how far each headline number moved, in shares of the rerun tolerances (RERUN_TOLERANCES): the
 * basis on which they were set (a tolerance is at least 1.5 × the widest move seen).
 *
 *     deno run -A tools/micro_family/seed_spread.ts --run 1000=/work/rerun_check/run4.json \
 *       --run 2000=/work/rerun_check/run5.json --run 3000=/work/rerun_check/run6.json \
 *       [--out data/micro-family/seed_variants.json]
 *
 * Each --run is OFFSET=the `--json` output of compare_rerun.ts for a family trained with
 * `train_all.py --seed-offset OFFSET`; all must compare against the same reference family. Without --out it
 * reads the committed file and prints its spread.
 * @module
 */
import { isDeepStrictEqual, parseArgs } from "node:util";
import { join } from "node:path";
import { EMBEDDED_MODELS_DIR } from "../../lib/study/config.ts";
import { formatHeadlineNumber, RERUN_TOLERANCES } from "../../lib/study/family_headline.ts";
import { readJsonObjectSync } from "../../lib/io/json_file.ts";
import { writeJsonAtomic } from "../../lib/io/atomic.ts";
import { sha256File } from "../../lib/io/sha256.ts";
import {
  readSeedVariants,
  SEED_VARIANTS_FORMAT,
  type SeedVariants,
  validateSeedVariants,
} from "../../lib/study/seed_variants_file.ts";
import { SEED_SPREAD_MARGIN, seedSpread } from "../../lib/study/seed_spread.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { run: { type: "string", multiple: true, default: [] }, out: { type: "string" } },
});
const committed = join(EMBEDDED_MODELS_DIR, "seed_variants.json");

let file: SeedVariants;
if (values.run.length === 0) {
  file = readSeedVariants(committed);
} else {
  const runs = values.run.map((spec) => {
    const m = /^(\d+)=(.+)$/.exec(spec);
    if (m === null) throw new Error(`--run ${spec}: expected OFFSET=compare_rerun.json`);
    const json = readJsonObjectSync(m[2]) as {
      families?: unknown;
      headlines?: { reference?: unknown; rerun?: unknown };
    };
    return {
      offset: Number(m[1]),
      path: m[2],
      referenceDir: (json.families as { reference?: string } | undefined)?.reference,
      reference: json.headlines?.reference,
      rerun: json.headlines?.rerun,
    };
  });
  const differing = runs.filter((r) => !isDeepStrictEqual(r.reference, runs[0].reference));
  if (differing.length > 0) {
    throw new Error(
      `${differing.map((r) => r.path).join(", ")}: another reference family than ${runs[0].path}`,
    );
  }
  const referenceDir = runs[0].referenceDir;
  if (referenceDir === undefined || runs.some((r) => r.referenceDir !== referenceDir)) {
    throw new Error("the runs name different reference folders (or none)");
  }
  file = validateSeedVariants({
    format: SEED_VARIANTS_FORMAT,
    about:
      "Headline numbers of the embedded study (default size) on the committed micro family and on the same " +
      "training (same data and tokenizer) with every training seed offset, measured by " +
      "tools/micro_family/compare_rerun.ts",
    reference_export_sha256: await sha256File(join(referenceDir, "export.json")),
    reference: runs[0].reference,
    variants: runs.map((r) => ({
      seed_offset: r.offset,
      about:
        `train_all.py --from train_base --seed-offset ${r.offset}: base, SFT, DPO pairs and DPO retrained`,
      headline: r.rerun,
    })),
  }, values.run.join(", "));
}

const rows = seedSpread(file, RERUN_TOLERANCES);
const fmt = formatHeadlineNumber;
const width = Math.max(...rows.map((r) => r.name.length));
console.log(
  `${"number".padEnd(width)}  ${"reference".padStart(10)}  ` +
    file.variants.map((x) => `+${x.seed_offset}`.padStart(10)).join("  ") + "  allowed     widest use",
);
for (const r of rows) {
  const use = r.widestUse === null
    ? (r.allWithin ? "same" : "DIFFERS")
    : `${(100 * r.widestUse).toFixed(0)}%`;
  console.log(
    `${r.name.padEnd(width)}  ${fmt(r.reference).padStart(10)}  ` +
      r.variants.map((x) => fmt(x).padStart(10)).join("  ") +
      `  ${r.allowed.padEnd(10)}  ${use}${r.keepsMargin ? "" : "  (margin not kept)"}`,
  );
}
const short = rows.filter((r) => !r.keepsMargin).map((r) => r.name);
console.log(
  short.length === 0
    ? `every tolerance is at least ${SEED_SPREAD_MARGIN} × the widest move`
    : `below ${SEED_SPREAD_MARGIN} × the widest move: ${short.join(", ")}`,
);
if (values.out !== undefined) {
  await writeJsonAtomic(values.out, file);
  console.log(`wrote ${values.out}`);
}
