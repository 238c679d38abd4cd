/** The study a notebook or command works on, from its parameters. @module */
import { isAbsolute, join } from "node:path";
import { PROJECT_ROOT } from "../project_root.ts";
import { embeddedStudy, readStudy, type StudyConfig, type StudySize } from "./config.ts";
import { figureRoles, mainWords } from "./figure_selection.ts";
import { studyPaths } from "./steps.ts";
import type { FigureRole } from "../figures/style.ts";
import { setFigurePreset } from "../figures/preset.ts";

/**
 * A path given to a notebook or command, made independent of the working folder: absolute paths as they are,
 * relative ones against the project root (the folder holding `deno.json`). A notebook rerun from
 * `results/notebooks/` in JupyterLab therefore reads the same files as one executed from `notebooks/`
 * (`import.meta` does not work in notebook cells, so the cells cannot resolve paths against themselves).
 */
export function projectPath(path: string): string {
  return isAbsolute(path) ? path : join(PROJECT_ROOT, path);
}

/**
 * `study` is the path of a `study/1` file (relative paths are relative to the project root, see
 * {@link projectPath}); an empty string means the embedded default at `size` ("default" or "ci"). Paths inside
 * a study file are relative to the file.
 */
export function studyFromParams(study: string, size: string = "default"): StudyConfig {
  if (study !== "") return readStudy(projectPath(study));
  if (size !== "default" && size !== "ci") throw new Error(`size must be "default" or "ci", got "${size}"`);
  return embeddedStudy(size as StudySize);
}

/** What a notebook works with, opened from its parameters by {@link openStudy}. */
export interface OpenedStudy {
  /** The study. */
  S: StudyConfig;
  /** Recompute cached results: the `recompute` parameter, or `MODE_COLLAPSE_RECOMPUTE=1` (`--recompute`). */
  force: boolean;
  /** Where its figures are saved. */
  figuresDir: string;
  /** Figure role per study model. */
  roles: Record<string, FigureRole>;
  /** The word limit the figures show (20 when computed, else the first). */
  words: string;
}

/**
 * Opens the study a notebook's parameters name (`study`, `size`, `recompute`), with its paths and roles;
 * `figurePreset` (`paper-single`, `paper-double`, `screen`; "" = the run's own) sets the look of every later
 * figure of the notebook.
 */
export function openStudy(
  params: { study: string; size?: string; recompute?: boolean; figurePreset?: string },
): OpenedStudy {
  if (params.figurePreset !== undefined && params.figurePreset !== "") {
    setFigurePreset(params.figurePreset, { env: false }); // this process only: nothing else inherits it
  }
  const S = studyFromParams(params.study, params.size);
  return {
    S,
    force: params.recompute === true || Deno.env.get("MODE_COLLAPSE_RECOMPUTE") === "1",
    figuresDir: studyPaths.figures(S),
    roles: figureRoles(S),
    words: mainWords(S),
  };
}
