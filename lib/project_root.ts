/**
 * The project's root folder, found from this module's own location (so it holds wherever the clone lives).
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder (the one holding `deno.json`). */
export const PROJECT_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");
