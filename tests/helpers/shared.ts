/**
 * Test access to the optional shared reference folder. Tests that need it are registered as ignored (reported as
 * skipped, with the reason in their name) when it is absent, never as passed.
 */
import { join } from "node:path";
import { findSharedDir } from "../../lib/shared_dir.ts";

/** The shared folder, or undefined. */
export const SHARED: string | undefined = findSharedDir();

/** Reason text appended to skipped test names. */
export const SKIP_NOTE = SHARED === undefined
  ? " [skipped: ../shared not found; set MODE_COLLAPSE_SHARED]"
  : "";

/** Path inside the shared folder; only call from tests that are not ignored. */
export function sharedPath(...parts: string[]): string {
  if (SHARED === undefined) throw new Error("shared folder not available");
  return join(SHARED, ...parts);
}

/** Reads and parses a JSON file from the shared folder. */
export function readSharedJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(Deno.readTextFileSync(sharedPath(...parts))) as T;
}

/** `Deno.test` for a check that needs the shared folder: ignored (skipped) with a visible reason when it is absent. */
export function sharedTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name: name + SKIP_NOTE, ignore: SHARED === undefined, fn });
}
