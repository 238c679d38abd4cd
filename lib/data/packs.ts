/**
 * The paper's three prompt packs: the names of the bundled packs in `data/prompts/`, the prompt sets of its
 * completion files and the group keys of its stored results.
 * @module
 */

/** Names of the paper's prompt packs, in the paper's order. */
export const PAPER_PACKS = ["creative", "factual", "seen"] as const;

/** One of {@link PAPER_PACKS}. */
export type PaperPack = (typeof PAPER_PACKS)[number];

/** Whether `name` is one of {@link PAPER_PACKS}. */
export function isPaperPack(name: string): name is PaperPack {
  return (PAPER_PACKS as readonly string[]).includes(name);
}

/** The pack names as a regular-expression alternation (`creative|factual|seen`), for file-name patterns. */
export const PAPER_PACK_PATTERN: string = PAPER_PACKS.join("|");
