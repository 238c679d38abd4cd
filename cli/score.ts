/**
 * `deno task analyse score`: next-token statistics of a causal LM on a Pile-format corpus (perplexity, entropy,
 * confidence, calibration, the mean next-token distribution; with --base, divergences from a base model), in
 * bounded memory, with checkpoints and --resume.
 * @module
 */
import type { Command } from "./command.ts";
import { loadOptionsFrom, MODEL_LOAD_ARGS, modelInputs } from "./model_options.ts";
import { parseCommandLine, resumeCommand, shellQuote, UsageError } from "./options.ts";
import { onInterrupt } from "./interrupt.ts";
import { terminalProgress } from "../lib/progress/terminal_sink.ts";
import { scoreProgressText } from "../lib/scoring/progress_text.ts";
import { formatNumber } from "../lib/numeric/number_format.ts";
import { readDocIndexFile } from "../lib/data/doc_index_file.ts";
import { checkpointPathOf, partialPathOf, runScoreJob, statePathOf } from "../lib/scoring/score_job.ts";
import { meanDistributionPath } from "../lib/io/score_format.ts";
import { checkOutputPaths, ensureWritableDir, realPathOf } from "../lib/io/output_paths.ts";
import { dirname } from "node:path";
import { parseShard } from "../lib/io/shards.ts";

const USAGE =
  `usage: deno task analyse score --model <dir|preset|id> --data <file.jsonl[.zst]> --out <file.json>
  [--base <dir|preset|id>]   also score the base model on the same windows: KL(base‖model), JS, argmax changes
                             (it must share the model's tokenizer: vocabulary, merges and special tokens)
  [--max-docs N] [--doc-indices <file.json>]   which documents (a JSON list of 0-based indices, within the corpus)
  [--max-seq-len 1024] [--context-len 1]       rolling windows (the paper's defaults; at most the model's
                                               max_position_embeddings)
  [--shard I/N]              score only shard I of N: the k-th selected document (in index order) when
                             k mod N = I−1; merge the N shards' .state.json files with analyse merge
  [--checkpoint-every 50]    documents between checkpoints (<out>.checkpoint.json)
  [--resume]                 continue from the checkpoint; the result equals an uninterrupted run's
  [--fresh]                  discard the checkpoint of an earlier run and start again (without either, an
                             existing checkpoint is refused, never silently replaced)
  [--strict]                 stop at the first malformed corpus line (default: skip it, count it, report it)
  [--paper-prefix]           the paper's prefix quirk: <|endoftext|> by name (Llama: <unk>) instead of the
                             model's BOS (config.json bos_token_id, else the tokenizer's BOS, else its EOS)
  [--dtype fp32|fp16|q8|q4] [--device cpu|cuda|webgpu] [--allow-remote]
writes <out>, <out>.meandist.npy and <out>.state.json (the final accumulators, for analyse merge); while running
<out>.checkpoint.json, and <out>.partial.json when stopped. Ctrl-C stops after the current window and keeps
what is done.`;

export { type CheckpointState, statePathOf } from "../lib/scoring/score_job.ts";

