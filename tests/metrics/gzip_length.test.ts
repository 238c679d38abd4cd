/** The gzip-length backends agree with each other, and the forked-stream path with one-shot compression. */
import assert from "node:assert/strict";
import {
  libzBackend,
  openGzipLength,
  pakoBackend,
  SMALL_INPUT_MAX_BYTES,
} from "../../lib/metrics/gzip_length.ts";

const probe = libzBackend();
const libzMissing = "unavailable" in probe;
if (!libzMissing) probe.close();

const texts = [
  "",
  "a",
  "Once upon a time, there was a little girl named Lily.",
  "Ünïcödé — 漢字 🙂 ".repeat(30),
  Array.from({ length: 900 }, (_, i) => `tok${(i * 37) % 251}`).join(" "), // > 262 bytes: exercises lookahead
];

Deno.test("pako gives CPython's gzip lengths for known strings", () => {
  const p = pakoBackend();
  // len(gzip.compress(b"")) == 20 and the 28-byte sentence of the metric vectors compresses to 44.
  assert.equal(p.lengthOfString(""), 20);
  assert.equal(p.lengthOfString("the cat sat on the mat today"), 44);
});

Deno.test({
  name: "libz agrees with pako, including the forked-stream path",
  ignore: libzMissing,
}, () => {
  const native = libzBackend();
  if ("unavailable" in native) throw new Error(native.unavailable);
  const p = pakoBackend({ smallInputs: false });
  for (const a of texts) {
    assert.equal(native.lengthOfString(a), p.lengthOfString(a), `one-shot ${a.length}`);
    for (const b of texts) {
      const [x, y] = native.lengthsWithSuffix(a, " " + b);
      assert.equal(x, p.lengthOfString(a));
      assert.equal(y, p.lengthOfString(a + " " + b), `fork ${a.length}+${b.length}`);
    }
  }
  native.close();
  assert.throws(() => native.lengthOfString("x"), /after close/);
});

Deno.test("openGzipLength honours a forced choice", () => {
  assert.match(openGzipLength("pako").name, /^pako/);
  const auto = openGzipLength("auto");
  assert.match(auto.name, /^(libz|pako)/);
  auto.close();
});

/** Deterministic byte strings of length n in several shapes: random bytes, a 4-letter alphabet, one byte repeated,
 * a short period, words, and a random half repeated (long matches). */
function shapes(n: number, seed: number): Uint8Array[] {
  let x = seed;
  const next = () => (x = (x * 48271) % 2147483647) / 2147483647;
  const words = ["the", "a", "cat", "sat", "on", "mat", "Once", "upon", "time", "\n", "H2O"];
  let text = "";
  while (text.length < n) text += words[Math.floor(next() * words.length)] + " ";
  const random = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
  const half = random.slice();
  for (let i = n >> 1; i < n; i++) half[i] = half[i - (n >> 1)];
  const period = 1 + Math.floor(next() * 40);
  return [
    random,
    Uint8Array.from({ length: n }, () => 97 + Math.floor(next() * 4)),
    new Uint8Array(n).fill(97),
    Uint8Array.from({ length: n }, (_, i) => 32 + ((i % period) * 37) % 90),
    new TextEncoder().encode(text).slice(0, n),
    half,
  ];
}

Deno.test({
  name:
    "libz's small-input stream gives CPython's lengths on both sides of its size limit, one-shot and forked",
  ignore: libzMissing,
}, () => {
  const native = libzBackend();
  if ("unavailable" in native) throw new Error(native.unavailable);
  const p = pakoBackend({ smallInputs: false }); // memLevel 8, windowBits 15: CPython's settings
  const lengths = [0, 1, 2, 3, 64, 257, 258, 262, 263, 511, 512, 700, 786, 900];
  for (let n = SMALL_INPUT_MAX_BYTES - 24; n <= SMALL_INPUT_MAX_BYTES + 24; n++) lengths.push(n);
  lengths.push(1100, 1500, 2048);
  let checked = 0;
  for (const n of lengths) {
    for (const [k, bytes] of shapes(n, n + 1).entries()) {
      const want = p.lengthBytes(bytes);
      assert.equal(native.lengthBytes(bytes), want, `one-shot, shape ${k}, ${n} bytes`);
      // Forked at a third: the prefix alone and the whole input, from one stream chosen by the whole length.
      const cut = Math.floor(n / 3);
      const parts = [bytes.subarray(0, cut)], tail = bytes.subarray(cut);
      const [prefixLength, wholeLength] = native.lengthsOfJoinedWithTail(parts, tail);
      const joined = new Uint8Array(n + 1);
      joined.set(bytes.subarray(0, cut));
      joined[cut] = 0x20;
      joined.set(tail, cut + 1);
      assert.equal(
        prefixLength,
        p.lengthBytes(bytes.subarray(0, cut)),
        `fork prefix, shape ${k}, ${n} bytes`,
      );
      assert.equal(wholeLength, p.lengthBytes(joined), `fork whole, shape ${k}, ${n + 1} bytes`);
      checked++;
    }
  }
  native.close();
  assert.equal(checked, lengths.length * 6);
});

Deno.test("pako's small-input stream gives the same lengths as CPython's settings on both sides of its limit", () => {
  const reference = pakoBackend({ smallInputs: false }), tiered = pakoBackend();
  const lengths = [0, 1, 2, 3, 64, 257, 258, 262, 263, 511, 512, 700, 786, 900, 1100, 1500];
  for (let n = SMALL_INPUT_MAX_BYTES - 24; n <= SMALL_INPUT_MAX_BYTES + 24; n++) lengths.push(n);
  let checked = 0;
  for (const n of lengths) {
    for (const [k, bytes] of shapes(n, 7 * n + 3).entries()) {
      assert.equal(tiered.lengthBytes(bytes), reference.lengthBytes(bytes), `shape ${k}, ${n} bytes`);
      checked++;
    }
  }
  assert.equal(checked, lengths.length * 6);
});
