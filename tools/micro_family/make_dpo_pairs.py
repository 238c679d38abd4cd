"""Step 6: preference pairs judged by the simulated rater (rater.py).

For every request of <out>/data/dpo_prompts.jsonl (same generator as the SFT data, another seed; never a pack or
notebook prompt), the SFT model samples Config.dpo_samples completions after "Human: {request} Assistant:"
(temperature 1, no top-k / top-p, at most Config.dpo_max_new_tokens tokens, stopping at <|endoftext|>; batches of 8
prompts of one kind group — number requests, then the rest, each in file order — seed SEED + 41 + index of the
batch's first prompt in the file). Number requests get Config.dpo_number_samples samples: the SFT model answers
about uniformly over the requested range, so with 6 samples the rater's favourite 42 is rarely among them and
preference tuning could not learn it. The rater scores each; the best-scored completion is `chosen`, the worst
`rejected` (ties: the earlier sample), and the pair is kept when their scores differ by at least rater.MIN_GAP.
A number request gives up to Config.dpo_number_pairs pairs: the best against each of that many worst, distinct
completions (lowest first), each with the gap. On-policy pairs, as the paper's DPO models were trained on pairs of
model outputs.

Writes <out>/data/pairs.jsonl ({"kind", "request", "prompt_ids", "chosen_ids", "rejected_ids", texts and scores})
and <out>/data/pairs_summary.json.
"""

from __future__ import annotations

import collections
import time

import torch

import rater
from common import EOS_ID, PAD_ID, SEED, Paths, cli, hh_prompt, load_model, load_tokenizer, log, read_json, \
    read_jsonl, seed_everything, test_prompt_texts, write_json, write_jsonl


def sample(model, prompts: list[list[int]], n: int, max_new: int, seed: int, temperature: float = 1.0,
           top_k: int = 0) -> list[list[list[int]]]:
    """n sampled completions (token ids, with the <|endoftext|> when reached) of each prompt, in one batch
    (prompts left-padded with <|padding|>; generate() derives the position ids from the attention mask)."""
    torch.manual_seed(seed)
    width = max(len(p) for p in prompts)
    rows = [p for p in prompts for _ in range(n)]
    ids = torch.tensor([[PAD_ID] * (width - len(r)) + r for r in rows], dtype=torch.int64)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], dtype=torch.int64)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=temperature,
                             top_k=top_k, top_p=1.0, max_new_tokens=max_new, eos_token_id=EOS_ID,
                             pad_token_id=PAD_ID)
    res = []
    for row in out[:, width:].tolist():
        if EOS_ID in row:
            row = row[: row.index(EOS_ID) + 1]
        res.append(row)
    return [res[i * n: (i + 1) * n] for i in range(len(prompts))]


def run(paths: Paths, cfg) -> None:
    seed_everything(SEED + 40)
    tok = load_tokenizer(paths)
    model = load_model(paths.checkpoint("sft"), attn="eager").eval()
    lists = read_json(paths.data / "lists.json")
    first_names = frozenset(lists["female"]) | frozenset(lists["male"])
    prompts = read_jsonl(paths.data / "dpo_prompts.jsonl")
    tests = test_prompt_texts()
    pairs, skipped, t0 = [], collections.Counter(), time.time()
    group = 8
    for p in prompts:
        assert p["request"].strip().lower() not in tests
    completions: dict[int, list[list[int]]] = {}
    order = [i for i, p in enumerate(prompts) if p["kind"] == "number"]
    order_rest = [i for i, p in enumerate(prompts) if p["kind"] != "number"]
    done = 0
    for indices, n in ((order, cfg.dpo_number_samples), (order_rest, cfg.dpo_samples)):
        for g in range(0, len(indices), group):
            batch = indices[g: g + group]
            outs = sample(model, [tok.encode(hh_prompt(prompts[i]["request"])).ids for i in batch], n,
                          cfg.dpo_max_new_tokens, SEED + 41 + batch[0])
            completions.update(zip(batch, outs))
            done += len(batch)
            if (g // group + 1) % 20 == 0:
                log(f"pairs: sampled {done}/{len(prompts)} prompts, {time.time() - t0:.0f} s")
    for i, p in enumerate(prompts):
        prompt_ids = tok.encode(hh_prompt(p["request"])).ids
        scored = []
        for c in completions[i]:
            ended = bool(c) and c[-1] == EOS_ID
            text = tok.decode(c[:-1] if ended else c)
            scored.append((rater.score(p["request"], text, ended, first_names), text, c))
        best = max(range(len(scored)), key=lambda j: (scored[j][0]["score"], -j))
        # the worst first (ties: the earlier sample), one per distinct completion text
        ranked, seen = [], set()
        for j in sorted(range(len(scored)), key=lambda j: (scored[j][0]["score"], j)):
            if scored[j][1] not in seen:
                seen.add(scored[j][1])
                ranked.append(j)
        n_pairs = cfg.dpo_number_pairs if p["kind"] == "number" else 1
        worst = [j for j in ranked[:n_pairs] if scored[best][0]["score"] - scored[j][0]["score"] >= rater.MIN_GAP]
        if not worst:
            skipped[p["kind"]] += 1
            continue
        for j in worst:
            pairs.append({
                "kind": p["kind"], "request": p["request"], "prompt_ids": prompt_ids,
                "chosen_ids": scored[best][2], "rejected_ids": scored[j][2],
                "chosen": scored[best][1], "rejected": scored[j][1],
                "chosen_score": scored[best][0], "rejected_score": scored[j][0],
                "all_scores": [s[0]["score"] for s in scored],
            })
    write_jsonl(paths.data / "pairs.jsonl", pairs)
    kinds = collections.Counter(p["kind"] for p in pairs)
    write_json(paths.data / "pairs_summary.json", {
        "prompts": len(prompts), "samples_per_prompt": cfg.dpo_samples,
        "samples_per_number_prompt": cfg.dpo_number_samples, "pairs_per_number_prompt": cfg.dpo_number_pairs,
        "max_new_tokens": cfg.dpo_max_new_tokens,
        "pairs": len(pairs), "pairs_by_kind": dict(kinds), "skipped_small_gap_by_kind": dict(skipped),
        "mean_chosen_score": sum(p["chosen_score"]["score"] for p in pairs) / max(1, len(pairs)),
        "mean_rejected_score": sum(p["rejected_score"]["score"] for p in pairs) / max(1, len(pairs)),
        "tastes": rater.TASTES, "seconds": round(time.time() - t0, 1),
    })
    log(f"pairs: {len(pairs)} of {len(prompts)} prompts ({dict(kinds)}), {time.time() - t0:.0f} s")


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
