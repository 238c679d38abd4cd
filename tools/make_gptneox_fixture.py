"""Builds two tiny random-weight GPT-NeoX (Pythia-architecture) models in the transformers.js layout, a small
Pile-format corpus, and float64 PyTorch reference values of the next-token statistics on that corpus.

What it makes (dev-time only; the project's tests read the committed output and never need Python):
  tests/fixtures/tiny-corpus/corpus.jsonl
      12 Pile-format lines {"text": ..., "meta": {"pile_set_name": ...}}: varied English, an empty text, a
      two-token one, unicode, code, and documents longer than the 64-token reference window (one of 164 tokens,
      one of 109, one of 65 whose second window predicts a single token) so that windows roll.
  tests/fixtures/tiny-gptneox/{base,tuned}/
      config.json (model_type gpt_neox, Pythia-style fields), generation_config.json, tokenizer.json,
      tokenizer_config.json and special_tokens_map.json (copied from data/tokenizers/pythia/, the real Pythia
      tokenizer), onnx/model.onnx (fp32, opset 17, legacy exporter) with inputs input_ids, attention_mask,
      position_ids, past_key_values.{i}.key/value and outputs logits, present.{i}.key/value -- the layout of a
      transformers.js causal-LM export with KV cache (optimum's "text-generation-with-past").
  tests/fixtures/tiny-gptneox/reference.json
      settings, per-document token ids, window spans, per-position values for both models, corpus statistics,
      and a probe of the raw float32 logits of one window (see REFERENCE_ABOUT below).
  tests/fixtures/tiny-gptneox/README.md

The models: GPTNeoXForCausalLM with the Pythia architecture (rotary_pct 0.25, use_parallel_residual, untied
input/output embeddings, 2048 positions) and the REAL Pythia vocabulary size padded as Pythia pads it
(vocab_size 50304; the tokenizer's ids are < 50277), 2 layers, hidden size 16, 2 heads (head size 8, so 2 rotary
dimensions), intermediate size 64. The embedding tables dominate the size: 50304 x 16 x 4 bytes x 2 tables
= 6.4 MB per model. Hidden size 32 would double that (12.9 MB per model, about 32 MB for the whole fixture with the
two 2.5 MB tokenizer copies), above the ~30 MB budget, so 16 was chosen.
Weights are random (seed SEED) but PEAKED: the output embedding has four high-gain hidden directions and
log-normal row norms, and the final LayerNorm carries a constant direction through which a few dozen common
English tokens get a prior, so next-token entropies spread from near 0 to ~9 nats with a mean of ~3 nats.
`tuned` is `base` with the output embedding doubled (logits x 2: sharper), the prior of five tokens raised and
three rows replaced, so KL(base||tuned) is clearly non-zero and some argmaxes change -- a caricature of the
mode collapse the paper measures.

The reference values are computed with Hugging Face transformers in PyTorch after casting the models to float64:
tokens from the real tokenizer (no BOS), prefix token <|endoftext|> (id 0), rolling windows as in
lm_perplexity's get_rolling_token_windows (implemented below and checked against windows recorded from
lm_perplexity itself, reference/rolling_windows.json under --shared), max_seq_len 64 and context_len 1. For every predicted position: the
log-probability of the target, the entropy (nats, full 50304-way distribution, no epsilon), the max probability
(confidence), the argmax and whether it equals the target; for `tuned` also KL(base||tuned), JS(base, tuned)
(natural log) and whether the argmax differs from base's.

How to run (from the project root, with the dev Python that has torch, transformers, tokenizers, onnx and
onnxruntime; run `deno task setup` first so data/tokenizers/pythia/ exists):
  /tmp/devpy/bin/python tools/make_gptneox_fixture.py [--out tests/fixtures/tiny-gptneox]
      [--corpus tests/fixtures/tiny-corpus/corpus.jsonl] [--shared ../shared]
The output is deterministic for given library versions (CPU, seeded). JSON files are then formatted with
`deno fmt` (found on PATH, via $DENO, or at /tmp/denoinst/node_modules/.bin/deno).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

SEED = 20240524
VOCAB_SIZE = 50304  # Pythia <= 2.8B: 50277 tokenizer entries padded to a multiple of 128
HIDDEN = 16
LAYERS = 2
HEADS = 2
INTERMEDIATE = 64
MAX_POSITIONS = 2048
PREFIX_TOKEN = 0  # <|endoftext|>
MAX_SEQ_LEN = 64
CONTEXT_LEN = 1
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
# Output-embedding shape: gain of the first HIGH_DIMS hidden directions (sets how peaked distributions are).
HIGH_GAIN = 3.5
HIGH_DIMS = 4
# A prior on common English tokens, carried by the last hidden direction (constant after the final LayerNorm).
PRIOR_TOP = 9.0
PRIOR_SLOPE = 0.1
COMMON_TOKENS = [
    "Ġthe", ",", ".", "Ġand", "Ġof", "Ġa", "Ġto", "Ġin", "Ġis", "Ċ", "Ġthat", "Ġit", "Ġfor", "Ġwas", "Ġon",
    "Ġwith", "Ġas", "Ġhe", "ĠThe", "Ġbe", "Ġat", "Ġby", "Ġ(", ")", "Ġthis", "Ġhad", "Ġnot", "Ġare", "Ġbut",
    "Ġfrom", "Ġor", "Ġhave", "Ġan", "Ġthey", "Ġwhich", "Ġyou", "Ġwere", "Ġher", "Ġshe", "Ġhis",
]
# tuned: these tokens' prior is raised (mode collapse onto a few tokens) ...
TUNED_BOOSTED = ["Ġthe", ".", "Ċ", "ĠI", "!"]
TUNED_BOOST = 3.0
# ... and these rows are replaced by fresh random ones.
TUNED_REPLACED = ["Ġharbour", "Ġfox", "Ġentropy"]
LOGIT_SCALE = 2.0

CORPUS = [
    ("Pile-CC", "The lighthouse at the end of the harbour was built in 1872, after a winter in which three fishing "
     "boats were lost on the rocks below the cliff. For almost a century a keeper and his family lived in the small "
     "stone cottage beside it, trimming the wick every evening and winding the clockwork that turned the great "
     "lens. The last keeper, a quiet man named Thomas Reed, kept a logbook in which he wrote down the weather, the "
     "ships that passed, and the birds that struck the glass during the autumn migration. When the light was "
     "automated in 1968 he moved to the village, but he still walked up the hill every morning to look at the sea. "
     "Today the cottage is a small museum, and visitors can read his logbook, page by page, in a glass case near "
     "the door."),
    ("Pile-CC", ""),
    ("OpenWebText2", "Yes."),
    ("Pile-CC", "Café au lait, naïve façade — 東京 and München; emoji 😀🎉; math ∑ x² ≤ π."),
    ("Github", "def mean(values):\n    \"\"\"Return the arithmetic mean of a non-empty list.\"\"\"\n"
     "    if not values:\n        raise ValueError(\"empty\")\n    return sum(values) / len(values)\n"),
    ("Wikipedia (en)", "The red fox (Vulpes vulpes) is the largest of the true foxes and one of the most widely "
     "distributed members of the order Carnivora, being present across the entire Northern Hemisphere."),
    ("ArXiv", "We study the entropy of next-token distributions produced by language models before and after "
     "fine-tuning. Supervised fine-tuning and preference optimisation both reduce the entropy of the output "
     "distribution, but they do so in different ways: the former mostly sharpens distributions that were already "
     "peaked, while the latter shifts probability mass towards a small set of tokens that were favoured by the "
     "reward. We measure perplexity, expected calibration and the effective vocabulary size on held-out text, and "
     "we relate these quantities to the diversity of sampled completions."),
    ("StackExchange", "Q: How do I count lines in a file?\n\nA: Use `wc -l file.txt`.\n\n    It prints the count "
     "followed by the name.\n\nThanks!"),
    ("FreeLaw", "IT IS HEREBY ORDERED that the motion to dismiss is GRANTED in part and DENIED in part."),
    ("Pile-CC", "On 12/03/2021 the price rose 4.5% to $1,234.56, up from 998 in 2019."),
    ("Books3", "She opened the door slowly. Nobody was there, only the wind, and a letter on the mat addressed to "
     "someone who had lived in the house long before her. She read the name twice, then carried the envelope to "
     "the kitchen table and sat looking at it while the kettle began to sing. Outside it rained."),
    ("HackerNews", "Human: What is the capital of France? Assistant: The capital of France is Paris."),
]
# Token counts the corpus was written for (checked: a tokenizer change would silently change the windows).
EXPECTED_TOKEN_COUNTS = [164, 0, 2, 38, 46, 43, 109, 39, 21, 29, 65, 18]

REFERENCE_ABOUT = (
    "Reference next-token statistics of the two tiny GPT-NeoX models in this folder on "
    "tests/fixtures/tiny-corpus/corpus.jsonl, computed by Hugging Face transformers (PyTorch) in float64. "
    "documents[d].windows: input_start is the document token index of the first input token (-1: the prefix "
    "token), the input is input_len tokens long (the prefix, if any, then consecutive document tokens); the last "
    "predict_len positions are scored against tokens[predict_start : predict_start + predict_len]. Per-position "
    "arrays have one entry per document token, in order. entropy: nats over all vocab_size logits, no epsilon; "
    "confidence: max probability; kl_from_base: KL(base||tuned) = sum p_base (ln p_base - ln p_tuned); "
    "js_with_base: JS = (KL(base||m) + KL(tuned||m)) / 2 with m = (p_base + p_tuned) / 2, natural log. corpus: "
    "token-weighted over all predicted positions unless named otherwise; perplexity = exp(-mean logprob); "
    "bits_per_byte = -sum logprob / ln 2 / sum UTF-8 bytes; mean_confidence_doc_weighted = mean over documents with "
    "at least one token of their mean confidence; mean_distribution = the token-weighted mean of the next-token "
    "distributions: effective_vocab = exp(its entropy), vocab_fraction_{70,90} = (index of the first entry of its "
    "descending-sorted cumulative sum that is > 0.7 / 0.9) / vocab_size. logits_probe: the raw float32 logits "
    "of PyTorch (float32 model) for one window: per row max, argmax and logsumexp (computed in float64 from the "
    "float32 values), the values at a fixed set of columns, and two full rows as base64 little-endian float32."
)


# ---------------------------------------------------------------------------------------------- rolling windows

def rolling_windows(tokens: list[int], prefix: int, max_seq_len: int, context_len: int):
    """Yields (input, predict, input_start, predict_start) as lm_perplexity's get_rolling_token_windows does.

    input_start is the index of input[0] in `tokens`, or -1 when input[0] is the prefix token.
    """
    assert 1 <= context_len <= max_seq_len
    if not tokens:
        return
    pred_len = max_seq_len - context_len + 1
    first = min(max_seq_len, len(tokens))
    yield [prefix] + tokens[: first - 1], tokens[:first], -1, 0
    predicted = first
    while predicted < len(tokens):
        width = min(len(tokens) - predicted, pred_len)
        end = predicted + width
        yield tokens[end - max_seq_len - 1: end - 1], tokens[end - width: end], end - max_seq_len - 1, end - width
        predicted = end


def check_windows_against_shared(shared: Path | None) -> int:
    """Checks rolling_windows() on every case of shared/reference/rolling_windows.json; returns the case count."""
    path = shared / "reference" / "rolling_windows.json" if shared else None
    if path is None or not path.exists():
        print("warning: rolling_windows.json not found; windows not checked against it", file=sys.stderr)
        return 0
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    for case in cases:
        assert case["tokens"] == "0..n-1", case["tokens"]
        tokens = list(range(case["n_tokens"]))
        got = list(rolling_windows(tokens, case["prefix_token"], case["max_seq_len"], case["context_len"]))
        if case.get("windows") is not None:
            assert [[w[0], w[1]] for w in got] == [[w["input"], w["predict"]] for w in case["windows"]], case
        summary = [{
            "input_first": w[0][0], "input_last": w[0][-1], "input_len": len(w[0]),
            "predict_first": w[1][0], "predict_last": w[1][-1], "predict_len": len(w[1]),
        } for w in got]
        assert summary == case["summary"], (case["n_tokens"], case["max_seq_len"], case["context_len"])
    return len(cases)


# ------------------------------------------------------------------------------------------------------ models

def pythia_config() -> dict:
    """config.json in the style of the EleutherAI/pythia-* repos (rotary_pct, not transformers 5's rope_parameters)."""
    return {
        "architectures": ["GPTNeoXForCausalLM"],
        "attention_bias": True,
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "classifier_dropout": 0.1,
        "eos_token_id": 0,
        "hidden_act": "gelu",
        "hidden_dropout": 0.0,
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": MAX_POSITIONS,
        "model_type": "gpt_neox",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "rotary_emb_base": 10000,
        "rotary_pct": 0.25,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "use_cache": True,
        "use_parallel_residual": True,
        "vocab_size": VOCAB_SIZE,
    }


def token_id(tok, piece: str) -> int:
    """Id of a byte-level BPE piece (Ġ = leading space, Ċ = newline); fails loudly when absent."""
    i = tok.token_to_id(piece)
    assert i is not None, piece
    return i


def make_base(config, tok):
    """The seeded, peaked random model (see the module docstring)."""
    from transformers import GPTNeoXForCausalLM

    torch.manual_seed(SEED)
    model = GPTNeoXForCausalLM(config)
    model.set_attn_implementation("eager")
    gen = torch.Generator().manual_seed(SEED + 1)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64).float()

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("embed_in.weight"):
                p.copy_(randn(*p.shape))
            elif name.endswith("final_layer_norm.weight"):
                w = 1.0 + 0.2 * randn(*p.shape)
                w[-1] = 0.3  # the last direction stays near its bias: a constant input to the output prior
                p.copy_(w)
            elif name.endswith("final_layer_norm.bias"):
                b = 0.1 * randn(*p.shape)
                b[-1] = 1.0
                p.copy_(b)
            elif "layernorm.weight" in name:
                p.copy_(1.0 + 0.2 * randn(*p.shape))  # not the default 1/0, so those code paths are exercised
            elif "layernorm.bias" in name:
                p.copy_(0.1 * randn(*p.shape))
            elif name.endswith("lm_head.weight"):
                vocab, hidden = p.shape
                gain = torch.ones(hidden)
                gain[:HIGH_DIMS] = HIGH_GAIN
                row_norm = torch.exp(0.3 * randn(vocab))  # some tokens are "louder" than others
                w = randn(vocab, hidden) / math.sqrt(hidden) * gain * row_norm[:, None]
                w[:, -1] = 0.5 * randn(vocab)
                for rank, piece in enumerate(COMMON_TOKENS):
                    w[token_id(tok, piece), -1] = PRIOR_TOP - PRIOR_SLOPE * rank
                p.copy_(w)
            elif name.endswith("weight"):
                p.copy_(randn(*p.shape) / math.sqrt(p.shape[1]))
            elif name.endswith("bias"):
                p.copy_(0.1 * randn(*p.shape))
    return model.eval()


