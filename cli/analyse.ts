/**
 * `deno task analyse <command>`: the command-line entry point. Each command lives in its own file, is a thin
 * caller of `lib/`, reads its options through ./options.ts (a value option given twice is an error), says where it
 * writes before it starts, and exits 0 only when it did its job (2: a wrong command line, 130: interrupted).
 * @module
 */

import type { Command } from "./command.ts";
import { UsageError } from "./options.ts";

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  diversity: () => import("./diversity.ts"),
  "paper-check": () => import("./paper_check.ts"),
  score: () => import("./score.ts"),
  generate: () => import("./generate.ts"),
  "inspect-model": () => import("./inspect_model.ts"),
  reproduce: () => import("./reproduce.ts"),
  "merge-scores": () => import("./merge_scores.ts"),
  merge: () => import("./merge.ts"),
  setup: () => import("./setup.ts"),
  figures: () => import("./figures.ts"),
  "study-step": () => import("./study_step.ts"),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    console.log("usage: deno task analyse <command> [options]   (each command takes --help)\n\ncommands:");
    for (const [key, load] of Object.entries(COMMANDS)) {
      console.log(`  ${key.padEnd(14)} ${(await load()).command.summary}`);
    }
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    console.error(`unknown command "${name}"; known: ${Object.keys(COMMANDS).join(", ")}`);
    return 2;
  }
  try {
    return await (await load()).command.run(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n(deno task analyse ${name} --help shows the options)`);
    return 2;
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    // User-facing errors carry their own context (file, offset, what is wrong); the stack only on request.
    console.error(`error: ${(e as Error).message}`);
    if (Deno.env.get("MODE_COLLAPSE_DEBUG")) console.error((e as Error).stack);
    code = 1;
  }
  Deno.exit(code);
}
