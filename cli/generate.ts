/**
 * `deno task analyse generate`: a completion sweep — N seeded samples per (temperature, prompt) cell for a
 * prompt pack or ad-hoc prompts — into a `completions/2` file that `analyse diversity` reads directly.
 * Journaled per cell: `--resume` continues a killed sweep at the first unfinished cell.
 * @module
 */
import { basename, dirname } from "node:path";
import { existsSync } from "node:fs";
import type { Command } from "./command.ts";
import { loadOptionsFrom, MODEL_LOAD_ARGS, modelInputs } from "./model_options.ts";
import { parseCommandLine, resumeCommand, UsageError } from "./options.ts";
import { onInterrupt } from "./interrupt.ts";
import { terminalProgress } from "../lib/progress/terminal_sink.ts";
import { sweepProgressText } from "../lib/sampling/progress_text.ts";
import { formatNumber, formatPercent } from "../lib/numeric/number_format.ts";
import { loadCausalLM } from "../lib/models/load_causal_lm.ts";
import { findPreset } from "../lib/models/presets.ts";
import { loadTokenizer } from "../lib/models/tokenizer.ts";
import {
  loadPromptPack,
  loadTemplates,
  type PromptPack,
  PROMPTS_DIR,
  resolvePromptPackPath,
  templateNameForModel,
} from "../lib/data/prompts.ts";
import { completionsToPaperNpy } from "../lib/data/paper_completions.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import {
  checkOutputPaths,
  ensureWritableDir,
  type NamedPath,
  realPathOf,
  safePathSegment,
  writingTo,
} from "../lib/io/output_paths.ts";
import { journalPathFor } from "../lib/io/completions_journal.ts";
import { factualAccuracy } from "../lib/metrics/factual_accuracy.ts";
import { generationRecordOf, runSweep, type SweepSpec } from "../lib/sampling/sweep.ts";
import { parseShard } from "../lib/io/shards.ts";
import { stopTokensOf } from "../lib/sampling/generate.ts";
import {
  formatPrompts,
  MODEL_TEMPLATE,
  packRawPrompts,
  type PromptInputs,
  type TemplateChoice,
} from "../lib/sampling/prompt_inputs.ts";
import { parseTemplateVariables } from "../lib/models/chat_template.ts";

