/**
 * `len(gzip.compress(s.encode()))` exactly as CPython computes it: 10 header bytes + raw deflate (zlib, level 9,
 * 15-bit window, memLevel 8, default strategy) + 8 trailer bytes. NCD and both compression ratios use only lengths.
 *
 * Exactness depends on the deflate implementation: Node/Deno's bundled zlib emits different streams for most short
 * strings, while madler zlib and its faithful port pako agree with CPython. Two backends are offered:
 * - `libz`: the system's zlib (the library CPython links) through Deno FFI, fast; used only after it agrees with
 *   pako on a set of probe strings;
 * - `pako`: pure JavaScript, portable, exact, several times slower.
 * Both send inputs of at most {@link SMALL_INPUT_MAX_BYTES} to a smaller deflate state with the same output.
 * @module
 */
import { Deflate } from "pako";
// pako's zlib port itself, for a reusable deflate state (the public API allocates one per call).
import * as zlibDeflate from "pako/lib/zlib/deflate.js";
import ZStream from "pako/lib/zlib/zstream.js";

/** CPython's `gzip.compress` deflate settings (zlib's defaults): a 32 KiB window and memLevel 8. */
const CPYTHON_WINDOW_BITS = 15, CPYTHON_MEM_LEVEL = 8;

/** Bytes that gzip adds around the raw deflate stream (10-byte header, CRC32 and ISIZE trailer). */
const GZIP_FRAMING_BYTES = 18;

/** Computes the gzip length of byte strings. */
export interface GzipLengthBackend {
  /** `"libz <version>"` or `"pako <version>"`, recorded in results. */
  readonly name: string;
  /** `len(gzip.compress(bytes))` at level 9. */
  lengthBytes(bytes: Uint8Array): number;
  /** `len(gzip.compress(s.encode()))`. */
  lengthOfString(s: string): number;
  /** `[C(prefix), C(prefix + suffix)]`, sharing the work on the prefix where the backend can. */
  lengthsWithSuffix(prefix: string, suffix: string): [number, number];
  /** C of the byte strings joined by single spaces (`b" ".join(parts)`), without building a string. */
  lengthOfJoined(parts: readonly Uint8Array[]): number;
  /** `[C(b" ".join(parts)), C(b" ".join(parts + [tail]))]`, sharing the work on the common prefix. */
  lengthsOfJoinedWithTail(parts: readonly Uint8Array[], tail: Uint8Array): [number, number];
  /** Releases native resources (a no-op for pako). */
  close(): void;
}

const encoder = new TextEncoder();

/** Writes `b" ".join(parts)` into `out` at `offset`; returns the end offset. */
function writeJoined(parts: readonly Uint8Array[], out: Uint8Array, offset = 0): number {
  let at = offset;
  for (let k = 0; k < parts.length; k++) {
    if (k > 0) out[at++] = 0x20;
    out.set(parts[k], at);
    at += parts[k].length;
  }
  return at;
}

/** Byte length of `b" ".join(parts)`. */
export function joinedLength(parts: readonly Uint8Array[]): number {
  let n = Math.max(0, parts.length - 1);
  for (const p of parts) n += p.length;
  return n;
}

/** `b" ".join(parts)` as a new array. */
function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(joinedLength(parts));
  writeJoined(parts, out);
  return out;
}

/** A whole backend from a byte-length function that does no sharing (every length is a fresh compression). */
function fromLengthBytes(name: string, lengthBytes: (bytes: Uint8Array) => number): GzipLengthBackend {
  return {
    name,
    lengthBytes,
    lengthOfString: (s) => lengthBytes(encoder.encode(s)),
    lengthsWithSuffix: (prefix, suffix) => [
      lengthBytes(encoder.encode(prefix)),
      lengthBytes(encoder.encode(prefix + suffix)),
    ],
    lengthOfJoined: (parts) => lengthBytes(joinBytes(parts)),
    lengthsOfJoinedWithTail: (
      parts,
      tail,
    ) => [lengthBytes(joinBytes(parts)), lengthBytes(joinBytes([...parts, tail]))],
    close() {},
  };
}

/** Options of {@link pakoBackend}. */
export interface PakoBackendOptions {
  /**
   * Inputs of at most {@link SMALL_INPUT_MAX_BYTES} on a second, smaller stream (default true; same output, and
   * 4–5× faster on short strings, where pako's reset of the 64 KiB hash table dominates). False: CPython's
   * settings for every input, the reference the native backend and the tests check against.
   */
  smallInputs?: boolean;
}

