"""Step 4: pre-trains the base model (GPT-NeoX / Pythia architecture) on the training split.

The training documents are tokenized (no BOS) and concatenated with <|endoftext|> after each document (as Pythia's
Pile stream); each step samples random windows of it (seeded): 8 x 256 tokens for the first
Config.base_long_from of the steps, then 2 x 1024 (so positions up to 1024, the embedded study's window, are
trained). AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), cosine schedule with warm-up, gradient clipping 1.0,
no dropout, float32, 2 threads, deterministic algorithms.

Resumable: every CHECKPOINT_EVERY steps the model, optimizer and sampler state go to <out>/work/base_resume.pt; a
later run with the same settings continues from there and ends with the same weights as an uninterrupted run.

Writes <out>/work/base/ (safetensors + config.json) and <out>/work/base_log.json.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import torch

from common import EOS_ID, SEED, Paths, cli, cosine_lr, gptneox_config, load_tokenizer, log, read_jsonl, \
    save_model, seed_everything, write_json


def token_stream(paths: Paths) -> np.ndarray:
    tok = load_tokenizer(paths)
    docs = read_jsonl(paths.data / "train.jsonl")
    ids = []
    for enc in tok.encode_batch([d["text"] for d in docs]):
        ids.extend(enc.ids)
        ids.append(EOS_ID)
    return np.array(ids, dtype=np.int64)


CHECKPOINT_EVERY = 100


def make_optimizer(model, lr: float, weight_decay: float = 0.1):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95), eps=1e-8)


def run(paths: Paths, cfg) -> None:
    from transformers import GPTNeoXForCausalLM

    seed_everything(SEED + 21)
    stream = token_stream(paths)
    config = gptneox_config(cfg)
    model = GPTNeoXForCausalLM(config)
    model.set_attn_implementation("sdpa")
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    opt = make_optimizer(model, cfg.base_lr)
    rng = np.random.default_rng(SEED + 22)
    long_from = int(cfg.base_steps * cfg.base_long_from)
    history, t0, tokens_seen, window, first = [], time.time(), 0, [], 0
    resume = paths.work / "base_resume.pt"
    if resume.exists():
        state = torch.load(resume, weights_only=False)
        if state["config"] == cfg.__dict__ and state["stream_tokens"] == len(stream):
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            rng.bit_generator.state = state["rng"]
            first, history, tokens_seen = state["step"], state["history"], state["tokens_seen"]
            t0 -= state["elapsed_s"]
            log(f"base: resuming at step {first}")
    stop_after = int(os.environ.get("MICRO_FAMILY_STOP_AFTER", "0"))  # tests of the resume path
    log(f"base: {n_params / 1e6:.2f} M parameters, stream {len(stream)} tokens, {cfg.base_steps} steps x "
        f"{cfg.base_tokens_per_step} tokens ({cfg.base_steps * cfg.base_tokens_per_step / len(stream):.2f} epochs)")
    for step in range(first, cfg.base_steps):
        seq = 256 if step < long_from else 1024
        batch = cfg.base_tokens_per_step // seq
        starts = rng.integers(0, len(stream) - seq - 1, size=batch)
        chunk = torch.from_numpy(np.stack([stream[s: s + seq + 1] for s in starts]))
        x, y = chunk[:, :-1], chunk[:, 1:]
        lr = cosine_lr(step, cfg.base_steps, cfg.base_warmup, cfg.base_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        logits = model(input_ids=x).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens_seen += x.numel()
        window.append(loss.item())
        if (step + 1) % 50 == 0 or step + 1 == cfg.base_steps:
            el = time.time() - t0
            rec = {"step": step + 1, "seq": seq, "lr": lr, "loss": float(np.mean(window)), "grad_norm": float(gnorm),
                   "tokens": tokens_seen, "elapsed_s": round(el, 1), "tokens_per_s": round(tokens_seen / el)}
            history.append(rec)
            window = []
            log(f"base step {step + 1}/{cfg.base_steps} seq {seq} loss {rec['loss']:.3f} "
                f"(ppl {math.exp(rec['loss']):.1f}) lr {lr:.2e} {rec['tokens_per_s']} tok/s")
        if (step + 1) % CHECKPOINT_EVERY == 0 or step + 1 == stop_after:
            paths.work.mkdir(parents=True, exist_ok=True)
            torch.save({"config": cfg.__dict__, "stream_tokens": len(stream), "step": step + 1,
                        "model": model.state_dict(), "optimizer": opt.state_dict(), "rng": rng.bit_generator.state,
                        "history": history, "tokens_seen": tokens_seen, "elapsed_s": time.time() - t0},
                       str(resume) + ".tmp")
            os.replace(str(resume) + ".tmp", resume)
            if step + 1 == stop_after:
                raise SystemExit(f"stopped after step {stop_after} (MICRO_FAMILY_STOP_AFTER)")
    model.eval()
    save_model(model, paths.checkpoint("base"), cfg)
    resume.unlink(missing_ok=True)
    write_json(paths.work / "base_log.json", {"parameters": n_params, "stream_tokens": int(len(stream)),
                                               "steps": cfg.base_steps, "seconds": round(time.time() - t0, 1),
                                               "history": history})


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
