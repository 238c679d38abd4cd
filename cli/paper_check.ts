/**
 * `deno task analyse paper-check`: recompute the paper's stored diversity results from its own completion files
 * and report, per model, which keys match exactly and how the rest compare side by side.
 * @module
 */
import { dirname, join } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandLine } from "./options.ts";
import { terminalProgress } from "../lib/progress/terminal_sink.ts";
import {
  checkPaperModel,
  findPaperFiles,
  type ModelCheck,
  renderPaperCheckMarkdown,
} from "../lib/diversity/paper_check.ts";
import { writeFileAtomic, writeJsonAtomic } from "../lib/io/atomic.ts";
import { DiversityWorkerPool } from "../lib/diversity/pool.ts";
import { openEmbedder } from "../lib/embeddings/registry.ts";
import { findSharedDir } from "../lib/shared_dir.ts";
import { checkOutputPaths, ensureWritableDir, realPathOf, writingTo } from "../lib/io/output_paths.ts";

const USAGE = `usage: deno task analyse paper-check [--paper-dir <dir>] [--out report.md] [--json checks.json]
  [--models m1,m2]          default: every model with completions and results in the folder
  [--embedder <name|dir>]   also recompute the cosine family with this embedder (default: leave it out)
  [--seed N]                seed of the order-q draws (default 0)
  --paper-dir defaults to $MODE_COLLAPSE_SHARED/paper (when that variable is set); it holds completions/ and
  creative_factual/ as in the paper's repository (results/ of lauraaisling/analyse-llms).
writes the report to --out (default: standard output) and the checks to --json when given.`;

/** The `paper-check` command; exits 1 when an exact key does not reproduce. */
export const command: Command = {
  summary: "recompute the paper's stored diversity results from its completions and compare",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({
      args,
      options: {
        "paper-dir": { type: "string" },
        out: { type: "string" },
        json: { type: "string" },
        models: { type: "string" },
        embedder: { type: "string" },
        seed: { type: "string", default: "0" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const shared = findSharedDir();
    const paperDir = values["paper-dir"] ?? (shared ? join(shared, "paper") : undefined);
    if (paperDir === undefined) {
      console.error("paper-check: no paper folder given and no shared folder found\n" + USAGE);
      return 2;
    }
    const outputs = [
      ...(values.out ? [{ what: "--out", path: values.out }] : []),
      ...(values.json ? [{ what: "--json", path: values.json }] : []),
    ];
    checkOutputPaths(outputs, [{ what: "--paper-dir", path: paperDir }]);
    for (const o of outputs) await ensureWritableDir(dirname(realPathOf(o.path)));
    console.error(
      `paper-check: writes ${
        outputs.length > 0 ? outputs.map((o) => realPathOf(o.path)).join(", ") : "nothing"
      }` +
        (values.out ? "" : " (the report goes to standard output)"),
    );
    let models = findPaperFiles(paperDir);
    if (values.models) {
      const wanted = values.models.split(",");
      const unknown = wanted.filter((w) => !models.some((m) => m.model === w));
      if (unknown.length > 0) {
        throw new Error(
          `no files for ${unknown.join(", ")} in ${paperDir}; found ${models.map((m) => m.model).join(", ")}`,
        );
      }
      models = models.filter((m) => wanted.includes(m.model));
    }
    const embedder = values.embedder ? await openEmbedder(values.embedder) : undefined;
    const progress = terminalProgress();
    const results: ModelCheck[] = [];
    const pool = new DiversityWorkerPool();
    try {
      for (const files of models) {
        const r = await checkPaperModel(files, {
          embedder,
          seed: Number(values.seed),
          pool,
          onProgress: (p) => progress.count(`${p.model} ${p.group} ${p.phase}`, p.done, p.total),
        });
        results.push(r);
        console.error(`paper-check: ${r.model}: ${r.ok ? "all exact keys reproduced" : "MISMATCHES"}`);
      }
    } finally {
      pool.close();
      await embedder?.dispose();
    }
    const md = renderPaperCheckMarkdown(results, paperDir);
    if (values.out) await writingTo(values.out, () => writeFileAtomic(values.out!, md));
    else console.log(md);
    if (values.json) await writingTo(values.json, () => writeJsonAtomic(values.json!, results));
    return results.every((r) => r.ok) ? 0 : 1;
  },
};
