/**
 * `deno task analyse merge`: combines the shards of any step (`score`, `generate`, `diversity` run with
 * `--shard I/N`), in any order, into the file a single run writes. What each shard holds and how shards are
 * assigned: lib/io/shards.ts; what must agree between shards: lib/scoring/merge_scores.ts,
 * lib/sampling/sweep.ts (mergeSweepShards), lib/diversity/merge.ts. `merge-scores` (./merge_scores.ts) is the
 * same command restricted to score states, built here by {@link mergeCommand}.
 * @module
 */
import { dirname } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandLine } from "./options.ts";
import { mergeScoreStates } from "../lib/scoring/merge_scores.ts";
import { COMPLETIONS_SHARD_FORMAT, mergeSweepShards } from "../lib/sampling/sweep.ts";
import { DIVERSITY_SHARD_FORMAT, mergeDiversityShards } from "../lib/diversity/merge.ts";
import { meanDistributionPath, writeScoreFile } from "../lib/io/score_format.ts";
import { writeCompletionsJson } from "../lib/io/completions_json.ts";
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

/** How a merge command is spelled: its name, help and what it takes. */
export interface MergeVariant {
  /** Command name, also the prefix of its messages. */
  name: string;
  /** One line shown in the command list. */
  summary: string;
  /** Printed by --help and after a wrong command line. */
  usage: string;
  /** What an input is called in errors ("a shard"). */
  inputWhat: string;
  /**
   * Takes score states only: inputs are not sniffed for their step, so the score-state reader names every
   * problem with a file (cut short, wrong field) itself.
   */
  scoreOnly: boolean;
}

/** The `merge` spelling: shards of any step. */
const MERGE: MergeVariant = {
  name: "merge",
  summary: "merge the shards of a score, generate or diversity run (--shard I/N) into a single run's file",
  usage: USAGE,
  inputWhat: "a shard",
  scoreOnly: false,
};

/** The step of every shard in `paths`, which must all come from one step. */
async function stepOfAll(paths: string[]): Promise<Kind> {
  const kinds: Kind[] = [];
  for (const p of paths) kinds.push(await kindOf(p));
  const odd = kinds.findIndex((k) => k !== kinds[0]);
  if (odd >= 0) {
    throw new Error(
      `${paths[odd]}: a ${kinds[odd]} shard, but ${paths[0]} is a ${kinds[0]} shard; ` +
        "merge the shards of one step",
    );
  }
  return kinds[0];
}

/** Parses a merge command line and writes the merged file; the exit code. */
async function runMerge(variant: MergeVariant, args: string[]): Promise<number> {
  const { name, usage } = variant;
  const { values, positionals } = parseCommandLine({
    args,
    options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.out || positionals.length === 0) {
    console.error(usage);
    return 2;
  }
  const out = values.out;
  const kind = variant.scoreOnly ? "score" : await stepOfAll(positionals);
  checkOutputPaths(
    [
      { what: "--out", path: out },
      ...(kind === "score" ? [{ what: "the mean distribution", path: meanDistributionPath(out) }] : []),
    ],
    positionals.map((p) => ({ what: variant.inputWhat, path: p })),
  );
  await ensureWritableDir(dirname(realPathOf(out)));
  console.error(`${name}: writes ${realPathOf(out)}${kind === "score" ? " (and its .meandist.npy)" : ""}`);
  if (kind === "score") {
    const merged = await mergeScoreStates(positionals);
    await writingTo(out, () => writeScoreFile(out, merged.file, merged.meanDistribution));
    console.error(
      `${name}: ${positionals.length} score shards, ${merged.stats.documents} documents, ` +
        `${merged.stats.tokens} tokens → ${out}`,
    );
  } else if (kind === "generate") {
    const doc = await mergeSweepShards(positionals);
    await writingTo(out, () => writeCompletionsJson(out, doc));
    console.error(`${name}: ${positionals.length} generate shards, ${doc.cells.length} cells → ${out}`);
  } else {
    const file = await mergeDiversityShards(positionals);
    await writingTo(out, () => writeDiversityFile(out, file));
    console.error(`${name}: ${positionals.length} diversity shards → ${out}`);
  }
  return 0;
}

/** A merge command of the given spelling: one option parser and one merge behind every name. */
export function mergeCommand(variant: MergeVariant): Command {
  return { summary: variant.summary, run: (args) => runMerge(variant, args) };
}

/** The `merge` command. */
export const command: Command = mergeCommand(MERGE);
