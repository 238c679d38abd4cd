/**
 * `deno task analyse merge-scores`: the older name of `merge` (./merge.ts) for score runs. It combines the
 * final states of `score` runs over disjoint parts of a corpus (shards, or documents split with --doc-indices
 * across machines) into one score/1 file; see lib/scoring/merge_scores.ts for what must agree between them.
 * @module
 */
import type { Command } from "./command.ts";
import { mergeCommand } from "./merge.ts";

const USAGE = `usage: deno task analyse merge-scores --out <merged.json> <a.state.json> <b.state.json> ...
  Each <x.state.json> is the final state a score run leaves beside its output. The shards must come from one
  job — the same corpus file, model, base, tokenizer and window settings — over disjoint documents.
writes <merged.json> and <merged.meandist.npy>.`;

/** The `merge-scores` command: `merge` taking score states only. */
export const command: Command = mergeCommand({
  name: "merge-scores",
  summary: "merge the final states of score runs over disjoint document sets into one score/1 file",
  usage: USAGE,
  inputWhat: "the state file",
  scoreOnly: true,
});
