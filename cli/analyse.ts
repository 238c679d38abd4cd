/**
 * `deno task analyse <command>`: the command-line entry point. Each command lives in its own file, is a thin
 * caller of `lib/`, reads its options through ./options.ts (a value option given twice is an error), says where it
 * writes before it starts, and exits 0 only when it did its job (2: a wrong command line, 130: interrupted).
 * @module
 */

import type { Command } from "./command.ts";
import { UsageError } from "./options.ts";
import { importLater } from "./import_later.ts";

/** A command's module, loaded only when it runs (and, through importLater, not prepared at start-up either). */
function commandModule(file: string): () => Promise<{ command: Command }> {
  return () => importLater(new URL(file, import.meta.url));
}

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  diversity: commandModule("./diversity.ts"),
  "paper-check": commandModule("./paper_check.ts"),
  score: commandModule("./score.ts"),
  generate: commandModule("./generate.ts"),
  "inspect-model": commandModule("./inspect_model.ts"),
  reproduce: commandModule("./reproduce.ts"),
  "merge-scores": commandModule("./merge_scores.ts"),
  merge: commandModule("./merge.ts"),
  setup: commandModule("./setup.ts"),
  figures: commandModule("./figures.ts"),
  "study-step": commandModule("./study_step.ts"),
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
