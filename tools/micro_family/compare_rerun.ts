/**
 * Does a retrained micro family reproduce the committed one? First file by file (export.json's sha256 of each
 * exported file: a rerun on the same kind of machine is bit-identical), then by the headline numbers: the embedded
 * study at its default size on each family, measured as the CI test measures it, side by side with the stated
 * tolerances (lib/study/family_headline.ts, RERUN_TOLERANCES; data/micro-family/README.md, "Rerunning the
 * training"), and then to the claims the README makes of the family (lib/study/family_claims.ts) on each side.
 * Exits 0 when every number is within its tolerance and every claim holds on the rerun, 1 otherwise.
 *
 *     deno run -A tools/micro_family/compare_rerun.ts --rerun /work/micro_family_run3/models --work /tmp/rerun-check
 *       [--reference data/micro-family] [--json out.json]
 *
 * --work holds one study results folder per family (reused when the tool runs again).
 * @module
 */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { EMBEDDED_MODELS_DIR, embeddedStudy, MICRO_FAMILY } from "../../lib/study/config.ts";
import { runStudy } from "../../lib/study/run.ts";
import {
  compareHeadlines,
  type FamilyHeadline,
  formatHeadlineNumber,
  measureFamilyHeadline,
  RERUN_TOLERANCES,
} from "../../lib/study/family_headline.ts";
import { familyClaims } from "../../lib/study/family_claims.ts";
import { writeJsonAtomic } from "../../lib/io/atomic.ts";
import { readJsonObjectSync } from "../../lib/io/json_file.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rerun: { type: "string" },
    reference: { type: "string", default: EMBEDDED_MODELS_DIR },
    work: { type: "string" },
    json: { type: "string" },
  },
});
if (values.rerun === undefined || values.work === undefined) {
  console.error(
    "usage: compare_rerun.ts --rerun <models folder of a training run> --work <dir> [--reference <dir>]",
  );
  Deno.exit(2);
}
const families = { reference: resolve(values.reference), rerun: resolve(values.rerun) };
for (const dir of Object.values(families)) {
  for (const f of ["base", "sft", "dpo", "export.json", MICRO_FAMILY.unigramCountsFile]) {
    if (!existsSync(join(dir, f))) {
      console.error(`${dir}: no ${f}: not a micro family folder`);
      Deno.exit(2);
    }
  }
}

/** sha256 per exported file, `stage/path` → hex. */
function exportedHashes(dir: string): Map<string, string> {
  const files = readJsonObjectSync(join(dir, "export.json")).files as Record<
    string,
    Record<string, { sha256: string }>
  >;
  return new Map(
    Object.entries(files).flatMap(([stage, fs]) =>
      Object.entries(fs).map(([p, f]) => [`${stage}/${p}`, f.sha256])
    ),
  );
}
const [a, b] = [exportedHashes(families.reference), exportedHashes(families.rerun)];
const differing = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
console.log(
  differing.length === 0
    ? `files: all ${a.size} exported files are bit-identical (export.json sha256)`
    : `files: ${differing.length} of ${a.size} differ: ${differing.join(", ")}`,
);

const headlines = {} as Record<keyof typeof families, FamilyHeadline>;
for (const [label, dir] of Object.entries(families) as [keyof typeof families, string][]) {
  const study = embeddedStudy("default", join(resolve(values.work), label), dir);
  const t0 = performance.now();
  const run = await runStudy(study, { notebooks: false, log: (l) => console.error(`${label}: ${l}`) });
  headlines[label] = await measureFamilyHeadline(study, run, {
    unigramCounts: join(dir, MICRO_FAMILY.unigramCountsFile),
    integerPrompt: MICRO_FAMILY.integerPrompt,
    favourites: MICRO_FAMILY.favourites,
  });
  console.error(`${label}: study and headline in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const { rows, within } = compareHeadlines(headlines.reference, headlines.rerun, RERUN_TOLERANCES);
const fmt = formatHeadlineNumber;
const width = Math.max(...rows.map((r) => r.name.length));
console.log(
  `${"number".padEnd(width)}  ${"reference".padStart(10)}  ${"rerun".padStart(10)}  ` +
    `${"difference".padStart(10)}  allowed`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(width)}  ${fmt(r.reference).padStart(10)}  ${fmt(r.rerun).padStart(10)}  ` +
      `${fmt(r.difference).padStart(10)}  ${r.allowed}${r.within ? "" : "  OUTSIDE"}`,
  );
}
console.log(within ? "every number is within its tolerance" : "some numbers are outside their tolerance");

const claims = { reference: familyClaims(headlines.reference), rerun: familyClaims(headlines.rerun) };
console.log("\nclaim (reference | rerun)");
claims.rerun.forEach((c, i) => {
  const r = claims.reference[i];
  const mark = (x: { holds: boolean }) => (x.holds ? "holds" : "FAILS");
  console.log(`${c.claim}: ${mark(r)} (${r.detail}) | ${mark(c)} (${c.detail})`);
});
const claimsHold = claims.rerun.every((c) => c.holds);
console.log(claimsHold ? "every claim holds on the rerun" : "some claims fail on the rerun");
if (values.json !== undefined) {
  await writeJsonAtomic(values.json, {
    families,
    differingFiles: differing,
    headlines,
    rows,
    within,
    claims,
    claimsHold,
  });
}
Deno.exit(within && claimsHold ? 0 : 1);
