/**
 * `deno task analyse merge-scores`: combines the final states of `score` runs over disjoint parts of a corpus
 * (e.g. split with --doc-indices across machines) into one score/1 file. The accumulators merge exactly, so the
 * result equals a single run over all the documents.
 * @module
 */
import { parseArgs } from "node:util";
import type { Command } from "./analyse.ts";
import type { CheckpointState } from "../lib/scoring/score_job.ts";
import { type Checkpoint, CHECKPOINT_FORMAT } from "../lib/io/checkpoint.ts";
import { CorpusAccumulator } from "../lib/scoring/accumulators.ts";
import { computeCorpusStats } from "../lib/scoring/corpus_stats.ts";
import { writeScoreFile } from "../lib/io/score_format.ts";
import { runtimeDescription, TOOLKIT_VERSION } from "../lib/version.ts";

const USAGE = "usage: deno task analyse merge-scores --out <merged.json> <a.state.json> <b.state.json> ...";

type Description = {
  model: Record<string, unknown>;
  base: Record<string, unknown> | null;
  settings: Record<string, unknown>;
  data: { bytes: number; sha256: string };
};

/** The `merge-scores` command. */
export const command: Command = {
  summary: "merge the final states of score runs over disjoint document sets into one score/1 file",
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help || !values.out || positionals.length === 0) {
      console.error(USAGE);
      return values.help ? 0 : 2;
    }
    let merged: CorpusAccumulator | undefined;
    let first: Description | undefined;
    let skipped = 0;
    const reasons: string[] = [];
    for (const path of positionals) {
      const cp = JSON.parse(await Deno.readTextFile(path)) as Checkpoint<CheckpointState>;
      if (cp?.format !== CHECKPOINT_FORMAT || cp.kind !== "score") {
        throw new Error(`${path}: not the state of a score run (${CHECKPOINT_FORMAT}, kind "score")`);
      }
      const d = cp.runDescription as unknown as Description;
      if (first === undefined) first = d;
      else {
        // Shards must come from the same model(s) and window settings; only the documents may differ.
        for (const k of ["model", "base"] as const) {
          if (JSON.stringify(d[k]) !== JSON.stringify(first[k])) {
            throw new Error(`${path}: ${k} differs from ${positionals[0]}'s`);
          }
        }
        const { max_docs: _a, doc_indices: _b, ...settings } = d.settings;
        const { max_docs: _c, doc_indices: _d, ...firstSettings } = first.settings;
        if (JSON.stringify(settings) !== JSON.stringify(firstSettings)) {
          throw new Error(`${path}: window settings differ from ${positionals[0]}'s`);
        }
      }
      const acc = CorpusAccumulator.fromJSON(cp.state.accumulator);
      if (merged === undefined) merged = acc;
      else {
        try {
          merged.merge(acc);
        } catch (e) {
          throw new Error(`${path}: ${(e as Error).message}`);
        }
      }
      skipped += cp.state.skippedLines;
      reasons.push(...cp.state.skippedReasons);
    }
    const result = computeCorpusStats(merged!);
    await writeScoreFile(values.out, {
      ...result.stats,
      created: new Date().toISOString(),
      complete: true,
      model: first!.model as { source: string },
      base: first!.base as { source: string } | null,
      data: {
        path: `merged from ${positionals.join(", ")}`,
        bytes: first!.data.bytes,
        sha256: first!.data.sha256,
      },
      settings: {
        max_seq_len: first!.settings.max_seq_len as number,
        context_len: first!.settings.context_len as number,
        prefix_token: first!.settings.prefix_token as number,
        max_docs: null,
        doc_indices: null,
      },
      skipped: { lines: skipped, reasons: reasons.slice(0, 20) },
      provenance: {
        toolkit_version: TOOLKIT_VERSION,
        runtime: runtimeDescription(),
        elapsed_seconds: 0,
        resumed_from_documents: 0,
      },
    }, result.meanDistribution);
    console.error(
      `merge-scores: ${positionals.length} states, ${result.stats.documents} documents, ${result.stats.tokens} ` +
        `tokens → ${values.out}`,
    );
    return 0;
  },
};
