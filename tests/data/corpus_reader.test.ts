/**
 * The corpus reader on small corpora built in a scratch folder: plain and zstd input (both decoders), the
 * lm_dataformat conventions, the selection options and their early stop, malformed lines (skipped or fatal), and
 * damaged `.zst` files (truncated, corrupt, garbage).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { constants, zstdCompressSync } from "node:zlib";
import type { CorpusDocument } from "../../lib/data/corpus_document.ts";
import {
  CorpusDecodeError,
  CorpusFormatError,
  type CorpusReader,
  type CorpusSkip,
  readCorpus,
  type ReadCorpusOptions,
} from "../../lib/data/corpus_reader.ts";
import { zstdDecoderInfo, type ZstdDecoderName } from "../../lib/data/zstd_backend.ts";

const NAPI = (await zstdDecoderInfo()).name === "zstd-napi";
const DECODERS: ZstdDecoderName[] = ["zstd-napi", "node:zlib"];

/** `Deno.test` once per zstd decoder; the zstd-napi one is reported as skipped when its build did not load. */
function decoderTest(name: string, fn: (decoder: ZstdDecoderName) => Promise<void>): void {
  for (const decoder of DECODERS) {
    const unavailable = decoder === "zstd-napi" && !NAPI;
    Deno.test({
      name: `${name} [${decoder}]${unavailable ? " [skipped: zstd-napi did not load]" : ""}`,
      ignore: unavailable,
      fn: () => fn(decoder),
    });
  }
}

/** Runs `fn` with a scratch folder that is removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const enc = new TextEncoder();

/** Deterministic, poorly compressible words (so that compressed files span several read chunks). */
function words(seed: number, n: number): string {
  let x = seed * 2654435761 >>> 0 || 1;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.push((x % 1_000_003).toString(36) + (x % 7 === 0 ? "é" : ""));
  }
  return out.join(" ");
}

/** `count` Pile-like lines. */
function pileLines(count: number, wordsPerDoc = 20): string[] {
  return Array.from(
    { length: count },
    (_, i) =>
      JSON.stringify({
        text: `doc ${i}: ${words(i + 1, wordsPerDoc)}`,
        meta: { pile_set_name: `set${i % 3}` },
      }),
  );
}

