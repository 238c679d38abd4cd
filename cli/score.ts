/**
 * `deno task analyse score`: next-token statistics of a causal LM on a Pile-format corpus (perplexity, entropy,
 * confidence, calibration, the mean next-token distribution; with --base, divergences from a base model), in
 * bounded memory, with checkpoints and --resume.
 * @module
 */
import { parseArgs } from "node:util";
import { stat } from "node:fs/promises";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Command } from "./analyse.ts";
import { formatSeconds } from "./progress.ts";
import { loadCausalLM } from "../lib/models/load.ts";
import { loadTokenizer, prefixTokenId } from "../lib/models/tokenizer.ts";
import { readCorpus, readDocIndexFile } from "../lib/data/corpus.ts";
import { CorpusAccumulator } from "../lib/scoring/accumulators.ts";
import { computeCorpusStats } from "../lib/scoring/corpus_stats.ts";
import { scoreCorpus } from "../lib/scoring/score_corpus.ts";
import { readCheckpoint, runKeyOf, writeCheckpoint } from "../lib/io/checkpoint.ts";
import { writeScoreFile } from "../lib/io/score_format.ts";
import { runtimeDescription, TOOLKIT_VERSION } from "../lib/version.ts";

const USAGE =
  `usage: deno task analyse score --model <dir|preset|id> --data <file.jsonl[.zst]> --out <file.json>
  [--base <dir|preset|id>]   also score the base model on the same windows: KL(base‖model), JS, argmax changes
  [--max-docs N] [--doc-indices <file.json>]   which documents (a JSON list of 0-based indices)
  [--max-seq-len 1024] [--context-len 1]       rolling windows (the paper's defaults)
  [--checkpoint-every 50]    documents between checkpoints (<out>.checkpoint.json)
  [--resume]                 continue from the checkpoint; the result equals an uninterrupted run's
  [--strict]                 stop at the first malformed corpus line (default: skip it, count it, report it)
  [--dtype fp32|fp16|q8] [--device cpu|cuda|webgpu] [--allow-remote]`;

/** `<out>.state.json`: the final accumulators of a finished run, for merging shards. */
export function statePathOf(outPath: string): string {
  return outPath.replace(/\.json$/i, "") + ".state.json";
}

/** What a score checkpoint (and a final state file) holds besides its key. */
export interface CheckpointState {
  accumulator: unknown;
  /** Documents taken from the corpus stream (scored or empty). */
  documentsRead: number;
  skippedLines: number;
  skippedReasons: string[];
}

