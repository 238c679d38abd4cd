/** The study models that mark a fine-tuning epoch, found by name. @module */
import type { StudyConfig } from "./config.ts";

/** A study model that marks a fine-tuning epoch. */
export interface EpochModel {
  model: string;
  /** Name with the epoch marker removed (models of one run share it). */
  run: string;
  epoch: number;
}

/**
 * Models whose names mark a fine-tuning epoch: `…-epoch2`, `…_ep3`, `…-e1`, or the paper's HF revision suffix
 * `…sft3_1` (run `sft3`, epoch 1: the paper saved its SFT model after each epoch under such names).
 */
export function epochModels(study: StudyConfig): EpochModel[] {
  const out: EpochModel[] = [];
  for (const m of study.models) {
    const a = /^(.*?)[-_.]?(?:epoch|ep|e)[-_]?(\d+)$/i.exec(m.name);
    const b = /^(.*(?:sft|dpo)\d*)_(\d+)$/i.exec(m.name);
    const hit = a ?? b;
    if (hit && hit[1] !== "") out.push({ model: m.name, run: hit[1], epoch: Number(hit[2]) });
  }
  return out.sort((x, y) => x.run.localeCompare(y.run) || x.epoch - y.epoch);
}
