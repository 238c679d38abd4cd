/** Running `cli/analyse.ts <command> …` as a subprocess, as a user would (`deno task analyse …`). */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/project_root.ts";

/** The CLI entry point. */
export const CLI: string = join(PROJECT_ROOT, "cli", "analyse.ts");

/** A `Deno.Command` running the CLI with `args` (stdout and stderr piped), e.g. to spawn and kill it. */
export function analyseCommand(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs the CLI to the end: exit code, stdout and stderr. */
export async function analyse(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await analyseCommand(args).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
