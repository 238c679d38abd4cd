"""Builds the tiny random-weight BERT sentence encoder in tests/fixtures/tiny-bert/ and its reference vectors.

What it makes (dev-time only; the project's tests read the committed output and never need Python):
  tests/fixtures/tiny-bert/
    config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt, onnx/model.onnx
        the layout of a transformers.js export of sentence-transformers/all-MiniLM-L12-v2 (the Xenova/... repos):
        an fp32 ONNX graph with inputs input_ids, attention_mask, token_type_ids (dynamic batch and sequence
        axes) and output last_hidden_state;
    modules.json, sentence_bert_config.json, config_sentence_transformers.json, 1_Pooling/config.json
        the sentence-transformers module files of the same model: Transformer -> Pooling (mean over the
        attention mask) -> Normalize, max_seq_length 128;
    reference_embeddings.json
        the vectors that sentence-transformers itself (SentenceTransformer(<PyTorch folder>).encode, float32)
        gives for a dozen awkward sentences, with the token ids, library versions and the command;
    README.md
        what the folder is and how it was made.
  The model is a BertModel with 2 layers, hidden size 32, 4 heads, intermediate size 37, 512 positions, random
  weights (seed 20240611, wide initialisation and perturbed LayerNorms so that sentence vectors differ), and an
  uncased WordPiece vocabulary of a few hundred tokens written below (lower-casing and accent stripping as in
  MiniLM's BertTokenizer). The PyTorch weights are written to a temporary folder only (pass --keep-pytorch DIR to
  keep them); the committed folder stays well under 1 MB.

How to run (from the project root, with the dev Python that has torch, transformers, sentence-transformers, onnx
and onnxruntime):
  /tmp/devpy/bin/python tools/make_tiny_bert_fixture.py [--out tests/fixtures/tiny-bert] [--keep-pytorch DIR]
The output is deterministic for given library versions (CPU, seeded). The JSON files are then formatted with
`deno fmt` (found on PATH, via $DENO, or at /tmp/denoinst/node_modules/.bin/deno) so `deno task check` accepts them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

SEED = 20240611
MAX_SEQ_LENGTH = 128

# The vocabulary: special tokens first (MiniLM keeps them at 0 and 100-103; the ids differ here, the names do not),
# then single characters and their continuation pieces so every ASCII word can be spelled, then whole words and
# common suffixes so that typical text is not only characters.
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
DIGITS = [str(d) for d in range(10)]
WORDS = """
the a an and or but of to in on at for with from by as is are was were be been it its this that these those
he she they we you i me my our your his her their them there here not no yes do does did done have has had
cat cats kitten dog dogs sat sit mat rug runs run running fast slow quick brown fox jumps over lazy
hello world love like good bad new old big small day night time year people man woman child house city
economy market price bank money trade growth cafe naive resume deja vu percent number numbers one two three
model models language fine tuning mode collapse sample samples text sentence word words test tests
unknown believe able very much more most some many all any each every other same different
spaces leading trailing newlines tab end start long short story once upon who what when where why how
""".split()
SUFFIXES = ["##s", "##es", "##ed", "##ing", "##ly", "##er", "##est", "##tion", "##able", "##un", "##ness", "##ment"]
EXTRA = ["猫", "犬", "—", "…", "€"]


def build_vocab() -> list[str]:
    """Returns the vocabulary in id order, without duplicates."""
    tokens: list[str] = []
    seen: set[str] = set()
    for t in SPECIAL + PUNCT + DIGITS + LETTERS + ["##" + c for c in LETTERS + DIGITS] + WORDS + SUFFIXES + EXTRA:
        if t not in seen:
            seen.add(t)
            tokens.append(t)
    return tokens


def sentences() -> list[str]:
    """The reference sentences: edge cases first, then ordinary text, one duplicate, one past max_seq_length."""
    long_words = ("once upon a time the quick brown fox jumps over the lazy dog and the cat sat on the mat while "
                  "people in the city watched the market price of money and trade ").split()
    long_sentence = " ".join(long_words * 7)  # about 190 word pieces: truncated to 128 tokens by sentence-transformers
    return [
        "",
        "cat",
        "The cat sat on the mat.",
        "Hello, world!!! ... ?",
        "Café naïve résumé — déjà vu",
        "猫 and the 犬 are friends",
        "Unbelievably unknownword xyzzy QQQ",
        "The cat sat on the mat.",
        "  leading and trailing   spaces\tand\nnewlines  ",
        "Numbers 123 and 4.56 percent",
        "DOG RUNS FAST",
        "I love it 😀 so much",
        long_sentence,
    ]


def make_model(vocab_size: int):
    """Builds the seeded random BertModel; weights are widened so attention and pooling are not near-uniform."""
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=512,
        type_vocab_size=2,
        hidden_act="gelu",
        initializer_range=0.2,
        pad_token_id=0,
    )
    torch.manual_seed(SEED)
    model = BertModel(config, add_pooling_layer=True)
    # Eager attention traces into a plain graph; SDPA's traced mask branch mishandled padding in the export.
    model.set_attn_implementation("eager")
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            # LayerNorm defaults (weight 1, bias 0) would leave those code paths untested.
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    model.eval()
    return model


def write_legacy_st_files(st_dir: Path, dim: int, versions: dict) -> None:
    """Rewrites the sentence-transformers files in the format of the paper's model repo (sentence-transformers 2.x).

    sentence-transformers 6 saves newer files (``"pooling_mode": "mean"``, max_seq_length in tokenizer_config.json,
    new module paths). The hub's all-MiniLM-L12-v2 (and so its exports) carry the 2.x files, so the fixture does too,
    and the reference vectors come from sentence-transformers reading exactly these files.
    """
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    tokenizer_config = {
        "do_lower_case": True,
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
        "tokenize_chinese_chars": True,
        "strip_accents": None,
        # As in MiniLM: the tokenizer allows 512, sentence_bert_config.json cuts at 128.
        "model_max_length": 512,
        "do_basic_tokenize": True,
        "never_split": None,
        "tokenizer_class": "BertTokenizer",
    }
    files = {
        "modules.json": modules,
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": pooling,
        "config_sentence_transformers.json": {"__version__": versions},
        "tokenizer_config.json": tokenizer_config,
    }
    for name, value in files.items():
        (st_dir / name).write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    # The hub repo has no 2_Normalize folder (the module has no files).
    shutil.rmtree(st_dir / "2_Normalize", ignore_errors=True)


def export_onnx(model, path: Path) -> None:
    """Exports last_hidden_state with dynamic batch and sequence axes (legacy exporter, as the toolchain notes)."""

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    ids = torch.tensor([[2, 40, 41, 3], [2, 42, 3, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    types = torch.zeros_like(ids)
    axes = {0: "batch_size", 1: "sequence_length"}
    path.parent.mkdir(parents=True, exist_ok=True)
    # A new Module starts in training mode, and the exporter restores that mode afterwards, recursively: keep the
    # wrapper in eval mode or the PyTorch model comes back with dropout switched on.
    wrapper = Wrapper(model).eval()
    torch.onnx.export(
        wrapper,
        (ids, mask, types),
        str(path),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
        opset_version=17,
        do_constant_folding=True,
        dynamo=False,
    )
    model.eval()


def check_onnx(model, onnx_path: Path, tokenizer, texts: list[str]) -> float:
    """Max abs difference between onnxruntime and PyTorch hidden states on a padded batch (sanity check)."""
    import onnxruntime as ort

    enc = tokenizer(texts, padding=True, truncation=True, max_length=MAX_SEQ_LENGTH, return_tensors="np")
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feeds = {k: enc[k].astype(np.int64) for k in ["input_ids", "attention_mask", "token_type_ids"]}
    got = sess.run(["last_hidden_state"], feeds)[0]
    with torch.no_grad():
        want = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state.numpy()
    return float(np.max(np.abs(got - want)))


def format_with_deno(out: Path) -> None:
    """Runs `deno fmt` on the folder so that the project's `deno fmt --check` accepts the committed JSON."""
    import os
    import subprocess

    deno = os.environ.get("DENO") or shutil.which("deno") or "/tmp/denoinst/node_modules/.bin/deno"
    if not Path(deno).exists() and shutil.which(deno) is None:
        print(f"warning: deno not found (set DENO=...); run `deno fmt {out}` yourself", file=sys.stderr)
        return
    subprocess.run([deno, "fmt", "--quiet", str(out)], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="tests/fixtures/tiny-bert")
    parser.add_argument("--keep-pytorch", default=None, help="also keep the PyTorch sentence-transformers folder here")
    args = parser.parse_args()
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix="tiny-bert-"))
    try:
        return build(args, out, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build(args, out: Path, work: Path) -> int:
    """Writes the fixture folder; `work` is a scratch folder the caller removes."""
    import onnx
    import sentence_transformers
    import tokenizers
    import transformers
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertTokenizerFast

    hf_dir = work / "hf"
    st_dir = Path(args.keep_pytorch) if args.keep_pytorch else work / "st"
    hf_dir.mkdir(parents=True)

    vocab = build_vocab()
    (hf_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers 5 takes the vocabulary itself (a vocab_file argument is silently ignored there).
    tokenizer = BertTokenizerFast(
        vocab={t: i for i, t in enumerate(vocab)},
        do_lower_case=True,
        strip_accents=None,  # None follows do_lower_case: accents stripped, as in MiniLM
        tokenize_chinese_chars=True,
        model_max_length=512,
    )
    tokenizer.save_pretrained(str(hf_dir))
    model = make_model(len(vocab))
    model.save_pretrained(str(hf_dir))

    # The sentence-transformers pipeline of the paper's model: Transformer -> mean Pooling -> Normalize.
    transformer = models.Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH)
    pooling = models.Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
    if st_dir.exists():
        shutil.rmtree(st_dir)
    st.save(str(st_dir))
    write_legacy_st_files(st_dir, transformer.get_embedding_dimension(), {
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "pytorch": torch.__version__,
    })

    # Reference vectors from a fresh load of the saved folder: the independent implementation.
    texts = sentences()
    fresh = SentenceTransformer(str(st_dir), device="cpu")
    assert fresh.max_seq_length == MAX_SEQ_LENGTH, fresh.max_seq_length
    kinds = [type(m).__name__ for m in fresh]
    assert kinds == ["Transformer", "Pooling", "Normalize"], kinds
    vectors = fresh.encode(texts, batch_size=32, convert_to_numpy=True)
    assert vectors.dtype == np.float32, vectors.dtype
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    assert np.all(np.abs(norms - 1) < 1e-5), norms
    unknown = sum(ids.count(tokenizer.unk_token_id) for ids in [tokenizer(t)["input_ids"] for t in texts])
    assert unknown < 12, f"the vocabulary should cover most of the sentences ({unknown} [UNK])"
    token_ids = [
        tokenizer(t, truncation=True, max_length=MAX_SEQ_LENGTH)["input_ids"] for t in texts
    ]
    assert len(token_ids[-1]) == MAX_SEQ_LENGTH, "the long sentence should be truncated"

    # The transformers.js layout.
    if out.exists():
        shutil.rmtree(out)
    (out / "onnx").mkdir(parents=True)
    export_onnx(model, out / "onnx" / "model.onnx")
    onnx.checker.check_model(str(out / "onnx" / "model.onnx"))
    onnx_diff = check_onnx(model, out / "onnx" / "model.onnx", tokenizer, texts)
    assert onnx_diff < 1e-4, onnx_diff
    for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
                 "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json"]:
        src = st_dir / name
        if not src.exists():
            src = hf_dir / name
        if name == "special_tokens_map.json" and not src.exists():
            # Newer transformers no longer write this file; transformers.js exports still carry it.
            specials = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]",
                        "unk_token": "[UNK]"}
            (out / name).write_text(json.dumps(specials, indent=2) + "\n", encoding="utf-8")
            continue
        shutil.copyfile(src, out / name)
    (out / "1_Pooling").mkdir()
    shutil.copyfile(st_dir / "1_Pooling" / "config.json", out / "1_Pooling" / "config.json")

    command = "/tmp/devpy/bin/python tools/make_tiny_bert_fixture.py " + " ".join(sys.argv[1:])
    reference = {
        "description": "sentence-transformers encode() of the tiny BERT in this folder (float32, unit vectors)",
        "command": command.strip(),
        "producer": "SentenceTransformer('<PyTorch folder>').encode(sentences, batch_size=32), CPU",
        "versions": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence_transformers": sentence_transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "onnx": onnx.__version__,
            "numpy": np.__version__,
        },
        "seed": SEED,
        "max_seq_length": MAX_SEQ_LENGTH,
        "onnx_vs_pytorch_max_abs_diff": onnx_diff,
        "dimensions": int(vectors.shape[1]),
        "sentences": texts,
        "input_ids": token_ids,
        # float(np.float32) is exact in a double, so JSON keeps the float32 values bit for bit.
        "vectors": [[float(x) for x in row] for row in vectors],
    }
    (out / "reference_embeddings.json").write_text(json.dumps(reference, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    (out / "README.md").write_text(README.format(command=command.strip(), n=len(texts), vocab=len(vocab),
                                                 diff=onnx_diff), encoding="utf-8")
    format_with_deno(out)
    print(f"wrote {out} ({len(vocab)} tokens, {len(texts)} reference sentences, onnx vs torch {onnx_diff:.2e})")
    return 0


README = """# tiny-bert: a random-weight sentence encoder in the transformers.js layout

A stand-in for `sentence-transformers/all-MiniLM-L12-v2` (as exported for transformers.js in the
`Xenova/all-MiniLM-L12-v2` repo) that is small enough to commit: a `BertModel` with 2 layers, hidden size 32,
4 heads, intermediate size 37, 512 positions and **random weights** (seeded), with an uncased WordPiece vocabulary
of {vocab} hand-picked tokens (`vocab.txt`; lower-casing and accent stripping as in MiniLM). Its vectors mean
nothing; it exists to test the loading and pooling path of `lib/embeddings/sentence_transformers.ts`.

| file | what |
|---|---|
| `config.json`, `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`, `vocab.txt` | model and tokenizer, as transformers.js reads them |
| `onnx/model.onnx` | fp32 graph: `input_ids`, `attention_mask`, `token_type_ids` → `last_hidden_state`, dynamic batch/sequence axes (opset 17) |
| `modules.json`, `sentence_bert_config.json`, `config_sentence_transformers.json`, `1_Pooling/config.json` | sentence-transformers modules: Transformer → Pooling (mean over the attention mask) → Normalize; `max_seq_length` 128 |
| `reference_embeddings.json` | the vectors sentence-transformers itself gives for {n} sentences (empty, one word, punctuation, accents, CJK, emoji, a duplicate, one truncated at 128 tokens), with their token ids and the library versions |

The `2_Normalize` module named in `modules.json` has no files, so it has no folder here. The PyTorch weights are
not committed; rerun the generator to get them (`--keep-pytorch DIR`).

Made with

    {command}

(dev-time Python with torch, transformers, sentence-transformers, onnx and onnxruntime; versions in
`reference_embeddings.json`, details in the script's header). ONNX vs PyTorch hidden states: max abs difference
{diff:.1e}.
"""

if __name__ == "__main__":
    sys.exit(main())
