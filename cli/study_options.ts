/**
 * The options that choose a study, shared by `reproduce` and the cluster jobs' `study-step`: `--study <file>` or
 * the embedded default at `--size`, and `--results` over the study's own results folder.
 * @module
 */
import { resolve } from "node:path";
import { embeddedStudy, readStudy, type StudyConfig } from "../lib/study/config.ts";
import { UsageError } from "./options.ts";

/** The option declarations (for parseCommandLine). */
export const STUDY_OPTIONS = {
  study: { type: "string" },
  size: { type: "string", default: "default" },
  results: { type: "string" },
} as const;

/** The study the options choose. */
export function studyFromOptions(values: { study?: string; size?: string; results?: string }): StudyConfig {
  const size = values.size ?? "default";
  if (size !== "default" && size !== "ci") {
    throw new UsageError(`--size must be "default" or "ci", got "${size}"`);
  }
  const study = values.study ? readStudy(values.study) : embeddedStudy(size);
  if (values.results) study.resultsDir = resolve(values.results);
  return study;
}

/** The same choice as arguments for another process (absolute paths), e.g. a cluster job. */
export function studyArguments(
  values: { study?: string; size?: string },
  study: StudyConfig,
): string[] {
  return [
    ...(values.study ? ["--study", resolve(values.study)] : ["--size", values.size ?? "default"]),
    "--results",
    study.resultsDir,
  ];
}
