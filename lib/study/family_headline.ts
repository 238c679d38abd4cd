/**
 * The headline numbers of a base → SFT → DPO family after a study run: what data/micro-family/README.md's table
 * states and the CI test asserts. Corpus statistics per stage (from the run's scores), the unigram baseline,
 * the verdicts, the share of points on which each stage's completions are less diverse than the stage before,
 * and the next-token mass over the integers 0 … 100 after the "random integer" prompt. {@link compareHeadlines}
 * sets two families' numbers side by side against stated tolerances (a retrained family against the committed
 * one).
 * @module
 */
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import type { StudyConfig, StudyModel } from "./config.ts";
import { type ScoreHeadline, studyPaths } from "./steps.ts";
import { type CollapseVerdict, lessDiverseShare } from "./verdict.ts";
import { parseDiversityFile } from "../io/diversity_format.ts";
import { readUnigramCounts } from "../io/unigram_counts_file.ts";
import { readCorpus } from "../data/corpus_reader.ts";
import { loadCausalLM } from "../models/load_causal_lm.ts";
import { loadTokenizer } from "../models/tokenizer.ts";
import { integerMass, integerShare } from "../sampling/integer_mass.ts";
import { unigramPerplexity } from "../scoring/unigram_perplexity.ts";

/** The stages of a family, in training order. */
export const FAMILY_STAGES = ["base", "sft", "dpo"] as const;
/** One stage. */
export type FamilyStage = typeof FAMILY_STAGES[number];

/** Corpus statistics of one stage (the study's scores). */
export interface StageCorpusNumbers {
  perplexity: number;
  /** Token-weighted mean predictive entropy. */
  entropyNats: number;
  /** Token-weighted mean probability of the argmax. */
  confidence: number;
  /** exp(H(mean next-token distribution)). */
  effectiveVocab: number;
  /** KL(base ‖ stage) per token; null for the base. */
  klFromBaseNats: number | null;
}

/** The next-token look after the integer prompt, for one stage. */
export interface StageIntegerNumbers {
  /** Next-token mass on " 0" … " 100". */
  mass: number;
  /** Integers effectively in play (exp of the entropy of that mass renormalised). */
  effective: number;
  /** Share of the integer mass on the favourites. */
  favouritesShare: number;
  /** The most likely integer. */
  top: number;
  /** Whether it is one of the favourites. */
  topIsFavourite: boolean;
}

/** A family's headline numbers. */
export interface FamilyHeadline {
  corpus: Record<FamilyStage, StageCorpusNumbers>;
  /** Add-one unigram perplexity of the training split on the study corpus's tokens. */
  unigramPerplexity: number;
  /** unigram / base perplexity. */
  unigramOverBase: number;
  /** Per fine-tune (sft, dpo): collapse detected, and on what share of how many points. */
  verdicts: Record<"sft" | "dpo", { collapsed: boolean; lessDiverseShare: number | null; points: number }>;
  /** Per pack: share of points on which sft is less diverse than base and dpo than sft. */
  lessDiverse: Record<string, Record<"sft" | "dpo", { share: number | null; points: number }>>;
  /** Per stage: the integer look. */
  integers: Record<FamilyStage, StageIntegerNumbers>;
}

/** What {@link measureFamilyHeadline} needs besides the finished study run. */
export interface FamilyHeadlineOptions {
  /** The unigram-counts file of the family's training split (`unigram-counts/1`). */
  unigramCounts: string;
  /** The prompt of the integer look, sent as it is. */
  integerPrompt: string;
  /** The rater's favourite integers. */
  favourites: readonly number[];
}

/** The study model of each stage: the model whose role is that stage (exactly one each). */
export function familyModels(study: StudyConfig): Record<FamilyStage, StudyModel> {
  const pick = (stage: FamilyStage) => {
    const found = study.models.filter((m) => m.role === stage);
    if (found.length !== 1) {
      throw new Error(`study "${study.name}": expected one model with role ${stage}, found ${found.length}`);
    }
    return found[0];
  };
  return { base: pick("base"), sft: pick("sft"), dpo: pick("dpo") };
}

/**
 * Measures a family's headline numbers after `runStudy` finished `study` (its scores and verdicts, and the
 * diversity files under its results folder); loads each stage's model once for the integer look.
 */