const USAGE =
  `usage: deno task analyse generate --model <dir|preset|id> (--prompts <pack|file>[,…] | --prompt <text> …) --out <file.json>
  --prompts creative,factual,seen   prompt packs (data/prompts/<name>.json) or pack files; with several, --out
                                    must contain {pack}
  --prompt <text>                   an ad-hoc prompt (no guide), used as it is unless --template is given;
                                    repeatable
  --template <name>                 plm, hh, llama2_chat, tulu, a corrected variant, or "model": the model's
                                    own chat template (one user turn, generation prompt added, then the guide)
                                    (default for packs: the model preset's, else the paper's, else plm)
  --template-var name=value         a variable of the model's chat template, e.g. enable_thinking=false
                                    (repeatable; recorded in the output)
  --templates <file>                template file (default data/prompts/templates.json)
  --temperatures 0.1:1.5:0.1        a range start:stop:step (inclusive) or a list 0,0.7,1; 0 = greedy
  --samples 25                      samples per (temperature, prompt) cell
  --max-new-tokens N                default: the pack's (70 creative / 25 factual / 70 seen), 70 ad hoc
  --top-k 50 --top-p 1              filters (top-k 50 is what the paper used implicitly; 0 / 1 = off); the
                                    model's generation_config.json values are recorded beside them, not used
  --seed 0                          run seed; every sample's seed derives from it (recorded per sample)
  --batch-size N                    rows decoded together (default: all samples of a cell)
  --model-id <name>                 the id recorded and hashed into seeds (default: preset name or folder name)
  --npy <file.npy>                  also write the texts in the paper's .npy layout (T × P × 1 lists)
  --shard I/N                       generate only shard I of N: cell t·P+p when (t·P+p) mod N = I−1; <out> is
                                    then a completions-shard/1 file; analyse merge joins the N shards
  --resume                          continue from <out>.journal.jsonl (one line per finished cell)
  --fresh                           discard the journal of an earlier run and start again (without either, an
                                    existing journal is refused, never silently replaced)
  [--dtype fp32|fp16|q8|q4] [--device cpu|cuda|webgpu] [--allow-remote]
{pack} in --out and --npy is replaced by each pack's name (letters, digits, '.', '_', '-' only). Ctrl-C stops
after the current decoding step; finished cells stay in the journal.`;

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
    "completion sweep: seeded samples per temperature and prompt, with token log-probs (completions/2)",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({
      args,
      options: {
        model: { type: "string" },
        prompts: { type: "string" },
        prompt: { type: "string", multiple: true },
        template: { type: "string" },
        "template-var": { type: "string", multiple: true },
        templates: { type: "string" },
        temperatures: { type: "string", default: "0.1:1.5:0.1" },
        samples: { type: "string", default: "25" },
        "max-new-tokens": { type: "string" },
        "top-k": { type: "string" },
        "top-p": { type: "string" },
        seed: { type: "string", default: "0" },
        "batch-size": { type: "string" },
        "model-id": { type: "string" },
        npy: { type: "string" },
        out: { type: "string" },
        shard: { type: "string" },
        resume: { type: "boolean", default: false },
        fresh: { type: "boolean", default: false },
        ...MODEL_LOAD_ARGS,
        help: { type: "boolean", short: "h" },
      },
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
    if (values.resume && values.fresh) throw new UsageError("give --resume or --fresh, not both");
    const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
    if (shard !== undefined && values.npy) {
      throw new UsageError("--npy needs every cell: give it to no shard (the merged file converts)");
    }
    const temperatures = parseTemperatures(values.temperatures!);
    const samples = intOption("samples", values.samples, 1)!;
    const maxNewTokens = intOption("max-new-tokens", values["max-new-tokens"], 1);
    const topK = intOption("top-k", values["top-k"] ?? "50", 0)!;
    const topP = Number(values["top-p"] ?? "1");
    if (!(topP > 0 && topP <= 1)) throw new Error(`--top-p must be in (0, 1], got "${values["top-p"]}"`);
    const templateVars = parseTemplateVariables(values["template-var"] ?? []);
    if (Object.keys(templateVars).length > 0 && values.template !== MODEL_TEMPLATE) {
      throw new Error("--template-var applies to the model's own chat template: give --template model too");
    }
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
    for (const name of packNames) {
      const pack = await loadPromptPack(name);
      // The pack's name goes into file names ({pack}): it must not lead out of the folder the user chose.
      safePathSegment(pack.name, `the name of the prompt pack ${resolvePromptPackPath(name)}`);
      const twin = packs.find((p) => p.name === pack.name);
      if (twin !== undefined) {
        throw new Error(`two packs are named "${pack.name}": their outputs would collide`);
      }
      packs.push(pack);
    }

    const loadOptions = loadOptionsFrom(values);
    // Where it writes, checked before the model is loaded.
    const setNames = packs.length > 0 ? packs.map((p) => p.name) : ["adhoc"];
    const outputs: NamedPath[] = setNames.flatMap((name) => [
      { what: "--out", path: values.out!.replaceAll("{pack}", name) },
      { what: "its journal", path: journalPathFor(values.out!.replaceAll("{pack}", name)) },
      ...(values.npy ? [{ what: "--npy", path: values.npy.replaceAll("{pack}", name) }] : []),
    ]);
    checkOutputPaths(outputs, [
      ...modelInputs("--model", values.model, loadOptions.allowRemote),
      ...packNames.filter((n) => /[\\/]/.test(n) || n.endsWith(".json")).map((n) => ({
        what: "--prompts",
        path: resolvePromptPackPath(n),
      })),
      { what: "the bundled prompt packs", path: PROMPTS_DIR },
      ...(values.templates ? [{ what: "--templates", path: values.templates }] : []),
    ]);
    for (const dir of new Set(outputs.map((o) => dirname(realPathOf(o.path))))) await ensureWritableDir(dir);
    console.error(
      `generate: writes ${
        outputs.filter((o) => o.what !== "its journal").map((o) => realPathOf(o.path)).join(", ")
      } (journal <out>.journal.jsonl while it runs)`,
    );
    console.error(`generate: loading ${values.model}`);
    const model = await loadCausalLM(values.model, loadOptions);
    try {
      const tokenizer = await loadTokenizer(model.info.source);
      const preset = model.info.preset ? findPreset(model.info.preset) : findPreset(values.model);
      const modelId = values["model-id"] ?? preset?.name ??
        (model.info.source.startsWith("huggingface.co/") ? values.model : basename(model.info.source));
      const stop = stopTokensOf(model, tokenizer);
      const g = model.info.generation;
      const generation = generationRecordOf(model, stop, {
        temperature: "--temperatures",
        top_k: values["top-k"] !== undefined
          ? "--top-k"
          : "toolkit default (50, Hugging Face's implicit value)",
        top_p: values["top-p"] !== undefined ? "--top-p" : "toolkit default (1 = off)",
      });
      if (g.temperature !== undefined || g.topP !== undefined || g.topK !== undefined) {
        console.error(
          `generate: the model ships temperature ${g.temperature ?? "–"}, top-p ${g.topP ?? "–"}, top-k ` +
            `${g.topK ?? "–"} (generation_config.json); recorded, not used: this sweep uses top-k ${topK}, ` +
            `top-p ${topP} and its own temperatures`,
        );
      }

      const templates = packs.length > 0 || values.template !== undefined
        ? await loadTemplates(values.templates)
        : undefined;
      let choice: TemplateChoice | undefined = values.template !== undefined
        ? {
          name: values.template,
          ...(values.template === MODEL_TEMPLATE ? { variables: templateVars } : {}),
        }
        : undefined;
      if (packs.length > 0 && choice === undefined) {
        const name = preset?.template ?? templateNameForModel(templates!, modelId) ?? "plm";
        choice = { name };
        console.error(`generate: template "${name}" (choose another with --template)`);
      }
      const sets: Array<{ name: string; formatted: PromptInputs; max: number }> = packs.length > 0
        ? packs.map((pack) => ({
          name: pack.name,
          formatted: formatPrompts(packRawPrompts(pack), tokenizer, choice, templates),
          max: maxNewTokens ?? pack.max_new_tokens ?? 70,
        }))
        : [{
          name: "adhoc",
          formatted: formatPrompts(adHoc.map((text) => ({ text })), tokenizer, choice, templates),
          max: maxNewTokens ?? 70,
        }];

      const controller = new AbortController();
      const stopListening = onInterrupt(
        "generate",
        controller,
        "stopping after this decoding step (finished cells are kept)",
      );
      const resume = resumeCommand("analyse generate", args);
      try {
        for (const set of sets) {
          const outPath = values.out.replaceAll("{pack}", set.name);
          const spec: SweepSpec = {
            model: {
              id: modelId,
              ...(preset ? { revision: preset.revision, family: preset.family } : {}),
            },
            ...(set.formatted.template ? { template: set.formatted.template } : {}),
            promptSet: set.name,
            prompts: set.formatted.prompts,
            inputs: set.formatted.inputs,
            inputIds: set.formatted.inputIds,
            temperatures,
            samplesPerPrompt: samples,
            maxNewTokens: set.max,
            topK,
            topP,
            seed,
            stopTokenIds: stop.ids,
            generation,
            ...(batchSize !== undefined ? { batchSize } : {}),
          };
          console.error(
            `generate: ${set.name}: ${set.formatted.prompts.length} prompts × ${temperatures.length} temperatures × ` +
              `${samples} samples, ≤ ${set.max} new tokens, top-k ${topK}, top-p ${topP}, seed ${seed} → ${outPath}`,
          );
          const progress = terminalProgress(`generate: ${set.name}`);
          let doc;
          try {
            doc = await runSweep(model, tokenizer, spec, {
              outPath,
              resume: values.resume,
              fresh: values.fresh,
              shard,
              log: (line) => progress.message(line),
              signal: controller.signal,
              // The last cell's line is always shown (done is never throttled).
              onProgress: (p) =>
                p.cellsDone < p.cellsTotal
                  ? progress.update(sweepProgressText(p))
                  : void progress.done(sweepProgressText(p)),
            });
          } catch (e) {
            progress.close(); // the messages below start on a line of their own
            const journal = journalPathFor(outPath);
            if (controller.signal.aborted) {
              console.error(
                `generate: stopped; the finished cells are in ${journal}\ngenerate: to continue: ${resume}`,
              );
              return 130;
            }
            if (existsSync(journal)) {
              console.error(
                `generate: stopped: ${
                  (e as Error).message
                }\ngenerate: the finished cells are kept in ${journal}; ` +
                  `to finish, fix the problem above, then run:\n  ${resume}`,
              );
              return 1;
            }
            throw e;
          }
          if (values.npy) {
            const npyPath = values.npy.replaceAll("{pack}", set.name);
            try {
              await writingTo(npyPath, () => writeFileAtomic(npyPath, completionsToPaperNpy(doc)));
            } catch (e) {
              console.error(
                `generate: stopped: ${(e as Error).message}\ngenerate: the completions are complete in ` +
                  `${outPath}; to write the .npy, fix the problem above, then run:\n  ${resume}`,
              );
              return 1;
            }
            console.error(`generate: paper layout → ${npyPath}`);
          }
          if (
            shard === undefined &&
            set.formatted.prompts.some((p) => p.answers !== undefined && p.answers.length > 0)
          ) {
            const acc = factualAccuracy(doc);
            const line = acc.byTemperature.map((a, t) =>
              `T=${formatNumber(acc.temperatures[t])}: ${formatPercent(a)}`
            ).join(", ");
            console.error(`generate: ${set.name}: factual accuracy ${line}`);
          }
          console.error(`generate: ${set.name}: done → ${outPath}`);
        }
      } finally {
        stopListening();
      }
      return 0;
    } finally {
      await model.dispose();
    }
  },
};
