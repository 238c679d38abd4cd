#!/usr/bin/env python3
"""Dev-time: Hugging Face greedy-generation and next-token-sampling reference for the tiny GPT-NeoX fixture.

Writes tests/fixtures/tiny-gptneox/generate_reference.json (format "generate-reference/1"; every field is described
in its "fields" member, see FIELDS below) so that the TypeScript generation code can be checked against
transformers without Python:

  cases: for both models (base, tuned), the first 3 usable prompts of each paper pack (creative, factual, seen)
      filled into the base-model template of data/prompts/templates.json ("plm", "{prompt} {guide}", exactly as
      lib/data/prompts.ts applyTemplate fills it), max_new_tokens from the pack (70 / 25 / 70), and 2 raw prompts
      with max_new_tokens 20. For each: prompt text and ids, HF's greedy continuation (generate(do_sample=False),
      float32, KV cache), its decoded text, and per generated token the float64 log-prob and entropy of the full
      next-token distribution at temperature 1 and the float32 top-1/top-2 logit gap. A pack prompt whose greedy
      run has a gap < MIN_GAP (for either model) is replaced by the pack's next prompt (recorded in "skipped").
  sampled_distribution: for one base-model prompt, the first generation step's top-100 tokens (float64
      log-softmax, float32 logits) and the distribution after HF's TemperatureLogitsWarper(0.7),
      TopKLogitsWarper(50), TopPLogitsWarper(0.9) applied in that order (the order generate() uses).

The PyTorch weights are not committed: they are rebuilt with tools/make_gptneox_fixture.py's make_base/make_tuned
(seeded, deterministic) and checked against the committed onnx/model.onnx with onnxruntime before use.

Checks (assertions): rebuilt weights vs committed ONNX (max abs logit difference < 1e-4); the greedy tokens are the
argmax of the float64 distributions too; the per-step float64 log-probs (one forward per prefix) equal those of
one full forward over prompt + generation ("prefix scoring", |diff| < 1e-9); tokenizing with and without special
tokens gives the same ids (the Pythia tokenizer adds no BOS/EOS).

usage (from the project root; `deno task setup` not needed, the fixture folders carry tokenizer.json):
  /tmp/devpy/bin/python tools/reference_generate.py [--fixture tests/fixtures/tiny-gptneox]
Needs torch, transformers, tokenizers, onnxruntime (the dev Python). The JSON is then formatted with `deno fmt`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_gptneox_fixture import (  # noqa: E402
    SEED, VOCAB_SIZE, format_with_deno, make_base, make_tuned, pythia_config, sha256,
)

FORMAT = "generate-reference/1"
PACKS = ["creative", "factual", "seen"]
PER_PACK = 3
TEMPLATE = "plm"  # the paper-exact template for base models (used_for pythia-2.8b)
RAW_PROMPTS = ["tell me a random integer between 0 and 100", "The dice roll gives"]
RAW_MAX_NEW_TOKENS = 20
MIN_GAP = 1e-4
PREFIX_TOL = 1e-9
SAMPLING = {"temperature": 0.7, "top_k": 50, "top_p": 0.9}
TOP_N = 100

FIELDS = {
    "format": "always 'generate-reference/1'",
    "tool": "the script that wrote this file",
    "command": "the command line that wrote it",
    "versions": "python, torch, transformers, tokenizers, onnxruntime, numpy versions used",
    "about": "one-paragraph summary",
    "settings.models": "model folder names (relative to this file's folder); both have eos_token_id 0",
    "settings.eos_token_id": "from config.json/generation_config.json of the fixture (0, <|endoftext|>)",
    "settings.seed": "seed of tools/make_gptneox_fixture.py that rebuilds the PyTorch weights",
    "settings.onnx_vs_rebuilt_max_abs_diff": "per model: max |onnxruntime logits - rebuilt PyTorch float32 logits| "
                                            "over the prompts of all cases (checks the rebuilt weights are the "
                                            "committed ones)",
    "settings.tokenizer": "tokenizer.json of the fixture folders (the real Pythia tokenizer) and its sha256",
    "settings.tokenization": "how prompt_ids were made: HF AutoTokenizer(fixture folder)(prompt_text) with the "
                             "default add_special_tokens=True, which adds nothing for this tokenizer "
                             "(add_bos_token false, ByteLevel post-processor): identical to "
                             "add_special_tokens=False (asserted)",
    "settings.generation": "the generate() call: float32 model, eager attention, KV cache, batch of 1, attention "
                           "mask of ones, do_sample=False, max_new_tokens per case, eos_token_id=pad_token_id=0. "
                           "HF stops after the first EOS and KEEPS it in the output: when eos is true the last "
                           "entry of generated_ids is 0 and it has log-prob/entropy/gap entries like any other",
    "settings.decoding": "generated_text = tokenizer.decode(generated_ids, skip_special_tokens=True) (EOS dropped, "
                         "prompt not included); transformers 5 ignores clean_up_tokenization_spaces=True for this "
                         "BPE tokenizer, so no space clean-up is applied. cleanup_would_change_text tells whether "
                         "tokenizer.clean_up_tokenization (older transformers' default) would change any case's text",
    "settings.scoring": "token_logprob/token_entropy: the model cast to float64 (rotary cos/sin and attention "
                        "softmax in float64 too -- SDPA attention -- where transformers computes them in float32), one forward over the full prefix "
                        "(prompt_ids + generated_ids[:t]) for step t, float64 log-softmax of the last logits row over "
                        "all 50304 columns, temperature 1, no truncation; entropy in nats. Checked equal (|diff| < "
                        "1e-9) to one float64 forward over prompt + generation ('prefix scoring')",
    "settings.template": "name and text of the template used for the pack prompts (data/prompts/templates.json); "
                         "filled like lib/data/prompts.ts applyTemplate: '{prompt}' and '{guide}' replaced once, "
                         "literally; a missing guide is ''",
    "settings.min_gap": "pack prompts whose greedy run has a top1_top2_logit_gap below this (either model) are "
                        "replaced by the next prompt of the pack",
    "skipped": "pack prompts passed over because of a small logit gap: {pack, prompt_id, model, min_gap}",
    "min_logit_gap": "minimum of top1_top2_logit_gap over all steps of all cases",
    "cases[]": "one greedy generation; base cases first, then tuned; within a model: creative, factual, seen (pack "
                "order), then the raw prompts",
    "cases[].id": "'<model>/<prompt id>' (raw prompts: 'raw-0', 'raw-1')",
    "cases[].model": "'base' or 'tuned'",
    "cases[].pack": "'creative' | 'factual' | 'seen', or null for raw prompts",
    "cases[].prompt_id": "the pack's prompt id (e.g. 'creative-00'), or 'raw-<i>'",
    "cases[].template": "template name ('plm'), or null for raw prompts (text used as is)",
    "cases[].prompt_text": "the exact text tokenized",
    "cases[].prompt_ids": "its token ids",
    "cases[].max_new_tokens": "generate()'s max_new_tokens",
    "cases[].generated_ids": "ids of the generated tokens only (prompt excluded), EOS included when reached",
    "cases[].eos": "true when generation stopped at EOS (then generated_ids ends with 0)",
    "cases[].generated_text": "decode(generated_ids, skip_special_tokens=True)",
    "cases[].token_logprob": "per generated token: float64 log-prob of that token (see settings.scoring)",
    "cases[].token_entropy": "per generated token: entropy (nats) of the float64 distribution it was chosen from",
    "cases[].top1_top2_logit_gap": "per generated token: top-1 minus top-2 of the float32 logits generate() saw "
                                   "(output_logits, computed with the KV cache)",
    "cases[].sum_logprob": "sum of token_logprob",
    "sampled_distribution": "first-step next-token distribution of one base-model case, raw and after HF's "
                            "sampling warpers",
    "sampled_distribution.case_id": "the case (its prompt_ids are the input; the row is the one predicting the "
                                    "first generated token)",
    "sampled_distribution.choice": "how the case was chosen",
    "sampled_distribution.top_ids": "the 100 highest-logit token ids, by descending float64 logit",
    "sampled_distribution.top_logprob": "their float64 log-softmax values (full 50304 columns, temperature 1)",
    "sampled_distribution.top_logits_float32": "their raw float32 logits (float32 model)",
    "sampled_distribution.logsumexp": "float64 logsumexp of the float64 logits row",
    "sampled_distribution.settings": "temperature, top_k, top_p; HF order: TemperatureLogitsWarper, "
                                     "TopKLogitsWarper, TopPLogitsWarper (min_tokens_to_keep 1), then softmax",
    "sampled_distribution.processed_ids": "ids with non-zero probability after the warpers, by descending prob",
    "sampled_distribution.processed_probs": "their probabilities: warpers applied to the float64 logits in float64",
    "sampled_distribution.processed_probs_float32": "the same from the float32 logits in float32 (what generate() "
                                                    "computes); same ids",
    "sampled_distribution.top_k_boundary_gap": "float64 logit of the 50th minus the 51st token (top-k tie margin)",
    "sampled_distribution.top_p_boundary_margin": "min |cumulative prob - (1 - top_p)| over the two ascending-sorted "
                                                  "cumulative sums around the cut (top-p margin, float64)",
    "sampled_distribution.kept_after_top_k": "tokens left after top-k (50: no tie at the boundary)",
    "sampled_distribution.kept_after_top_p": "number of processed_ids",
}


def fill_template(text: str, prompt: str, guide: str = "") -> str:
    """lib/data/prompts.ts applyTemplate: each {prompt}/{guide} replaced once, literally, in a single pass."""
    import re

    return re.sub(r"\{(prompt|guide)\}", lambda m: prompt if m.group(1) == "prompt" else guide, text)


def rebuild_models(fixture: Path):
    """The fixture's two models in float32 (eager attention), rebuilt with make_gptneox_fixture's functions."""
    import tokenizers
    from transformers import GPTNeoXConfig

    config_json = json.loads((fixture / "base" / "config.json").read_text(encoding="utf-8"))
    assert config_json == pythia_config(), "fixture config.json differs from make_gptneox_fixture.pythia_config()"
    config = GPTNeoXConfig.from_pretrained(str(fixture / "base"))
    tok = tokenizers.Tokenizer.from_file(str(fixture / "base" / "tokenizer.json"))
    base = make_base(config, tok)
    tuned = make_tuned(base, config, tok)
    return {"base": base.eval(), "tuned": tuned.eval()}


def onnx_max_diff(model, onnx_path: Path, prompts: list[list[int]]) -> float:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    cfg = model.config
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    worst = 0.0
    for ids in prompts:
        a = np.array([ids], dtype=np.int64)
        feeds = {"input_ids": a, "attention_mask": np.ones_like(a),
                 "position_ids": np.arange(len(ids), dtype=np.int64)[None]}
        for i in range(cfg.num_hidden_layers):
            for kind in ("key", "value"):
                feeds[f"past_key_values.{i}.{kind}"] = np.zeros((1, cfg.num_attention_heads, 0, head_dim),
                                                                dtype=np.float32)
        got = sess.run(["logits"], feeds)[0]
        with torch.no_grad():
            want = model(input_ids=torch.from_numpy(a)).logits.numpy()
        worst = max(worst, float(np.abs(got - want).max()))
    return worst


def greedy(model32, model64, tokenizer, prompt_ids: list[int], max_new_tokens: int, eos: int) -> dict:
    ids = torch.tensor([prompt_ids], dtype=torch.int64)
    with torch.no_grad():
        out = model32.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                               max_new_tokens=max_new_tokens, eos_token_id=eos, pad_token_id=eos, use_cache=True,
                               return_dict_in_generate=True, output_logits=True)
    gen = out.sequences[0, len(prompt_ids):].tolist()
    assert len(out.logits) == len(gen)
    if eos in gen:
        assert gen.index(eos) == len(gen) - 1  # stops at the first EOS, which it keeps
    else:
        assert len(gen) == max_new_tokens
    gaps = []
    for t, row in enumerate(out.logits):
        row = row[0]
        assert row.dtype == torch.float32
        top = torch.topk(row, 2)
        assert int(top.indices[0]) == gen[t]
        gaps.append(float(top.values[0] - top.values[1]))
    # float64: one forward per prefix (what an incremental sampler sees), then one full forward as a cross-check
    logprob, entropy = [], []
    with torch.no_grad():
        for t in range(len(gen)):
            prefix = torch.tensor([prompt_ids + gen[:t]], dtype=torch.int64)
            lp = torch.log_softmax(model64(input_ids=prefix).logits[0, -1], dim=-1)
            assert lp.dtype == torch.float64 and lp.shape[0] == VOCAB_SIZE
            assert int(lp.argmax()) == gen[t]
            logprob.append(float(lp[gen[t]]))
            entropy.append(float(-(lp.exp() * lp).sum()))
        full = torch.tensor([prompt_ids + gen], dtype=torch.int64)
        lp_full = torch.log_softmax(model64(input_ids=full).logits[0, len(prompt_ids) - 1: -1], dim=-1)
        one_shot = lp_full[torch.arange(len(gen)), torch.tensor(gen)].tolist()
    prefix_diff = max(abs(a - b) for a, b in zip(logprob, one_shot))
    assert prefix_diff < PREFIX_TOL, prefix_diff
    return {
        "generated_ids": gen,
        "eos": bool(gen and gen[-1] == eos),
        "generated_text": tokenizer.decode(gen, skip_special_tokens=True),
        "token_logprob": logprob,
        "token_entropy": entropy,
        "top1_top2_logit_gap": gaps,
        "sum_logprob": math.fsum(logprob),
        "_prefix_diff": prefix_diff,
    }


def sampled_distribution(case: dict, model32, model64) -> dict:
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper,
    )

    ids = torch.tensor([case["prompt_ids"]], dtype=torch.int64)
    with torch.no_grad():
        l64 = model64(input_ids=ids).logits[0, -1]
        l32 = model32(input_ids=ids).logits[0, -1]
    lp = torch.log_softmax(l64, dim=-1)
    order = torch.argsort(l64, descending=True, stable=True)
    top = order[:TOP_N]
    warpers = [TemperatureLogitsWarper(SAMPLING["temperature"]), TopKLogitsWarper(SAMPLING["top_k"]),
               TopPLogitsWarper(SAMPLING["top_p"])]

    def process(row):
        scores = row[None].clone()
        for w in warpers:
            scores = w(ids, scores)
        return torch.softmax(scores, dim=-1)[0]

    p64, p32 = process(l64), process(l32)
    kept = torch.nonzero(p64 > 0)[:, 0]
    kept = kept[torch.argsort(p64[kept], descending=True, stable=True)]
    assert torch.equal(torch.sort(kept).values, torch.nonzero(p32 > 0)[:, 0]), "float32 and float64 keep differ"
    # margins: top-k boundary and top-p boundary (HF: ascending sort, remove where cumsum <= 1 - top_p)
    scaled = l64 / SAMPLING["temperature"]
    s = torch.sort(scaled, descending=True).values
    k = SAMPLING["top_k"]
    topk_gap = float(s[k - 1] - s[k])
    asc = torch.sort(torch.where(scaled >= s[k - 1], scaled, torch.tensor(-math.inf, dtype=scaled.dtype))).values
    cum = torch.softmax(asc, dim=-1).cumsum(-1)
    threshold = 1 - SAMPLING["top_p"]
    removed = cum <= threshold
    n_removed = int(removed.sum())
    near = [float(cum[n_removed] - threshold)] + ([float(threshold - cum[n_removed - 1])] if n_removed else [])
    return {
        "case_id": case["id"],
        "top_ids": top.tolist(),
        "top_logprob": lp[top].tolist(),
        "top_logits_float32": [float(x) for x in l32[top]],
        "logsumexp": float(torch.logsumexp(l64, dim=-1)),
        "settings": dict(SAMPLING),
        "processed_ids": kept.tolist(),
        "processed_probs": p64[kept].tolist(),
        "processed_probs_float32": [float(x) for x in p32[kept]],
        "top_k_boundary_gap": topk_gap,
        "top_p_boundary_margin": min(near),
        "kept_after_top_k": int((torch.softmax(torch.where(scaled >= s[k - 1], scaled, -math.inf), -1) > 0).sum()),
        "kept_after_top_p": len(kept),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixture", default="tests/fixtures/tiny-gptneox")
    ap.add_argument("--prompts", default="data/prompts")
    args = ap.parse_args()
    import onnxruntime
    import tokenizers
    import transformers
    from transformers import AutoTokenizer

    fixture, prompts_dir = Path(args.fixture), Path(args.prompts)
    gen_cfg = json.loads((fixture / "base" / "generation_config.json").read_text(encoding="utf-8"))
    eos = pythia_config()["eos_token_id"]
    assert gen_cfg["eos_token_id"] == eos == 0
    tokenizer = AutoTokenizer.from_pretrained(str(fixture / "base"))
    assert sha256(fixture / "base" / "tokenizer.json") == sha256(fixture / "tuned" / "tokenizer.json")
    templates = json.loads((prompts_dir / "templates.json").read_text(encoding="utf-8"))["templates"]
    template = templates[TEMPLATE]
    assert template.get("paper_exact") and "pythia-2.8b" in template.get("used_for", [])

    def encode(text: str) -> list[int]:
        ids = tokenizer(text)["input_ids"]
        assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
        return ids

    models32 = rebuild_models(fixture)
    models64 = {name: _copy64(m) for name, m in models32.items()}

    cases, skipped, prefix_diffs = [], [], []
    for pack_name in PACKS:
        pack = json.loads((prompts_dir / f"{pack_name}.json").read_text(encoding="utf-8"))
        accepted = 0
        for p in pack["prompts"]:
            if accepted == PER_PACK:
                break
            text = fill_template(template["text"], p["text"], p.get("guide", ""))
            prompt_ids = encode(text)
            runs = {}
            for name in models32:
                runs[name] = greedy(models32[name], models64[name], tokenizer, prompt_ids, pack["max_new_tokens"], eos)
            low = {n: min(r["top1_top2_logit_gap"]) for n, r in runs.items() if min(r["top1_top2_logit_gap"]) < MIN_GAP}
            if low:
                for n, g in low.items():
                    skipped.append({"pack": pack_name, "prompt_id": p["id"], "model": n, "min_gap": g})
                continue
            accepted += 1
            for name, r in runs.items():
                cases.append({"id": f"{name}/{p['id']}", "model": name, "pack": pack_name, "prompt_id": p["id"],
                              "template": TEMPLATE, "prompt_text": text, "prompt_ids": prompt_ids,
                              "max_new_tokens": pack["max_new_tokens"], **r})
        assert accepted == PER_PACK, pack_name
    for i, text in enumerate(RAW_PROMPTS):
        prompt_ids = encode(text)
        for name in models32:
            r = greedy(models32[name], models64[name], tokenizer, prompt_ids, RAW_MAX_NEW_TOKENS, eos)
            assert min(r["top1_top2_logit_gap"]) >= MIN_GAP, (text, name, min(r["top1_top2_logit_gap"]))
            cases.append({"id": f"{name}/raw-{i}", "model": name, "pack": None, "prompt_id": f"raw-{i}",
                          "template": None, "prompt_text": text, "prompt_ids": prompt_ids,
                          "max_new_tokens": RAW_MAX_NEW_TOKENS, **r})
    cases.sort(key=lambda c: list(models32).index(c["model"]))  # base first, then tuned; pack order kept
    for c in cases:
        prefix_diffs.append(c.pop("_prefix_diff"))

    onnx_diff = {name: onnx_max_diff(m, fixture / name / "onnx" / "model.onnx",
                                     sorted({tuple(c["prompt_ids"]) for c in cases}))
                 for name, m in models32.items()}
    assert max(onnx_diff.values()) < 1e-4, onnx_diff

    # The sampled-distribution case: the first base pack case whose nucleus after top-k is cut by top-p to
    # between 5 and 49 tokens, with clear top-k and top-p margins.
    sampled, choice = None, None
    for c in cases:
        if c["model"] != "base":
            continue
        s = sampled_distribution(c, models32["base"], models64["base"])
        if 5 <= s["kept_after_top_p"] < SAMPLING["top_k"] and s["top_k_boundary_gap"] > 1e-3 and \
                s["top_p_boundary_margin"] > 1e-4:
            sampled = s
            choice = ("first base-model case (in cases order) whose distribution keeps 5..49 tokens after top-p, "
                      "with top_k_boundary_gap > 1e-3 and top_p_boundary_margin > 1e-4")
            break
    assert sampled is not None
    sampled = {"case_id": sampled.pop("case_id"), "choice": choice, **sampled}

    min_gap = min(g for c in cases for g in c["top1_top2_logit_gap"])
    command = ("/tmp/devpy/bin/python tools/reference_generate.py " + " ".join(sys.argv[1:])).strip()
    ref = {
        "format": FORMAT,
        "tool": "tools/reference_generate.py",
        "command": command,
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "onnxruntime": onnxruntime.__version__, "numpy": np.__version__},
        "about": ("Hugging Face transformers (PyTorch, CPU) greedy generations of the two tiny GPT-NeoX models in "
                  "this folder, with float64 per-token log-probs and entropies, and one next-token distribution "
                  "after temperature 0.7 / top-k 50 / top-p 0.9 as HF's logits warpers compute it. Every field is "
                  "described in 'fields'."),
        "fields": FIELDS,
        "settings": {
            "models": list(models32),
            "eos_token_id": eos,
            "seed": SEED,
            "onnx_vs_rebuilt_max_abs_diff": onnx_diff,
            "tokenizer": {"file": "base/tokenizer.json", "sha256": sha256(fixture / "base" / "tokenizer.json")},
            "tokenization": {"call": "tokenizer(prompt_text)", "add_special_tokens": True,
                             "adds_tokens": False, "add_bos_token": False},
            "generation": {"dtype": "float32", "do_sample": False, "use_cache": True, "batch_size": 1,
                           "eos_token_id": eos, "pad_token_id": eos, "stops_at_eos": True, "eos_included": True},
            "decoding": {"skip_special_tokens": True, "clean_up_tokenization_spaces_applied": False,
                         "cleanup_would_change_text": any(tokenizer.clean_up_tokenization(c["generated_text"])
                                                          != c["generated_text"] for c in cases)},
            "scoring": {"dtype": "float64", "rotary": "float64", "attention": "sdpa, float64", "temperature": 1.0, "truncation": None,
                        "prefix_scoring_max_abs_diff": max(prefix_diffs)},
            "template": {"name": TEMPLATE, "text": template["text"]},
            "min_gap": MIN_GAP,
        },
        "skipped": skipped,
        "min_logit_gap": min_gap,
        "cases": cases,
        "sampled_distribution": sampled,
    }
    path = fixture / "generate_reference.json"
    path.write_text(json.dumps(ref, ensure_ascii=False) + "\n", encoding="utf-8")
    format_with_deno([path])
    print(f"wrote {path}: {path.stat().st_size / 1e3:.1f} kB, {len(cases)} cases, min logit gap {min_gap:.6g}, "
          f"skipped {skipped}, prefix diff {max(prefix_diffs):.2e}, onnx diff {onnx_diff}")
    for c in cases:
        print(f"  {c['id']:<20} {len(c['prompt_ids']):3d}+{len(c['generated_ids']):2d} eos={c['eos']!s:<5} "
              f"gap>={min(c['top1_top2_logit_gap']):.4g} {c['generated_text'][:60]!r}")
    print(f"  sampled: {sampled['case_id']} kept {sampled['kept_after_top_p']}, "
          f"topk gap {sampled['top_k_boundary_gap']:.4g}, topp margin {sampled['top_p_boundary_margin']:.4g}")
    return 0


def _copy64(model):
    """A float64 copy whose rotary embedding and attention softmax are float64 too.

    transformers' GPTNeoXRotaryEmbedding always computes cos/sin in float32 (then casts), and float32 cos/sin
    differ by an ulp between torch's vectorised and scalar paths, i.e. with the sequence length (~1e-7 in the
    log-probs). The copy computes inv_freq and cos/sin in float64, so the reference is float64 throughout and the
    per-prefix and one-shot scorings agree to ~1e-14. Likewise the eager attention computes its softmax in
    float32 (~2e-7 here), so the copy uses PyTorch's scaled_dot_product_attention (math kernel, float64 on CPU).
    """
    import copy
    import types

    m = copy.deepcopy(model).to(torch.float64).eval()
    m.set_attn_implementation("sdpa")  # eager's softmax is float32 (dtype=torch.float32); SDPA keeps float64
    rope = m.gpt_neox.rotary_emb
    params = m.config.rope_parameters
    assert params["rope_type"] == "default" and rope.attention_scaling == 1.0
    head_dim = m.config.hidden_size // m.config.num_attention_heads
    dim = int(head_dim * params.get("partial_rotary_factor", 1.0))
    inv_freq64 = 1.0 / (params["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    assert torch.allclose(inv_freq64, rope.inv_freq.double(), rtol=1e-6)

    @torch.no_grad()
    def forward64(self, x, position_ids):
        freqs = position_ids.to(torch.float64)[:, :, None] * inv_freq64[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    rope.forward = types.MethodType(forward64, rope)
    return m


if __name__ == "__main__":
    sys.exit(main())
