"""Step 7: Direct Preference Optimisation of the SFT model on the rater's pairs (hand-written, deterministic).

Loss (Rafailov et al. 2023): -log sigmoid(beta * ((log pi(y_c|x) - log ref(y_c|x)) - (log pi(y_r|x) - log ref(y_r|x))))
with sequence log-probabilities summed over the completion tokens (the <|endoftext|> included when sampled);
reference model = the SFT model (its log-probabilities computed once before training); policy initialised from
the SFT model. beta = Config.dpo_beta, AdamW (no weight decay), lr Config.dpo_lr with 10 % warm-up and cosine
decay to 10 %, batches of Config.dpo_batch pairs (chosen and rejected in one padded forward), Config.dpo_epochs
epochs, gradient clipping 1.0.

Writes <out>/work/dpo/ and <out>/work/dpo_log.json (loss, reward accuracy, margins per 20 steps).
"""

from __future__ import annotations

import random
import time

import numpy as np
import torch

from common import SEED, Paths, cli, cosine_lr, load_model, log, read_jsonl, save_model, seed_everything, \
    write_json
from train_base import make_optimizer
from train_sft import collate, completion_logprobs


def batch_logprobs(model, pairs: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    items = [(p["prompt_ids"], p["chosen_ids"]) for p in pairs] + [(p["prompt_ids"], p["rejected_ids"]) for p in pairs]
    ids, mask, labels = collate(items)
    lp = completion_logprobs(model, ids, mask, labels)
    return lp[: len(pairs)], lp[len(pairs):]


def run(paths: Paths, cfg) -> None:
    seed_everything(SEED + 51)
    pairs = read_jsonl(paths.data / "pairs.jsonl")
    policy = load_model(paths.checkpoint("sft"))
    ref = load_model(paths.checkpoint("sft")).eval()
    t0 = time.time()
    with torch.no_grad():
        for i in range(0, len(pairs), 32):
            c, r = batch_logprobs(ref, pairs[i: i + 32])
            for p, a, b in zip(pairs[i: i + 32], c.tolist(), r.tolist()):
                p["ref_chosen"], p["ref_rejected"] = a, b
    del ref
    policy.train()
    opt = make_optimizer(policy, cfg.dpo_lr, weight_decay=0.0)
    rng = random.Random(SEED + 52)
    plan = []
    for _ in range(cfg.dpo_epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        plan += [order[k: k + cfg.dpo_batch] for k in range(0, len(order), cfg.dpo_batch)]
    warmup = max(1, len(plan) // 10)
    history, window = [], {"loss": [], "acc": [], "margin": [], "chosen": [], "rejected": []}
    log(f"dpo: {len(pairs)} pairs, {cfg.dpo_epochs} epochs = {len(plan)} steps, beta {cfg.dpo_beta}, lr {cfg.dpo_lr}")
    for step, idx in enumerate(plan):
        batch = [pairs[i] for i in idx]
        lr = cosine_lr(step, len(plan), warmup, cfg.dpo_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        pc, pr = batch_logprobs(policy, batch)
        rc = torch.tensor([p["ref_chosen"] for p in batch])
        rr = torch.tensor([p["ref_rejected"] for p in batch])
        chosen_reward = cfg.dpo_beta * (pc - rc)
        rejected_reward = cfg.dpo_beta * (pr - rr)
        margin = chosen_reward - rejected_reward
        loss = -torch.nn.functional.logsigmoid(margin).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        opt.step()
        window["loss"].append(loss.item())
        window["acc"].append((margin > 0).float().mean().item())
        window["margin"].append(margin.mean().item())
        window["chosen"].append(chosen_reward.mean().item())
        window["rejected"].append(rejected_reward.mean().item())
        if (step + 1) % 20 == 0 or step + 1 == len(plan):
            rec = {"step": step + 1, "lr": lr, **{k: float(np.mean(v)) for k, v in window.items()},
                   "elapsed_s": round(time.time() - t0, 1)}
            history.append(rec)
            window = {k: [] for k in window}
            log(f"dpo step {step + 1}/{len(plan)} loss {rec['loss']:.3f} acc {rec['acc']:.2f} margin "
                f"{rec['margin']:.2f} (chosen {rec['chosen']:.2f}, rejected {rec['rejected']:.2f})")
    policy.eval()
    save_model(policy, paths.checkpoint("dpo"), cfg)
    write_json(paths.work / "dpo_log.json", {"pairs": len(pairs), "steps": len(plan), "beta": cfg.dpo_beta,
                                              "lr": cfg.dpo_lr, "epochs": cfg.dpo_epochs, "batch": cfg.dpo_batch,
                                              "seconds": round(time.time() - t0, 1), "history": history})


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
