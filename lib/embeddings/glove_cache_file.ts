/**
 * The binary cache of the GloVe vectors (`<project>/data/cache/embeddings/glove-6b-100d.wvec`): magic, a versioned
 * JSON header (source package and version, source file size, rows, dims, SHA-256 of the payload), a
 * little-endian float32 matrix, then the vocabulary as UTF-8 lines. It is checked on every read (format, source
 * version and size, length, checksum); a stale or corrupt file is reported with why, for the caller to rebuild.
 * @module
 */
import { basename } from "node:path";
import { sha256Hex } from "../io/sha256.ts";
import { type GloveSource, type GloveTable, indexWords, vocabularyPayload } from "./glove_table.ts";
import { readWholeFile } from "./read_whole_file.ts";

const CACHE_MAGIC = "MCWVEC\r\n"; // 8 bytes; \r\n catches text-mode mangling
const CACHE_FORMAT = 1;
const utf8 = new TextDecoder("utf-8", { fatal: true });

interface CacheHeader {
  format: number;
  source: { package: string; version: string; file: string; bytes: number };
  rows: number;
  dims: number;
  vocabBytes: number;
  payloadSha256: string;
}

/** The cache file's bytes for a table. */
export function encodeGloveCache(table: GloveTable): Uint8Array {
  if (!littleEndian()) throw new Error("the word-vector cache format is little-endian only");
  const words = new Array<string>(table.rows);
  for (const [w, i] of table.index) words[i] = w;
  const { matrix, vocab } = vocabularyPayload(table.vectors, words);
  const header: CacheHeader = {
    format: CACHE_FORMAT,
    source: {
      package: table.source.package,
      version: table.source.version,
      file: basename(table.source.path),
      bytes: table.source.bytes,
    },
    rows: table.rows,
    dims: table.dims,
    vocabBytes: vocab.length,
    payloadSha256: table.payloadSha256,
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the float32 matrix starts on a 4-byte boundary.
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const out = new Uint8Array(12 + json.length + matrix.length + vocab.length);
  out.set(new TextEncoder().encode(CACHE_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(matrix, 12 + json.length);
  out.set(vocab, 12 + json.length + matrix.length);
  return out;
}

/** Reads and validates the cache; `{reason}` when it is stale or corrupt. */
export function readGloveCache(
  path: string,
  source: GloveSource,
): { table: GloveTable } | { reason: string } {
  if (!littleEndian()) return { reason: "big-endian host" };
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = readWholeFile(path);
  } catch (e) {
    return { reason: `unreadable: ${(e as Error).message}` };
  }
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== CACHE_MAGIC) {
    return { reason: "bad magic" };
  }
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (headerBytes > 65536 || 12 + headerBytes > bytes.length) return { reason: "bad header length" };
  let header: CacheHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerBytes)));
  } catch {
    return { reason: "unreadable header" };
  }
  if (header.format !== CACHE_FORMAT) return { reason: `format ${header.format}, expected ${CACHE_FORMAT}` };
  if (header.source?.version !== source.version || header.source?.bytes !== source.bytes) {
    return {
      reason: `made from ${header.source?.package}@${header.source?.version} (${header.source?.bytes} bytes)`,
    };
  }
  const start = 12 + headerBytes;
  const matrixBytes = header.rows * header.dims * 4;
  if (!(header.rows > 0 && header.dims > 0) || bytes.length !== start + matrixBytes + header.vocabBytes) {
    return { reason: "wrong length" };
  }
  const matrix = bytes.subarray(start, start + matrixBytes);
  const vocab = bytes.subarray(start + matrixBytes);
  if (sha256Hex(matrix, vocab) !== header.payloadSha256) return { reason: "checksum mismatch" };
  let words: string[];
  try {
    words = utf8.decode(vocab).split("\n");
  } catch {
    return { reason: "vocabulary is not UTF-8" };
  }
  if (words.length !== header.rows) return { reason: "vocabulary length" };
  // The file buffer is 4-byte aligned at `start` in practice; copy if an engine ever hands out an odd offset.
  const vectors = (bytes.byteOffset + start) % 4 === 0
    ? new Float32Array(bytes.buffer, bytes.byteOffset + start, header.rows * header.dims)
    : new Float32Array(matrix.slice().buffer);
  return {
    table: {
      index: indexWords(words),
      vectors,
      dims: header.dims,
      rows: header.rows,
      source,
      payloadSha256: header.payloadSha256,
    },
  };
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