/** A pako deflate state at level 9 with a raw window of `windowBits` and `memLevel`, or null if it fails. */
function pakoStream(windowBits: number, memLevel: number): InstanceType<typeof ZStream> | null {
  const strm = new ZStream();
  // The last argument selects madler zlib's classic hash (pako 2.2's public API default): the other choice emits
  // different streams.
  return zlibDeflate.deflateInit2(strm, 9, 8, -windowBits, memLevel, 0, true) === 0 ? strm : null;
}

/** pako 2.x with deflate states reset per input (`deflateReset`), which avoids pako's per-call allocation. */
export function pakoBackend(options: PakoBackendOptions = {}): GzipLengthBackend {
  const main = pakoStream(CPYTHON_WINDOW_BITS, CPYTHON_MEM_LEVEL);
  if (main === null) return pakoSimpleBackend();
  const small = options.smallInputs === false ? null : pakoStream(SMALL_WINDOW_BITS, SMALL_MEM_LEVEL);
  const out = new Uint8Array(1 << 16);
  return fromLengthBytes("pako 2.2.0", (bytes) => {
    const strm = small !== null && bytes.length <= SMALL_INPUT_MAX_BYTES ? small : main;
    zlibDeflate.deflateReset(strm);
    strm.input = bytes;
    strm.next_in = 0;
    strm.avail_in = bytes.length;
    let total = 0;
    for (;;) {
      strm.output = out;
      strm.next_out = 0;
      strm.avail_out = out.length;
      const status = zlibDeflate.deflate(strm, 4 /* Z_FINISH */);
      total += out.length - strm.avail_out;
      if (status === 1 /* Z_STREAM_END */) break;
      if (status !== 0) throw new Error(`pako deflate failed with status ${status}`);
    }
    return total + GZIP_FRAMING_BYTES;
  });
}

/** pako without state reuse: one `Deflate` per input. Only used if pako's internals fail to initialise. */
function pakoSimpleBackend(): GzipLengthBackend {
  return fromLengthBytes("pako 2.2.0 (no reuse)", (bytes) => {
    const d = new Deflate({
      level: 9,
      raw: true,
      windowBits: CPYTHON_WINDOW_BITS,
      memLevel: CPYTHON_MEM_LEVEL,
      legacyHash: true,
    });
    d.push(bytes, true);
    if (d.err) throw new Error(`pako deflate failed: ${d.msg}`);
    return (d.result as Uint8Array).length + GZIP_FRAMING_BYTES;
  });
}

const LIBZ_CANDIDATES = ["libz.so.1", "libz.so", "libz.1.dylib", "libz.dylib", "zlib1.dll"];
const Z_STREAM_BYTES = 112; // sizeof(z_stream) on LP64
// z_stream field offsets on LP64.
const NEXT_IN = 0, AVAIL_IN = 8, NEXT_OUT = 24, AVAIL_OUT = 32, TOTAL_OUT = 40;
const Z_NO_FLUSH = 0, Z_FINISH = 4, Z_OK = 0, Z_STREAM_END = 1, Z_BUF_ERROR = -5;

/**
 * Inputs of at most this many bytes go to a second zlib stream with a 2 KiB window (windowBits 11) and memLevel 4,
 * whose reset clears a 4 KiB hash table instead of 64 KiB (0.14 against 0.46 µs here; NCD's joint strings are
 * mostly a few hundred bytes) and whose `deflateCopy` copies 16 KiB of state instead of 256 KiB. Its output is
 * byte-identical to CPython's settings (memLevel 8, windowBits 15) for such inputs, because at level 9 (zlib
 * 1.2.x/1.3.x deflate_slow):
 * - a block is flushed early only when its symbol buffer fills, after lit_bufsize − 1 = 2^(4+6) − 1 = 1023 symbols;
 *   an input of n bytes yields at most n symbols, and n ≤ 1022 keeps the one block open until the final flush;
 * - match candidates are walked along hash chains; the hash keeps ≥ 8 bits, so a candidate whose first two bytes
 *   match also matches the third, and entries that merely share a (smaller) hash are skipped without effect — the
 *   walk finds the same most recent longest match, unless it is cut short after max_chain / 4 = 1,024 candidates,
 *   which needs more than 1,024 earlier positions (n > 1,028);
 * - the window bounds match distances by MAX_DIST = 2^11 − 262 = 1,786 > n, and never slides.
 * Checked byte for byte against memLevel 8 / windowBits 15 on every length 0–1,100 (random, repetitive and text
 * inputs) and by tests against pako; the first difference appears at 1,024 bytes of random input.
 */
export const SMALL_INPUT_MAX_BYTES = 1022;
const SMALL_WINDOW_BITS = 11, SMALL_MEM_LEVEL = 4;