def make_tuned(base, config, tok):
    """`base` with sharper, shifted output distributions."""
    from transformers import GPTNeoXForCausalLM

    tuned = GPTNeoXForCausalLM(config)
    tuned.set_attn_implementation("eager")
    tuned.load_state_dict(base.state_dict())
    gen = torch.Generator().manual_seed(SEED + 2)
    with torch.no_grad():
        w = tuned.lm_head.weight
        w.mul_(LOGIT_SCALE)
        for piece in TUNED_BOOSTED:
            w[token_id(tok, piece), -1] += TUNED_BOOST
        for piece in TUNED_REPLACED:
            row = torch.randn(w.shape[1], generator=gen, dtype=torch.float64).float()
            w[token_id(tok, piece)] = row * HIGH_GAIN / math.sqrt(w.shape[1])
    return tuned.eval()


# -------------------------------------------------------------------------------------------------------- ONNX

class WithPast(torch.nn.Module):
    """Flat-tensor interface of a causal LM with KV cache, as optimum exports it for transformers.js."""

    def __init__(self, inner, config):
        super().__init__()
        self.inner = inner
        self.config = config

    def forward(self, input_ids, attention_mask, position_ids, *past):
        from transformers import DynamicCache

        pairs = [(past[2 * i], past[2 * i + 1]) for i in range(len(past) // 2)]
        cache = DynamicCache(pairs, config=self.config)
        out = self.inner(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         past_key_values=cache, use_cache=True)
        flat = [out.logits]
        for layer in out.past_key_values.layers:
            flat += [layer.keys, layer.values]
        return tuple(flat)


def export_onnx(model, config, path: Path) -> None:
    """Legacy exporter, opset 17; dim names as transformers.js expects (it fills 'batch_size', zeros the rest)."""
    heads, layers = config.num_attention_heads, config.num_hidden_layers
    head_dim = config.hidden_size // heads
    past_len, seq = 3, 5
    ids = torch.tensor([[5, 17, 300, 4000, 50000]] * 2, dtype=torch.int64)
    mask = torch.ones(2, past_len + seq, dtype=torch.int64)
    pos = torch.arange(past_len, past_len + seq, dtype=torch.int64).expand(2, seq).contiguous()
    gen = torch.Generator().manual_seed(0)
    past = [torch.randn(2, heads, past_len, head_dim, generator=gen) for _ in range(2 * layers)]
    input_names = ["input_ids", "attention_mask", "position_ids"]
    output_names = ["logits"]
    axes = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for i in range(layers):
        for kind in ("key", "value"):
            input_names.append(f"past_key_values.{i}.{kind}")
            output_names.append(f"present.{i}.{kind}")
            axes[f"past_key_values.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length"}
            axes[f"present.{i}.{kind}"] = {0: "batch_size", 2: "total_sequence_length"}
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = WithPast(model, config).eval()
    torch.onnx.export(wrapper, (ids, mask, pos, *past), str(path), input_names=input_names,
                      output_names=output_names, dynamic_axes=axes, opset_version=17, do_constant_folding=True,
                      dynamo=False)
    model.eval()


def check_onnx(model, path: Path, windows: list[list[int]]) -> dict:
    """Max abs differences of onnxruntime vs PyTorch (float32) logits: empty past, incremental decoding, batch."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    head_dim = HIDDEN // HEADS

    def feeds(ids: np.ndarray, past_len: int, past: list[np.ndarray] | None):
        batch, seq = ids.shape
        f = {
            "input_ids": ids.astype(np.int64),
            "attention_mask": np.ones((batch, past_len + seq), dtype=np.int64),
            "position_ids": np.tile(np.arange(past_len, past_len + seq, dtype=np.int64), (batch, 1)),
        }
        for i in range(2 * LAYERS):
            name = f"past_key_values.{i // 2}.{'key' if i % 2 == 0 else 'value'}"
            f[name] = past[i] if past is not None else np.zeros((batch, HEADS, 0, head_dim), dtype=np.float32)
        return f

    full = 0.0
    for w in windows:
        ids = np.array([w], dtype=np.int64)
        got = sess.run(["logits"], feeds(ids, 0, None))[0]
        with torch.no_grad():
            want = model(input_ids=torch.from_numpy(ids)).logits.numpy()
        full = max(full, float(np.max(np.abs(got - want))))
    # Incremental: the first 10 tokens, then the rest with the cache; must agree with the one-shot logits.
    ids = np.array([windows[0]], dtype=np.int64)
    names = [o.name for o in sess.get_outputs()]
    first = sess.run(names, feeds(ids[:, :10], 0, None))
    second = sess.run(names, feeds(ids[:, 10:], 10, first[1:]))
    with torch.no_grad():
        want = model(input_ids=torch.from_numpy(ids)).logits.numpy()
    incremental = float(np.max(np.abs(np.concatenate([first[0], second[0]], axis=1) - want)))
    # A batch of equal-length windows (what CausalLM.forward sends) against PyTorch on the same batch.
    width = max(len(w) for w in windows)
    batch = np.array([w for w in windows if len(w) == width][:3], dtype=np.int64)
    got = sess.run(["logits"], feeds(batch, 0, None))[0]
    with torch.no_grad():
        want = model(input_ids=torch.from_numpy(batch)).logits.numpy()
    batched = float(np.max(np.abs(got - want)))
    return {"empty_past": full, "incremental": incremental, "batch_of_%d" % len(batch): batched}


# ---------------------------------------------------------------------------------------------------- scoring

def score_window(model, window: list[int], n_predict: int) -> torch.Tensor:
    """float64 log-softmax of the last n_predict positions of one window, [n_predict, V]."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([window], dtype=torch.int64)).logits[0]
    assert logits.dtype == torch.float64
    return torch.log_softmax(logits[-n_predict:], dim=-1)


def score_corpus(models: dict, docs: list[list[int]]):
    """Per-document arrays for both models, and the token-weighted mean next-token distribution of each."""
    out = []
    mean_dist = {name: torch.zeros(VOCAB_SIZE, dtype=torch.float64) for name in models}
    count = 0
    for tokens in docs:
        rec = {"windows": [], **{name: {"logprob": [], "entropy": [], "confidence": [], "argmax": [],
                                        "correct": []} for name in models}}
        rec["tuned"].update({"kl_from_base": [], "js_with_base": [], "argmax_changed": []})
        for inp, pred, input_start, predict_start in rolling_windows(tokens, PREFIX_TOKEN, MAX_SEQ_LEN, CONTEXT_LEN):
            rec["windows"].append({"input_start": input_start, "input_len": len(inp), "predict_start": predict_start,
                                   "predict_len": len(pred)})
            target = torch.tensor(pred, dtype=torch.int64)
            logp = {name: score_window(m, inp, len(pred)) for name, m in models.items()}
            for name, lp in logp.items():
                p = lp.exp()
                r = rec[name]
                r["logprob"] += lp[torch.arange(len(pred)), target].tolist()
                r["entropy"] += (-(p * lp).sum(-1)).tolist()
                r["confidence"] += p.max(-1).values.tolist()
                arg = lp.argmax(-1)
                r["argmax"] += arg.tolist()
                r["correct"] += (arg == target).tolist()
                mean_dist[name] += p.sum(0)
            pb, pt = logp["base"].exp(), logp["tuned"].exp()
            kl = (pb * (logp["base"] - logp["tuned"])).sum(-1)
            log_m = torch.log((pb + pt) / 2)
            js = ((pb * (logp["base"] - log_m)).sum(-1) + (pt * (logp["tuned"] - log_m)).sum(-1)) / 2
            rec["tuned"]["kl_from_base"] += kl.tolist()
            rec["tuned"]["js_with_base"] += js.tolist()
            rec["tuned"]["argmax_changed"] += (logp["base"].argmax(-1) != logp["tuned"].argmax(-1)).tolist()
            count += len(pred)
        for name in models:
            assert len(rec[name]["logprob"]) == len(tokens)
        out.append(rec)
    return out, {name: d / count for name, d in mean_dist.items()}


def first_above(cdf: np.ndarray, threshold: float) -> tuple[int, float]:
    """0-based index of the first cumulative value > threshold, and how far the nearest cdf value is from it."""
    idx = int(np.argmax(cdf > threshold))
    assert cdf[idx] > threshold
    margin = float(min(abs(cdf[idx] - threshold), abs(cdf[idx - 1] - threshold) if idx > 0 else 1.0))
    return idx, margin


def corpus_stats(records: list[dict], name: str, mean_dist: torch.Tensor, byte_counts: list[int]) -> dict:
    """Corpus-level statistics of one model (definitions in REFERENCE_ABOUT)."""
    cat = lambda key: np.array([x for r in records for x in r[name][key]], dtype=np.float64)  # noqa: E731
    logprob, entropy, confidence, correct = cat("logprob"), cat("entropy"), cat("confidence"), cat("correct")
    n = len(logprob)
    doc_conf = [float(np.mean(r[name]["confidence"])) for r in records if r[name]["confidence"]]
    dist = mean_dist.numpy()
    sorted_desc = np.sort(dist)[::-1]
    cdf = np.cumsum(sorted_desc)
    i70, m70 = first_above(cdf, 0.7)
    i90, m90 = first_above(cdf, 0.9)
    nz = dist[dist > 0]
    order = np.argsort(-dist, kind="stable")[:10]
    stats = {
        "tokens": n,
        "documents_scored": len(doc_conf),
        "utf8_bytes": int(sum(byte_counts)),
        "sum_logprob": float(logprob.sum()),
        "mean_logprob": float(logprob.mean()),
        "perplexity": float(math.exp(-logprob.mean())),
        "bits_per_byte": float(-logprob.sum() / math.log(2) / sum(byte_counts)),
        "mean_entropy": float(entropy.mean()),
        "mean_confidence": float(confidence.mean()),
        "mean_confidence_doc_weighted": float(np.mean(doc_conf)),
        "accuracy": float(correct.mean()),
        "mean_distribution": {
            "sum": float(dist.sum()),
            "entropy": float(-(nz * np.log(nz)).sum()),
            "effective_vocab": float(math.exp(-(nz * np.log(nz)).sum())),
            "index_70": i70,
            "index_90": i90,
            "vocab_fraction_70": i70 / VOCAB_SIZE,
            "vocab_fraction_90": i90 / VOCAB_SIZE,
            "cdf_margin_70": m70,
            "cdf_margin_90": m90,
            "top10": [{"id": int(i), "p": float(dist[i])} for i in order],
        },
    }
    if name == "tuned":
        stats["mean_kl_from_base"] = float(cat("kl_from_base").mean())
        stats["mean_js_with_base"] = float(cat("js_with_base").mean())
        stats["argmax_changed_share"] = float(cat("argmax_changed").mean())
    return stats


def logits_probe(models32: dict, window: list[int]) -> dict:
    """Raw float32 PyTorch logits of one window, summarised (the full 64 x 50304 would be 13 MB)."""
    rng = np.random.default_rng(SEED)
    extra = [0, 1, 2, 50276, 50277, 50303]  # ends of the tokenizer's range and the padding rows beyond it
    columns = sorted(set(window[1:17]) | set(rng.choice(VOCAB_SIZE, 40, replace=False).tolist()) | set(extra))
    full_rows = [0, len(window) - 1]
    out = {"input_ids": window, "rows": len(window), "vocab": VOCAB_SIZE, "columns": columns, "full_rows": full_rows}
    for name, model in models32.items():
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([window], dtype=torch.int64)).logits[0].numpy()
        assert logits.dtype == np.float32
        l64 = logits.astype(np.float64)
        row_max = l64.max(-1)
        lse = row_max + np.log(np.exp(l64 - row_max[:, None]).sum(-1))
        out[name] = {
            "row_max": [float(x) for x in row_max],
            "row_argmax": [int(x) for x in logits.argmax(-1)],
            "row_logsumexp": [float(x) for x in lse],
            # float(np.float32) is exact in a double: JSON keeps the float32 values bit for bit.
            "values": [[float(logits[r, c]) for c in columns] for r in range(len(window))],
            "full_rows_base64": [base64.b64encode(logits[r].astype("<f4").tobytes()).decode("ascii")
                                 for r in full_rows],
        }
    return out


# ------------------------------------------------------------------------------------------------------- files

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def format_with_deno(paths: list[Path]) -> None:
    """Runs `deno fmt` on the JSON/Markdown written, so that the project's `deno fmt --check` accepts them."""
    deno = os.environ.get("DENO") or shutil.which("deno") or "/tmp/denoinst/node_modules/.bin/deno"
    if not Path(deno).exists() and shutil.which(deno) is None:
        print(f"warning: deno not found (set DENO=...); run `deno fmt` on {paths} yourself", file=sys.stderr)
        return
    subprocess.run([deno, "fmt", "--quiet", *map(str, paths)], check=True)


def write_corpus(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"text": text, "meta": {"pile_set_name": source}}, ensure_ascii=False)
             for source, text in CORPUS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_corpus(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="tests/fixtures/tiny-gptneox")
    parser.add_argument("--corpus", default="tests/fixtures/tiny-corpus/corpus.jsonl")
    parser.add_argument("--tokenizer", default="data/tokenizers/pythia")
    parser.add_argument("--shared", default=os.environ.get("MODE_COLLAPSE_SHARED", "../shared"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tiny-gptneox-"))
    try:
        return build(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build(args, work: Path) -> int:
    import onnx
    import onnxruntime
    import tokenizers
    import transformers
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    out, corpus_path, tok_dir = Path(args.out), Path(args.corpus), Path(args.tokenizer)
    shared = Path(args.shared) if Path(args.shared).exists() else None
    for name in TOKENIZER_FILES:
        if not (tok_dir / name).exists():
            sys.exit(f"{tok_dir / name} missing: run `deno task setup` first")
    n_window_cases = check_windows_against_shared(shared)
    tok = tokenizers.Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    assert tok.get_vocab_size() == 50277 and tok.token_to_id("<|endoftext|>") == PREFIX_TOKEN

    write_corpus(corpus_path)
    texts = read_corpus(corpus_path)
    docs = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    assert [len(d) for d in docs] == EXPECTED_TOKEN_COUNTS, [len(d) for d in docs]
    assert all(i < VOCAB_SIZE for d in docs for i in d)

    # Model folders: config.json as Pythia writes it; transformers must read it back into the same architecture.
    cfg_dir = work / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "config.json").write_text(json.dumps(pythia_config(), indent=2) + "\n", encoding="utf-8")
    config = GPTNeoXConfig.from_pretrained(str(cfg_dir))
    assert config.rope_parameters["partial_rotary_factor"] == 0.25 and config.use_parallel_residual
    assert not config.tie_word_embeddings and config.vocab_size == VOCAB_SIZE
    models = {"base": make_base(config, tok)}
    models["tuned"] = make_tuned(models["base"], config, tok)

    if out.exists():
        shutil.rmtree(out)
    onnx_check = {}
    first_long = next(i for i, d in enumerate(docs) if len(d) > MAX_SEQ_LEN)
    check_windows = [w[0] for d in docs for w in rolling_windows(d, PREFIX_TOKEN, MAX_SEQ_LEN, CONTEXT_LEN)]
    files = {}
    for name, model in models.items():
        folder = out / name
        # Round trip through save_pretrained / from_pretrained with the Pythia-style config: the reference is
        # computed from what a user of these files would load.
        model.save_pretrained(str(work / name))
        (work / name / "config.json").write_text(json.dumps(pythia_config(), indent=2) + "\n", encoding="utf-8")
        reloaded = GPTNeoXForCausalLM.from_pretrained(str(work / name), attn_implementation="eager").eval()
        for (k, a), b in zip(model.state_dict().items(), reloaded.state_dict().values()):
            assert torch.equal(a, b), k
        models[name] = reloaded
        export_onnx(reloaded, config, folder / "onnx" / "model.onnx")
        onnx.checker.check_model(str(folder / "onnx" / "model.onnx"))
        onnx_check[name] = check_onnx(reloaded, folder / "onnx" / "model.onnx", check_windows)
        assert max(onnx_check[name].values()) < 1e-4, onnx_check
        (folder / "config.json").write_text(json.dumps(pythia_config(), indent=2) + "\n", encoding="utf-8")
        generation = {"bos_token_id": 0, "eos_token_id": 0, "transformers_version": transformers.__version__}
        (folder / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n", encoding="utf-8")
        for f in TOKENIZER_FILES:
            shutil.copyfile(tok_dir / f, folder / f)
        files[name] = {p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256(p)}
                       for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix == ".onnx"}

    models32 = {name: m for name, m in models.items()}
    probe_window = next(rolling_windows(docs[first_long], PREFIX_TOKEN, MAX_SEQ_LEN, CONTEXT_LEN))[0]
    probe = {"document": first_long, "window": 0, **logits_probe(models32, probe_window)}

    models64 = {name: m.to(torch.float64) for name, m in models.items()}
    records, mean_dist = score_corpus(models64, docs)
    byte_counts = [len(t.encode("utf-8")) for t in texts]
    documents = []
    for i, (text, tokens, rec) in enumerate(zip(texts, docs, records)):
        documents.append({"index": i, "utf8_bytes": byte_counts[i], "n_tokens": len(tokens), "token_ids": tokens,
                          **rec})
    stats = {name: corpus_stats(records, name, mean_dist[name], byte_counts) for name in models64}

    command = ("/tmp/devpy/bin/python tools/make_gptneox_fixture.py " + " ".join(sys.argv[1:])).strip()
    reference = {
        "about": REFERENCE_ABOUT,
        "command": command,
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__},
        "seed": SEED,
        "model": {k: v for k, v in pythia_config().items() if k in (
            "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "rotary_pct", "use_parallel_residual", "tie_word_embeddings", "max_position_embeddings")},
        "tuned_from_base": {"logit_scale": LOGIT_SCALE, "boosted_tokens": TUNED_BOOSTED,
                            "boost": TUNED_BOOST, "replaced_rows": TUNED_REPLACED},
        "settings": {
            "corpus": corpus_path.as_posix(),
            "corpus_sha256": sha256(corpus_path),
            "tokenizer_json_sha256": sha256(tok_dir / "tokenizer.json"),
            "add_special_tokens": False,
            "prefix_token": PREFIX_TOKEN,
            "max_seq_len": MAX_SEQ_LEN,
            "context_len": CONTEXT_LEN,
            "dtype": "float64",
            "vocab_size": VOCAB_SIZE,
            "rolling_window_cases_checked": n_window_cases,
        },
        "onnx_files": files,
        "onnx_vs_pytorch_float32_max_abs_diff": onnx_check,
        "documents": documents,
        "corpus": stats,
        "logits_probe": probe,
    }
    ref_path = out / "reference.json"
    ref_path.write_text(json.dumps(reference, ensure_ascii=False) + "\n", encoding="utf-8")
    readme = out / "README.md"
    readme.write_text(README.format(
        command=command, onnx_mb=files["base"]["onnx/model.onnx"]["bytes"] / 1e6, stats=stats, check=onnx_check,
        n_docs=len(docs), n_tokens=stats["base"]["tokens"],
        n_windows=sum(len(d["windows"]) for d in documents),
        batch=" / ".join(f"{v['batch_of_3']:.1e}" for v in onnx_check.values()),
    ), encoding="utf-8")
    format_with_deno([out])
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out}: {total / 1e6:.1f} MB; reference.json {ref_path.stat().st_size / 1e6:.2f} MB; "
          f"onnx vs torch {onnx_check}")
    for name, s in stats.items():
        print(name, json.dumps({k: v for k, v in s.items() if k != "mean_distribution"}),
              "effective_vocab", s["mean_distribution"]["effective_vocab"], "fractions",
              s["mean_distribution"]["vocab_fraction_70"], s["mean_distribution"]["vocab_fraction_90"])
    return 0


README = """# tiny-gptneox: two random-weight Pythia-architecture models in the transformers.js layout

Stand-ins for a Pythia base model and a fine-tuned variant, small enough to commit, to test the model loading
and next-token scoring paths (`lib/models/load_causal_lm.ts` and what builds on it) without network or GPU.

- `base/`, `tuned/`: `GPTNeoXForCausalLM` with the Pythia architecture (rotary_pct 0.25, parallel residual,
  untied embeddings, 2048 positions) and Pythia's padded vocabulary size **50304** (the real tokenizer has 50277
  entries), 2 layers, hidden size 16, 2 heads, intermediate size 64, **random but peaked weights** (seeded).
  `tuned` = `base` with the output embedding doubled (logits × 2), the prior of 5 tokens raised by 3 and
  3 rows replaced, so KL(base‖tuned) is clearly non-zero and some argmaxes change.
- Each folder: `config.json` (model_type `gpt_neox`, written as the EleutherAI/pythia-* repos write it),
  `generation_config.json`, the real Pythia `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`
  (copied from `data/tokenizers/pythia/`), and `onnx/model.onnx`: fp32, opset 17, {onnx_mb:.1f} MB, inputs
  `input_ids`, `attention_mask`, `position_ids`, `past_key_values.{{0,1}}.{{key,value}}` (shape
  [batch_size, 2, past_sequence_length, 8]), outputs `logits` [batch_size, sequence_length, 50304] and
  `present.{{0,1}}.{{key,value}}` — the layout of a transformers.js causal-LM export with KV cache.
- `reference.json`: float64 PyTorch reference on `../tiny-corpus/corpus.jsonl` ({n_docs} documents,
  {n_tokens} tokens, {n_windows} windows of max_seq_len 64, context_len 1, prefix `<|endoftext|>`): token ids,
  window spans, per-position log-prob, entropy, confidence, argmax (+ KL, JS and argmax change of `tuned` vs
  `base`), corpus statistics, and a probe of the raw float32 logits of the first window of document 0. Its
  `about` field defines every value.

Corpus statistics (base / tuned): perplexity {stats[base][perplexity]:.4g} / {stats[tuned][perplexity]:.4g},
mean entropy {stats[base][mean_entropy]:.3f} / {stats[tuned][mean_entropy]:.3f} nats, mean confidence
{stats[base][mean_confidence]:.3f} / {stats[tuned][mean_confidence]:.3f}, accuracy {stats[base][accuracy]:.4f} /
{stats[tuned][accuracy]:.4f}; mean KL(base‖tuned) {stats[tuned][mean_kl_from_base]:.3f} nats, argmax changed at
{stats[tuned][argmax_changed_share]:.3f} of positions. The perplexities are huge because the weights are random:
only a few dozen common tokens carry a prior.

onnxruntime (Python) vs PyTorch float32 logits, max abs difference: base {check[base][empty_past]:.1e} (empty
past), {check[base][incremental]:.1e} (10 tokens, then the rest with the cache); tuned
{check[tuned][empty_past]:.1e} / {check[tuned][incremental]:.1e}. A batch of 3 windows of 64 tokens: {batch}.

The vocabulary fractions at 0.7 / 0.9 sit where single tokens carry ~1e-5 of the mean distribution's mass
(`cdf_margin_*` in reference.json): a computation from float32 logits may land a few indices away.

Size: hidden size 16 keeps each ONNX file at 6.5 MB (the two 50304-row embedding tables are nearly all of it);
hidden size 32 would have made the fixture about 32 MB. The PyTorch weights are not committed; the generator
rebuilds them deterministically.

Made with

    {command}

(dev-time Python with torch, transformers, tokenizers, onnx and onnxruntime; versions in `reference.json`, details
in the script's header). It also writes `tests/fixtures/tiny-corpus/corpus.jsonl` and checks its rolling windows
against windows recorded from lm_perplexity itself (the reference vectors).
"""


if __name__ == "__main__":
    sys.exit(main())
