/**
 * SHA-256 as lowercase hex, the one implementation every file check and provenance record uses. node:crypto,
 * not WebCrypto: it hashes 140 MB in ~0.1 s here, five times faster than `crypto.subtle.digest`.
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Hex SHA-256 of the concatenation of `parts`. */
export function sha256Hex(...parts: Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/** Hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Text(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Hex SHA-256 of a file, streamed (memory does not grow with the file). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  // 1 MiB reads: multi-GB model files hash in fewer, larger chunks.
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Uint8Array);
  }
  return hash.digest("hex");
}
