/**
 * `deno task reproduce`: the main job. With no arguments it runs the embedded default study offline — a tiny
 * Pythia-architecture model and a deliberately collapsed copy, Moby-Dick from npm, the paper's prompt packs —
 * and writes `results/` with the notebooks executed and an HTML report. `--study <file>` runs a study/1 file
 * (real model folders, presets or hub ids); `--paper-dir` adds the paper's own result files.
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import type { Command } from "./analyse.ts";
import { embeddedStudy, readStudy } from "../lib/study/config.ts";
import { runStudy } from "../lib/study/run.ts";
import { findSharedDir } from "../lib/shared_dir.ts";
import { existsSync } from "node:fs";
import { checkPaperDir, fetchPaperFiles, PAPER_COMMIT, PAPER_REPOSITORY } from "../lib/data/paper_files.ts";

const USAGE = `usage: deno task reproduce [--study <study.json>] [--size default|ci] [--results <dir>]
  [--paper-dir <dir>]     the paper's result files (default: ../shared/paper when present)
  [--fetch-paper <dir>]   download the paper's result files into <dir> (online; each sha256 verified), use them
  [--no-notebooks]        skip executing the notebooks (default: execute them when Jupyter is set up)
  [--only <names>]        execute only these notebooks (comma list)
  [--recompute]           recompute every step instead of reusing valid results`;

/** The `reproduce` command. */
export const command: Command = {
  summary:
    "the whole study end to end (embedded offline default, or --study): scores, sweeps, notebooks, report",
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        study: { type: "string" },
        size: { type: "string", default: "default" },
        results: { type: "string" },
        "paper-dir": { type: "string" },
        "fetch-paper": { type: "string" },
        "no-notebooks": { type: "boolean", default: false },
        only: { type: "string" },
        recompute: { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (values.size !== "default" && values.size !== "ci") {
      throw new Error(`--size must be "default" or "ci", got "${values.size}"`);
    }
    const study = values.study ? readStudy(values.study) : embeddedStudy(values.size);
    if (values.results) study.resultsDir = resolve(values.results);
    if (values["fetch-paper"]) {
      console.error(
        `reproduce: fetching the paper's files (${PAPER_REPOSITORY}@${PAPER_COMMIT.slice(0, 7)})`,
      );
      await fetchPaperFiles(values["fetch-paper"], { log: (l) => console.error(`reproduce: ${l}`) });
    }
    const shared = findSharedDir();
    const paperDir = values["fetch-paper"] ?? values["paper-dir"] ??
      (shared !== undefined ? `${shared}/paper` : undefined);
    if (paperDir !== undefined) {
      if (!existsSync(paperDir)) throw new Error(`--paper-dir ${paperDir} does not exist`);
      const check = await checkPaperDir(paperDir);
      if (check.corrupt.length > 0) {
        throw new Error(`${paperDir}: files with a wrong sha256:\n  ${check.corrupt.join("\n  ")}`);
      }
      console.error(
        `reproduce: the paper's files in ${paperDir}: ${check.ok.length} verified` +
          (check.missing.length > 0 ? `, ${check.missing.length} missing` : ""),
      );
      study.paperDir = resolve(paperDir);
    }
    console.error(`reproduce: ${study.name} → ${study.resultsDir}`);
    const r = await runStudy(study, {
      force: values.recompute,
      notebooks: values["no-notebooks"] ? false : "auto",
      onlyNotebooks: values.only?.split(",").map((s) => s.trim()).filter((s) => s !== ""),
      log: (line) => console.error(`reproduce: ${line}`),
    });
    for (const v of r.verdicts) {
      console.error(
        `reproduce: ${v.model} vs ${v.base}: ${
          v.collapsed ? "MODE COLLAPSE DETECTED" : "no collapse detected"
        }`,
      );
    }
    console.error(`reproduce: report → ${r.reportFile}`);
    if (r.notebookFailures.length > 0) {
      console.error(`reproduce: notebooks failed: ${r.notebookFailures.join(", ")}`);
      return 1;
    }
    return 0;
  },
};
