import assert from "node:assert/strict";
import {
  isPyWhitespace,
  ngramKeys,
  pySplit,
  pyStrip,
  truncateWords,
  utf8Length,
} from "../../lib/metrics/text.ts";

Deno.test("pySplit: Python whitespace, not JavaScript's \\s", () => {
  // U+FEFF is \s in JS but not whitespace in Python; U+001C..U+001F and U+0085 are the other way round.
  assert.deepEqual(pySplit("a\uFEFFb c"), ["a\uFEFFb", "c"]);
  assert.deepEqual(pySplit("a\x1cb\x1dc\x1ed\x1fe\x85f"), ["a", "b", "c", "d", "e", "f"]);
  assert.deepEqual(pySplit("  a\u3000b\u2028c\u00a0 "), ["a", "b", "c"]);
  assert.deepEqual(pySplit("zero\u200Bwidth"), ["zero\u200Bwidth"]);
  assert.deepEqual(pySplit(""), []);
  assert.deepEqual(pySplit(" \n\t "), []);
});

Deno.test("isPyWhitespace matches str.isspace for the BMP's whitespace code points", () => {
  const py = [
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
    ...Array.from({ length: 11 }, (_, i) => 0x2000 + i),
    0x2028,
    0x2029,
    0x202f,
    0x205f,
    0x3000,
  ];
  for (let c = 0; c < 0x10000; c++) assert.equal(isPyWhitespace(c), py.includes(c), `U+${c.toString(16)}`);
});

Deno.test("truncateWords joins the first words with single spaces", () => {
  assert.equal(truncateWords("  The cat\n\nsat on the mat ", 3), "The cat sat");
  assert.equal(truncateWords("\n\n", 5), "");
  assert.equal(truncateWords("a b", 20), "a b");
  assert.throws(() => truncateWords("a", -1), RangeError);
});

Deno.test("pyStrip, ngramKeys, utf8Length", () => {
  assert.equal(pyStrip("\x1c x \u3000"), "x");
  assert.deepEqual(ngramKeys(["a", "b", "c"], 2), ["a b", "b c"]);
  assert.deepEqual(ngramKeys(["a"], 2), []);
  assert.equal(utf8Length("aé漢🙂"), 1 + 2 + 3 + 4);
});
