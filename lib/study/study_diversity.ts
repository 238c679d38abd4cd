/**
 * A study's diversity series on some packs: the sweep and diversity steps of every model run or reused (one
 * shared model loader), each step's cache note, and the `diversity/1` files read into series.
 * @module
 */
import { type DiversitySeries, loadDiversityFiles } from "../data/diversity_series.ts";
import type { StudyConfig } from "./config.ts";
import { ensureDiversity, ensureSweep, StudyModels } from "./steps.ts";

/** A step's outcome line, for the notebook to show. */
export interface StepNote {
  model: string;
  pack: string;
  step: "sweep" | "diversity";
  reused: boolean;
  note: string;
}

/** The diversity series of every study model on some packs, and what each step did. */
export interface StudyDiversity {
  series: DiversitySeries[];
  notes: StepNote[];
  /** `diversity/1` files read, per model and pack. */
  files: { model: string; pack: string; path: string }[];
}

/** The packs of `wanted` that the study samples (in `wanted` order). */
export function studyPacks(study: StudyConfig, wanted: readonly string[]): string[] {
  return wanted.filter((p) => study.sweep.packs.includes(p));
}

/**
 * Runs or reuses the sweep and diversity steps of every study model on `packs` (one shared model loader), and
 * reads the results into series. With `force` both steps are recomputed (one note per diversity step then).
 */
export async function studyDiversity(
  study: StudyConfig,
  packs: readonly string[],
  opts: { force?: boolean; log?: (line: string) => void; models?: readonly string[] } = {},
): Promise<StudyDiversity> {
  const loader = new StudyModels(study);
  const notes: StepNote[] = [];
  const files: StudyDiversity["files"] = [];
  const names = opts.models ?? study.models.map((m) => m.name);
  try {
    for (const model of names) {
      for (const pack of packs) {
        if (!opts.force) {
          const s = await ensureSweep(study, model, pack, { models: loader, log: opts.log });
          notes.push({ model, pack, step: "sweep", reused: s.reused, note: s.note });
        }
        const d = await ensureDiversity(study, model, pack, {
          models: loader,
          log: opts.log,
          force: opts.force,
        });
        notes.push({ model, pack, step: "diversity", reused: d.reused, note: d.note });
        files.push({ model, pack, path: d.value.path });
      }
    }
  } finally {
    await loader.dispose();
  }
  const series = await loadDiversityFiles(files.map((f) => f.path), files.map((f) => f.model));
  return { series, notes, files };
}
