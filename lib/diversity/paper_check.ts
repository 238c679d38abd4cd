/**
 * Conformance with the paper's stored diversity results: recompute every key from the paper's own completion
 * files and compare cell by cell. The 7 deterministic model-free keys must equal the stored float32 values exactly
 * (NaN positions included) and `vendi_jaccard_2` within 1e-6 relative; keys that cannot be recomputed identically
 * (the cosine family needs the paper's embedder; order-q was drawn from an unseeded RNG) are compared side by side.
 * Labels are the correct ones: the paper's stored "creative" group is compared with the factual completions.
 * @module
 */
import { join } from "node:path";
import type { SentenceEmbedder } from "../embeddings/embedder.ts";
import { readPaperResults } from "../data/paper.ts";
import { PAPER_PACK_PATTERN, PAPER_PACKS, type PaperPack } from "../data/packs.ts";
import { formatScientific, formatSignificant } from "../numeric/number_format.ts";
import { loadCompletions } from "../data/load_completions.ts";
import type { MetricDefinition } from "../metrics/definition.ts";
import { METRIC_SELECTIONS, METRICS } from "../metrics/registry.ts";
import { numpyMean } from "../numeric/numpy_sum.ts";
import { computeDiversity, type DiversityProgress, type DiversityWorkerPool } from "./run.ts";

/** The paper's files for one model. */
export interface PaperModelFiles {
  model: string;
  /** Completion files by (correct) prompt set. */
  completions: Partial<Record<PaperPack, string>>;
  /** Stored results files by word limit: `creative_factual/` (both sets in one file) and `seen/`. */
  results: Record<number, string>;
  seenResults: Record<number, string>;
}

