"""Step 8: exports base / sft / dpo in the project's model layout (as tests/fixtures/tiny-gptneox/ has it).

<out>/models/<stage>/: config.json (Pythia style, from tools/make_gptneox_fixture.py's pythia_config at this
family's sizes), generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json and
onnx/model.onnx with KV cache (inputs input_ids, attention_mask, position_ids, past_key_values.{i}.key/value;
outputs logits, present.{i}.key/value), exported by tools/make_gptneox_fixture.py's export_onnx (imported, not
copied) and checked by its check_onnx.

Precision: every weight is rounded to float16 (round to nearest) and STORED as float16 in the ONNX file, with a
Cast to float32 in front of its use: the graph computes in float32 and its inputs and outputs are float32 (the
toolkit's default dtype "fp32" loads onnx/model.onnx), at half the size. The PyTorch reference is the same model
with the same float16-rounded weights computed in float32 (saved in <out>/work/<stage>_fp16/), so the ONNX file and
PyTorch agree to float32 rounding; rounding changes the trained model's held-out log-probs by ~1e-4 nats
(check.py reports it).
"""

from __future__ import annotations

import contextlib
import json
import shutil

import numpy as np
import torch

import make_gptneox_fixture as mgf
from common import EOS_ID, Paths, cli, load_model, load_tokenizer, log, read_jsonl, save_model, sha256_file, \
    write_json

STAGES = ["base", "sft", "dpo"]
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]


class _TorchWithSmallVocab:
    """`torch` as make_gptneox_fixture.export_onnx sees it, except that integer tensors built with torch.tensor are
    taken modulo the vocabulary size: its example input ids (up to 50000, for Pythia's vocabulary) must be valid
    ids of this family's 8192-entry embedding for the trace to run. The traced graph does not depend on them."""

    def __init__(self, vocab_size: int):
        self._vocab = vocab_size

    def __getattr__(self, name):
        return getattr(torch, name)

    def tensor(self, data, *args, **kwargs):
        t = torch.tensor(data, *args, **kwargs)
        return t % self._vocab if t.dtype == torch.int64 else t


@contextlib.contextmanager
def fixture_module_for(config):
    """make_gptneox_fixture's export_onnx / check_onnx at this family's sizes (they read module constants)."""
    saved = {k: getattr(mgf, k) for k in ("torch", "HIDDEN", "HEADS", "LAYERS", "VOCAB_SIZE")}
    mgf.torch = _TorchWithSmallVocab(config.vocab_size)
    mgf.HIDDEN, mgf.HEADS, mgf.LAYERS = config.hidden_size, config.num_attention_heads, config.num_hidden_layers
    mgf.VOCAB_SIZE = config.vocab_size
    try:
        yield mgf
    finally:
        for k, v in saved.items():
            setattr(mgf, k, v)


def round_to_fp16(model) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())


def store_weights_fp16(path, min_elements: int = 256) -> dict:
    """Rewrites float32 initializers whose values are exact float16 numbers as float16 + Cast; returns counts."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    casts, converted, kept = [], 0, 0
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init)
        half = arr.astype(np.float16)
        if arr.size < min_elements or not np.array_equal(half.astype(np.float32), arr):
            kept += 1
            continue
        graph.initializer.remove(init)
        graph.initializer.append(numpy_helper.from_array(half, init.name + "__fp16"))
        casts.append(helper.make_node("Cast", [init.name + "__fp16"], [init.name], to=TensorProto.FLOAT,
                                      name=init.name + "__cast"))
        converted += 1
    for node in reversed(casts):
        graph.node.insert(0, node)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return {"initializers_fp16": converted, "initializers_fp32": kept}


def heldout_windows(paths: Paths, n: int = 4, width: int = 64) -> list[list[int]]:
    tok = load_tokenizer(paths)
    docs = read_jsonl(paths.data / "heldout.jsonl")
    ids = tok.encode(docs[0]["text"]).ids
    return [[EOS_ID] + ids[i * width: (i + 1) * width - 1] for i in range(n)]


def write_unigram_counts(paths: Paths, cfg) -> None:
    """models/unigram_counts.json: training-split token counts (the stream the base saw), for the unigram baseline."""
    from train_base import token_stream

    stream = token_stream(paths)
    counts = np.bincount(stream, minlength=cfg.vocab_size)
    write_json(paths.models / "unigram_counts.json", {
        "format": "unigram-counts/1",
        "about": "Token counts of the micro family's training split (documents joined by <|endoftext|>, as the base "
                 "was trained), for a unigram baseline with add-one smoothing over the tokenizer's entries.",
        "tokenizer_sha256": sha256_file(paths.tokenizer / "tokenizer.json"),
        "tokenizer_entries": load_tokenizer(paths).get_vocab_size(),
        "train_tokens": int(counts.sum()),
        "counts": [int(c) for c in counts],
    })


def run(paths: Paths, cfg) -> None:
    import onnx
    import transformers

    from common import gptneox_config, gptneox_config_dict

    config = gptneox_config(cfg)
    windows = heldout_windows(paths)
    files, checks = {}, {}
    for stage in STAGES:
        model = load_model(paths.checkpoint(stage), attn="eager").eval()
        round_to_fp16(model)
        ref_dir = paths.work / f"{stage}_fp16"
        save_model(model, ref_dir, cfg)
        model = load_model(ref_dir, attn="eager").eval()  # what a user of the saved weights loads
        folder = paths.models / stage
        if folder.exists():
            shutil.rmtree(folder)
        onnx_path = folder / "onnx" / "model.onnx"
        with fixture_module_for(config) as fx:
            fx.export_onnx(model, config, onnx_path)
            stored = store_weights_fp16(onnx_path)
            onnx.checker.check_model(str(onnx_path))
            checks[stage] = fx.check_onnx(model, onnx_path, windows)
        assert max(checks[stage].values()) < 1e-3, checks
        (folder / "config.json").write_text(json.dumps(gptneox_config_dict(cfg), indent=2) + "\n", encoding="utf-8")
        generation = {"bos_token_id": EOS_ID, "eos_token_id": EOS_ID, "transformers_version": transformers.__version__}
        (folder / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n", encoding="utf-8")
        for f in TOKENIZER_FILES:
            shutil.copyfile(paths.tokenizer / f, folder / f)
        files[stage] = {p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                        for p in sorted(folder.rglob("*")) if p.is_file()}
        log(f"export {stage}: {onnx_path.stat().st_size / 1e6:.2f} MB onnx ({stored}), onnx vs torch {checks[stage]}")
    write_unigram_counts(paths, cfg)
    total = sum(f["bytes"] for st in files.values() for f in st.values())
    write_json(paths.models / "export.json", {"files": files, "total_bytes": total,
                                              "onnx_vs_pytorch_max_abs_logit_diff": checks,
                                              "precision": "weights stored as float16, computed in float32"})
    log(f"export: {total / 1e6:.2f} MB in all for {len(STAGES)} models")


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