/** The `score` command. */
export const command: Command = {
  summary: "next-token statistics of a model on a corpus (perplexity, entropy, confidence, KL vs a base)",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({
      args,
      options: {
        model: { type: "string" },
        data: { type: "string" },
        out: { type: "string" },
        base: { type: "string" },
        "max-docs": { type: "string" },
        "doc-indices": { type: "string" },
        shard: { type: "string" },
        "max-seq-len": { type: "string", default: "1024" },
        "context-len": { type: "string", default: "1" },
        "checkpoint-every": { type: "string", default: "50" },
        resume: { type: "boolean", default: false },
        fresh: { type: "boolean", default: false },
        strict: { type: "boolean", default: false },
        "paper-prefix": { type: "boolean", default: false },
        ...MODEL_LOAD_ARGS,
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.model || !values.data || !values.out) {
      console.error(USAGE);
      return 2;
    }
    if (values.resume && values.fresh) throw new UsageError("give --resume or --fresh, not both");
    const int = (name: string, v: string | undefined, min: number): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        throw new Error(`--${name} must be an integer ≥ ${min}, got "${v}"`);
      }
      return n;
    };
    const maxSeqLen = int("max-seq-len", values["max-seq-len"], 1)!;
    const contextLen = int("context-len", values["context-len"], 1)!;
    if (contextLen > maxSeqLen) {
      throw new Error(`--context-len ${contextLen} exceeds --max-seq-len ${maxSeqLen}`);
    }
    const maxDocs = int("max-docs", values["max-docs"], 0);
    if (maxDocs === 0) throw new Error("--max-docs 0 selects no document: nothing would be scored");
    const every = int("checkpoint-every", values["checkpoint-every"], 1)!;
    const docIndices = values["doc-indices"] ? await readDocIndexFile(values["doc-indices"]) : undefined;
    const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
    const loadOptions = loadOptionsFrom(values);

    // Where it writes, checked before any work: files (not folders), none of them an input, a writable folder.
    const out = values.out;
    const outputs = [
      { what: "--out", path: out },
      { what: "the mean distribution", path: meanDistributionPath(out) },
      { what: "the final state", path: statePathOf(out) },
      { what: "the checkpoint", path: checkpointPathOf(out) },
      { what: "the partial statistics", path: partialPathOf(out) },
    ];
    checkOutputPaths(outputs, [
      { what: "--data", path: values.data },
      ...(values["doc-indices"] ? [{ what: "--doc-indices", path: values["doc-indices"] }] : []),
      ...modelInputs("--model", values.model, loadOptions.allowRemote),
      ...(values.base ? modelInputs("--base", values.base, loadOptions.allowRemote) : []),
    ]);
    await ensureWritableDir(dirname(realPathOf(out)));
    console.error(
      `score: writes ${realPathOf(out)} (with .meandist.npy and .state.json beside it; checkpoints in ` +
        `${realPathOf(checkpointPathOf(out))})`,
    );

    const controller = new AbortController();
    const stopListening = onInterrupt(
      "score",
      controller,
      "stopping after the current window; keeping what is done",
    );
    const progress = terminalProgress("score");
    let result;
    try {
      result = await runScoreJob({
        model: values.model,
        base: values.base,
        data: values.data,
        outPath: out,
        maxDocs,
        docIndices,
        docIndicesPath: values["doc-indices"],
        shard,
        maxSeqLen,
        contextLen,
        checkpointEvery: every,
        resume: values.resume,
        fresh: values.fresh,
        strict: values.strict,
        paperPrefix: values["paper-prefix"],
        ...loadOptions,
        signal: controller.signal,
        log: (line) => progress.message(line),
        onProgress: (p) => progress.update(scoreProgressText(p)),
      });
    } finally {
      progress.close(); // what follows starts on a line of its own
      stopListening();
    }
    // How to finish: the same command with --resume, after copying a checkpoint saved elsewhere back home.
    const finish = () => {
      const resume = resumeCommand("analyse score", args);
      return result.checkpointPath !== undefined && result.checkpointPath !== result.resumePath
        ? `cp ${shellQuote(result.checkpointPath)} ${shellQuote(result.resumePath)} && ${resume}`
        : resume;
    };
    const kept = () => {
      const where = [
        ...(result.written ? [result.outPath] : []),
        ...(result.checkpointPath !== undefined ? [result.checkpointPath] : []),
      ];
      return where.length > 0
        ? `the ${result.stats.documents} documents scored so far are in ${where.join(" and ")}`
        : "";
    };
    if (result.status === "failed") {
      const s = result.stats;
      console.error(`score: stopped: ${result.error!.message}`);
      if (s.documents > 0 && result.checkpointPath !== undefined) {
        console.error(`score: ${kept()}\nscore: to finish, fix the problem above, then run:\n  ${finish()}`);
      } else if (s.documents > 0) {
        console.error("score: the state could not be saved anywhere: nothing could be kept");
      }
      return 1;
    }
    if (result.status === "interrupted") {
      if (result.checkpointPath === undefined) {
        console.error("score: interrupted before any document was finished; nothing to keep");
      } else {
        console.error(`score: interrupted; ${kept()}\nscore: to continue: ${finish()}`);
      }
      return 130;
    }
    const s = result.stats;
    console.error(
      `score: ${s.documents} documents, ${s.tokens} tokens: perplexity ${formatNumber(s.perplexity)}, ` +
        `mean entropy ${formatNumber(s.mean_entropy)} nats` +
        (s.kl_from_base !== undefined ? `, KL from base ${formatNumber(s.kl_from_base)} nats` : "") +
        ` → ${out}`,
    );
    return 0;
  },
};
