#!/usr/bin/env python3
"""Dev-time: random-weight GPT-NeoX models with the Pythia-70M, -160M and -1.4B architectures, for bench/score.ts.

Random weights cost exactly what the real ones do, and no weights can be downloaded here. For each size this
writes data/models/bench/pythia-<size>-random/ with config.json, the real Pythia tokenizer files (copied from
data/tokenizers/pythia/), onnx/model.onnx (fp32, opset 17, KV-cache layout as transformers.js expects; exported
with tools/make_gptneox_fixture.py's exporter) and pytorch/ (the same weights for the PyTorch reference,
tools/reference_score.py). Seeded; rerunning gives the same weights.

Graphs over 2 GB (the 1.4B: 5.7 GB of weights) keep their weights in one external-data file,
onnx/model.onnx_data, as the hub's exports do (the exporter writes one file per tensor; they are concatenated
here one at a time, so the conversion needs no second copy in memory). The 1.4B needs ~12 GB of disk (ONNX and
PyTorch copies) and ~15 GB of memory while exporting.

usage: python3 tools/make_bench_models.py [--sizes 70m,160m,1.4b] [--out data/models/bench]
Needs torch, transformers, onnx (the pip mirror has them); run `deno task setup` first for the tokenizer.
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_gptneox_fixture import TOKENIZER_FILES, export_onnx, pythia_config  # noqa: E402

# The published Pythia configurations (EleutherAI/pythia-70m, -160m): layers, hidden size, heads.
SIZES = {"70m": (6, 512, 8), "160m": (12, 768, 12), "1.4b": (24, 2048, 16)}
TWO_GB = 2**31


def to_one_data_file(onnx_path: Path) -> None:
    """Rewrites an export whose tensors lie in one file each as model.onnx + model.onnx_data (64-byte aligned)."""
    import onnx
    from onnx.external_data_helper import uses_external_data

    folder = onnx_path.parent
    model = onnx.load(str(onnx_path), load_external_data=False)
    data_name = onnx_path.name + "_data"
    moved = []
    with open(folder / data_name, "wb") as data:
        for tensor in onnx.external_data_helper._get_all_tensors(model):
            if not uses_external_data(tensor):
                continue
            info = {e.key: e.value for e in tensor.external_data}
            source = folder / info["location"]
            offset = data.tell()
            pad = (-offset) % 64
            data.write(b"\0" * pad)
            offset += pad
            blob = source.read_bytes()
            if "offset" in info or "length" in info:
                start = int(info.get("offset", 0))
                blob = blob[start:start + int(info["length"])] if "length" in info else blob[start:]
            data.write(blob)
            del tensor.external_data[:]
            for k, v in (("location", data_name), ("offset", str(offset)), ("length", str(len(blob)))):
                entry = tensor.external_data.add()
                entry.key, entry.value = k, v
            moved.append(source)
    onnx.save_model(model, str(onnx_path))
    for source in set(moved):
        if source.name != data_name:
            source.unlink()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="70m,160m")
    ap.add_argument("--out", default="data/models/bench")
    ap.add_argument("--tokenizer", default="data/tokenizers/pythia")
    args = ap.parse_args()
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    for size in args.sizes.split(","):
        layers, hidden, heads = SIZES[size]
        cfg = pythia_config()
        cfg.update(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                   intermediate_size=4 * hidden)
        out = Path(args.out) / f"pythia-{size}-random"
        if (out / "onnx" / "model.onnx").exists():
            print(f"{out}: present")
            continue
        torch.manual_seed(1234)
        config = GPTNeoXConfig(**cfg)
        model = GPTNeoXForCausalLM(config).eval()
        model.set_attn_implementation("eager")
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
        for name in TOKENIZER_FILES:
            shutil.copy(Path(args.tokenizer) / name, out / name)
        model.save_pretrained(out / "pytorch")
        export_onnx(model, config, out / "onnx" / "model.onnx")
        if sum(p.numel() for p in model.parameters()) * 4 >= TWO_GB:
            del model
            to_one_data_file(out / "onnx" / "model.onnx")
        print(f"{out}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
