/**
 * Where the reference material (`shared/`: the paper's files, golden vectors) lives, if anywhere. It sits beside
 * the project on developer and CI machines but not in a user's clone, so it is always optional.
 * @module
 */
import { join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { PROJECT_ROOT } from "./project_root.ts";

/** Environment variable naming the shared reference folder. */
export const SHARED_DIR_ENV = "MODE_COLLAPSE_SHARED";

/**
 * The shared reference folder: `$MODE_COLLAPSE_SHARED` if set, else `../shared` beside the project root.
 * Returns `undefined` when neither exists; an env var pointing nowhere is an error, not a silent fallback.
 */
export function findSharedDir(): string | undefined {
  const fromEnv = Deno.env.get(SHARED_DIR_ENV);
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!existsSync(fromEnv)) throw new Error(`${SHARED_DIR_ENV}=${fromEnv} does not exist`);
    return resolve(fromEnv);
  }
  const beside = join(PROJECT_ROOT, "..", "shared");
  return existsSync(join(beside, "reference")) ? beside : undefined;
}
