/**
 * `deno task analyse generate`: a completion sweep — N seeded samples per (temperature, prompt) cell for a
 * prompt pack or ad-hoc prompts — into a `completions/1` file that `analyse diversity` reads directly.
 * Journaled per cell: `--resume` continues a killed sweep at the first unfinished cell.
 * @module
 */
import { parseArgs } from "node:util";
import { basename } from "node:path";
import type { Command } from "./analyse.ts";
import { loadOptionsFrom, MODEL_LOAD_ARGS } from "./model_options.ts";
import { formatSeconds } from "./progress.ts";
import { loadCausalLM } from "../lib/models/load.ts";
import { findPreset } from "../lib/models/presets.ts";
import { loadTokenizer } from "../lib/models/tokenizer.ts";
import {
  getTemplate,
  loadPromptPack,
  loadTemplates,
  type PromptPack,
  templateNameForModel,
} from "../lib/data/prompts.ts";
import { completionsToPaperNpy, type PromptEntry } from "../lib/io/completions_format.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { journalPathFor } from "../lib/io/completions_journal.ts";
import { factualAccuracy } from "../lib/metrics/factual_accuracy.ts";
import { packPrompts, runSweep, type SweepSpec } from "../lib/sampling/sweep.ts";
import { stopTokenIdsOf } from "../lib/sampling/generate.ts";

const USAGE =
  `usage: deno task analyse generate --model <dir|preset|id> (--prompts <pack|file>[,…] | --prompt <text> …) --out <file.json>
  --prompts creative,factual,seen   prompt packs (data/prompts/<name>.json) or pack files; with several, --out
                                    must contain {pack}
  --prompt <text>                   an ad-hoc prompt, used as it is (no template, no guide); repeatable
  --template <name>                 template for packs (default: the model's paper template, else plm)
  --templates <file>                template file (default data/prompts/templates.json)
  --temperatures 0.1:1.5:0.1        a range start:stop:step (inclusive) or a list 0,0.7,1; 0 = greedy
  --samples 25                      samples per (temperature, prompt) cell
  --max-new-tokens N                default: the pack's (70 creative / 25 factual / 70 seen), 70 ad hoc
  --top-k 50 --top-p 1              filters (top-k 50 is what the paper used implicitly; 0 / 1 = off)
  --seed 0                          run seed; every sample's seed derives from it (recorded per sample)
  --batch-size N                    rows decoded together (default: all samples of a cell)
  --model-id <name>                 the id recorded and hashed into seeds (default: preset name or folder name)
  --npy <file.npy>                  also write the texts in the paper's .npy layout (T × P × 1 lists)
  --resume                          continue from <out>.journal.jsonl
  [--dtype fp32|fp16|q8] [--device cpu|cuda|webgpu] [--allow-remote]`;

/** Parses `start:stop:step` (inclusive, rounded to 10 decimals) or a comma list. */
export function parseTemperatures(text: string): number[] {
  const bad = (why: string): never => {
    throw new Error(`--temperatures "${text}": ${why}`);
  };
  let values: number[];
  if (text.includes(":")) {
    const parts = text.split(":").map(Number);
    if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) bad("expected start:stop:step");
    const [start, stop, step] = parts;
    if (step <= 0 || stop < start) bad("expected step > 0 and stop ≥ start");
    const n = Math.floor((stop - start) / step + 1e-9) + 1;
    values = Array.from({ length: n }, (_, i) => Number((start + i * step).toFixed(10)));
  } else {
    values = text.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  }
  if (values.length === 0) bad("no temperatures");
  for (const t of values) if (!Number.isFinite(t) || t < 0) bad(`${t} is not a temperature ≥ 0`);
  return values;
}

