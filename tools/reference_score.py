#!/usr/bin/env python3
"""Dev-time reference for bench/score.ts: Hugging Face transformers (PyTorch, CPU) scoring the same windows.

Reads a JSON list of windows ({"input": [...], "predict": [...]}: the last len(predict) positions are scored) and a
model folder written by tools/make_bench_models.py; for each window runs the model (float32 forward, as the paper
did) and computes per scored position the target log-prob, entropy, max probability and argmax, plus the summed
next-token distribution, in one of two precisions:

  fp32 (default): what the paper's own pipeline computed — float32 log-softmax, entropy, max, argmax and the
                  distribution summed in float32. The headline reference of bench/score.ts.
  fp64:           the same statistics from a float64 log-softmax (the toolkit's precision; its float64
                  intermediates of 400 MB per window make it about twice as slow).

Prints one JSON line: seconds (the windows only, after one untimed warm-up window), tokens, tokens/s, seconds of
the forward passes alone, peak RSS, threads, precision, and the sum of log-probs (to check both sides scored the
same thing).

usage: python3 tools/reference_score.py MODEL_DIR WINDOWS.json [--threads N] [--precision fp32|fp64]
"""
import argparse
import json
import resource
import sys
import time

import torch


def peak_rss_kib() -> int:
    """This process's peak resident size: VmHWM (ru_maxrss on Linux keeps the spawning process's peak across exec)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("windows")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--precision", choices=["fp32", "fp64"], default="fp32")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    from transformers import GPTNeoXForCausalLM

    model = GPTNeoXForCausalLM.from_pretrained(f"{args.model}/pytorch", dtype=torch.float32).eval()
    windows = json.load(open(args.windows))
    vocab = model.config.vocab_size
    stat_dtype = torch.float32 if args.precision == "fp32" else torch.float64
    dist = torch.zeros(vocab, dtype=stat_dtype)
    sum_logprob = 0.0
    tokens = 0
    forward_seconds = 0.0

    def score(w: dict) -> tuple[float, int, float]:
        nonlocal dist
        ids = torch.tensor([w["input"]], dtype=torch.int64)
        n = len(w["predict"])
        t0 = time.perf_counter()
        logits = model(input_ids=ids).logits[0, -n:]
        t1 = time.perf_counter()
        lp = torch.log_softmax(logits.to(stat_dtype), dim=-1)
        p = lp.exp()
        target = torch.tensor(w["predict"], dtype=torch.int64)
        logprob = lp[torch.arange(n), target].sum().item()
        _entropy = -(p * lp).sum(-1)
        _confidence, _argmax = p.max(-1)
        dist += p.sum(0)
        return logprob, n, t1 - t0

    with torch.no_grad():
        score(windows[0])  # warm-up (first-call allocations), not timed
        dist.zero_()
        start = time.perf_counter()
        for w in windows:
            logprob, n, fwd = score(w)
            sum_logprob += logprob
            tokens += n
            forward_seconds += fwd
        seconds = time.perf_counter() - start
    peak_kib = peak_rss_kib()
    json.dump({"seconds": seconds, "tokens": tokens, "tokens_per_second": tokens / seconds,
               "forward_seconds": forward_seconds, "peak_rss_mib": peak_kib / 1024,
               "threads": torch.get_num_threads(), "precision": args.precision, "sum_logprob": sum_logprob,
               "torch": torch.__version__}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
