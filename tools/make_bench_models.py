#!/usr/bin/env python3
"""Dev-time: random-weight GPT-NeoX models with the Pythia-70M and Pythia-160M architectures, for bench/score.ts.

Random weights cost exactly what the real ones do, and no weights can be downloaded here. For each size this
writes data/models/bench/pythia-<size>-random/ with config.json, the real Pythia tokenizer files (copied from
data/tokenizers/pythia/), onnx/model.onnx (fp32, opset 17, KV-cache layout as transformers.js expects; exported
with tools/make_gptneox_fixture.py's exporter) and pytorch/ (the same weights for the PyTorch reference,
tools/reference_score.py). Seeded; rerunning gives the same weights.

usage: python3 tools/make_bench_models.py [--sizes 70m,160m] [--out data/models/bench]
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
SIZES = {"70m": (6, 512, 8), "160m": (12, 768, 12)}


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
        print(f"{out}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