function zstd(bytes: Uint8Array, checksum = false): Uint8Array {
  return zstdCompressSync(bytes, { params: { [constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0 } });
}

/** Writes `lines` joined with "\n" (plus a final one) as `<name>.jsonl` and its compressed `.jsonl.zst`. */
async function writeCorpus(
  dir: string,
  name: string,
  lines: string[],
): Promise<{ plain: string; zst: string }> {
  const bytes = enc.encode(lines.map((l) => l + "\n").join(""));
  const plain = join(dir, `${name}.jsonl`);
  const zst = join(dir, `${name}.jsonl.zst`);
  await Deno.writeFile(plain, bytes);
  await Deno.writeFile(zst, zstd(bytes));
  return { plain, zst };
}

async function collect(reader: CorpusReader): Promise<CorpusDocument[]> {
  const out: CorpusDocument[] = [];
  for await (const doc of reader) out.push(doc);
  return out;
}

/** Documents read before the reader threw, and what it threw. */
async function collectUntilError(reader: CorpusReader): Promise<{ docs: CorpusDocument[]; error: unknown }> {
  const docs: CorpusDocument[] = [];
  try {
    for await (const doc of reader) docs.push(doc);
  } catch (error) {
    return { docs, error };
  }
  return { docs, error: undefined };
}

decoderTest("plain and zstd input give identical documents", async (decoder) => {
  await withTempDir(async (dir) => {
    const lines = pileLines(6000);
    const { plain, zst } = await writeCorpus(dir, "c", lines);
    const a = readCorpus(plain);
    const b = readCorpus(zst, { zstdDecoder: decoder });
    const docsA = await collect(a);
    const docsB = await collect(b);
    assert.equal(docsA.length, 6000);
    assert.deepEqual(docsB, docsA);
    assert.deepEqual(docsA[5], {
      index: 5,
      line: 6,
      text: JSON.parse(lines[5]).text,
      meta: { pile_set_name: "set2" },
      bytes: enc.encode(JSON.parse(lines[5]).text).length,
    });
    assert.equal(a.stats.decoder, "none");
    assert.equal(b.stats.decoder, decoder);
    assert.equal(b.stats.decoderNote, undefined);
    for (const [r, path] of [[a, plain], [b, zst]] as const) {
      assert.equal(r.stats.lines, 6000);
      assert.equal(r.stats.documents, 6000);
      assert.equal(r.stats.skipped, 0);
      assert.equal(r.stats.end, "eof");
      assert.equal(r.stats.inputBytes, (await Deno.stat(path)).size);
      assert.equal(r.stats.decodedBytes, (await Deno.stat(plain)).size);
    }
    assert.ok(b.stats.inputBytes > 3 * 128 * 1024, "the compressed file spans several read chunks");
  });
});

decoderTest("several frames, a skippable frame and checksums", async (decoder) => {
  await withTempDir(async (dir) => {
    const lines = pileLines(300);
    const part1 = enc.encode(lines.slice(0, 100).map((l) => l + "\n").join(""));
    const part2 = enc.encode(lines.slice(100).map((l) => l + "\n").join(""));
    const skippable = new Uint8Array([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const path = join(dir, "multi.jsonl.zst");
    const frames = [zstd(part1, true), skippable, zstd(part2)];
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    frames.reduce((at, f) => (all.set(f, at), at + f.length), 0);
    await Deno.writeFile(path, all);
    const docs = await collect(readCorpus(path, { zstdDecoder: decoder }));
    assert.deepEqual(docs.map((d) => d.text), lines.map((l) => JSON.parse(l).text));
  });
});

Deno.test(
  "files compressed by zstd-napi read the same" + (NAPI ? "" : " [skipped: zstd-napi did not load]"),
  {
    ignore: !NAPI,
  },
  async () => {
    const { compress } = await import("zstd-napi");
    await withTempDir(async (dir) => {
      const { plain } = await writeCorpus(dir, "c", pileLines(500));
      const zst = join(dir, "napi.jsonl.zst");
      await Deno.writeFile(zst, compress(await Deno.readFile(plain)));
      for (const decoder of DECODERS) {
        assert.deepEqual(
          await collect(readCorpus(zst, { zstdDecoder: decoder })),
          await collect(readCorpus(plain)),
        );
      }
    });
  },
);

Deno.test("lm_dataformat conventions: list-valued text, meta, bare string lines, UTF-8 byte counts", async () => {
  await withTempDir(async (dir) => {
    const lines = [
      JSON.stringify({ text: ["first paragraph", "second", "third é"], meta: { a: 1 } }),
      JSON.stringify({ text: "plain", meta: null, id: 7 }),
      JSON.stringify("a bare string line"),
      JSON.stringify({ text: "" }),
      JSON.stringify({ text: "emoji 🙂 and ü", meta: { nested: { k: [1, 2] } } }),
    ];
    const { plain } = await writeCorpus(dir, "c", lines);
    const docs = await collect(readCorpus(plain));
    assert.deepEqual(docs, [
      { index: 0, line: 1, text: "first paragraph\n\nsecond\n\nthird é", meta: { a: 1 }, bytes: 33 },
      { index: 1, line: 2, text: "plain", bytes: 5 },
      { index: 2, line: 3, text: "a bare string line", bytes: 18 },
      { index: 3, line: 4, text: "", bytes: 0 },
      { index: 4, line: 5, text: "emoji 🙂 and ü", meta: { nested: { k: [1, 2] } }, bytes: 17 },
    ]);
  });
});

decoderTest("maxDocs stops reading early", async (decoder) => {
  await withTempDir(async (dir) => {
    const { plain, zst } = await writeCorpus(dir, "c", pileLines(20000));
    for (const path of [plain, zst]) {
      const r = readCorpus(path, { maxDocs: 5, zstdDecoder: decoder });
      const docs = await collect(r);
      assert.deepEqual(docs.map((d) => d.index), [0, 1, 2, 3, 4]);
      assert.equal(r.stats.lines, 5, "no line after the last wanted one is scanned");
      assert.equal(r.stats.end, "selection");
      assert.equal(r.stats.missing, 0);
      const size = (await Deno.stat(path)).size;
      assert.ok(
        r.stats.inputBytes <= 256 * 1024 && r.stats.inputBytes < size / 4,
        `read ${r.stats.inputBytes}`,
      );
    }
    const none = readCorpus(plain, { maxDocs: 0 });
    assert.deepEqual(await collect(none), []);
    assert.equal(none.stats.inputBytes, 0);
  });
});

Deno.test("docIndices: kept in file order, reading stops after the largest, missing ones counted", async () => {
  await withTempDir(async (dir) => {
    const { plain } = await writeCorpus(dir, "c", pileLines(1000));
    const r = readCorpus(plain, { docIndices: [40, 7, 2, 2] });
    assert.deepEqual((await collect(r)).map((d) => [d.index, d.line]), [[2, 3], [7, 8], [40, 41]]);
    assert.equal(r.stats.lines, 41);
    assert.equal(r.stats.end, "selection");
    assert.equal(r.stats.missing, 0);

    const beyond = readCorpus(plain, { docIndices: new Set([999, 5000]) });
    assert.deepEqual((await collect(beyond)).map((d) => d.index), [999]);
    assert.equal(beyond.stats.end, "eof");
    assert.equal(beyond.stats.missing, 1);

    // Both given: the intersection.
    const both = readCorpus(plain, { docIndices: [1, 3, 500], maxDocs: 100 });
    assert.deepEqual((await collect(both)).map((d) => d.index), [1, 3]);
    assert.equal(both.stats.lines, 4);
  });
});

/** A corpus with one malformed line of each kind among good ones; line numbers of the bad ones. */
function malformedCorpus(): { bytes: Uint8Array; bad: Record<number, RegExp>; good: number[] } {
  const good = (i: number) => enc.encode(JSON.stringify({ text: `good ${i}` }) + "\n");
  const parts: Uint8Array[] = [];
  const bad: Record<number, RegExp> = {};
  const goodLines: number[] = [];
  const add = (b: Uint8Array | string, re?: RegExp) => {
    parts.push(typeof b === "string" ? enc.encode(b + "\n") : b);
    if (re) bad[parts.length] = re;
    else goodLines.push(parts.length);
  };
  add(good(0));
  add('{"text": "unterminated', /invalid JSON/);
  add(good(2));
  add('{"meta": {"a": 1}}', /no "text" field/);
  add('{"text": 42}', /"text" is a number, not a string/);
  add('{"text": ["a", null]}', /element 1 is null, not a string/);
  add(
    new Uint8Array([...enc.encode('{"text": "bad '), 0xff, 0xfe, ...enc.encode('"}\n')]),
    /invalid UTF-8 at byte 14/,
  );
  add("", /empty line/);
  add("[1, 2]", /expected a JSON object, got a list/);
  add('{"text": "x", "meta": 3}', /"meta" is a number, not an object/);
  add(good(11));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
  return { bytes, bad, good: goodLines };
}

decoderTest("malformed lines are skipped, counted and reported with file:line", async (decoder) => {
  await withTempDir(async (dir) => {
    const { bytes, bad, good } = malformedCorpus();
    const plain = join(dir, "bad.jsonl");
    const zst = join(dir, "bad.jsonl.zst");
    await Deno.writeFile(plain, bytes);
    await Deno.writeFile(zst, zstd(bytes));
    for (const path of [plain, zst]) {
      const reported: CorpusSkip[] = [];
      const r = readCorpus(path, { onSkip: (s) => reported.push(s), zstdDecoder: decoder });
      const docs = await collect(r);
      assert.deepEqual(docs.map((d) => d.line), good);
      assert.deepEqual(docs.map((d) => d.index), good.map((l) => l - 1));
      const badLines = Object.keys(bad).map(Number);
      assert.deepEqual(reported.map((s) => s.line), badLines);
      for (const s of reported) {
        assert.equal(s.path, path);
        assert.match(s.reason, bad[s.line]);
        assert.equal(s.message, `${path}:${s.line}: ${s.reason}`);
      }
      assert.equal(r.stats.skipped, badLines.length);
      assert.equal(r.stats.lines, good.length + badLines.length);
      assert.deepEqual(r.stats.skippedSamples, reported.slice(0, 10));
    }
  });
});

Deno.test("strict: the first malformed line is fatal, naming file:line, after the documents before it", async () => {
  await withTempDir(async (dir) => {
    const { bytes } = malformedCorpus();
    const path = join(dir, "bad.jsonl");
    await Deno.writeFile(path, bytes);
    const r = readCorpus(path, { strict: true });
    const { docs, error } = await collectUntilError(r);
    assert.deepEqual(docs.map((d) => d.text), ["good 0"]);
    assert.ok(error instanceof CorpusFormatError);
    assert.equal(error.line, 2);
    assert.match(
      error.message,
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: invalid JSON`),
    );
    assert.equal(r.stats.end, "error");
    // Malformed lines outside the selection are not parsed, so not fatal either.
    assert.deepEqual((await collect(readCorpus(path, { strict: true, docIndices: [0, 2, 10] }))).length, 3);
  });
});

decoderTest(
  "a truncated .zst yields the documents before the cut, then fails naming file and offset",
  async (decoder) => {
    await withTempDir(async (dir) => {
      const lines = pileLines(6000);
      const { zst } = await writeCorpus(dir, "c", lines);
      const full = await Deno.readFile(zst);
      const cut = join(dir, "cut.jsonl.zst");
      const at = Math.floor(full.length / 2);
      await Deno.writeFile(cut, full.subarray(0, at));
      const r = readCorpus(cut, { zstdDecoder: decoder });
      const { docs, error } = await collectUntilError(r);
      assert.ok(error instanceof CorpusDecodeError, String(error));
      assert.equal(error.path, cut);
      assert.equal(error.offset, at);
      assert.equal(error.fileSize, at);
      assert.ok(error.message.startsWith(`${cut}: truncated zstd stream`), error.message);
      assert.match(error.message, new RegExp(`compressed byte offset ${at} of ${at}`));
      assert.match(error.message, new RegExp(`${docs.length} documents read before it`));
      // Most of what precedes the cut was decoded and handed on, and all of it is right.
      assert.ok(docs.length > 2000 && docs.length < 3500, `${docs.length} documents before the cut`);
      assert.deepEqual(docs.map((d) => d.text), lines.slice(0, docs.length).map((l) => JSON.parse(l).text));
      assert.equal(r.stats.end, "error");
    });
  },
);

decoderTest(
  "a .zst whose second frame is damaged yields the first frame's documents, then fails",
  async (decoder) => {
    await withTempDir(async (dir) => {
      const lines = pileLines(3000);
      const half = (from: number, to: number) =>
        enc.encode(lines.slice(from, to).map((l) => l + "\n").join(""));
      const first = zstd(half(0, 1500));
      const second = zstd(half(1500, 3000)).slice();
      for (const [name, damage] of [["magic", 0], ["block type", 6]] as const) {
        const bytes = new Uint8Array(first.length + second.length);
        bytes.set(first);
        bytes.set(second, first.length);
        if (damage === 0) bytes[first.length] ^= 0xff; // the magic number
        else bytes[first.length + damage] |= 0x06; // a reserved block type in the first block header
        const bad = join(dir, `corrupt-${damage}.jsonl.zst`);
        await Deno.writeFile(bad, bytes);
        const { docs, error } = await collectUntilError(readCorpus(bad, { zstdDecoder: decoder }));
        assert.ok(error instanceof CorpusDecodeError, `${name}: ${error}`);
        assert.ok(error.message.startsWith(`${bad}: `), error.message);
        assert.equal(error.offset, first.length, `${name}: ${error.message}`);
        assert.deepEqual(docs.map((d) => d.text), lines.slice(0, 1500).map((l) => JSON.parse(l).text));
      }
    });
  },
);

decoderTest("a .zst with a checksum fails on corrupt content", async (decoder) => {
  await withTempDir(async (dir) => {
    const bytes = enc.encode(pileLines(3000).map((l) => l + "\n").join(""));
    // Several places: Deno's node:zlib reports some of these through a different path (see ZlibFrameDecoder).
    for (const where of [0.3, 0.6, 0.9, 0.99]) {
      const packed = zstd(bytes, true).slice();
      const at = Math.floor(packed.length * where);
      for (let i = at; i < at + 16; i++) packed[i] ^= 0x5a;
      const bad = join(dir, `checksum-${where}.jsonl.zst`);
      await Deno.writeFile(bad, packed);
      const { error } = await collectUntilError(readCorpus(bad, { zstdDecoder: decoder }));
      assert.ok(error instanceof CorpusDecodeError, `${where}: ${error}`);
      assert.match(error.message, /corrupt zstd data/);
      assert.ok(error.offset >= 0 && error.offset <= packed.length, error.message);
    }
  });
});

decoderTest("a garbage .zst fails at offset 0", async (decoder) => {
  await withTempDir(async (dir) => {
    const path = join(dir, "garbage.jsonl.zst");
    await Deno.writeTextFile(path, '{"text": "this is not compressed"}\n'.repeat(100));
    const { docs, error } = await collectUntilError(readCorpus(path, { zstdDecoder: decoder }));
    assert.deepEqual(docs, []);
    assert.ok(error instanceof CorpusDecodeError, String(error));
    assert.equal(error.offset, 0);
    assert.match(error.message, /garbage\.jsonl\.zst: .* \(compressed byte offset 0 of 3500\); 0 documents/);
  });
});

decoderTest("empty files give no documents", async (decoder) => {
  await withTempDir(async (dir) => {
    for (const name of ["e.jsonl", "e.jsonl.zst"]) {
      await Deno.writeFile(join(dir, name), new Uint8Array());
      const r = readCorpus(join(dir, name), { zstdDecoder: decoder });
      assert.deepEqual(await collect(r), []);
      assert.equal(r.stats.lines, 0);
      assert.equal(r.stats.end, "eof");
    }
    // A valid frame of nothing.
    await Deno.writeFile(join(dir, "f.jsonl.zst"), zstd(new Uint8Array()));
    assert.deepEqual(await collect(readCorpus(join(dir, "f.jsonl.zst"), { zstdDecoder: decoder })), []);
  });
});

Deno.test("CRLF line ends and a last line without newline", async () => {
  await withTempDir(async (dir) => {
    const lines = pileLines(50);
    const lf = join(dir, "lf.jsonl");
    const crlf = join(dir, "crlf.jsonl");
    await Deno.writeTextFile(lf, lines.join("\n") + "\n");
    await Deno.writeTextFile(crlf, lines.join("\r\n"));
    const a = await collect(readCorpus(lf));
    const b = await collect(readCorpus(crlf));
    assert.equal(b.length, 50);
    assert.deepEqual(b, a);
  });
});

Deno.test("huge lines: a multi-MB document across many chunks; maxLineBytes skips longer lines", async () => {
  await withTempDir(async (dir) => {
    const big = words(9, 700_000); // ~5 MB
    const path = join(dir, "huge.jsonl");
    await Deno.writeTextFile(
      path,
      [JSON.stringify({ text: "a" }), JSON.stringify({ text: big }), JSON.stringify({ text: "b" })].join(
        "\n",
      ),
    );
    const docs = await collect(readCorpus(path));
    assert.deepEqual(docs.map((d) => d.text.length), [1, big.length, 1]);
    assert.equal(docs[1].text, big);
    const skips: CorpusSkip[] = [];
    const limited = await collect(
      readCorpus(path, { maxLineBytes: 1_000_000, onSkip: (s) => skips.push(s) }),
    );
    assert.deepEqual(limited.map((d) => d.text), ["a", "b"]);
    assert.equal(skips.length, 1);
    assert.equal(skips[0].line, 2);
    assert.match(skips[0].reason, /line is \d+ bytes, longer than the limit of 1000000/);
  });
});

Deno.test("startAt passes over N documents without re-reporting their malformed lines", async () => {
  await withTempDir(async (dir) => {
    const { bytes, good } = malformedCorpus();
    const path = join(dir, "bad.jsonl");
    await Deno.writeFile(path, bytes);
    const all = await collect(readCorpus(path));
    const reported: number[] = [];
    const r = readCorpus(path, { startAt: 1, onSkip: (s) => reported.push(s.line), strict: false });
    const rest = await collect(r);
    assert.deepEqual(rest, all.slice(1));
    assert.deepEqual(rest.map((d) => d.line), good.slice(1));
    assert.equal(r.stats.passedOver, 1);
    assert.equal(r.stats.skippedBeforeStart, 0);
    // Line 2 comes after the first document: the interrupted run had not read it yet, so it is reported now.
    assert.deepEqual(reported, [2, 4, 5, 6, 7, 8, 9, 10]);
    const r2 = readCorpus(path, {
      startAt: 2,
      onSkip: (s) => reported.push(s.line),
      strict: true,
      maxDocs: 3,
    });
    reported.length = 0;
    assert.deepEqual(await collect(r2), []);
    // Line 2 lies before the second document, so the resumed run had reported it: neither reported nor fatal.
    assert.equal(r2.stats.skippedBeforeStart, 1);
    assert.equal(r2.stats.passedOver, 2);
    assert.deepEqual(reported, []);
    // Resuming a maxDocs run ends where the uninterrupted run ends.
    const { plain } = await writeCorpus(dir, "c", pileLines(100));
    const resumed = await collect(readCorpus(plain, { maxDocs: 10, startAt: 4 }));
    assert.deepEqual(resumed.map((d) => d.index), [4, 5, 6, 7, 8, 9]);
  });
});

Deno.test("stopping early closes the file; a reader is single-use; bad options are refused", async () => {
  await withTempDir(async (dir) => {
    const { zst } = await writeCorpus(dir, "c", pileLines(2000));
    const r = readCorpus(zst);
    for await (const doc of r) if (doc.index === 3) break;
    assert.equal(r.stats.end, "consumer");
    assert.equal(r.stats.documents, 4);
    assert.throws(() => r[Symbol.asyncIterator](), /only once/);
    const bad: ReadCorpusOptions[] = [{ maxDocs: -1 }, { maxDocs: 1.5 }, { startAt: -2 }, {
      docIndices: [1, -1],
    }];
    for (const options of bad) assert.throws(() => readCorpus(zst, options), RangeError);
    await assert.rejects(collect(readCorpus(join(dir, "missing.jsonl"))), /ENOENT.*missing\.jsonl/);
  });
});
