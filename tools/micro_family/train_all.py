"""Trains the micro family end to end: data -> SFT data -> tokenizer -> base -> SFT -> pairs -> DPO -> export -> check.

    /tmp/devpy/bin/python tools/micro_family/train_all.py --out /work/micro_family_run [--quick] [--from STEP]

--quick: smoke-test sizes (a few minutes on a quiet 2-core machine). --from STEP: resume at that step (the earlier
steps' files must be in --out). --seed-offset N: add N to the seed of every step that runs (with --from train_base on
a copy of a run's sources/, data/ and tokenizer/: the same data, another training trajectory, to measure how far the
headline numbers move when only training noise differs). Writes <out>/timings.json (seconds per step) and <out>/report.json (check.py).
Steps can also be run one by one: `python tools/micro_family/<step>.py --out DIR [--quick]`.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from pathlib import Path

from common import Paths, config_for, log, write_json

STEPS = ["data", "make_sft_data", "tokenizer", "train_base", "train_sft", "make_dpo_pairs", "train_dpo", "export",
         "check"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--from", dest="start", choices=STEPS, default=STEPS[0])
    parser.add_argument("--seed-offset", type=int, default=0)
    args = parser.parse_args()
    if args.seed_offset:
        import common  # the steps read common.SEED when they are imported, below

        common.SEED += args.seed_offset
    paths, cfg = Paths(Path(args.out)), config_for(args.quick)
    paths.out.mkdir(parents=True, exist_ok=True)
    timings_path = paths.out / "timings.json"
    import json

    import tokenizers
    import torch
    import transformers

    timings = json.loads(timings_path.read_text()) if timings_path.exists() and args.start != STEPS[0] else {}
    timings["config"] = cfg.name
    if args.seed_offset:
        timings["seed_offset"] = args.seed_offset
    timings["versions"] = {"python": sys.version.split()[0], "torch": torch.__version__,
                           "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                           "machine": platform.machine(), "cpus": __import__("os").cpu_count()}
    timings.setdefault("steps", {})
    t_all = time.time()
    for step in STEPS[STEPS.index(args.start):]:
        t0 = time.time()
        log(f"== {step}")
        importlib.import_module(step).run(paths, cfg)
        timings["steps"][step] = round(time.time() - t0, 1)
        timings["total_s"] = round(sum(v for v in timings["steps"].values()), 1)
        write_json(timings_path, timings)
    log(f"done in {time.time() - t_all:.0f} s: {timings['steps']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
