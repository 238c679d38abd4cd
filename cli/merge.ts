/**
 * `deno task analyse merge`: combines the shards of any step (`score`, `generate`, `diversity` run with
 * `--shard I/N`), in any order, into the file a single run writes. What each shard holds and how shards are
 * assigned: lib/io/shards.ts; what must agree between shards: lib/scoring/merge_scores.ts,
 * lib/sampling/sweep.ts (mergeSweepShards), lib/diversity/merge.ts.
 * @module
 */
import { dirname } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandLine } from "./options.ts";
import { mergeScoreStates } from "../lib/scoring/merge_scores.ts";
import { COMPLETIONS_SHARD_FORMAT, mergeSweepShards } from "../lib/sampling/sweep.ts";
import { DIVERSITY_SHARD_FORMAT, mergeDiversityShards } from "../lib/diversity/merge.ts";
import { meanDistributionPath, writeScoreFile } from "../lib/io/score_format.ts";
import { writeCompletionsJson } from "../lib/io/completions_format.ts";
import { writeDiversityFile } from "../lib/io/diversity_format.ts";
import { CHECKPOINT_FORMAT } from "../lib/io/checkpoint.ts";
import { checkOutputPaths, ensureWritableDir, realPathOf, writingTo } from "../lib/io/output_paths.ts";

const USAGE = `usage: deno task analyse merge --out <merged.json> <shard> <shard> ...
  Each <shard> is what a step run with --shard I/N leaves: score's <out>.state.json, generate's and
  diversity's <out>. Give all N shards of one split, in any order; they must come from one job (same model,
  data and settings). Writes what a single run writes: score/1 (with <merged>.meandist.npy), completions/2 or
  diversity/1.`;

type Kind = "score" | "generate" | "diversity";

/** Which step wrote the shard at `path` (read whole: it is parsed again by the merge). */
async function kindOf(path: string): Promise<Kind> {
  let value: { format?: unknown; kind?: unknown };
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`cannot read ${path} as a shard: ${(e as Error).message}`, { cause: e });
  }
  if (value?.format === CHECKPOINT_FORMAT && value.kind === "score") return "score";
  if (value?.format === COMPLETIONS_SHARD_FORMAT) return "generate";
  if (value?.format === DIVERSITY_SHARD_FORMAT) return "diversity";
  throw new Error(
    `${path}: not a shard (a score .state.json, ${COMPLETIONS_SHARD_FORMAT} or ${DIVERSITY_SHARD_FORMAT}; ` +
      `found format ${JSON.stringify(value?.format ?? null)})`,
  );
}

/** The `merge` command. */
export const command: Command = {
  summary: "merge the shards of a score, generate or diversity run (--shard I/N) into a single run's file",
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
    const kinds: Kind[] = [];
    for (const p of positionals) kinds.push(await kindOf(p));
    const odd = kinds.findIndex((k) => k !== kinds[0]);
    if (odd >= 0) {
      throw new Error(
        `${positionals[odd]}: a ${kinds[odd]} shard, but ${positionals[0]} is a ${kinds[0]} shard; ` +
          "merge the shards of one step",
      );
    }
    const kind = kinds[0];
    checkOutputPaths(
      [
        { what: "--out", path: out },
        ...(kind === "score" ? [{ what: "the mean distribution", path: meanDistributionPath(out) }] : []),
      ],
      positionals.map((p) => ({ what: "a shard", path: p })),
    );
    await ensureWritableDir(dirname(realPathOf(out)));
    console.error(`merge: writes ${realPathOf(out)}${kind === "score" ? " (and its .meandist.npy)" : ""}`);
    if (kind === "score") {
      const merged = await mergeScoreStates(positionals);
      await writingTo(out, () => writeScoreFile(out, merged.file, merged.meanDistribution));
      console.error(
        `merge: ${positionals.length} score shards, ${merged.stats.documents} documents, ` +
          `${merged.stats.tokens} tokens → ${out}`,
      );
    } else if (kind === "generate") {
      const doc = await mergeSweepShards(positionals);
      await writingTo(out, () => writeCompletionsJson(out, doc));
      console.error(`merge: ${positionals.length} generate shards, ${doc.cells.length} cells → ${out}`);
    } else {
      const file = await mergeDiversityShards(positionals);
      await writingTo(out, () => writeDiversityFile(out, file));
      console.error(`merge: ${positionals.length} diversity shards → ${out}`);
    }
    return 0;
  },
};
