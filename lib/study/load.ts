/** The study a notebook or command works on, from its parameters. @module */
import { embeddedStudy, readStudy, type StudyConfig, type StudySize } from "./config.ts";

/**
 * `study` is the path of a `study/1` file; an empty string means the embedded default at `size` ("default" or
 * "ci"). Paths inside a study file are relative to the file.
 */
export function studyFromParams(study: string, size: string = "default"): StudyConfig {
  if (study !== "") return readStudy(study);
  if (size !== "default" && size !== "ci") throw new Error(`size must be "default" or "ci", got "${size}"`);
  return embeddedStudy(size as StudySize);
}
