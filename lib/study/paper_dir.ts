/** Where the paper's result files are for a notebook or command, and how that was decided. @module */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { PROJECT_ROOT } from "../project_root.ts";
import { SHARED_DIR_ENV } from "../shared_dir.ts";
import type { StudyConfig } from "./config.ts";

/** Where the paper's result files are, and how that was decided. */
export interface PaperDirChoice {
  dir: string | undefined;
  how: string;
}

/**
 * The paper's files: none when `param` is "none"; `param` when given (relative to the project root, whatever the
 * working folder; an error if it does not exist), else the study's `paperDir`, else `$MODE_COLLAPSE_SHARED/paper`,
 * else `shared/paper` beside the project; undefined when none exists.
 */
export function resolvePaperDir(param: string, study?: StudyConfig): PaperDirChoice {
  if (param === "none") return { dir: undefined, how: 'skipped on request (paperDir = "none")' };
  if (param !== "") {
    const dir = isAbsolute(param) ? param : join(PROJECT_ROOT, param);
    if (!existsSync(dir)) throw new Error(`paperDir ${param} (${dir}) does not exist`);
    return { dir, how: `the paperDir parameter (${dir})` };
  }
  if (study?.paperDir) {
    if (!existsSync(study.paperDir)) throw new Error(`the study's paperDir ${study.paperDir} does not exist`);
    return { dir: study.paperDir, how: `the study's paperDir (${study.paperDir})` };
  }
  const env = Deno.env.get(SHARED_DIR_ENV);
  if (env && existsSync(join(env, "paper"))) {
    return { dir: resolve(env, "paper"), how: `$${SHARED_DIR_ENV}/paper (${resolve(env, "paper")})` };
  }
  const beside = join(PROJECT_ROOT, "..", "shared", "paper");
  if (existsSync(beside)) {
    return { dir: resolve(beside), how: `shared/paper beside the project (${resolve(beside)})` };
  }
  return {
    dir: undefined,
    how: `not found: no paperDir parameter, no study paperDir, no $${SHARED_DIR_ENV}/paper, no ${
      resolve(beside)
    }`,
  };
}
