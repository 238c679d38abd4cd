/**
 * Streaming zstd decoding over either back end, with the frame scanner alongside. Every output produced before a
 * failure is yielded before the failure ({@link ZstdFailure}, at a compressed offset) is thrown.
 * @module
 */
import { createZstdDecompress } from "node:zlib";
import type { ZstdChoice, ZstdNapiBinding } from "./zstd_backend.ts";
import { ZstdFailure, ZstdFrameScanner } from "./zstd_frames.ts";

/** Bytes per node:zlib write: a failure's offset is known to within this. */
const ZLIB_WRITE = 16 * 1024;

/**
 * Decodes a zstd byte stream. Every output produced before a failure is yielded before the failure is thrown, so
 * the reader can hand on every complete line. {@link ZstdFrameScanner} follows the frame structure alongside: it
 * detects truncation (node:zlib accepts a stream that ends inside a frame without complaint) and tells node:zlib's
 * decoder where frames end (Deno's stops after the first frame of a stream).
 */
export async function* decodeZstd(
  source: AsyncIterable<Uint8Array>,
  choice: ZstdChoice,
  progress: { consumed: number },
): AsyncGenerator<Uint8Array> {
  const scanner = new ZstdFrameScanner();
  const pending = choice.binding !== undefined
    ? yield* napiDecode(choice.binding, source, scanner, progress)
    : yield* zlibDecode(source, scanner, progress);
  if (!scanner.atBoundary) {
    throw new ZstdFailure(
      progress.consumed,
      `truncated zstd stream: the file ends inside the frame that starts at compressed byte ${scanner.frameStart}`,
    );
  }
  if (pending) {
    throw new ZstdFailure(progress.consumed, "truncated zstd stream: the decoder expects more data");
  }
}

/** zstd-napi's streaming context; returns whether it stopped inside a frame. */
async function* napiDecode(
  binding: ZstdNapiBinding,
  source: AsyncIterable<Uint8Array>,
  scanner: ZstdFrameScanner,
  progress: { consumed: number },
): AsyncGenerator<Uint8Array, boolean> {
  const dctx = new binding.DCtx();
  const dst = new Uint8Array(binding.dStreamOutSize());
  let inFrame = false;
  for await (const chunk of source) {
    let src = chunk;
    for (;;) {
      let result: [number, number, number];
      try {
        result = dctx.decompressStream(dst, src);
      } catch (e) {
        throw new ZstdFailure(progress.consumed, `corrupt zstd data (${(e as Error).message})`, { cause: e });
      }
      const [hint, produced, consumed] = result;
      progress.consumed += consumed;
      src = src.subarray(consumed);
      inFrame = hint !== 0;
      if (produced > 0) yield dst.slice(0, produced);
      // Same stopping rule as zstd-napi's DecompressStream: input used up and no output left pending.
      if (src.length === 0 && (produced < dst.length || hint === 0)) break;
    }
    scanner.push(chunk);
    if (scanner.failure !== undefined) throw scanner.failure;
  }
  return inFrame;
}

/** node:zlib's zstd decompressor, a fresh one for each frame; it cannot tell whether it stopped inside a frame. */
async function* zlibDecode(
  source: AsyncIterable<Uint8Array>,
  scanner: ZstdFrameScanner,
  progress: { consumed: number },
): AsyncGenerator<Uint8Array, boolean> {
  let frame = new ZlibFrameDecoder();
  try {
    for await (const chunk of source) {
      const chunkStart = progress.consumed;
      const ends = scanner.push(chunk);
      // Up to each frame end, then the rest of the chunk (or up to where the structure turned invalid).
      const pieces = ends.map((end) => ({ end, frameEnd: true }));
      const stop = scanner.failure === undefined ? chunk.length : scanner.stoppedAt;
      if ((ends.at(-1) ?? 0) < stop) pieces.push({ end: stop, frameEnd: false });
      let from = 0;
      for (const { end, frameEnd } of pieces) {
        // Small writes: the failure offset is known to within ZLIB_WRITE bytes.
        for (let at = from; at < end; at += ZLIB_WRITE) {
          const stop = Math.min(at + ZLIB_WRITE, end);
          const failed = await frame.write(chunk.subarray(at, stop));
          yield* frame.take();
          if (failed !== undefined) {
            throw new ZstdFailure(chunkStart + at, `corrupt zstd data (${failed.message})`, {
              cause: failed,
            });
          }
          progress.consumed = chunkStart + stop;
        }
        if (frameEnd) {
          const failed = await frame.end();
          yield* frame.take();
          if (failed !== undefined) {
            throw new ZstdFailure(chunkStart + end, `corrupt zstd data (${failed.message})`, {
              cause: failed,
            });
          }
          frame = new ZlibFrameDecoder();
        }
        from = end;
      }
      if (scanner.failure !== undefined) throw scanner.failure;
    }
    const failed = await frame.end();
    yield* frame.take();
    if (failed !== undefined) {
      throw new ZstdFailure(progress.consumed, `corrupt zstd data (${failed.message})`, { cause: failed });
    }
    return false;
  } finally {
    frame.destroy();
  }
}

/**
 * One node:zlib zstd decompressor driven one write at a time, its output collected in flowing mode, so that what
 * was decoded before an error is not lost with the stream's buffer.
 */
class ZlibFrameDecoder {
  readonly #z = createZstdDecompress();
  #out: Uint8Array[] = [];
  #failure: Error | undefined;

  constructor() {
    this.#z.on("data", (c: Uint8Array) => this.#out.push(c));
    this.#z.on("error", (e: Error) => this.#failure ??= e);
  }

  /** Feeds bytes; resolves once they are decoded, with the decoder's error if it failed. */
  write(bytes: Uint8Array): Promise<Error | undefined> {
    if (bytes.length === 0) return Promise.resolve(this.#failure);
    return this.#settle((done) => this.#z.write(bytes, () => done()));
  }

  /** Ends the input; resolves once all output is out, with the decoder's error if it failed. */
  end(): Promise<Error | undefined> {
    return this.#settle((done) => {
      this.#z.once("end", done);
      this.#z.end();
    });
  }

  /** The output collected so far. */
  take(): Uint8Array[] {
    return this.#out.splice(0);
  }

  destroy(): void {
    this.#z.destroy();
  }

  #settle(start: (done: () => void) => void): Promise<Error | undefined> {
    if (this.#failure !== undefined) return Promise.resolve(this.#failure);
    const run = () =>
      new Promise<Error | undefined>((resolve) => {
        let settled = false;
        const done = () => {
          if (settled) return;
          settled = true;
          this.#z.off("error", done);
          globalThis.removeEventListener("error", onUncaught);
          // Let output events already queued arrive first.
          setImmediate(() => resolve(this.#failure));
        };
        // Deno's node:zlib throws a zstd error, instead of emitting it, when the error arises while it resumes a
        // write that had filled its output buffer; the throw surfaces as an uncaught error. Writes run one at a
        // time (ZLIB_TURN), so such an error belongs to this one.
        const onUncaught = (event: ErrorEvent) => {
          const e = event.error;
          if (!(e instanceof Error) || !e.message.startsWith("Zstd decompress error")) return;
          event.preventDefault();
          this.#failure ??= e;
          done();
        };
        globalThis.addEventListener("error", onUncaught);
        this.#z.once("error", done);
        start(done);
      });
    const turn = ZLIB_TURN.then(run);
    ZLIB_TURN = turn;
    return turn;
  }
}

/** The tail of the queue of node:zlib zstd writes, process-wide (see ZlibFrameDecoder). */
let ZLIB_TURN: Promise<unknown> = Promise.resolve();
