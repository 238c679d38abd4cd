/**
 * `deno task analyse figures`: redraws every figure of a finished study from its result files (no
 * recomputation) in one preset — for a paper, `paper-single` (3.25 in) or `paper-double` (6.75 in) — as PDF +
 * PNG + SVG with `index.json` and `index.md` (lib/study/figure_bundle.ts).
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandLine, UsageError } from "./options.ts";
import { writeFigureBundle } from "../lib/study/figure_bundle.ts";
import { FIGURE_PRESET_NAMES, FIGURE_PRESETS, isFigurePresetName } from "../lib/figures/preset.ts";
import { studyFromParams } from "../lib/study/load.ts";
import type { StudyConfig } from "../lib/study/config.ts";

const USAGE =
  `usage: deno task analyse figures [--study <study.json | results folder>] [--preset NAME] [--out DIR]
  Redraws every figure of a finished study from its result files (scores/, completions/, diversity/; nothing is
  recomputed) as PDF + PNG + SVG, with index.json and index.md (caption, size, data files and their sha256).

  --study S       a study/1 file, or the results folder of a run (its study.json); default: the embedded study
  --size SIZE     the embedded study's size when --study is not given: default or ci
  --preset NAME   ${
    FIGURE_PRESET_NAMES.map((n) => `${n} (${FIGURE_PRESETS[n].description})`).join(";\n                  ")
  }
                  default: paper-double
  --out DIR       where the figures go (default <results>/figures/<preset>)
  --dpi N         PNG resolution (default: the preset's, 300 for the paper presets)
  --paper-dir DIR also redraw the paper's figures from its stored results (default: the study's paperDir)
  --only NAME     only figures whose name contains NAME (repeatable)
  --no-pdf-ok     write PNG + SVG when PDFs cannot be made (Chromium missing) instead of failing`;

/** The study of `--study`: a study file, or a results folder with the study.json a run wrote there. */
function studyOfArgument(study: string | undefined, size: string): StudyConfig {
  if (study !== undefined && existsSync(study) && statSync(study).isDirectory()) {
    for (const f of ["study.resolved.json", "study.json"]) {
      if (existsSync(join(study, f))) return studyFromParams(join(study, f));
    }
    throw new UsageError(
      `${study} is a folder without a study.json (give the study file or a run's results folder)`,
    );
  }
  return studyFromParams(study ?? "", size);
}

/** The `figures` command. */
export const command: Command = {
  summary: "redraw a finished study's figures for a paper: PDF + PNG + SVG in a preset, with an index",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({
      args,
      options: {
        study: { type: "string" },
        size: { type: "string" },
        preset: { type: "string" },
        out: { type: "string" },
        dpi: { type: "string" },
        "paper-dir": { type: "string" },
        only: { type: "string", multiple: true },
        "no-pdf-ok": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const preset = values.preset ?? "paper-double";
    if (!isFigurePresetName(preset)) {
      throw new UsageError(`--preset: unknown preset "${preset}"; known: ${FIGURE_PRESET_NAMES.join(", ")}`);
    }
    let dpi: number | undefined;
    if (values.dpi !== undefined) {
      dpi = Number(values.dpi);
      if (!Number.isFinite(dpi) || dpi < 30 || dpi > 2400) {
        throw new UsageError(`--dpi: expected a number between 30 and 2400, got "${values.dpi}"`);
      }
    }
    const size = values.size ?? "default";
    if (size !== "default" && size !== "ci") throw new UsageError(`--size: default or ci, got "${size}"`);
    const study = studyOfArgument(values.study, size);
    const outDir = values.out ?? join(study.resultsDir, "figures", preset);
    console.error(
      `figures: study "${study.name}" (results in ${study.resultsDir}); preset ${preset}; writes ${outDir}`,
    );
    const r = await writeFigureBundle(study, {
      preset,
      outDir,
      pngDpi: dpi,
      pdf: values["no-pdf-ok"] ? "auto" : true,
      paperDir: values["paper-dir"],
      only: values.only,
      log: (l) => console.error(l),
    });
    for (const s of r.index.skipped) console.error(`figures: not drawn: ${s.name}: ${s.reason}`);
    if (r.index.pdfSkipped) console.error(`figures: no PDFs: ${r.index.pdfSkipped}`);
    console.error(`figures: ${r.index.figures.length} figures → ${r.outDir} (index: ${r.indexMd})`);
    return r.index.figures.length > 0 ? 0 : 1;
  },
};