function listDir(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/**
 * Finds, as laid out in the paper's `results/` folder, `completions/<model>_completions_<set>_max_length<L>.npy`,
 * `creative_factual/<model>_results_<W>_words.npy` and `seen/<model>_results_<W>_words.npy`.
 */
export function findPaperFiles(paperDir: string): PaperModelFiles[] {
  const byModel = new Map<string, PaperModelFiles>();
  const get = (model: string) => {
    let f = byModel.get(model);
    if (f === undefined) byModel.set(model, f = { model, completions: {}, results: {}, seenResults: {} });
    return f;
  };
  const completionsName = new RegExp(`^(.+)_completions_(${PAPER_PACK_PATTERN})_max_length\\d+\\.npy$`);
  for (const name of listDir(join(paperDir, "completions"))) {
    const m = completionsName.exec(name);
    if (m) get(m[1]).completions[m[2] as PaperPack] = join(paperDir, "completions", name);
  }
  for (const [folder, field] of [["creative_factual", "results"], ["seen", "seenResults"]] as const) {
    for (const name of listDir(join(paperDir, folder))) {
      const m = /^(.+)_results_(\d+)_words\.npy$/.exec(name);
      if (m) get(m[1])[field][Number(m[2])] = join(paperDir, folder, name);
    }
  }
  return [...byModel.values()].sort((a, b) => a.model.localeCompare(b.model));
}

/** How a key is compared. */
export type CheckMode = "exact-float32" | "relative-1e-6" | "side-by-side";

/** The comparison of one key for one (model, words, prompt set). */
export interface KeyCheck {
  words: number;
  /** The prompt set the completions answer (correct label). */
  group: PaperPack;
  /** The group name under which the paper stored these values (creative and factual are swapped). */
  storedGroup: PaperPack;
  key: string;
  mode: CheckMode;
  cells: number;
  /** Cells equal under the mode (NaN = NaN counts as equal); side-by-side keys report agreement to 1e-6. */
  matching: number;
  nanStored: number;
  nanOurs: number;
  maxAbsDiff: number;
  /** nanmean over prompts of the stored values, per temperature. */
  storedMeans: number[];
  /** nanmean over prompts of the recomputed values, per temperature. */
  oursMeans: number[];
}

/** One model's conformance. */
export interface ModelCheck {
  model: string;
  checks: KeyCheck[];
  /** True when every exact / relative key matched in every cell. */
  ok: boolean;
  embedder: string | null;
  seed: number;
  elapsedSeconds: number;
}

/** Vendi's value goes through an eigen-solver, whose last bits differ between implementations. */
const TOLERANT_KEYS = new Set(["vendi_jaccard_2"]);

/** The comparison mode of a paper key: the deterministic text-only keys exactly, except the eigen-based one. */
export function checkModeOf(key: string): CheckMode {
  if (!METRIC_SELECTIONS.deterministic().some((m) => m.key === key)) return "side-by-side";
  return TOLERANT_KEYS.has(key) ? "relative-1e-6" : "exact-float32";
}

function nanmeanRows(values: ArrayLike<number>, T: number, P: number): number[] {
  return Array.from({ length: T }, (_, t) => {
    const row: number[] = [];
    for (let p = 0; p < P; p++) if (!Number.isNaN(values[t * P + p])) row.push(values[t * P + p]);
    return row.length === 0 ? NaN : numpyMean(row);
  });
}

/** Options of {@link checkPaperModel}. */
export interface PaperCheckOptions {
  /** Embedder for the cosine family; without one those keys are left out. */
  embedder?: SentenceEmbedder;
  /** Seed of the order-q draws (default 0). */
  seed?: number;
  workers?: number;
  /** gzip implementation for NCD and compression ratios (default `"auto"`). */
  gzip?: "auto" | "libz" | "pako";
  /** A worker pool kept warm across models (the caller closes it). */
  pool?: DiversityWorkerPool;
  /** Limit to these keys (default: every paper key that can be computed). */
  keys?: readonly string[];
  onProgress?: (p: DiversityProgress & { model: string; group: string }) => void;
}

/** Recomputes and compares every stored key of one model. */
export async function checkPaperModel(
  files: PaperModelFiles,
  options: PaperCheckOptions = {},
): Promise<ModelCheck> {
  const started = performance.now();
  const seed = options.seed ?? 0;
  const metrics: MetricDefinition[] = METRICS.filter((m) =>
    m.inPaper && (options.embedder !== undefined || !m.needsEmbeddings) &&
    (options.keys === undefined || options.keys.includes(m.key))
  );
  const checks: KeyCheck[] = [];
  for (const group of PAPER_PACKS) {
    const path = files.completions[group];
    const resultFiles = group === "seen" ? files.seenResults : files.results;
    const wordLimits = Object.keys(resultFiles).map(Number).sort((a, b) => a - b);
    if (path === undefined || wordLimits.length === 0) continue;
    const stored = new Map(
      await Promise.all(wordLimits.map(async (w) => [w, await readPaperResults(resultFiles[w])] as const)),
    );
    const loaded = await loadCompletions(path);
    const T = loaded.cells.length, P = loaded.cells[0].length;
    const tables = await computeDiversity(loaded, {
      words: wordLimits,
      metrics,
      seed,
      embedder: options.embedder,
      workers: options.workers,
      pool: options.pool,
      gzip: options.gzip,
      onProgress: (p) => options.onProgress?.({ ...p, model: files.model, group }),
    });
    for (const w of wordLimits) {
      const storedGroup = stored.get(w)!.groups[group];
      if (storedGroup === undefined) continue;
      for (const m of metrics) {
        const theirs = storedGroup[m.key];
        if (theirs === undefined) continue;
        const ours = new Float64Array(T * P);
        tables.results[String(w)][m.key].forEach((row, t) => row.forEach((v, p) => ours[t * P + p] = v));
        const mode = checkModeOf(m.key);
        let matching = 0, nanStored = 0, nanOurs = 0, maxAbsDiff = 0;
        for (let i = 0; i < T * P; i++) {
          const a = ours[i], b = theirs[i];
          if (Number.isNaN(b)) nanStored++;
          if (Number.isNaN(a)) nanOurs++;
          let same: boolean;
          if (Number.isNaN(a) || Number.isNaN(b)) same = Number.isNaN(a) && Number.isNaN(b);
          else {
            maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
            same = mode === "exact-float32" ? Math.fround(a) === b : Math.abs(a - b) <= 1e-6 * Math.abs(b);
          }
          if (same) matching++;
        }
        checks.push({
          words: w,
          group,
          storedGroup: group === "creative" ? "factual" : group === "factual" ? "creative" : "seen",
          key: m.key,
          mode,
          cells: T * P,
          matching,
          nanStored,
          nanOurs,
          maxAbsDiff,
          storedMeans: nanmeanRows(theirs, T, P),
          oursMeans: nanmeanRows(ours, T, P),
        });
      }
    }
  }
  const ok = checks.length > 0 && checks.every((c) => c.mode === "side-by-side" || c.matching === c.cells);
  return {
    model: files.model,
    checks,
    ok,
    embedder: options.embedder ? options.embedder.info.name : null,
    seed,
    elapsedSeconds: (performance.now() - started) / 1000,
  };
}

function fmt(x: number): string {
  return formatSignificant(x, 5, "NaN");
}

/** A Markdown report: the exact keys' verdicts, then stored vs recomputed means for the side-by-side keys. */
export function renderPaperCheckMarkdown(models: readonly ModelCheck[], paperDir: string): string {
  const out: string[] = [];
  out.push("# Conformance with the paper's stored diversity results", "");
  out.push(
    `Paper files: \`${paperDir}\`. Labels are corrected: the paper stored the factual prompts' values under`,
  );
  out.push(
    `"creative" and vice versa; each row names both. Exact keys compare float32(recomputed) with the stored`,
  );
  out.push(`float32 value cell by cell (NaN positions included); vendi_jaccard_2 within 1e-6 relative.`, "");
  for (const m of models) {
    out.push(`## ${m.model} — ${m.ok ? "all exact keys reproduced" : "MISMATCHES"}`, "");
    out.push(
      `Embedder: ${m.embedder ?? "none (cosine keys not recomputed)"}; order-q seed ${m.seed}; ${
        m.elapsedSeconds.toFixed(1)
      } s.`,
      "",
    );
    out.push(
      "| words | prompts (stored as) | key | mode | matching cells | NaN stored / ours | max abs diff |",
    );
    out.push("|---|---|---|---|---|---|---|");
    for (const c of m.checks) {
      if (c.mode === "side-by-side") continue;
      out.push(
        `| ${c.words} | ${c.group} ("${c.storedGroup}") | ${c.key} | ${c.mode} | ${c.matching}/${c.cells} | ` +
          `${c.nanStored} / ${c.nanOurs} | ${formatScientific(c.maxAbsDiff, 2)} |`,
      );
    }
    out.push("");
    const side = m.checks.filter((c) => c.mode === "side-by-side");
    if (side.length > 0) {
      out.push("Side by side (nanmean over prompts at T = 0.1 / 0.5 / 1.0 / 1.5; stored → recomputed):", "");
      out.push("| words | prompts | key | stored | recomputed | NaN stored / ours |");
      out.push("|---|---|---|---|---|---|");
      const at = [0, 4, 9, 14];
      for (const c of side) {
        const s = at.map((t) => fmt(c.storedMeans[t])).join(" / ");
        const o = at.map((t) => fmt(c.oursMeans[t])).join(" / ");
        out.push(`| ${c.words} | ${c.group} | ${c.key} | ${s} | ${o} | ${c.nanStored} / ${c.nanOurs} |`);
      }
      out.push("");
    }
  }
  return out.join("\n");
}