/** Hex SHA-256 of a file, streamed. */
async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

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
        dtype: { type: "string" },
        device: { type: "string", default: "cpu" },
        "allow-remote": { type: "boolean", default: false },
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
    const loadOptions = {
      dtype: values.dtype as "fp32" | "fp16" | "q8" | undefined,
      device: values.device as "cpu" | "cuda" | "webgpu",
      allowRemote: values["allow-remote"],
    };

    const started = performance.now();
    console.error(`score: loading ${values.model}`);
    const model = await loadCausalLM(values.model, loadOptions);
    const base = values.base ? await loadCausalLM(values.base, loadOptions) : undefined;
    try {
      const tokenizer = await loadTokenizer(model.info.source);
      const prefixToken = prefixTokenId(tokenizer);
      const dataStat = await stat(values.data);
      const dataSha = await sha256File(values.data);
      const settings = {
        max_seq_len: maxSeqLen,
        context_len: contextLen,
        prefix_token: prefixToken,
        max_docs: maxDocs ?? null,
        doc_indices: values["doc-indices"] ?? null,
      };
      const runDescription = {
        toolkit: TOOLKIT_VERSION,
        model: model.info,
        base: base?.info ?? null,
        data: { bytes: dataStat.size, sha256: dataSha },
        settings,
        docIndices: docIndices ? [...docIndices] : null,
      };
      const runKey = await runKeyOf(runDescription);
      const checkpointPath = values.out.replace(/\.json$/i, "") + ".checkpoint.json";

      let acc = new CorpusAccumulator({ vocab: model.info.vocabSize, withBase: base !== undefined });
      let resumedDocs = 0;
      const skippedReasons: string[] = [];
      let skippedLines = 0;
      if (values.resume) {
        const cp = readCheckpoint<CheckpointState>(checkpointPath, "score", runKey);
        if (cp === undefined) console.error(`score: no checkpoint at ${checkpointPath}; starting afresh`);
        else {
          acc = CorpusAccumulator.fromJSON(cp.state.accumulator);
          resumedDocs = cp.state.documentsRead;
          skippedLines = cp.state.skippedLines;
          skippedReasons.push(...cp.state.skippedReasons);
          console.error(
            `score: resuming after ${resumedDocs} documents (${acc.tokens} tokens) from ${checkpointPath}`,
          );
        }
      }

      let documentsRead = resumedDocs;
      // A checkpoint during the run, and the final state beside the output: the same content.
      const writeState = (path: string) =>
        writeCheckpoint(path, {
          kind: "score",
          runKey,
          runDescription,
          unitsDone: documentsRead,
          state: {
            accumulator: acc.toJSON(),
            documentsRead,
            skippedLines,
            skippedReasons,
          } satisfies CheckpointState,
        });
      const save = () => writeState(checkpointPath);
      const controller = new AbortController();
      const onSignal = () => {
        console.error("\nscore: interrupted; finishing the current document and saving a checkpoint");
        controller.abort();
      };
      Deno.addSignalListener("SIGINT", onSignal);
      const total = maxDocs ?? docIndices?.size;
      let lastPrint = 0;
      const t0 = performance.now();
      const corpus = readCorpus(values.data, {
        maxDocs,
        docIndices,
        strict: values.strict,
        startAt: resumedDocs,
        onSkip: (s) => {
          skippedLines++;
          if (skippedReasons.length < 20) skippedReasons.push(`${s.path}:${s.line}: ${s.reason}`);
          console.error(`score: skipped ${s.path}:${s.line}: ${s.reason}`);
        },
      });
      let finished = false;
      let failure: Error | undefined;
      try {
        const r = await scoreCorpus(corpus, {
          model,
          base,
          tokenizer,
          maxSeqLen,
          contextLen,
          prefixToken,
          accumulator: acc,
          signal: controller.signal,
          onDocument: (p) => {
            documentsRead = resumedDocs + p.documentsRead;
            if (p.documentsRead % every === 0) save();
            const now = performance.now();
            if (now - lastPrint > 2000) {
              lastPrint = now;
              const secs = (now - t0) / 1000;
              const rate = p.tokensScored / secs;
              const docRate = p.documentsRead / secs;
              const eta = total !== undefined && docRate > 0
                ? ` ETA ${formatSeconds((total - documentsRead) / docRate)}`
                : "";
              console.error(
                `score: ${documentsRead}${total !== undefined ? `/${total}` : ""} documents, ` +
                  `${acc.tokens} tokens, ${rate.toFixed(0)} tokens/s${eta}`,
              );
            }
          },
        });
        finished = !r.aborted;
      } catch (e) {
        failure = e as Error;
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
      }
      // What was scored is never lost: a checkpoint on every stop, and the statistics so far in the output.
      if (!finished) save();
      const result = computeCorpusStats(acc);
      const outPath = finished ? values.out : values.out.replace(/\.json$/i, "") + ".partial.json";
      await writeScoreFile(outPath, {
        ...result.stats,
        created: new Date().toISOString(),
        complete: finished,
        model: { ...model.info },
        base: base ? { ...base.info } : null,
        data: { path: values.data, bytes: dataStat.size, sha256: dataSha },
        settings,
        skipped: { lines: skippedLines, reasons: skippedReasons },
        provenance: {
          toolkit_version: TOOLKIT_VERSION,
          runtime: runtimeDescription(),
          elapsed_seconds: Math.round((performance.now() - started) / 10) / 100,
          resumed_from_documents: resumedDocs,
        },
      }, result.meanDistribution);
      if (failure !== undefined) {
        console.error(
          `score: stopped: ${failure.message}\nscore: ${acc.documents} documents scored so far are in ${outPath} ` +
            `and ${checkpointPath} (fix the input, then --resume)`,
        );
        return 1;
      }
      if (!finished) {
        console.error(`score: checkpoint saved to ${checkpointPath}; statistics so far in ${outPath}`);
        return 130;
      }
      // The final state stays beside the output, so shards scored apart can be merged (analyse merge-scores).
      writeState(statePathOf(values.out));
      await Deno.remove(checkpointPath).catch(() => {});
      const s = result.stats;
      console.error(
        `score: ${s.documents} documents, ${s.tokens} tokens: perplexity ${s.perplexity.toFixed(4)}, ` +
          `mean entropy ${s.mean_entropy.toFixed(4)} nats` +
          (s.kl_from_base !== undefined ? `, KL from base ${s.kl_from_base.toFixed(4)} nats` : "") +
          ` → ${values.out}`,
      );
      return 0;
    } finally {
      await model.dispose();
      await base?.dispose();
    }
  },
};
