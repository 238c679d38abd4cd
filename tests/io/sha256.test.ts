import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File, sha256Hex, sha256Text } from "../../lib/io/sha256.ts";

const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; // FIPS 180-2, "abc"

Deno.test("sha256: text, bytes and file agree on the known vector; text hashes UTF-8", async () => {
  assert.equal(sha256Text("abc"), ABC);
  assert.equal(sha256Hex(new TextEncoder().encode("a"), new TextEncoder().encode("bc")), ABC);
  assert.equal(sha256Text("é·ü"), sha256Hex(new TextEncoder().encode("é·ü")));
  const dir = await Deno.makeTempDir({ prefix: "sha256-" });
  try {
    const path = join(dir, "abc.txt");
    await Deno.writeTextFile(path, "abc");
    assert.equal(await sha256File(path), ABC);
    const big = new Uint8Array(3 << 20).map((_, i) => i * 7);
    await Deno.writeFile(path, big);
    assert.equal(await sha256File(path), sha256Hex(big), "a file of several 1 MiB reads");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
