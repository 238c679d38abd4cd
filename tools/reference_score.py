#!/usr/bin/env python3
"""Dev-time reference for bench/score.ts: Hugging Face transformers (PyTorch, CPU) scoring the same windows.

Reads a JSON list of windows ({"input": [...], "predict": [...]}: the last len(predict) positions are scored) and a model folder written by
tools/make_bench_models.py; for each window runs the model (float32 forward, as the paper did), takes a float64
log-softmax of the scored rows and computes what the toolkit computes per position (target log-prob, entropy,
max probability, argmax) plus the token-weighted mean next-token distribution. Prints one JSON line: seconds,
tokens, tokens/s, peak RSS, threads, and the sum of log-probs (to check both sides scored the same thing).

usage: python3 tools/reference_score.py MODEL_DIR WINDOWS.json [--threads N]
"""
import argparse
import json
import resource
import sys
import time

import torch


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("windows")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    from transformers import GPTNeoXForCausalLM

    model = GPTNeoXForCausalLM.from_pretrained(f"{args.model}/pytorch", torch_dtype=torch.float32).eval()
    windows = json.load(open(args.windows))
    vocab = model.config.vocab_size
    mean_dist = torch.zeros(vocab, dtype=torch.float64)
    sum_logprob = 0.0
    tokens = 0
    start = time.perf_counter()
    with torch.no_grad():
        for w in windows:
            ids = torch.tensor([w["input"]], dtype=torch.int64)
            n = len(w["predict"])
            logits = model(input_ids=ids).logits[0, -n:].to(torch.float64)
            lp = torch.log_softmax(logits, dim=-1)
            p = lp.exp()
            target = torch.tensor(w["predict"], dtype=torch.int64)
            sum_logprob += lp[torch.arange(n), target].sum().item()
            _entropy = -(p * lp).sum(-1)
            _confidence, _argmax = p.max(-1)
            mean_dist += p.sum(0)
            tokens += n
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump({"seconds": seconds, "tokens": tokens, "tokens_per_second": tokens / seconds,
               "peak_rss_mib": peak_kib / 1024, "threads": torch.get_num_threads(), "sum_logprob": sum_logprob,
               "torch": torch.__version__}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
