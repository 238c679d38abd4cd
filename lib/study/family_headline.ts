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

/**
 * How far a rerun's number may be from the reference's: relative (a share of it), absolute, or a factor either
 * way (for numbers that vary multiplicatively, such as a collapsed model's perplexity; both must be positive).
 */
export type Tolerance = { relative: number } | { absolute: number } | { factor: number };

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
  /** Share of the tolerance used ({@link toleranceUsed}; null when either number is undefined). */
  used: number | null;
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
        tolerance: tolerances[stage].perplexity,
      },
      {
        name: `${stage} entropy (nats)`,
        get: (h) => h.corpus[stage].entropyNats,
        tolerance: tolerances[stage].entropy,
      },
      {
        name: `${stage} confidence`,
        get: (h) => h.corpus[stage].confidence,
        tolerance: tolerances[stage].confidence,
      },
      {
        name: `${stage} effective vocabulary`,
        get: (h) => h.corpus[stage].effectiveVocab,
        tolerance: tolerances[stage].effectiveVocab,
      },
    );
    if (stage !== "base") {
      out.push({
        name: `${stage} KL from the base (nats)`,
        get: (h) => h.corpus[stage].klFromBaseNats,
        tolerance: tolerances[stage].kl,
      });
    }
  }
  out.push({
    name: "unigram / base perplexity",
    get: (h) => h.unigramOverBase,
    tolerance: tolerances.base.perplexity,
  });
  for (const stage of ["sft", "dpo"] as const) {
    out.push({
      name: `${stage} verdict: less diverse share`,
      get: (h) => h.verdicts[stage].lessDiverseShare,
      tolerance: tolerances[stage].lessDiverse,
    });
    for (const pack of packs) {
      out.push({
        name: `${pack}: ${stage} less diverse than ${stage === "sft" ? "base" : "sft"}`,
        get: (h) => h.lessDiverse[pack]?.[stage]?.share ?? null,
        tolerance: tolerances[stage].lessDiverse,
      });
    }
  }
  for (const stage of FAMILY_STAGES) {
    out.push(
      {
        name: `${stage} integer mass`,
        get: (h) => h.integers[stage].mass,
        tolerance: tolerances[stage].integerShare,
      },
      {
        name: `${stage} effective integers`,
        get: (h) => h.integers[stage].effective,
        tolerance: tolerances[stage].integerCount,
      },
      {
        name: `${stage} favourites share`,
        get: (h) => h.integers[stage].favouritesShare,
        tolerance: tolerances[stage].integerShare,
      },
    );
  }
  return out;
}

/** Tolerances of one stage's numbers, per kind. */
export interface StageTolerances {
  /** Perplexity on the study corpus (for the base also the unigram / base ratio). */
  perplexity: Tolerance;
  entropy: Tolerance;
  confidence: Tolerance;
  effectiveVocab: Tolerance;
  /** Integer mass and favourites share (shares in [0, 1]). */
  integerShare: Tolerance;
  /** Effective integers. */
  integerCount: Tolerance;
}

/** Tolerances of a fine-tune's numbers: a stage's, and those measured against the stage before. */
export interface TuneTolerances extends StageTolerances {
  /** KL from the base. */
  kl: Tolerance;
  /** Shares of points less diverse than the stage before (the verdict's and each pack's). */
  lessDiverse: Tolerance;
}

/** Tolerances per stage: each training stage varies by its own amount between runs. */
export interface FamilyTolerances {
  base: StageTolerances;
  sft: TuneTolerances;
  dpo: TuneTolerances;
}

const toleranceText = (t: Tolerance) =>
  "relative" in t
    ? `±${+(100 * t.relative).toPrecision(3)}%`
    : "absolute" in t
    ? `±${t.absolute}`
    : `×/÷${t.factor}`;

/** A headline number for a table: integers as they are, 1 decimal from 100 up, else 4; "–" when undefined. */
export function formatHeadlineNumber(x: number | null): string {
  return x === null
    ? "–"
    : Number.isInteger(x)
    ? String(x)
    : Math.abs(x) >= 100
    ? x.toFixed(1)
    : x.toFixed(4);
}

/**
 * How much of tolerance `t` the move from reference `a` to `b` uses: 0 for none, 1 at the edge, above 1 outside
 * (for a factor, on the log scale: ln(max(a/b, b/a)) / ln(factor); Infinity when either is not positive).
 */
export function toleranceUsed(a: number, b: number, t: Tolerance): number {
  if ("factor" in t) {
    return a > 0 && b > 0 ? Math.abs(Math.log(b / a)) / Math.log(t.factor) : Infinity;
  }
  const limit = "relative" in t ? t.relative * Math.abs(a) : t.absolute;
  return limit > 0 ? Math.abs(b - a) / limit : a === b ? 0 : Infinity;
}

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
    const used = a === null || b === null ? null : toleranceUsed(a, b, q.tolerance);
    const within = a === null && b === null ? true : used !== null && used <= 1;
    return {
      name: q.name,
      reference: a,
      rerun: b,
      difference,
      allowed: toleranceText(q.tolerance),
      used,
      within,
    };
  });
  for (const stage of ["sft", "dpo"] as const) {
    const a = reference.verdicts[stage].collapsed, b = rerun.verdicts[stage].collapsed;
    rows.push({
      name: `${stage} collapse detected (1 = yes)`,
      reference: +a,
      rerun: +b,
      difference: +b - +a,
      allowed: "same",
      used: null,
      within: a === b,
    });
  }
  rows.push({
    name: "dpo top integer",
    reference: reference.integers.dpo.top,
    rerun: rerun.integers.dpo.top,
    difference: rerun.integers.dpo.top - reference.integers.dpo.top,
    allowed: "a favourite in both, or in neither",
    used: null,
    within: reference.integers.dpo.topIsFavourite === rerun.integers.dpo.topIsFavourite,
  });
  return { rows, within: rows.every((r) => r.within) };
}

/**
 * What a retrained family is held to against the committed one, per stage. Set from three seed variants of the
 * training (data/micro-family/seed_variants.json; data/micro-family/README.md, "Rerunning the training"): each
 * tolerance is at least 1.5 × the widest move seen (for a factor, 1.5 × on the log scale), rounded up. On the
 * same kind of machine with the same library versions a rerun is bit-identical, so these are for reruns
 * elsewhere, whose float rounding sends training down another trajectory as a seed change does. DPO's are wide
 * because its over-optimised end state differs a lot from seed to seed.
 */
export const RERUN_TOLERANCES: FamilyTolerances = {
  base: {
    perplexity: { relative: 0.06 },
    entropy: { absolute: 0.22 },
    confidence: { absolute: 0.015 },
    effectiveVocab: { relative: 0.26 },
    integerShare: { absolute: 0.05 },
    integerCount: { relative: 0.8 },
  },
  sft: {
    perplexity: { relative: 0.08 },
    entropy: { absolute: 0.05 },
    confidence: { absolute: 0.005 },
    effectiveVocab: { relative: 0.08 },
    kl: { relative: 0.11 },
    lessDiverse: { absolute: 0.22 },
    integerShare: { absolute: 0.22 },
    integerCount: { relative: 0.32 },
  },
  dpo: {
    perplexity: { factor: 23 },
    entropy: { absolute: 2.2 },
    confidence: { absolute: 0.32 },
    effectiveVocab: { factor: 19 },
    kl: { factor: 2.3 },
    lessDiverse: { absolute: 0.51 },
    integerShare: { absolute: 0.65 },
    integerCount: { relative: 0.53 },
  },
};
