/**
 * Python string semantics the paper's metrics depend on: `str.split()`, `str.strip()`, word truncation and n-grams.
 * JavaScript's `\s` is a different set from Python's `str.isspace()` (it adds U+FEFF and lacks U+001C–U+001F and
 * U+0085), and U+FEFF does occur in the paper's completions, so splitting is written out here.
 * @module
 */

/** Code points for which Python's `str.isspace()` is true. */
const PY_WHITESPACE = new Set<number>([
  0x09,
  0x0a,
  0x0b,
  0x0c,
  0x0d,
  0x1c,
  0x1d,
  0x1e,
  0x1f,
  0x20,
  0x85,
  0xa0,
  0x1680,
  0x2000,
  0x2001,
  0x2002,
  0x2003,
  0x2004,
  0x2005,
  0x2006,
  0x2007,
  0x2008,
  0x2009,
  0x200a,
  0x2028,
  0x2029,
  0x202f,
  0x205f,
  0x3000,
]);

/** Whether a UTF-16 code unit is Python whitespace (all of them are in the BMP, none is a surrogate). */
export function isPyWhitespace(codeUnit: number): boolean {
  return codeUnit <= 0x20
    ? (codeUnit >= 0x09 && codeUnit <= 0x0d) || (codeUnit >= 0x1c)
    : PY_WHITESPACE.has(codeUnit);
}

/** Python's `s.split()` with no argument: runs of whitespace separate words; no empty words. */
export function pySplit(s: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    if (isPyWhitespace(s.charCodeAt(i))) {
      if (start >= 0) {
        words.push(s.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) words.push(s.slice(start));
  return words;
}

/** Python's `s.strip()` with no argument. */
export function pyStrip(s: string): string {
  let a = 0, b = s.length;
  while (a < b && isPyWhitespace(s.charCodeAt(a))) a++;
  while (b > a && isPyWhitespace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** Python's `s.lower()`. JavaScript's locale-independent `toLowerCase` agrees on the data and vectors checked. */
export function pyLower(s: string): string {
  return s.toLowerCase();
}

/** The paper's truncation `" ".join(s.split()[:maxWords])`: single spaces, no outer whitespace, maybe `""`. */
export function truncateWords(s: string, maxWords: number): string {
  if (!Number.isInteger(maxWords) || maxWords < 0) {
    throw new RangeError(`maxWords must be a non-negative integer, got ${maxWords}`);
  }
  return pySplit(s).slice(0, maxWords).join(" ");
}

/**
 * The n-grams of a token list as strings (tokens joined by a single space). Tokens from `pySplit` never contain
 * a space, so the joined form is unambiguous. Empty when there are fewer than `n` tokens, like `nltk.ngrams`.
 */
export function ngramKeys(tokens: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(" "));
  return out;
}

/** UTF-8 byte length of `s` (Python's `len(s.encode())` for strings without lone surrogates). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether `s` contains an unpaired UTF-16 surrogate, which Python's `str.encode()` would refuse. */
export function hasLoneSurrogate(s: string): boolean {
  return !s.isWellFormed();
}
