/**
 * Returns freed native memory to the operating system. A scoring loop allocates large short-lived blocks with the C
 * allocator on every forward call: onnxruntime's intermediates and logits, and the ArrayBuffer onnxruntime-node
 * copies the logits into (13 MB for a 65-token window of a 50k vocabulary, 206 MB for 1,024 tokens). glibc's malloc
 * keeps much of what is freed in its arenas, and with window lengths that vary from call to call the arenas
 * fragment, so the resident size wanders upward although nothing leaks. `malloc_trim(0)` (glibc) gives the free
 * pages of every arena back; it takes 15–20 ms with a 500 MB process (BENCHMARKS.md, corpus scoring).
 *
 * The opposite control matters for speed: glibc serves blocks above 32 MiB with fresh `mmap` pages and unmaps
 * them when freed, so each 206 MB logits buffer page-faults 50,000 times when it is first written (about 60 ms
 * of a 70M model's 430 ms window). {@link NativeMemory.keepLargeBlocks} keeps such blocks in the heap instead,
 * where the next window's buffer reuses resident pages.
 *
 * Everything here is a no-op, reported as unavailable, where it cannot work: not Linux, no glibc (musl, macOS,
 * Windows), Deno FFI missing or `--allow-ffi` not granted.
 * @module
 */

const LIBC_SYMBOLS = {
  malloc_trim: { parameters: ["usize"], result: "i32" },
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
} as const;

/** The C allocator's controls, or why there are none. */
export interface NativeMemory {
  /** True when glibc's malloc could be reached through FFI. */
  readonly available: boolean;
  /** Why it is not available (undefined when it is). */
  readonly unavailable?: string;
  /**
   * `malloc_trim(0)`: gives the free memory of every malloc arena back to the OS. Returns true when some memory
   * was released, false when none was (or when unavailable).
   */
  trim(): boolean;
  /** `mallopt(param, value)`; true on success, false when it failed or is unavailable. */
  mallopt(param: number, value: number): boolean;
  /**
   * Serves every block from malloc's heap instead of fresh `mmap` pages (`M_MMAP_MAX` 0) and keeps up to
   * `bytes` of free memory at the heap's top (`M_TRIM_THRESHOLD`), so that a buffer of the same size allocated
   * again reuses resident pages. Process-wide; true when glibc accepted both.
   */
  keepLargeBlocks(bytes: number): boolean;
  /** Calls to {@link NativeMemory.trim} so far, how many released memory, and the milliseconds they took. */
  readonly stats: { trims: number; released: number; milliseconds: number };
}

class Unavailable implements NativeMemory {
  readonly available = false;
  readonly stats = { trims: 0, released: 0, milliseconds: 0 };
  constructor(readonly unavailable: string) {}
  trim(): boolean {
    return false;
  }
  mallopt(): boolean {
    return false;
  }
  keepLargeBlocks(): boolean {
    return false;
  }
}

class Glibc implements NativeMemory {
  readonly available = true;
  readonly unavailable = undefined;
  readonly stats = { trims: 0, released: 0, milliseconds: 0 };
  constructor(private readonly lib: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>) {}
  trim(): boolean {
    const start = performance.now();
    const released = this.lib.symbols.malloc_trim(0n) === 1;
    this.stats.trims++;
    if (released) this.stats.released++;
    this.stats.milliseconds += performance.now() - start;
    return released;
  }
  mallopt(param: number, value: number): boolean {
    return this.lib.symbols.mallopt(param, value) === 1;
  }
  keepLargeBlocks(bytes: number): boolean {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`bytes must be an integer ≥ 0, got ${bytes}`);
    }
    const noMmap = this.mallopt(M_MMAP_MAX, 0);
    return this.mallopt(M_TRIM_THRESHOLD, Math.min(bytes, INT32_MAX)) && noMmap;
  }
}

/** glibc's `mallopt` parameters (malloc.h). */
const M_TRIM_THRESHOLD = -1;
const M_MMAP_MAX = -4;
const INT32_MAX = 2 ** 31 - 1;

let shared: NativeMemory | undefined;

/** Opens glibc through FFI once per process (later calls return the same object). */
export function nativeMemory(): NativeMemory {
  return shared ??= openNativeMemory();
}

/** Opens glibc through FFI afresh (tests; everything else uses {@link nativeMemory}). */
export function openNativeMemory(): NativeMemory {
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno as typeof Deno | undefined;
  if (deno?.dlopen === undefined) return new Unavailable("Deno FFI is not available");
  if (deno.build.os !== "linux") return new Unavailable(`not Linux (${deno.build.os})`);
  try {
    if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return new Unavailable("FFI permission not granted (--allow-ffi)");
    }
  } catch (e) {
    return new Unavailable(`FFI permission unknown: ${(e as Error).message}`);
  }
  try {
    // musl's libc.so.6 does not exist, and musl has no malloc_trim: both fail here.
    return new Glibc(deno.dlopen("libc.so.6", LIBC_SYMBOLS));
  } catch (e) {
    return new Unavailable(`glibc malloc_trim not found: ${(e as Error).message}`);
  }
}

/** `malloc_trim(0)` when glibc is reachable; false (and nothing done) otherwise. */
export function trimNativeMemory(): boolean {
  return nativeMemory().trim();
}
