/**
 * `len(gzip.compress(s.encode()))` exactly as CPython computes it: 10 header bytes + raw deflate (zlib, level 9,
 * 15-bit window, memLevel 8, default strategy) + 8 trailer bytes. NCD and both compression ratios use only lengths.
 *
 * Exactness depends on the deflate implementation: Node/Deno's bundled zlib emits different streams for most short
 * strings, while madler zlib and its faithful port pako agree with CPython. Two backends are offered:
 * - `libz`: the system's zlib (the library CPython links) through Deno FFI, fast; used only after it agrees with
 *   pako on a set of probe strings;
 * - `pako`: pure JavaScript, portable, exact, about 6× slower.
 * @module
 */
import { Deflate } from "pako";

/** Bytes that gzip adds around the raw deflate stream (10-byte header, CRC32 and ISIZE trailer). */
export const GZIP_FRAMING_BYTES = 18;

/** Computes the gzip length of byte strings. */
export interface GzipLengthBackend {
  /** `"libz <version>"` or `"pako <version>"`, recorded in results. */
  readonly name: string;
  /** `len(gzip.compress(bytes))` at level 9. */
  lengthBytes(bytes: Uint8Array): number;
  /** Releases native resources (a no-op for pako). */
  close(): void;
}

const encoder = new TextEncoder();

/** pako 2.x, streaming with a reused state (`deflateReset`), which is what makes it reasonably fast. */
export function pakoBackend(): GzipLengthBackend {
  // pako.deflateRaw allocates a 256 KiB state per call; one Deflate object reset per input avoids that.
  const deflater = new Deflate({ level: 9, raw: true, windowBits: 15, memLevel: 8 });
  // deno-lint-ignore no-explicit-any
  const strm = (deflater as any).strm;
  // deno-lint-ignore no-explicit-any
  const zlibDeflate = (deflater as any).constructor.__zlibDeflate as
    | { deflate(s: unknown, flush: number): number; deflateReset(s: unknown): number }
    | undefined;
  if (zlibDeflate === undefined || strm === undefined) return pakoSimpleBackend();
  const out = new Uint8Array(1 << 16);
  return {
    name: "pako 2.2.0",
    lengthBytes(bytes: Uint8Array): number {
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
    },
    close() {},
  };
}

/** pako without state reuse: one `deflateRaw` per input. Only used if pako's internals are not reachable. */
function pakoSimpleBackend(): GzipLengthBackend {
  return {
    name: "pako 2.2.0 (no reuse)",
    lengthBytes(bytes: Uint8Array): number {
      const d = new Deflate({ level: 9, raw: true, windowBits: 15, memLevel: 8 });
      d.push(bytes, true);
      if (d.err) throw new Error(`pako deflate failed: ${d.msg}`);
      return (d.result as Uint8Array).length + GZIP_FRAMING_BYTES;
    },
    close() {},
  };
}

const LIBZ_CANDIDATES = ["libz.so.1", "libz.so", "libz.1.dylib", "libz.dylib", "zlib1.dll"];
const Z_STREAM_BYTES = 112; // sizeof(z_stream) on LP64

/** Opens the system zlib through FFI, or returns a reason why it cannot be used. */
export function libzBackend(path?: string): GzipLengthBackend | { unavailable: string } {
  // deno-lint-ignore no-explicit-any
  const D = (globalThis as any).Deno;
  if (D?.dlopen === undefined) return { unavailable: "Deno FFI is not available in this runtime" };
  const symbols = {
    zlibVersion: { parameters: [], result: "pointer" },
    deflateInit2_: {
      parameters: ["buffer", "i32", "i32", "i32", "i32", "i32", "pointer", "i32"],
      result: "i32",
    },
    deflate: { parameters: ["buffer", "i32"], result: "i32" },
    deflateReset: { parameters: ["buffer"], result: "i32" },
    deflateEnd: { parameters: ["buffer"], result: "i32" },
  } as const;
  let lib: Deno.DynamicLibrary<typeof symbols> | undefined;
  const errors: string[] = [];
  for (const candidate of path ? [path] : LIBZ_CANDIDATES) {
    try {
      lib = Deno.dlopen(candidate, symbols);
      break;
    } catch (e) {
      errors.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  if (lib === undefined) return { unavailable: `no system zlib could be opened (${errors.join("; ")})` };
  const versionPtr = lib.symbols.zlibVersion();
  const version = versionPtr === null ? "unknown" : new Deno.UnsafePointerView(versionPtr).getCString();
  const strm = new Uint8Array(Z_STREAM_BYTES);
  const versionArg = encoder.encode(version + "\0");
  const rc = lib.symbols.deflateInit2_(
    strm,
    9,
    8,
    -15,
    8,
    0,
    Deno.UnsafePointer.of(versionArg),
    Z_STREAM_BYTES,
  );
  if (rc !== 0) {
    lib.close();
    return { unavailable: `deflateInit2_ failed with ${rc} (zlib ${version})` };
  }
  let input = new Uint8Array(4096);
  let output = new Uint8Array(8192);
  const view = new DataView(strm.buffer);
  const setPointer = (offset: number, buf: Uint8Array) => {
    view.setBigUint64(offset, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf))), true);
  };
  let closed = false;
  return {
    name: `libz ${version}`,
    lengthBytes(bytes: Uint8Array): number {
      if (closed) throw new Error("libz backend used after close()");
      if (bytes.length > input.length) input = new Uint8Array(Math.max(bytes.length, input.length * 2));
      // deflateBound for level 9 raw: n + n/4096*5 + 13 + slack; keep output comfortably larger.
      const bound = bytes.length + (bytes.length >> 3) + 64;
      if (bound > output.length) output = new Uint8Array(Math.max(bound, output.length * 2));
      input.set(bytes);
      lib!.symbols.deflateReset(strm);
      setPointer(0, input);
      view.setUint32(8, bytes.length, true);
      setPointer(24, output);
      view.setUint32(32, output.length, true);
      const status = lib!.symbols.deflate(strm, 4 /* Z_FINISH */);
      if (status !== 1 /* Z_STREAM_END */) throw new Error(`zlib deflate returned ${status}`);
      return Number(view.getBigUint64(40, true)) + GZIP_FRAMING_BYTES;
    },
    close() {
      if (closed) return;
      closed = true;
      lib!.symbols.deflateEnd(strm);
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
  const pako = pakoBackend();
  if (preference === "pako") return pako;
  const native = libzBackend();
  if ("unavailable" in native) {
    if (preference === "libz") throw new Error(`gzip backend libz requested but ${native.unavailable}`);
    return pako;
  }
  for (const probe of PROBES) {
    const bytes = encoder.encode(probe);
    const a = native.lengthBytes(bytes), b = pako.lengthBytes(bytes);
    if (a !== b) {
      native.close();
      const why = `${native.name} gives ${a} bytes where pako gives ${b} for a probe of ${bytes.length} bytes`;
      if (preference === "libz") throw new Error(`gzip backend libz is not exact here: ${why}`);
      return pako;
    }
  }
  return native;
}

/** A string-keyed view of a backend: UTF-8 encodes, then measures. */
export function gzipLengthOfString(backend: GzipLengthBackend, s: string): number {
  return backend.lengthBytes(encoder.encode(s));
}
