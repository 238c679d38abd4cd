/**
 * The zstd back ends: zstd-napi's native streaming context when its build loads, else `node:zlib`'s zstd
 * decompressor; which one `.zst` corpora use here, and why the fallback when it is the one.
 * @module
 */

/** Which zstd decoder reads `.zst` input. */
export type ZstdDecoderName = "zstd-napi" | "node:zlib";

/** The parts of zstd-napi's low-level binding used here (its streaming context gives exact consumed counts). */
export interface ZstdNapiBinding {
  DCtx: new () => { decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number] };
  dStreamOutSize(): number;
}

/** A decoder choice: the name, the binding for zstd-napi, and why the fallback was taken. */
export interface ZstdChoice {
  name: ZstdDecoderName;
  binding?: ZstdNapiBinding;
  note?: string;
}

let napiLoad: Promise<ZstdNapiBinding | Error> | undefined;

/** Loads zstd-napi's native binding once; an Error says why it is unavailable (not built, no --allow-ffi). */
function loadZstdNapi(): Promise<ZstdNapiBinding | Error> {
  napiLoad ??= (async () => {
    try {
      const mod = await import("zstd-napi/binding.js") as { default?: unknown };
      const binding = (mod.default ?? mod) as Partial<ZstdNapiBinding>;
      if (typeof binding.DCtx !== "function" || typeof binding.dStreamOutSize !== "function") {
        return new Error("zstd-napi's binding lacks DCtx/dStreamOutSize");
      }
      return binding as ZstdNapiBinding;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  })();
  return napiLoad;
}

/** Picks the decoder: "auto" prefers zstd-napi and falls back to node:zlib (with a note); naming one requires it. */
export async function chooseZstdDecoder(want: "auto" | ZstdDecoderName): Promise<ZstdChoice> {
  if (want === "node:zlib") return { name: "node:zlib" };
  const napi = await loadZstdNapi();
  if (!(napi instanceof Error)) return { name: "zstd-napi", binding: napi };
  const why = napi.message.split("\n")[0];
  if (want === "zstd-napi") throw new Error(`zstd-napi is not available: ${why}`, { cause: napi });
  return { name: "node:zlib", note: `zstd-napi did not load (${why}); using node:zlib's zstd decompressor` };
}

/** Which zstd decoder `.zst` corpora will use here, and why the fallback, when it is the one. */
export async function zstdDecoderInfo(): Promise<{ name: ZstdDecoderName; note?: string }> {
  const { name, note } = await chooseZstdDecoder("auto");
  return note === undefined ? { name } : { name, note };
}

/** {@link zstdDecoderInfo} in words (for `deno task setup`). */
export async function describeZstdDecoder(): Promise<string> {
  const { name, note } = await zstdDecoderInfo();
  return name === "zstd-napi" ? "zstd-napi (native build loaded) decodes .zst corpora" : note ?? name;
}
