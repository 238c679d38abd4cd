#!/usr/bin/env python3
"""Dev-time reference for bench/diversity.ts: the paper's 8 deterministic diversity keys in plain Python.

Written for this project from the definitions in docs/METRICS.md (it is not the original code), with the
original's dependencies where they exist here: nltk's sentence_bleu (method1 smoothing), gzip, numpy, scipy's
eigvalsh. It walks the cells the way the paper's script did (metric by metric, cell by cell, any exception -> NaN)
and prints one JSON line: the wall time and the float32 values, so the benchmark can check both sides agree.

Needs numpy, scipy and nltk (the pip mirror has them); never needed to run or test the project.
usage: python3 tools/reference_diversity.py FILE.npy [FILE.npy ...] --words 5,20
"""
import argparse
import gzip
import itertools
import json
import sys
import time

import numpy as np
import scipy.linalg
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu


def truncate(s, words):
    return " ".join(s.split()[:words])


def self_bleu(samples):
    smooth = SmoothingFunction().method1
    scores = []
    for i, hyp in enumerate(samples):
        refs = [r.strip().split() for j, r in enumerate(samples) if j != i]
        scores.append(sentence_bleu(refs, hyp.strip().split(), smoothing_function=smooth))
    return sum(scores) / len(scores)


def clen(s):
    return len(gzip.compress(s.encode("utf-8")))


def ncd(x, y):
    cx, cy = clen(x), clen(y)
    return (clen(x + " " + y) - min(cx, cy)) / max(cx, cy)


def avg_ncd(samples):
    per = []
    for i, x in enumerate(samples):
        per.append(sum(ncd(x, y) for j, y in enumerate(samples) if j != i) / (len(samples) - 1))
    return np.mean(per)


def ngram_set(s, n):
    w = s.lower().split()
    return set(tuple(w[i:i + n]) for i in range(len(w) - n + 1))


def jaccard(x, y, n):
    a, b = ngram_set(x, n), ngram_set(y, n)
    u = a | b
    return len(a & b) / len(u) if u else 0


def avg_jaccard(samples, n):
    return np.mean([jaccard(x, y, n) for x, y in itertools.combinations(samples, 2)])


def ratio(s):
    return clen(s) / len(s.encode("utf-8"))


def cr_full(samples):
    d = []
    for i, y in enumerate(samples):
        others = [s for j, s in enumerate(samples) if j != i]
        d.append(ratio(" ".join(others)) - ratio(" ".join(others + [y])))
    return sum(d) / len(d)


def cr_target(samples):
    d = []
    for i, y in enumerate(samples):
        others = [s for j, s in enumerate(samples) if j != i]
        d.append(ratio(y) - ratio(" ".join(others + [y])))
    return sum(d) / len(d)


def vendi_jaccard_2(samples):
    n = len(samples)
    k = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            k[i, j] = k[j, i] = jaccard(samples[i], samples[j], 2)
    w = scipy.linalg.eigvalsh(k / n)
    p = w[w > 0]
    return np.exp(-(p * np.log(p)).sum())


KEYS = {
    "selfBleuSmoothed": self_bleu,
    "average_pairwise_ncd": avg_ncd,
    "average_pairwise_jaccard_2": lambda s: avg_jaccard(s, 2),
    "average_pairwise_jaccard_3": lambda s: avg_jaccard(s, 3),
    "average_pairwise_jaccard_4": lambda s: avg_jaccard(s, 4),
    "avg_compression_ratio_full": cr_full,
    "avg_compression_ratio_target": cr_target,
    "vendi_jaccard_2": vendi_jaccard_2,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--words", default="5,20")
    args = ap.parse_args()
    words = [int(w) for w in args.words.split(",")]
    arrays = [np.load(f, allow_pickle=True) for f in args.files]
    start = time.perf_counter()
    out = {}
    for f, arr in zip(args.files, arrays):
        for w in words:
            for key, fn in KEYS.items():
                res = np.zeros(arr.shape, dtype=np.float32)
                for idx in np.ndindex(arr.shape):
                    cell = [truncate(s, w) for s in arr[idx]]
                    try:
                        res[idx] = fn(cell)
                    except Exception:  # the original's bare except, kept on purpose for a like-for-like timing
                        res[idx] = np.nan
                out[f"{f}|{w}|{key}"] = [None if np.isnan(v) else float(v) for v in res.reshape(-1)]
    elapsed = time.perf_counter() - start
    json.dump({"seconds": elapsed, "python": sys.version.split()[0], "values": out}, sys.stdout)


if __name__ == "__main__":
    main()
