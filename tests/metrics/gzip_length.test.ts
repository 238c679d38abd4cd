/** The gzip-length backends agree with each other, and the forked-stream path with one-shot compression. */
import assert from "node:assert/strict";
import { libzBackend, openGzipLength, pakoBackend } from "../../lib/metrics/gzip_length.ts";

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

Deno.test("libz (when present) agrees with pako, including the forked-stream path", () => {
  const native = libzBackend();
  if ("unavailable" in native) {
    console.warn(`libz not available here: ${native.unavailable}`);
    return;
  }
  const p = pakoBackend();
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
