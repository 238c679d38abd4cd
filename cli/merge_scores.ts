/**
 * `deno task analyse merge-scores`: combines the final states of `score` runs over disjoint parts of a corpus
 * (e.g. split with --doc-indices across machines) into one score/1 file; see lib/scoring/merge_scores.ts for what
 * must agree between shards.
 * @module
 */
import { dirname } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandLine } from "./options.ts";
import { mergeScoreStates } from "../lib/scoring/merge_scores.ts";
import { meanDistributionPath, writeScoreFile } from "../lib/io/score_format.ts";
import { checkOutputPaths, ensureWritableDir, realPathOf, writingTo } from "../lib/io/output_paths.ts";

const USAGE = `usage: deno task analyse merge-scores --out <merged.json> <a.state.json> <b.state.json> ...
  Each <x.state.json> is the final state a score run leaves beside its output. The shards must come from one
  job — the same corpus file, model, base, tokenizer and window settings — over disjoint documents.
writes <merged.json> and <merged.meandist.npy>.`;

/** The `merge-scores` command. */
export const command: Command = {
  summary: "merge the final states of score runs over disjoint document sets into one score/1 file",
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandLine({
      args,
      options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.out || positionals.length === 0) {
      console.error(USAGE);
      return 2;
    }
    const out = values.out;
    checkOutputPaths(
      [{ what: "--out", path: out }, { what: "the mean distribution", path: meanDistributionPath(out) }],
      positionals.map((p) => ({ what: "the state file", path: p })),
    );
    await ensureWritableDir(dirname(realPathOf(out)));
    console.error(`merge-scores: writes ${realPathOf(out)} (and its .meandist.npy)`);
    const merged = await mergeScoreStates(positionals);
    await writingTo(out, () => writeScoreFile(out, merged.file, merged.meanDistribution));
    console.error(
      `merge-scores: ${positionals.length} states, ${merged.stats.documents} documents, ${merged.stats.tokens} ` +
        `tokens → ${out}`,
    );
    return 0;
  },
};