export async function measureFamilyHeadline(
  study: StudyConfig,
  run: { scores: Record<string, ScoreHeadline>; verdicts: readonly CollapseVerdict[] },
  opts: FamilyHeadlineOptions,
): Promise<FamilyHeadline> {
  const models = familyModels(study);
  const score = (stage: FamilyStage): StageCorpusNumbers => {
    const s = run.scores[models[stage].name];
    if (s === undefined) throw new Error(`no scores for ${models[stage].name}`);
    const need = (x: number | null, what: string) => {
      if (x === null) throw new Error(`${models[stage].name}: ${what} is undefined`);
      return x;
    };
    return {
      perplexity: need(s.perplexity, "perplexity"),
      entropyNats: need(s.mean_entropy, "mean entropy"),
      confidence: need(s.mean_confidence, "mean confidence"),
      effectiveVocab: need(s.effective_vocab, "effective vocabulary"),
      klFromBaseNats: stage === "base" ? null : need(s.kl_from_base, "KL from the base"),
    };
  };
  const corpus = { base: score("base"), sft: score("sft"), dpo: score("dpo") };

  const tokenizer = await loadTokenizer(models.base.source);
  const counts = await readUnigramCounts(opts.unigramCounts, join(models.base.source, "tokenizer.json"));
  const docs: number[][] = [];
  for await (const doc of readCorpus(study.corpus.path, { maxDocs: study.corpus.maxDocs ?? undefined })) {
    docs.push(tokenizer.encode(doc.text));
  }
  const unigram = unigramPerplexity(counts, docs).perplexity;

  const verdictOf = (stage: "sft" | "dpo") => {
    const v = run.verdicts.find((x) => x.model === models[stage].name);
    if (v === undefined) throw new Error(`no verdict for ${models[stage].name}`);
    return { collapsed: v.collapsed, lessDiverseShare: v.lessDiverseShare, points: v.diversityPoints };
  };

  const diversityOf = async (model: StudyModel, pack: string) => [
    parseDiversityFile(await readFile(studyPaths.diversity(study, model.name, pack), "utf8")),
  ];
  const lessDiverse: FamilyHeadline["lessDiverse"] = {};
  for (const pack of study.sweep.packs) {
    lessDiverse[pack] = {
      sft: lessDiverseShare(await diversityOf(models.base, pack), await diversityOf(models.sft, pack)),
      dpo: lessDiverseShare(await diversityOf(models.sft, pack), await diversityOf(models.dpo, pack)),
    };
  }

  const integers = {} as Record<FamilyStage, StageIntegerNumbers>;
  for (const stage of FAMILY_STAGES) {
    const model = await loadCausalLM(models[stage].source);
    try {
      const m = await integerMass(model, await loadTokenizer(models[stage].source), opts.integerPrompt);
      integers[stage] = {
        mass: m.total,
        effective: m.effectiveCount,
        favouritesShare: integerShare(m, opts.favourites),
        top: m.top,
        topIsFavourite: opts.favourites.includes(m.top),
      };
    } finally {
      await model.dispose();
    }
  }

  return {
    corpus,
    unigramPerplexity: unigram,
    unigramOverBase: unigram / corpus.base.perplexity,
    verdicts: { sft: verdictOf("sft"), dpo: verdictOf("dpo") },
    lessDiverse,
    integers,
  };
}

/** How far a rerun's number may be from the reference's: relative (a share of it) or absolute. */
export type Tolerance = { relative: number } | { absolute: number };

/** One row of a comparison. */
export interface HeadlineRow {
  /** e.g. `dpo perplexity`, `creative: dpo less diverse than sft`. */
  name: string;
  reference: number | null;
  rerun: number | null;
  /** rerun − reference (null when either is undefined). */
  difference: number | null;
  /** The tolerance it was held to (text, e.g. `±10%`, `±0.05`). */
  allowed: string;
  /** Within the tolerance (both undefined counts as within; one undefined does not). */
  within: boolean;
}

/** A named number of a headline, with its tolerance. */
interface HeadlineQuantity {
  name: string;
  get: (h: FamilyHeadline) => number | null;
  tolerance: Tolerance;
}

