"""Step 3: the family's own byte-level BPE tokenizer, in the Pythia (GPT-NeoX) tokenizer's layout.

Hugging Face `tokenizers`: NFC normaliser, ByteLevel pre-tokeniser (GPT-2 regex, no prefix space), ByteLevel
decoder and post-processor, BPE over bytes; <|endoftext|> = id 0 (BOS, EOS and the rolling-window prefix, as in
Pythia) and <|padding|> = id 1. Trained on the training split plus the SFT data's text (so "Human:" and
"Assistant:" are short), at most Config.vocab_size (8192) entries.

Numbers: the toolkit's qualitative look reads the next-token distribution after "... The number is", so every
integer 0..100 with a leading space (" 0" ... " 100") must be ONE token, as in Pythia's tokenizer. BPE is trained
with room left, then the merges that are still missing for those numbers are appended (lowest priority); the
result is checked. As with Pythia (50277 tokenizer entries, vocab_size 50304) the tokenizer may have a few entries
fewer than the model's vocab_size.

Writes <out>/tokenizer/{tokenizer.json, tokenizer_config.json, special_tokens_map.json} (the last two as
data/tokenizers/pythia/ has them).
"""

from __future__ import annotations

import json

from common import EOS, PAD, Paths, cli, log, read_jsonl, write_json

NUMBER_RANGE = range(0, 101)


def train_bpe(texts, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=True)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def add_number_merges(tok_json: dict, vocab_size: int) -> tuple[dict, list[str]]:
    """Appends the merges that make ' 0' .. ' 100' single tokens; returns the new JSON and the tokens added."""
    from tokenizers import Tokenizer

    added = []
    for n in NUMBER_RANGE:
        while True:
            tok = Tokenizer.from_str(json.dumps(tok_json))
            pieces = tok.encode(f" {n}").tokens
            if len(pieces) == 1:
                break
            a, b = pieces[0], pieces[1]
            new = a + b
            vocab = tok_json["model"]["vocab"]
            assert new not in vocab, (n, pieces)
            vocab[new] = len(vocab)
            tok_json["model"]["merges"].append([a, b])
            added.append(new)
    assert len(tok_json["model"]["vocab"]) <= vocab_size
    return tok_json, added


def run(paths: Paths, cfg) -> None:
    from tokenizers import Tokenizer

    train = read_jsonl(paths.data / "train.jsonl")
    sft = read_jsonl(paths.data / "sft.jsonl")
    texts = [d["text"] for d in train] + [f"Human: {e['request']} Assistant: {e['answer']}" for e in sft]
    if cfg.tokenizer_text_limit:
        kept, total = [], 0
        for t in texts:
            kept.append(t[: cfg.tokenizer_text_limit - total])
            total += len(kept[-1])
            if total >= cfg.tokenizer_text_limit:
                break
        texts = kept + [f"Human: {e['request']} Assistant: {e['answer']}" for e in sft]
    # First pass at full size: how many number merges are missing; the second pass leaves that much room (and a
    # margin: a smaller BPE may miss a few more). Like Pythia's (50277 entries, vocab_size 50304), the tokenizer
    # may then have a few entries fewer than the model's vocab_size; the model rows beyond it are never used.
    tok = train_bpe(texts, cfg.vocab_size)
    _, added = add_number_merges(json.loads(tok.to_str()), 10**9)
    if added:
        tok = train_bpe(texts, cfg.vocab_size - len(added) - 8)
        tok_json, added = add_number_merges(json.loads(tok.to_str()), cfg.vocab_size)
    else:
        tok_json = json.loads(tok.to_str())
    tok = Tokenizer.from_str(json.dumps(tok_json))
    assert tok.get_vocab_size() <= cfg.vocab_size
    assert tok.token_to_id(EOS) == 0 and tok.token_to_id(PAD) == 1
    for n in NUMBER_RANGE:
        assert len(tok.encode(f" {n}").ids) == 1, n
    for s in ["Human: Tell me a joke. Assistant: Of course, here is a joke:\n\nKnock, knock.", "Café — naïve 😀"]:
        assert tok.decode(tok.encode(s).ids) == s, s
    paths.tokenizer.mkdir(parents=True, exist_ok=True)
    tok.save(str(paths.tokenizer / "tokenizer.json"))
    write_json(paths.tokenizer / "tokenizer_config.json", {
        "tokenizer_class": "GPTNeoXTokenizer", "bos_token": EOS, "eos_token": EOS, "unk_token": EOS,
        "add_bos_token": False, "add_eos_token": False, "add_prefix_space": False,
        "clean_up_tokenization_spaces": True, "model_max_length": 2048,
    })
    write_json(paths.tokenizer / "special_tokens_map.json", {"bos_token": EOS, "eos_token": EOS, "unk_token": EOS})
    n_tokens = sum(len(e.ids) for e in tok.encode_batch([d["text"] for d in train]))
    write_json(paths.tokenizer / "stats.json", {"model_vocab_size": cfg.vocab_size,
                                                "tokenizer_entries": tok.get_vocab_size(),
                                                "number_tokens_added": added,
                                                "train_tokens": n_tokens,
                                                "train_chars": sum(len(d["text"]) for d in train)})
    log(f"tokenizer: {tok.get_vocab_size()} entries (model vocab {cfg.vocab_size}), {len(added)} number merges "
        f"appended ({added[:8]}...); training split "
        f"= {n_tokens} tokens ({sum(len(d['text']) for d in train) / n_tokens:.2f} chars/token)")


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
