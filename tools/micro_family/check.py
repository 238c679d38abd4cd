"""Step 9: the headline numbers of the family, measured in PyTorch on the exported (float16-rounded) weights.

Writes <out>/report.json:
  heldout        per model on ALL held-out documents (rolling windows of 1024 tokens, context_len 1, prefix
                 <|endoftext|>, as the toolkit scores): perplexity, mean entropy (nats), mean confidence (max prob),
                 accuracy, effective vocabulary (exp of the entropy of the token-weighted mean distribution), mean
                 KL(base||model); and the unigram model's perplexity (training-split token counts, add-one
                 smoothing over the tokenizer's entries) on the same tokens
  study_corpus   the same on Moby-Dick chapters 1-8 (the embedded study's corpus, maxDocs 8, maxSeqLen 1024)
  study_corpus_seq256  the same with windows of 256 tokens (the embedded study's CI size)
  fp16_rounding  the base's study-corpus perplexity with the float32 weights before rounding (the rounding's
                 effect)
  numbers        the next-token distribution after the qualitative notebook's prompt (raw, as the notebook sends it)
                 and after the same request in the hh template: top tokens, mass on " 0".." 100", the entropy and
                 effective count of the distribution renormalised over those numbers, mass on the rater's
                 favourites; the same for the die prompt
  diversity      sampled completions of the first Config.check_prompts_per_pack prompts of the creative and factual
                 packs (base: `plm` template, sft / dpo: `hh`), Config.check_samples samples at temperatures 0.5, 1.0,
                 1.5, top-k 50 (the embedded study's sampling), 30 / 25 new tokens: distinct-1/-2 (unique word n-grams
                 over all n-grams of a prompt's samples), the share of distinct completions, mean pairwise Jaccard
                 similarity of the word sets (mean over prompts). The toolkit measures diversity its own way; these
                 are the tool's quick proxies.
  samples        greedy and sampled (T 0.7) completions of a few prompts per model, for reading
  onnx           the export's ONNX-vs-PyTorch logit differences and file sizes
"""

from __future__ import annotations

import collections
import itertools
import math
import re
import time

import numpy as np
import torch

from common import EOS_ID, PAD_ID, QUALITATIVE_PROMPTS, SEED, Paths, cli, hh_prompt, load_model, load_tokenizer, \
    log, pack_prompts, plm_prompt, read_json, read_jsonl, seed_everything, write_json
from make_gptneox_fixture import rolling_windows

STAGES = ["base", "sft", "dpo"]
TEMPERATURES = [0.5, 1.0, 1.5]
FAVOURITES = [42, 7, 17, 77]


def score_docs(models: dict, docs: list[list[int]], max_seq_len: int = 1024) -> list[dict]:
    """Per document and model: sums of the token-level statistics (rolling windows, context_len 1, prefix EOS)."""
    out = []
    for tokens in docs:
        acc = {m: collections.defaultdict(float) for m in models}
        for inp, pred, _, _ in rolling_windows(tokens, EOS_ID, max_seq_len, 1):
            target = torch.tensor(pred)
            logp = {}
            with torch.no_grad():
                for name, model in models.items():
                    logits = model(input_ids=torch.tensor([inp])).logits[0, -len(pred):].double()
                    logp[name] = torch.log_softmax(logits, -1)
            for name, lp in logp.items():
                p = lp.exp()
                a = acc[name]
                a["tokens"] += len(pred)
                a["logprob"] += lp[torch.arange(len(pred)), target].sum().item()
                a["entropy"] += (-(p * lp).sum(-1)).sum().item()
                a["confidence"] += p.max(-1).values.sum().item()
                a["correct"] += (lp.argmax(-1) == target).sum().item()
                a["dist"] = p.sum(0) + (a["dist"] if isinstance(a["dist"], torch.Tensor) else 0)
                if name != "base" and "base" in logp:
                    a["kl_from_base"] += (logp["base"].exp() * (logp["base"] - lp)).sum(-1).sum().item()
        out.append(acc)
    return out


def aggregate(per_doc: list[dict], which: list[int] | None = None) -> dict:
    """Token-weighted statistics over documents (all, or the indices `which`)."""
    docs = [per_doc[i] for i in (which if which is not None else range(len(per_doc)))]
    out = {}
    for name in docs[0]:
        tot = collections.defaultdict(float)
        dist = 0
        for d in docs:
            for k, v in d[name].items():
                if k == "dist":
                    dist = dist + v
                else:
                    tot[k] += v
        n = tot["tokens"]
        md = (dist / n).numpy()
        nz = md[md > 0]
        out[name] = {
            "tokens": int(n),
            "perplexity": math.exp(-tot["logprob"] / n),
            "mean_entropy": tot["entropy"] / n,
            "mean_confidence": tot["confidence"] / n,
            "accuracy": tot["correct"] / n,
            "effective_vocab": float(math.exp(-(nz * np.log(nz)).sum())),
        }
        if name != "base" and "base" in docs[0]:
            out[name]["mean_kl_from_base"] = tot["kl_from_base"] / n
    return out


