/**
 * zstd frame structure (RFC 8878 §3.1): the magic number, a check for it at the start of a file, and a scanner that
 * follows frames byte by byte to tell where they end and whether a stream stops inside one. Its failures, like the
 * decoders', are {@link ZstdFailure}s at a compressed offset.
 * @module
 */
import { open } from "node:fs/promises";

/** A decode failure at a compressed offset (the corpus reader turns it into a `CorpusDecodeError`). */
export class ZstdFailure extends Error {
  constructor(readonly offset: number, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The first four bytes of a zstd frame (RFC 8878 §3.1.1), as they appear in the file. */
const ZSTD_MAGIC: readonly number[] = [0x28, 0xb5, 0x2f, 0xfd];

/** Whether the file starts with the zstd magic number, whatever its name. */
export async function hasZstdMagic(path: string): Promise<boolean> {
  const file = await open(path, "r");
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await file.read(head, 0, 4, 0);
    return bytesRead === 4 && ZSTD_MAGIC.every((b, i) => head[i] === b);
  } finally {
    await file.close();
  }
}

/**
 * Frame structure (RFC 8878 §3.1) followed byte by byte, to tell where frames end; block contents are skipped, so
 * this costs next to nothing.
 */
export class ZstdFrameScanner {
  /** Bytes scanned. */
  offset = 0;
  /** Start of the frame being scanned (from its first magic byte), or -1 between frames. */
  frameStart = -1;
  /** Set where the structure turned out invalid; scanning stops there. */
  failure: ZstdFailure | undefined;
  /** With `failure`: where in the last chunk scanning stopped. */
  stoppedAt = 0;
  #state: "magic" | "descriptor" | "block" | "skippable" = "magic";
  #head = new Uint8Array(4);
  #have = 0;
  #skip = 0;
  #after: "block" | "magic" = "magic";
  #checksum = false;

  /** True between frames (where a stream may end). */
  get atBoundary(): boolean {
    return this.#state === "magic" && this.#have === 0 && this.#skip === 0;
  }

  /** Scans the next bytes; returns the positions in `chunk` just past each frame that ends in it. */
  push(chunk: Uint8Array): number[] {
    const ends: number[] = [];
    if (this.failure !== undefined) return ends;
    let p = 0;
    while (p < chunk.length) {
      if (this.#skip > 0) {
        const k = Math.min(this.#skip, chunk.length - p);
        p += k;
        this.offset += k;
        this.#skip -= k;
        if (this.#skip === 0) this.#enter(this.#after);
      } else {
        if (this.#state === "magic" && this.#have === 0) this.frameStart = this.offset;
        this.#head[this.#have++] = chunk[p++];
        this.offset++;
        if (this.#have === this.#need()) {
          this.#have = 0;
          this.failure = this.#parse();
          if (this.failure !== undefined) {
            this.stoppedAt = p;
            return ends;
          }
        }
      }
      if (this.atBoundary && this.frameStart === -1 && ends.at(-1) !== p) ends.push(p);
    }
    return ends;
  }

  #need(): number {
    return this.#state === "descriptor" ? 1 : this.#state === "block" ? 3 : 4;
  }

  #enter(state: "block" | "magic"): void {
    this.#state = state;
    if (state === "magic") this.frameStart = -1;
  }

  #skipThen(n: number, next: "block" | "magic"): void {
    this.#skip = n;
    this.#after = next;
    if (n === 0) this.#enter(next);
  }

  #parse(): ZstdFailure | undefined {
    const h = this.#head;
    const at = this.offset - this.#need();
    switch (this.#state) {
      case "magic": {
        const magic = (h[0] | h[1] << 8 | h[2] << 16 | h[3] << 24) >>> 0;
        this.frameStart = at;
        if (magic === 0xfd2fb528) this.#state = "descriptor";
        else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) this.#state = "skippable";
        else return new ZstdFailure(at, `not zstd data (no frame magic number at compressed byte ${at})`);
        return;
      }
      case "skippable":
        this.#skipThen((h[0] | h[1] << 8 | h[2] << 16 | h[3] << 24) >>> 0, "magic");
        return;
      case "descriptor": {
        const d = h[0];
        if (d & 0x08) return new ZstdFailure(at, "corrupt zstd frame header (reserved bit set)");
        const single = (d >> 5) & 1;
        this.#checksum = ((d >> 2) & 1) === 1;
        const fcs = [single, 2, 4, 8][d >> 6];
        const dictId = [0, 1, 2, 4][d & 3];
        this.#skipThen((single ? 0 : 1) + dictId + fcs, "block");
        return;
      }
      case "block": {
        const bh = h[0] | h[1] << 8 | h[2] << 16;
        const type = (bh >> 1) & 3;
        if (type === 3) return new ZstdFailure(at, "corrupt zstd block (reserved block type)");
        const size = type === 1 ? 1 : bh >>> 3;
        if ((bh & 1) === 1) this.#skipThen(size + (this.#checksum ? 4 : 0), "magic");
        else this.#skipThen(size, "block");
        return;
      }
    }
  }
}
