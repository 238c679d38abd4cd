/**
 * `deno task analyse score`: next-token statistics of a causal LM on a Pile-format corpus (perplexity, entropy,
 * confidence, calibration, the mean next-token distribution; with --base, divergences from a base model), in
 * bounded memory, with checkpoints and --resume.
 * @module
 */
import { parseArgs } from "node:util";
import type { Command } from "./analyse.ts";
import { loadOptionsFrom, MODEL_LOAD_ARGS } from "./model_options.ts";
import { formatSeconds } from "./progress.ts";
import { readDocIndexFile } from "../lib/data/corpus.ts";
import { runScoreJob } from "../lib/scoring/score_job.ts";

const USAGE =
  `usage: deno task analyse score --model <dir|preset|id> --data <file.jsonl[.zst]> --out <file.json>
  [--base <dir|preset|id>]   also score the base model on the same windows: KL(base‖model), JS, argmax changes
  [--max-docs N] [--doc-indices <file.json>]   which documents (a JSON list of 0-based indices)
  [--max-seq-len 1024] [--context-len 1]       rolling windows (the paper's defaults)
  [--checkpoint-every 50]    documents between checkpoints (<out>.checkpoint.json)
  [--resume]                 continue from the checkpoint; the result equals an uninterrupted run's
  [--strict]                 stop at the first malformed corpus line (default: skip it, count it, report it)
  [--paper-prefix]           the paper's prefix quirk: <|endoftext|> by name (Llama: <unk>) instead of the
                             model's BOS (config.json bos_token_id, else the tokenizer's BOS, else its EOS)
  [--dtype fp32|fp16|q8|q4] [--device cpu|cuda|webgpu] [--allow-remote]`;

export { type CheckpointState, statePathOf } from "../lib/scoring/score_job.ts";

/** The `score` command. */
export const command: Command = {
  summary: "next-token statistics of a model on a corpus (perplexity, entropy, confidence, KL vs a base)",
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: "string" },
        data: { type: "string" },
        out: { type: "string" },
        base: { type: "string" },
        "max-docs": { type: "string" },
        "doc-indices": { type: "string" },
        "max-seq-len": { type: "string", default: "1024" },
        "context-len": { type: "string", default: "1" },
        "checkpoint-every": { type: "string", default: "50" },
        resume: { type: "boolean", default: false },
        strict: { type: "boolean", default: false },
        "paper-prefix": { type: "boolean", default: false },
        ...MODEL_LOAD_ARGS,
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.model || !values.data || !values.out) {
      console.error(USAGE);
      return 2;
    }
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
    const every = int("checkpoint-every", values["checkpoint-every"], 1)!;
    const docIndices = values["doc-indices"] ? await readDocIndexFile(values["doc-indices"]) : undefined;
    const loadOptions = loadOptionsFrom(values);

    const controller = new AbortController();
    const onSignal = () => {
      console.error("\nscore: interrupted; finishing the current document and saving a checkpoint");
      controller.abort();
    };
    Deno.addSignalListener("SIGINT", onSignal);
    let lastPrint = 0;
    let result;
    try {
      result = await runScoreJob({
        model: values.model,
        base: values.base,
        data: values.data,
        outPath: values.out,
        maxDocs,
        docIndices,
        docIndicesPath: values["doc-indices"],
        maxSeqLen,
        contextLen,
        checkpointEvery: every,
        resume: values.resume,
        strict: values.strict,
        paperPrefix: values["paper-prefix"],
        ...loadOptions,
        signal: controller.signal,
        log: (line) => console.error(`score: ${line}`),
        onProgress: (p) => {
          const now = performance.now();
          if (now - lastPrint <= 2000) return;
          lastPrint = now;
          const total = p.documentsTotal !== undefined ? `/${p.documentsTotal}` : "";
          const eta = p.etaSeconds !== undefined ? ` ETA ${formatSeconds(p.etaSeconds)}` : "";
          console.error(
            `score: ${p.documentsRead}${total} documents, ${p.tokens} tokens, ` +
              `${p.tokensPerSecond.toFixed(0)} tokens/s${eta}`,
          );
        },
      });
    } finally {
      Deno.removeSignalListener("SIGINT", onSignal);
    }
    if (result.status === "failed") {
      console.error(
        `score: stopped: ${
          result.error!.message
        }\nscore: ${result.stats.documents} documents scored so far ` +
          `are in ${result.outPath} and ${result.checkpointPath} (fix the input, then --resume)`,
      );
      return 1;
    }
    if (result.status === "interrupted") {
      console.error(
        `score: checkpoint saved to ${result.checkpointPath}; statistics so far in ${result.outPath}`,
      );
      return 130;
    }
    const s = result.stats;
    console.error(
      `score: ${s.documents} documents, ${s.tokens} tokens: perplexity ${s.perplexity.toFixed(4)}, ` +
        `mean entropy ${s.mean_entropy.toFixed(4)} nats` +
        (s.kl_from_base !== undefined ? `, KL from base ${s.kl_from_base.toFixed(4)} nats` : "") +
        ` → ${values.out}`,
    );
    return 0;
  },
};
