#!/usr/bin/env python3
"""Dev-time PyTorch side of the generation benchmark: Hugging Face transformers sampling on CPU.

Loads the PyTorch weights of the random Pythia-70M-architecture model (data/models/bench/pythia-70m-random/pytorch,
made by tools/make_bench_models.py: `deno task setup` first, then `python3 tools/make_bench_models.py --sizes 70m`)
in float32 and times

    model.generate(input_ids=<prompt repeated as --batch rows>, attention_mask=ones, do_sample=True,
                   temperature=1.0, top_k=50, top_p=1.0, max_new_tokens=70, min_new_tokens=70, use_cache=True,
                   pad_token_id=eos_token_id)

(min_new_tokens = max_new_tokens: HF masks EOS until then, so every row gets exactly 70 new tokens, checked), after
one untimed warm-up run; torch.manual_seed(--seed + run) before each run. Prints one JSON line:
    {"new_tokens": 1750, "seconds_median": s, "tokens_per_s": new_tokens / seconds_median, "runs": [s, ...],
     "torch": ver, "transformers": ver, "threads": n, ...}
(extra keys: model, prompt_ids, batch, max_new_tokens, attn_implementation, warmup_seconds).

The default prompt is "Human: Tell me a joke. Assistant:" in Pythia token ids (9 tokens).

usage: python3 bench/generate_reference.py [--model data/models/bench/pythia-70m-random] [--threads 2]
           [--runs 3] [--prompt-ids 22705,27,...] [--batch 25] [--max-new-tokens 70] [--seed 0]
"""
import argparse
import json
import statistics
import sys
import time

import torch

DEFAULT_PROMPT_IDS = [22705, 27, 19906, 479, 247, 16391, 15, 17762, 27]  # "Human: Tell me a joke. Assistant:"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="data/models/bench/pythia-70m-random")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--prompt-ids", default=",".join(map(str, DEFAULT_PROMPT_IDS)))
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--max-new-tokens", type=int, default=70)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    assert args.runs >= 1 and args.threads >= 1 and args.batch >= 1
    torch.set_num_threads(args.threads)
    import transformers
    from transformers import GPTNeoXForCausalLM

    prompt = [int(x) for x in args.prompt_ids.split(",") if x.strip()]
    assert prompt, "empty --prompt-ids"
    model = GPTNeoXForCausalLM.from_pretrained(f"{args.model}/pytorch", dtype=torch.float32).eval()
    assert max(prompt) < model.config.vocab_size
    eos = model.config.eos_token_id
    input_ids = torch.tensor([prompt] * args.batch, dtype=torch.int64)
    n = args.max_new_tokens

    def run(seed: int) -> float:
        torch.manual_seed(seed)
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), do_sample=True,
                                 temperature=1.0, top_k=50, top_p=1.0, max_new_tokens=n, min_new_tokens=n,
                                 use_cache=True, pad_token_id=eos)
        seconds = time.perf_counter() - start
        assert out.shape == (args.batch, len(prompt) + n), out.shape
        return seconds

    warmup = run(args.seed - 1)
    runs = [run(args.seed + i) for i in range(args.runs)]
    median = statistics.median(runs)
    new_tokens = args.batch * n
    print(json.dumps({
        "new_tokens": new_tokens,
        "seconds_median": median,
        "tokens_per_s": new_tokens / median,
        "runs": runs,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "model": args.model,
        "prompt_ids": prompt,
        "batch": args.batch,
        "max_new_tokens": n,
        "attn_implementation": model.config._attn_implementation,
        "warmup_seconds": warmup,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
