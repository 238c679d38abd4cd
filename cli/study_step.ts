/**
 * `deno task analyse study-step`: one shard of one step of a study, or the merge of a step's shards — what the
 * jobs that `reproduce --slurm` submits run (lib/study/shard_steps.ts). Not needed by hand, but safe to run: a
 * shard or merge that is done is reused.
 * @module
 */
import type { Command } from "./command.ts";
import { parseCommandLine, UsageError } from "./options.ts";
import { STUDY_OPTIONS, studyFromOptions } from "./study_options.ts";
import { parseShard, shardLabel } from "../lib/io/shards.ts";
import { mergeUnit, runShard, type ShardedStepKind, unitLabel } from "../lib/study/shard_steps.ts";
import { onInterrupt } from "./interrupt.ts";

const USAGE = `usage: deno task analyse study-step (--study <file> | --size default|ci) [--results <dir>]
  --step score|sweep|diversity --model <name> [--pack <name>] (--shard I/N | --merge N)
runs shard I of N of one step of the study (a model's score; a model's sweep or diversity on a pack), or merges
the step's N shards into the file a single run writes. What reproduce --slurm's jobs run.`;

const KINDS: readonly ShardedStepKind[] = ["score", "sweep", "diversity"];

/** The `study-step` command. */
export const command: Command = {
  summary: "one shard of a study's step, or the merge of its shards (the jobs of reproduce --slurm)",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({
      args,
      options: {
        ...STUDY_OPTIONS,
        step: { type: "string" },
        model: { type: "string" },
        pack: { type: "string" },
        shard: { type: "string" },
        merge: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const kind = values.step as ShardedStepKind;
    if (!KINDS.includes(kind)) throw new UsageError(`--step must be one of ${KINDS.join(", ")}`);
    if (values.model === undefined) throw new UsageError("--model is required");
    if ((kind === "score") !== (values.pack === undefined)) {
      throw new UsageError(kind === "score" ? "--pack is for sweep and diversity" : "--pack is required");
    }
    if ((values.shard === undefined) === (values.merge === undefined)) {
      throw new UsageError("give one of --shard I/N or --merge N");
    }
    const study = studyFromOptions(values);
    const unit = { kind, model: values.model, ...(values.pack !== undefined ? { pack: values.pack } : {}) };
    const log = (l: string) => console.error(`study-step: ${l}`);
    const controller = new AbortController();
    const stop = onInterrupt("study-step", controller, "stopping; what is done is kept");
    try {
      if (values.shard !== undefined) {
        const shard = parseShard(values.shard);
        const r = await runShard(study, unit, shard, { log, signal: controller.signal });
        log(`${unitLabel(unit)} shard ${shardLabel(shard)}: ${r.note} → ${r.value.path}`);
      } else {
        const count = Number(values.merge);
        if (!Number.isSafeInteger(count) || count < 1) {
          throw new UsageError(`--merge takes a shard count, got ${values.merge}`);
        }
        const r = await mergeUnit(study, unit, count, { log, signal: controller.signal });
        log(`${unitLabel(unit)}: ${r.note} → ${r.value.path}`);
      }
    } finally {
      stop();
    }
    return controller.signal.aborted ? 130 : 0;
  },
};