const LIBZ_SYMBOLS = {
  zlibVersion: { parameters: [], result: "pointer" },
  deflateInit2_: {
    parameters: ["buffer", "i32", "i32", "i32", "i32", "i32", "buffer", "i32"],
    result: "i32",
  },
  deflate: { parameters: ["buffer", "i32"], result: "i32" },
  deflateReset: { parameters: ["buffer"], result: "i32" },
  deflateCopy: { parameters: ["buffer", "buffer"], result: "i32" },
  deflateEnd: { parameters: ["buffer"], result: "i32" },
} as const;

/** Opens the system zlib through FFI, or returns a reason why it cannot be used. */
export function libzBackend(path?: string): GzipLengthBackend | { unavailable: string } {
  // deno-lint-ignore no-explicit-any
  if ((globalThis as any).Deno?.dlopen === undefined) return { unavailable: "Deno FFI is not available" };
  let lib: Deno.DynamicLibrary<typeof LIBZ_SYMBOLS> | undefined;
  const errors: string[] = [];
  for (const candidate of path ? [path] : LIBZ_CANDIDATES) {
    try {
      lib = Deno.dlopen(candidate, LIBZ_SYMBOLS);
      break;
    } catch (e) {
      errors.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  if (lib === undefined) return { unavailable: `no system zlib could be opened (${errors.join("; ")})` };
  const z = lib.symbols;
  const versionPtr = z.zlibVersion();
  const version = versionPtr === null ? "unknown" : new Deno.UnsafePointerView(versionPtr).getCString();
  const versionArg = encoder.encode(version + "\0");
  /** A raw level-9 deflate stream with the given window and memLevel, or deflateInit2_'s error code. */
  const initStream = (windowBits: number, memLevel: number): Uint8Array | number => {
    const strm = new Uint8Array(Z_STREAM_BYTES);
    const rc = z.deflateInit2_(strm, 9, 8, -windowBits, memLevel, 0, versionArg, Z_STREAM_BYTES);
    return rc === Z_OK ? strm : rc;
  };
  const main = initStream(CPYTHON_WINDOW_BITS, CPYTHON_MEM_LEVEL);
  const small = initStream(SMALL_WINDOW_BITS, SMALL_MEM_LEVEL);
  if (typeof main === "number" || typeof small === "number") {
    for (const strm of [main, small]) if (typeof strm !== "number") z.deflateEnd(strm);
    lib.close();
    return {
      unavailable: `deflateInit2_ failed with ${typeof main === "number" ? main : small} (zlib ${version})`,
    };
  }
  const copy = new Uint8Array(Z_STREAM_BYTES);
  const mainView = new DataView(main.buffer), smallView = new DataView(small.buffer);
  const copyView = new DataView(copy.buffer);
  /** The stream for an input of n bytes (the small one emits the same bytes, see SMALL_INPUT_MAX_BYTES). */
  const streamFor = (n: number): [DataView, Uint8Array] =>
    n <= SMALL_INPUT_MAX_BYTES ? [smallView, small] : [mainView, main];
  /** Resets the stream for n bytes and deflates input[0, n) to the end; returns the gzip length. */
  const oneShot = (n: number): number => {
    const [view, strm] = streamFor(n);
    z.deflateReset(strm);
    return finishLength(view, strm, 0, n);
  };
  // Persistent buffers; their addresses are written into the z_stream once per (re)allocation.
  let input = new Uint8Array(1 << 16), output = new Uint8Array(1 << 17);
  // Addresses as plain numbers (user-space pointers fit in 53 bits): BigInt arithmetic per call is measurable.
  let inputPtr = 0, outputPtr = 0;
  const refreshPointers = () => {
    inputPtr = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(input)));
    outputPtr = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(output)));
  };
  refreshPointers();
  const ensure = (inBytes: number) => {
    if (inBytes <= input.length && inBytes * 2 + 1024 <= output.length) return;
    input = new Uint8Array(Math.max(inBytes, input.length * 2));
    output = new Uint8Array(Math.max(inBytes * 2 + 1024, output.length * 2));
    refreshPointers();
  };
  const setPointer = (view: DataView, offset: number, address: number) => {
    view.setUint32(offset, address % 0x100000000, true);
    view.setUint32(offset + 4, Math.floor(address / 0x100000000), true);
  };
  /** Feeds input[from, to) into a stream with the given flush mode; returns deflate's status. */
  const feed = (view: DataView, strm: Uint8Array, from: number, to: number, flush: number): number => {
    setPointer(view, NEXT_IN, inputPtr + from);
    view.setUint32(AVAIL_IN, to - from, true);
    setPointer(view, NEXT_OUT, outputPtr);
    view.setUint32(AVAIL_OUT, output.length, true);
    const status = z.deflate(strm, flush);
    if (view.getUint32(AVAIL_IN, true) !== 0) throw new Error("zlib did not consume its input");
    return status;
  };
  const finishLength = (view: DataView, strm: Uint8Array, from: number, to: number): number => {
    const status = feed(view, strm, from, to, Z_FINISH);
    if (status !== Z_STREAM_END) throw new Error(`zlib deflate returned ${status}`);
    // total_out is a 64-bit uLong; inputs here are far below 4 GiB, so its low word is the value.
    return view.getUint32(TOTAL_OUT, true) + GZIP_FRAMING_BYTES;
  };
  /** Lengths of input[0, a) and input[0, b): deflates the shared prefix once, then forks the stream. */
  const forkedLengths = (a: number, b: number): [number, number] => {
    const [view, strm] = streamFor(b);
    z.deflateReset(strm);
    const status = feed(view, strm, 0, a, Z_NO_FLUSH);
    if (status !== Z_OK && status !== Z_BUF_ERROR) throw new Error(`zlib deflate returned ${status}`);
    if (z.deflateCopy(copy, strm) !== Z_OK) throw new Error("zlib deflateCopy failed");
    try {
      const withSuffix = finishLength(copyView, copy, a, b);
      return [finishLength(view, strm, a, a), withSuffix];
    } finally {
      z.deflateEnd(copy);
    }
  };
  let closed = false;
  const check = () => {
    if (closed) throw new Error("libz backend used after close()");
  };
  return {
    name: `libz ${version}`,
    lengthBytes(bytes: Uint8Array): number {
      check();
      ensure(bytes.length);
      input.set(bytes);
      return oneShot(bytes.length);
    },
    lengthOfString(s: string): number {
      check();
      ensure(s.length * 3);
      return oneShot(encoder.encodeInto(s, input).written);
    },
    lengthOfJoined(parts: readonly Uint8Array[]): number {
      check();
      ensure(joinedLength(parts));
      return oneShot(writeJoined(parts, input));
    },
    lengthsOfJoinedWithTail(parts: readonly Uint8Array[], tail: Uint8Array): [number, number] {
      check();
      ensure(joinedLength(parts) + 1 + tail.length);
      const a = writeJoined(parts, input);
      input[a] = 0x20;
      input.set(tail, a + 1);
      return forkedLengths(a, a + 1 + tail.length);
    },
    lengthsWithSuffix(prefix: string, suffix: string): [number, number] {
      check();
      ensure((prefix.length + suffix.length) * 3);
      const a = encoder.encodeInto(prefix, input).written;
      const b = a + encoder.encodeInto(suffix, input.subarray(a)).written;
      return forkedLengths(a, b);
    },
    close() {
      if (closed) return;
      closed = true;
      z.deflateEnd(main);
      z.deflateEnd(small);
      lib!.close();
    },
  };
}

