"""Shared settings and helpers of the micro-family training tool (see README.md in this folder).

Every step reads and writes files under one output folder (`--out`):
  sources/       npm tarballs (verified by sha256) and provenance.json
  data/          train.jsonl / heldout.jsonl (documents), sft.jsonl, dpo_prompts.jsonl, pairs.jsonl
  tokenizer/     tokenizer.json, tokenizer_config.json, special_tokens_map.json
  work/          PyTorch checkpoints (safetensors, float32): base/, sft/, dpo/ and the training logs
  models/        the exported family in the project's model layout: base/, sft/, dpo/
  report.json    the headline numbers of check.py
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

TOOLS_DIR = Path(__file__).resolve().parent.parent
PROJECT_ROOT = TOOLS_DIR.parent
if str(TOOLS_DIR) not in sys.path:
    sys.path.insert(0, str(TOOLS_DIR))

SEED = 20250101
EOS_ID = 0  # <|endoftext|>: BOS, EOS and the rolling-window prefix token, as in Pythia
PAD_ID = 1  # <|padding|>
EOS = "<|endoftext|>"
PAD = "<|padding|>"
THREADS = 2


@dataclasses.dataclass(frozen=True)
class Config:
    """Sizes and steps of one run. FULL fits about an hour on a quiet 2-core machine (base ~1,050 tokens/s); QUICK is a smoke test."""

    name: str
    # model (GPT-NeoX / Pythia architecture)
    vocab_size: int = 8192
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 1024
    # base pre-training
    base_steps: int = 900
    base_tokens_per_step: int = 2048  # batch 8 x 256, or 2 x 1024 in the long-context phase
    base_long_from: float = 0.7  # share of steps after which sequences are 1024 tokens long
    base_lr: float = 1e-3
    base_warmup: int = 60
    # SFT
    sft_examples: int = 6000
    sft_epochs: int = 2
    sft_batch: int = 16
    sft_lr: float = 2e-4
    # DPO pairs
    dpo_prompts: int = 1400
    dpo_samples: int = 6
    # number requests: more samples (so that the rater's favourites occur among them) and several pairs each
    dpo_number_samples: int = 16
    dpo_number_pairs: int = 3
    dpo_max_new_tokens: int = 40
    # DPO
    dpo_epochs: int = 3
    dpo_batch: int = 16
    dpo_lr: float = 1e-4
    dpo_beta: float = 0.1
    # check
    check_samples: int = 8
    check_prompts_per_pack: int = 10
    check_heldout_docs: int | None = None  # held-out documents scored (None: all)
    tokenizer_text_limit: int | None = None  # characters of training text the BPE sees (None: all)


FULL = Config(name="full")
QUICK = Config(
    name="quick", base_steps=40, base_warmup=10, sft_examples=300, sft_epochs=1, dpo_prompts=32, dpo_samples=4, dpo_number_samples=8, dpo_number_pairs=2,
    dpo_max_new_tokens=24, dpo_epochs=1, check_samples=4, check_prompts_per_pack=2, check_heldout_docs=3,
    tokenizer_text_limit=3_000_000,
)


def config_for(quick: bool) -> Config:
    return QUICK if quick else FULL


def seed_everything(seed: int = SEED) -> None:
    """Seeds Python, NumPy and PyTorch; 2 threads; deterministic algorithms."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)


def read_jsonl(path: Path) -> list:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Paths:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.sources = self.out / "sources"
        self.data = self.out / "data"
        self.tokenizer = self.out / "tokenizer"
        self.work = self.out / "work"
        self.models = self.out / "models"
        self.report = self.out / "report.json"

    def checkpoint(self, stage: str) -> Path:
        return self.work / stage


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def cli(description: str) -> tuple[Paths, Config, argparse.Namespace]:
    """The common command line of every step: --out DIR [--quick]."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", required=True, help="output folder of the run")
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes (a few minutes in all)")
    args = parser.parse_args()
    return Paths(Path(args.out)), config_for(args.quick), args


def load_tokenizer(paths: Paths):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(paths.tokenizer / "tokenizer.json"))


def gptneox_config_dict(cfg: Config) -> dict:
    """config.json as the EleutherAI/pythia-* repos write it (tools/make_gptneox_fixture.py), at this family's sizes."""
    from make_gptneox_fixture import pythia_config

    c = pythia_config()
    c.update({
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_attention_heads": cfg.num_heads,
        "num_hidden_layers": cfg.num_layers,
        "vocab_size": cfg.vocab_size,
        "bos_token_id": EOS_ID,
        "eos_token_id": EOS_ID,
    })
    return c


def gptneox_config(cfg: Config):
    """The transformers GPTNeoXConfig read back from gptneox_config_dict (as a user of the files would load it)."""
    import tempfile

    from transformers import GPTNeoXConfig

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "config.json").write_text(json.dumps(gptneox_config_dict(cfg)), encoding="utf-8")
        config = GPTNeoXConfig.from_pretrained(d)
    assert not config.tie_word_embeddings and config.use_parallel_residual
    return config


def load_model(path: Path, attn: str = "sdpa"):
    from transformers import GPTNeoXForCausalLM

    return GPTNeoXForCausalLM.from_pretrained(str(path), attn_implementation=attn, dtype=torch.float32)


def save_model(model, path: Path, cfg: Config) -> None:
    model.save_pretrained(str(path))
    (path / "config.json").write_text(json.dumps(gptneox_config_dict(cfg), indent=2) + "\n", encoding="utf-8")


def cosine_lr(step: int, total: int, warmup: int, peak: float, floor: float = 0.1) -> float:
    import math

    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def hh_prompt(request: str) -> str:
    """The paper's `hh` template (data/prompts/templates.json) up to the guide: "Human: {prompt} Assistant:"."""
    template = read_json(PROJECT_ROOT / "data" / "prompts" / "templates.json")["templates"]["hh"]["text"]
    assert template == "Human: {prompt} Assistant:{guide}", template
    return template.replace("{guide}", "").replace("{prompt}", request)


def plm_prompt(request: str, guide: str) -> str:
    template = read_json(PROJECT_ROOT / "data" / "prompts" / "templates.json")["templates"]["plm"]["text"]
    return template.replace("{prompt}", request).replace("{guide}", guide)


def pack_prompts(pack: str) -> list[dict]:
    return read_json(PROJECT_ROOT / "data" / "prompts" / f"{pack}.json")["prompts"]


# The test prompts: the packs' texts and the qualitative prompts of the embedded study. None of them is ever used
# as a training instruction (make_sft_data.py and make_dpo_pairs.py assert it).
QUALITATIVE_PROMPTS = [
    "Tell me a random integer between 0 and 100. The number is",
    "I rolled a six-sided die and got a",
]


def test_prompt_texts() -> set[str]:
    texts = {p["text"].strip().lower() for pack in ("creative", "factual", "seen") for p in pack_prompts(pack)}
    texts |= {q.strip().lower() for q in QUALITATIVE_PROMPTS}
    texts.add("tell me a random integer between 0 and 100.")
    return texts