def unigram_perplexity(paths: Paths, tok, docs: list[list[int]]) -> float:
    counts = np.ones(tok.get_vocab_size(), dtype=np.float64)  # add-one smoothing over the tokenizer's entries
    for enc in tok.encode_batch([d["text"] for d in read_jsonl(paths.data / "train.jsonl")]):
        np.add.at(counts, np.array(enc.ids, dtype=np.int64), 1)
    logp = np.log(counts / counts.sum())
    ids = np.array([t for d in docs for t in d], dtype=np.int64)
    return float(math.exp(-logp[ids].mean()))


def next_token_view(model, tok, prompt: str, number_ids: dict[int, int]) -> dict:
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([tok.encode(prompt).ids])).logits[0, -1].double()
    p = torch.softmax(logits, -1)
    top = torch.topk(p, 12)
    nums = np.array([p[i].item() for i in number_ids.values()])
    mass = float(nums.sum())
    q = nums / mass
    ent = float(-(q[q > 0] * np.log(q[q > 0])).sum())
    by_n = dict(zip(number_ids, nums.tolist()))
    ranked = sorted(by_n.items(), key=lambda kv: -kv[1])[:8]
    return {
        "prompt": prompt,
        "top": [{"token": tok.decode([int(i)]), "p": round(float(v), 4)} for v, i in zip(top.values, top.indices)],
        "number_mass": mass,
        "number_entropy": ent,
        "effective_numbers": math.exp(ent),
        "top_numbers": [{"n": k, "share": round(v / mass, 4)} for k, v in ranked],
        "favourites_share": sum(by_n.get(k, 0.0) for k in FAVOURITES) / mass,
        "with_7_share": sum(v for k, v in by_n.items() if "7" in str(k)) / mass,
    }


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def diversity_of(samples: list[str]) -> dict:
    ws = [words(s) for s in samples]
    out = {}
    for n in (1, 2):
        grams = [tuple(w[i: i + n]) for w in ws for i in range(len(w) - n + 1)]
        out[f"distinct_{n}"] = len(set(grams)) / max(1, len(grams))
    out["distinct_completions"] = len(set(samples)) / len(samples)
    sets = [set(w) for w in ws]
    sims = [len(a & b) / max(1, len(a | b)) for a, b in itertools.combinations(sets, 2)]
    out["mean_jaccard"] = float(np.mean(sims)) if sims else 0.0
    return out


def generate(model, tok, prompt: str, n: int, max_new: int, temperature: float, seed: int,
             top_k: int = 50) -> list[str]:
    torch.manual_seed(seed)
    ids = torch.tensor([tok.encode(prompt).ids] * n)
    with torch.no_grad():
        kwargs = dict(do_sample=True, temperature=temperature, top_k=top_k, top_p=1.0) if temperature > 0 else \
            dict(do_sample=False)
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new,
                             eos_token_id=EOS_ID, pad_token_id=PAD_ID, **kwargs)
    res = []
    for row in out[:, ids.shape[1]:].tolist():
        if EOS_ID in row:
            row = row[: row.index(EOS_ID)]
        res.append(tok.decode(row))
    return res


def prompt_for(stage: str, text: str, guide: str) -> str:
    return plm_prompt(text, guide) if stage == "base" else hh_prompt(text) + guide