function intOption(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer ≥ ${min}, got "${v}"`);
  }
  return n;
}

/** The `generate` command. */
export const command: Command = {
  summary:
    "completion sweep: seeded samples per temperature and prompt, with token log-probs (completions/1)",
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: "string" },
        prompts: { type: "string" },
        prompt: { type: "string", multiple: true },
        template: { type: "string" },
        templates: { type: "string" },
        temperatures: { type: "string", default: "0.1:1.5:0.1" },
        samples: { type: "string", default: "25" },
        "max-new-tokens": { type: "string" },
        "top-k": { type: "string", default: "50" },
        "top-p": { type: "string", default: "1" },
        seed: { type: "string", default: "0" },
        "batch-size": { type: "string" },
        "model-id": { type: "string" },
        npy: { type: "string" },
        out: { type: "string" },
        resume: { type: "boolean", default: false },
        ...MODEL_LOAD_ARGS,
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const adHoc = values.prompt ?? [];
    if (!values.model || !values.out || (values.prompts === undefined) === (adHoc.length === 0)) {
      console.error(USAGE);
      if (values.prompts !== undefined && adHoc.length > 0) {
        console.error("give --prompts or --prompt, not both");
      }
      return 2;
    }
    const temperatures = parseTemperatures(values.temperatures!);
    const samples = intOption("samples", values.samples, 1)!;
    const maxNewTokens = intOption("max-new-tokens", values["max-new-tokens"], 1);
    const topK = intOption("top-k", values["top-k"], 0)!;
    const topP = Number(values["top-p"]);
    if (!(topP > 0 && topP <= 1)) throw new Error(`--top-p must be in (0, 1], got "${values["top-p"]}"`);
    const seed = intOption("seed", values.seed, 0)!;
    const batchSize = intOption("batch-size", values["batch-size"], 1);

    // Prompt sets: packs (with a template), or one ad-hoc set used as given.
    const packNames = values.prompts?.split(",").map((s) => s.trim()).filter((s) => s !== "") ?? [];
    if (packNames.length > 1 && !values.out.includes("{pack}")) {
      throw new Error(`--out must contain {pack} when several packs are given (got "${values.out}")`);
    }
    if (values.npy && packNames.length > 1 && !values.npy.includes("{pack}")) {
      throw new Error(`--npy must contain {pack} when several packs are given (got "${values.npy}")`);
    }
    const packs: PromptPack[] = [];
    for (const name of packNames) packs.push(await loadPromptPack(name));

    const loadOptions = loadOptionsFrom(values);
    console.error(`generate: loading ${values.model}`);
    const model = await loadCausalLM(values.model, loadOptions);
    try {
      const tokenizer = await loadTokenizer(model.info.source);
      const preset = model.info.preset ? findPreset(model.info.preset) : findPreset(values.model);
      const modelId = values["model-id"] ?? preset?.name ??
        (model.info.source.startsWith("huggingface.co/") ? values.model : basename(model.info.source));
      const stopTokenIds = stopTokenIdsOf(model, tokenizer);

      const templates = packs.length > 0 ? await loadTemplates(values.templates) : undefined;
      let templateName = values.template;
      if (templates !== undefined && templateName === undefined) {
        templateName = preset?.template ?? templateNameForModel(templates, modelId) ?? "plm";
        console.error(`generate: template "${templateName}" (choose another with --template)`);
      }
      const sets: Array<{ name: string; prompts: PromptEntry[]; inputs: string[]; max: number }> =
        packs.length > 0
          ? packs.map((pack) => {
            const template = getTemplate(templates!, templateName!);
            return {
              name: pack.name,
              ...packPrompts(pack, template),
              max: maxNewTokens ?? pack.max_new_tokens ?? 70,
            };
          })
          : [{
            name: "adhoc",
            prompts: adHoc.map((text) => ({ text })),
            inputs: adHoc,
            max: maxNewTokens ?? 70,
          }];

      const controller = new AbortController();
      const onSignal = () => {
        console.error("\ngenerate: interrupted; stopping after this step (finished cells are kept)");
        controller.abort();
      };
      Deno.addSignalListener("SIGINT", onSignal);
      try {
        for (const set of sets) {
          const outPath = values.out.replaceAll("{pack}", set.name);
          const spec: SweepSpec = {
            model: {
              id: modelId,
              ...(preset ? { revision: preset.revision, family: preset.family } : {}),
            },
            ...(packs.length > 0
              ? { template: { name: templateName!, text: getTemplate(templates!, templateName!).text } }
              : {}),
            promptSet: set.name,
            prompts: set.prompts,
            inputs: set.inputs,
            temperatures,
            samplesPerPrompt: samples,
            maxNewTokens: set.max,
            topK,
            topP,
            seed,
            stopTokenIds,
            ...(batchSize !== undefined ? { batchSize } : {}),
          };
          const total = temperatures.length * set.prompts.length;
          console.error(
            `generate: ${set.name}: ${set.prompts.length} prompts × ${temperatures.length} temperatures × ` +
              `${samples} samples, ≤ ${set.max} new tokens, top-k ${topK}, top-p ${topP}, seed ${seed} → ${outPath}`,
          );
          let lastPrint = 0;
          let doc;
          try {
            doc = await runSweep(model, tokenizer, spec, {
              outPath,
              resume: values.resume,
              signal: controller.signal,
              onProgress: (p) => {
                const now = performance.now();
                if (now - lastPrint < 2000 && p.cellsDone < total) return;
                lastPrint = now;
                const rate = p.elapsedMs > 0 ? (p.tokens / p.elapsedMs) * 1000 : 0;
                const eta = p.etaMs !== undefined ? ` ETA ${formatSeconds(p.etaMs / 1000)}` : "";
                const resumed = p.cellsResumed > 0 ? ` (${p.cellsResumed} resumed)` : "";
                console.error(
                  `generate: ${set.name}: ${p.cellsDone}/${total} cells${resumed}, ${p.tokens} tokens, ` +
                    `${rate.toFixed(0)} tokens/s${eta}`,
                );
              },
            });
          } catch (e) {
            if (controller.signal.aborted) {
              console.error(
                `generate: stopped; finished cells are in ${journalPathFor(outPath)} — rerun with --resume`,
              );
              return 130;
            }
            throw e;
          }
          if (values.npy) {
            const npyPath = values.npy.replaceAll("{pack}", set.name);
            await writeFileAtomic(npyPath, completionsToPaperNpy(doc));
            console.error(`generate: paper layout → ${npyPath}`);
          }
          if (set.prompts.some((p) => p.answers !== undefined && p.answers.length > 0)) {
            const acc = factualAccuracy(doc);
            const line = acc.byTemperature.map((a, t) =>
              `T=${acc.temperatures[t]}: ${a === null ? "–" : (100 * a).toFixed(0) + "%"}`
            ).join(", ");
            console.error(`generate: ${set.name}: factual accuracy ${line}`);
          }
          console.error(`generate: ${set.name}: done → ${outPath}`);
        }
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
      }
      return 0;
    } finally {
      await model.dispose();
    }
  },
};