/** Strings on which a native backend must agree with pako before it is trusted (short, long, non-ASCII, empty). */
const PROBES = [
  "",
  " ",
  "the cat sat on the mat today",
  "known as water. A: H2O known as water. It is",
  "Once upon a time, there was a little girl named Lily. She loved to play with her toys and her friends.",
  "Λάμβδα — ünïcödé ✓ 漢字 🙂 ".repeat(7),
  Array.from({ length: 400 }, (_, i) => `w${(i * 7919) % 613}`).join(" "),
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b",
];

/**
 * Picks the fastest exact backend: the system zlib when it opens and agrees with pako on the probes, else pako.
 * `preference` forces one (`"pako"`), or requires libz (`"libz"`, an error when unavailable or disagreeing).
 */
export function openGzipLength(preference: "auto" | "libz" | "pako" = "auto"): GzipLengthBackend {
  if (preference === "pako") return pakoBackend();
  const native = libzBackend();
  if ("unavailable" in native) {
    if (preference === "libz") throw new Error(`gzip backend libz requested but ${native.unavailable}`);
    return pakoBackend();
  }
  // The probes are checked against pako at CPython's settings for every length.
  const pako = pakoBackend({ smallInputs: false });
  for (const [i, probe] of PROBES.entries()) {
    const bytes = encoder.encode(probe);
    const a = native.lengthBytes(bytes), b = pako.lengthBytes(bytes);
    // The forked-stream path must agree with one-shot compression too.
    const next = PROBES[(i + 1) % PROBES.length];
    const [c, d] = native.lengthsWithSuffix(probe, " " + next);
    const ok = a === b && c === b && d === pako.lengthOfString(probe + " " + next);
    if (!ok) {
      native.close();
      const why =
        `${native.name} gives ${a} bytes where pako gives ${b} for a probe of ${bytes.length} bytes`;
      if (preference === "libz") throw new Error(`gzip backend libz is not exact here: ${why}`);
      return pakoBackend();
    }
  }
  return native;
}
