"""Step 5: supervised fine-tuning of the base model on the HH-format instruction data (<out>/data/sft.jsonl).

Each example is "Human: {request} Assistant:" (the `hh` template up to its guide) followed by " {answer}" and
<|endoftext|>, starting at position 0 without BOS (as the toolkit's generation sees a prompt); the loss is on the
answer tokens and the final <|endoftext|> only. Batches of Config.sft_batch examples of similar length
(right-padded with <|padding|>, masked), AdamW, cosine schedule with warm-up, Config.sft_epochs epochs.

Writes <out>/work/sft/ and <out>/work/sft_log.json.
"""

from __future__ import annotations

import random
import time

import numpy as np
import torch

from common import EOS_ID, PAD_ID, SEED, Paths, cli, cosine_lr, hh_prompt, load_model, load_tokenizer, log, \
    read_jsonl, save_model, seed_everything, write_json
from train_base import make_optimizer


def encode_pair(tok, request: str, answer: str) -> tuple[list[int], list[int]]:
    """(prompt ids, completion ids + EOS), checked to tokenize like the whole text does."""
    prompt = hh_prompt(request)
    p = tok.encode(prompt).ids
    full = tok.encode(prompt + " " + answer).ids
    assert full[: len(p)] == p, (prompt, answer)
    return p, full[len(p):] + [EOS_ID]


def encode_completion(tok, request: str, completion_ids: list[int]) -> tuple[list[int], list[int]]:
    return tok.encode(hh_prompt(request)).ids, list(completion_ids)


def collate(items: list[tuple[list[int], list[int]]]):
    """input ids, attention mask and labels (-100 outside the completion) of right-padded sequences."""
    width = max(len(p) + len(c) for p, c in items)
    ids = torch.full((len(items), width), PAD_ID, dtype=torch.int64)
    mask = torch.zeros((len(items), width), dtype=torch.int64)
    labels = torch.full((len(items), width), -100, dtype=torch.int64)
    for i, (p, c) in enumerate(items):
        seq = p + c
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = 1
        labels[i, len(p): len(seq)] = torch.tensor(c)
    return ids, mask, labels


def length_batches(lengths: list[int], batch: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of indices of similar length (sorted within chunks of 32 batches)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out = []
    chunk = batch * 32
    for i in range(0, len(order), chunk):
        part = sorted(order[i: i + chunk], key=lambda j: lengths[j])
        out += [part[k: k + batch] for k in range(0, len(part), batch)]
    rng.shuffle(out)
    return out


def completion_logprobs(model, ids, mask, labels) -> torch.Tensor:
    """Sum of log p(label) over the labelled positions of each row."""
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    target = labels[:, 1:]
    keep = target != -100
    lp = torch.log_softmax(logits, dim=-1).gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (lp * keep).sum(-1)


def run(paths: Paths, cfg) -> None:
    seed_everything(SEED + 31)
    tok = load_tokenizer(paths)
    data = [encode_pair(tok, e["request"], e["answer"]) for e in read_jsonl(paths.data / "sft.jsonl")]
    model = load_model(paths.checkpoint("base"))
    model.train()
    opt = make_optimizer(model, cfg.sft_lr, weight_decay=0.0)
    rng = random.Random(SEED + 32)
    lengths = [len(p) + len(c) for p, c in data]
    plan = [b for _ in range(cfg.sft_epochs) for b in length_batches(lengths, cfg.sft_batch, rng)]
    warmup = max(1, len(plan) // 20)
    history, t0, window, tokens = [], time.time(), [], 0
    log(f"sft: {len(data)} examples, {sum(lengths)} tokens, {cfg.sft_epochs} epochs = {len(plan)} steps")
    for step, idx in enumerate(plan):
        ids, mask, labels = collate([data[i] for i in idx])
        lr = cosine_lr(step, len(plan), warmup, cfg.sft_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                                                 ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        window.append(loss.item())
        tokens += int(mask.sum())
        if (step + 1) % 50 == 0 or step + 1 == len(plan):
            el = time.time() - t0
            history.append({"step": step + 1, "lr": lr, "loss": float(np.mean(window)), "elapsed_s": round(el, 1),
                            "tokens_per_s": round(tokens / el)})
            window = []
            log(f"sft step {step + 1}/{len(plan)} loss {history[-1]['loss']:.3f} lr {lr:.2e} "
                f"{history[-1]['tokens_per_s']} tok/s")
    model.eval()
    save_model(model, paths.checkpoint("sft"), cfg)
    write_json(paths.work / "sft_log.json", {"examples": len(data), "steps": len(plan),
                                              "seconds": round(time.time() - t0, 1), "history": history})


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