def run(paths: Paths, cfg) -> None:
    seed_everything(SEED + 61)
    t0 = time.time()
    tok = load_tokenizer(paths)
    models = {s: load_model(paths.work / f"{s}_fp16").eval() for s in STAGES}
    heldout = read_jsonl(paths.data / "heldout.jsonl")
    if cfg.check_heldout_docs:
        heldout = heldout[: cfg.check_heldout_docs]
    docs = [tok.encode(d["text"]).ids for d in heldout]
    study = [i for i, d in enumerate(heldout) if d["meta"]["source"] == "moby_dick"][:8]
    # Sections already measured by an interrupted check of the same models are reused (report.partial.json).
    partial_path = paths.out / "report.partial.json"
    stamp = {"config": cfg.__dict__, "onnx": read_json(paths.models / "export.json")["files"]}
    report: dict = read_json(partial_path) if partial_path.exists() else {}
    if report.get("stamp") != stamp:
        report = {"stamp": stamp}

    def save_partial():
        write_json(partial_path, report)

    if "heldout" not in report:
        per_doc = score_docs(models, docs)
        report["heldout"] = aggregate(per_doc)
        report["heldout"]["unigram_perplexity"] = unigram_perplexity(paths, tok, docs)
        report["study_corpus"] = aggregate(per_doc, study)
        save_partial()
    if "study_corpus_seq256" not in report:
        report["study_corpus_seq256"] = aggregate(score_docs(models, [docs[i] for i in study], 256))
        unrounded = {"base": load_model(paths.checkpoint("base")).eval()}
        report["fp16_rounding"] = {
            "study_corpus_base_perplexity_fp16_weights": report["study_corpus"]["base"]["perplexity"],
            "study_corpus_base_perplexity_float32_weights":
                aggregate(score_docs(unrounded, [docs[i] for i in study]))["base"]["perplexity"]}
        save_partial()
    log(f"check: held-out scored ({time.time() - t0:.0f} s)")

    number_ids = {n: tok.encode(f" {n}").ids[0] for n in range(101)}
    die_ids = {n: tok.encode(f" {n}").ids[0] for n in range(1, 7)}
    request = "Tell me a random integer between 0 and 100."
    report["numbers"] = {}
    for s, m in models.items():
        report["numbers"][s] = {
            "raw": next_token_view(m, tok, QUALITATIVE_PROMPTS[0], number_ids),
            "hh": next_token_view(m, tok, hh_prompt(request) + " The number is", number_ids),
            "die_raw": next_token_view(m, tok, QUALITATIVE_PROMPTS[1], die_ids),
        }
    log(f"check: numbers ({time.time() - t0:.0f} s)")

    div: dict = report.get("diversity", {})
    for pack, max_new in (("creative", 30), ("factual", 25)):
        prompts = pack_prompts(pack)[: cfg.check_prompts_per_pack]
        for s, m in models.items():
            for temp in TEMPERATURES:
                if str(temp) in div.get(pack, {}).get(s, {}):
                    continue
                per = [diversity_of(generate(m, tok, prompt_for(s, p["text"], p["guide"]), cfg.check_samples, max_new,
                                             temp, SEED + 62 + i)) for i, p in enumerate(prompts)]
                div.setdefault(pack, {}).setdefault(s, {})[str(temp)] = {
                    k: float(np.mean([d[k] for d in per])) for k in per[0]}
                report["diversity"] = div
                save_partial()
    report["diversity"] = div
    save_partial()
    log(f"check: diversity ({time.time() - t0:.0f} s)")

    samples = {}
    reads = [("creative", 0), ("creative", 3), ("creative", 18), ("factual", 0), ("factual", 18)]
    for s, m in models.items():
        for pack, i in reads:
            p = pack_prompts(pack)[i]
            prompt = prompt_for(s, p["text"], p["guide"])
            samples.setdefault(s, []).append({
                "prompt": prompt, "greedy": generate(m, tok, prompt, 1, 40, 0.0, 0)[0],
                "sampled_t0.7": generate(m, tok, prompt, 2, 40, 0.7, SEED + 63)})
        for req in ["Pick a number between 1 and 10.", "Tell me a name.", "Write a short poem about the night."]:
            prompt = hh_prompt(req) if s != "base" else req
            samples[s].append({"prompt": prompt, "sampled_t1.0": generate(m, tok, prompt, 4, 40, 1.0, SEED + 64)})
    report["samples"] = samples
    export = paths.models / "export.json"
    if export.exists():
        e = read_json(export)
        report["onnx"] = {"vs_pytorch_max_abs_logit_diff": e["onnx_vs_pytorch_max_abs_logit_diff"],
                          "total_bytes": e["total_bytes"],
                          "onnx_bytes": {s: e["files"][s]["onnx/model.onnx"]["bytes"] for s in STAGES}}
    report["seconds"] = round(time.time() - t0, 1)
    report["config"] = report.pop("stamp")["config"]
    write_json(paths.report, report)
    partial_path.unlink()
    log("check: " + headline(report))


def headline(r: dict) -> str:
    h, sc = r["heldout"], r["study_corpus"]
    parts = [f"held-out ppl base {h['base']['perplexity']:.1f} vs unigram {h['unigram_perplexity']:.1f}"]
    for s in STAGES:
        parts.append(f"{s}: study-corpus entropy {sc[s]['mean_entropy']:.3f} conf {sc[s]['mean_confidence']:.3f} "
                     f"effvocab {sc[s]['effective_vocab']:.0f}" +
                     (f" KL {sc[s]['mean_kl_from_base']:.3f}" if s != "base" else ""))
    for s in STAGES:
        n = r["numbers"][s]["raw"]
        parts.append(f"{s} numbers(raw): eff {n['effective_numbers']:.1f} fav {n['favourites_share']:.2f} "
                     f"top {[(x['n'], x['share']) for x in n['top_numbers'][:3]]}")
    for pack, d in r["diversity"].items():
        parts.append(f"{pack} distinct-2 @1.0: " + " / ".join(f"{d[s]['1.0']['distinct_2']:.3f}" for s in STAGES))
    return "; ".join(parts)


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
