/** The study a notebook or command works on, from its parameters. @module */
import { isAbsolute, join } from "node:path";
import { PROJECT_ROOT } from "../shared_dir.ts";
import { embeddedStudy, readStudy, type StudyConfig, type StudySize } from "./config.ts";

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
