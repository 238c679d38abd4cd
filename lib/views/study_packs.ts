/**
 * Which of a study's prompt packs a notebook shows: the paper's packs it asks for when the study samples them,
 * else every pack of the study (a custom pack such as "poems" is shown under its own name), so no notebook
 * depends on the three paper packs being there.
 * @module
 */
import type { StudyConfig } from "../study/config.ts";
import { studyPackNames } from "../study/steps.ts";

/** The packs to show and whether both packs of the paper's creative/factual comparison are among them. */
export interface PacksToShow {
  /** Pack names, `preferred` order first. */
  packs: string[];
  /** True when the study samples both "creative" and "factual" (the swap check and the difference grid). */
  creativeAndFactual: boolean;
}

/** The packs of `preferred` the study samples, in that order; when none, all the study's packs, by name. */
export function packsToShow(study: StudyConfig, preferred: readonly string[]): PacksToShow {
  const names = studyPackNames(study);
  if (names.length === 0) {
    throw new Error(`study "${study.name}" samples no prompt pack (sweep.packs is empty)`);
  }
  const wanted = preferred.filter((p) => names.includes(p));
  return {
    packs: wanted.length > 0 ? wanted : names,
    creativeAndFactual: names.includes("creative") && names.includes("factual"),
  };
}