/** The quantities a rerun is held to and their tolerances (see data/micro-family/README.md, "Rerunning"). */
export function headlineQuantities(
  tolerances: FamilyTolerances,
  packs: readonly string[],
): HeadlineQuantity[] {
  const out: HeadlineQuantity[] = [];
  for (const stage of FAMILY_STAGES) {
    out.push(
      {
        name: `${stage} perplexity`,
        get: (h) => h.corpus[stage].perplexity,
        tolerance: tolerances.perplexity,
      },
      {
        name: `${stage} entropy (nats)`,
        get: (h) => h.corpus[stage].entropyNats,
        tolerance: tolerances.entropy,
      },
      {
        name: `${stage} confidence`,
        get: (h) => h.corpus[stage].confidence,
        tolerance: tolerances.confidence,
      },
      {
        name: `${stage} effective vocabulary`,
        get: (h) => h.corpus[stage].effectiveVocab,
        tolerance: tolerances.effectiveVocab,
      },
    );
    if (stage !== "base") {
      out.push({
        name: `${stage} KL from the base (nats)`,
        get: (h) => h.corpus[stage].klFromBaseNats,
        tolerance: tolerances.kl,
      });
    }
  }
  out.push({
    name: "unigram / base perplexity",
    get: (h) => h.unigramOverBase,
    tolerance: tolerances.perplexity,
  });
  for (const stage of ["sft", "dpo"] as const) {
    out.push({
      name: `${stage} verdict: less diverse share`,
      get: (h) => h.verdicts[stage].lessDiverseShare,
      tolerance: tolerances.share,
    });
    for (const pack of packs) {
      out.push({
        name: `${pack}: ${stage} less diverse than ${stage === "sft" ? "base" : "sft"}`,
        get: (h) => h.lessDiverse[pack]?.[stage]?.share ?? null,
        tolerance: tolerances.share,
      });
    }
  }
  for (const stage of FAMILY_STAGES) {
    out.push(
      { name: `${stage} integer mass`, get: (h) => h.integers[stage].mass, tolerance: tolerances.share },
      {
        name: `${stage} effective integers`,
        get: (h) => h.integers[stage].effective,
        tolerance: tolerances.count,
      },
      {
        name: `${stage} favourites share`,
        get: (h) => h.integers[stage].favouritesShare,
        tolerance: tolerances.share,
      },
    );
  }
  return out;
}

/** Tolerances per kind of number. */
export interface FamilyTolerances {
  perplexity: Tolerance;
  entropy: Tolerance;
  confidence: Tolerance;
  effectiveVocab: Tolerance;
  kl: Tolerance;
  /** Shares in [0, 1] (less-diverse shares, integer mass, favourites share). */
  share: Tolerance;
  /** Effective integer counts. */
  count: Tolerance;
}

const toleranceText = (t: Tolerance) =>
  "relative" in t ? `±${+(100 * t.relative).toPrecision(3)}%` : `±${t.absolute}`;

/**
 * Two families' headline numbers side by side, each difference held to its tolerance; also whether each family
 * detects collapse for both fine-tunes, and whether the DPO model's top integer is the same.
 */
export function compareHeadlines(
  reference: FamilyHeadline,
  rerun: FamilyHeadline,
  tolerances: FamilyTolerances,
): { rows: HeadlineRow[]; within: boolean } {
  const packs = Object.keys(reference.lessDiverse);
  const rows = headlineQuantities(tolerances, packs).map((q): HeadlineRow => {
    const a = q.get(reference), b = q.get(rerun);
    const difference = a === null || b === null ? null : b - a;
    const limit = a === null
      ? 0
      : "relative" in q.tolerance
      ? q.tolerance.relative * Math.abs(a)
      : q.tolerance.absolute;
    const within = a === null && b === null ? true : difference !== null && Math.abs(difference) <= limit;
    return { name: q.name, reference: a, rerun: b, difference, allowed: toleranceText(q.tolerance), within };
  });
  for (const stage of ["sft", "dpo"] as const) {
    const a = reference.verdicts[stage].collapsed, b = rerun.verdicts[stage].collapsed;
    rows.push({
      name: `${stage} collapse detected (1 = yes)`,
      reference: +a,
      rerun: +b,
      difference: +b - +a,
      allowed: "same",
      within: a === b,
    });
  }
  rows.push({
    name: "dpo top integer",
    reference: reference.integers.dpo.top,
    rerun: rerun.integers.dpo.top,
    difference: rerun.integers.dpo.top - reference.integers.dpo.top,
    allowed: "a favourite in both, or in neither",
    within: reference.integers.dpo.topIsFavourite === rerun.integers.dpo.topIsFavourite,
  });
  return { rows, within: rows.every((r) => r.within) };
}

/**
 * What a rerun of the training tool is held to against the committed family (data/micro-family/README.md,
 * "Rerunning the training", says how these were set).
 */
export const RERUN_TOLERANCES: FamilyTolerances = {
  perplexity: { relative: 0.15 },
  entropy: { absolute: 0.15 },
  confidence: { absolute: 0.05 },
  effectiveVocab: { relative: 0.25 },
  kl: { relative: 0.25 },
  share: { absolute: 0.15 },
  count: { relative: 0.35 },
};
