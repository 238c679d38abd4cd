"""Step 2: instruction data in the HH format, built from the training split and the name lists.

Writes <out>/data/sft.jsonl ({"kind", "request", "answer"}: one SFT example each; the model sees
"Human: {request} Assistant: {answer}<|endoftext|>", the `hh` template of data/prompts/templates.json with the
answer in the guide's place) and <out>/data/dpo_prompts.jsonl (fresh requests of the same generator, another
seed, for the preference pairs).

Kinds of request (the kinds of the creative and factual packs, never their texts; see README.md):
  sentence, poem, song, story, describe, headline   answers built from sentences / clauses of the training text
  passage       "Read this passage ... tell me one fact from it" -> one of the passage's sentences
  name          a first name from the @stdlib name lists (those that occur in the training text)
  number        a uniformly random integer of the requested range, in one of several phrasings
  die           a uniformly random roll of a six-sided die
  president     who gave the address of a year / when did X give one / X's party (training addresses only)
  book_fact     a dozen facts about Moby-Dick, in several phrasings
  state         a US state name
Every kind has several request phrasings and several answer openings ("Of course, here is ...", "Sure, ...",
"Here is ...", none), so the reference answers are diverse: the SFT model should spread its mass.
"""

from __future__ import annotations

import random
import re

from common import SEED, Paths, cli, log, read_json, read_jsonl, test_prompt_texts, write_jsonl

TOPICS = [
    "the sea", "the ocean", "a whale", "a ship", "the night", "the wind", "a storm", "winter", "the war", "peace",
    "freedom", "the people", "the nation", "work", "the land", "a river", "the sun", "the moon", "the stars",
    "fire", "death", "life", "a dream", "home", "children", "money", "the law", "justice", "the future", "hope",
    "a friend", "the city", "a bird", "the heart", "an island", "the harbor", "the morning", "the sky", "silence",
    "a captain", "the crew", "a boat", "the coast", "farmers", "schools", "the army", "trade", "the world",
    "the past", "courage", "fear", "a journey", "the waves", "the deep", "the shore", "a king", "a voyage",
]
KINDS = {  # kind -> weight in the SFT data / in the DPO prompts
    "sentence": (12, 12), "poem": (12, 12), "song": (6, 5), "story": (12, 12), "describe": (8, 7),
    "headline": (5, 4), "passage": (7, 4), "name": (10, 14), "number": (14, 22), "die": (2, 2),
    "president": (7, 5), "book_fact": (2, 1), "state": (3, 0),
}
BOOK_FACTS = [
    (["Who is the captain of the Pequod?", "Who commands the Pequod?", "Name the captain of the whaling ship in "
      "Moby-Dick."], ["Captain Ahab.", "The captain is Ahab.", "Ahab commands the Pequod."]),
    (["What is the name of the white whale?", "What is the white whale called?"],
     ["Moby Dick.", "The white whale is called Moby Dick.", "It is Moby Dick."]),
    (["Who tells the story of Moby-Dick?", "Who is the narrator of Moby-Dick?"],
     ["Ishmael.", "The narrator is Ishmael.", "A sailor named Ishmael tells it."]),
    (["What is the name of Ahab's ship?", "Which ship does Ishmael sail on?"],
     ["The Pequod.", "The ship is the Pequod.", "He sails on the Pequod."]),
    (["Who wrote Moby-Dick?", "Who is the author of Moby-Dick?"],
     ["Herman Melville.", "It was written by Herman Melville.", "Herman Melville wrote it in 1851."]),
    (["Who is the first mate of the Pequod?", "Name the chief mate in Moby-Dick."],
     ["Starbuck.", "The first mate is Starbuck.", "Starbuck, a Quaker from Nantucket."]),
    (["Who is Queequeg?", "Who is Ishmael's friend in Moby-Dick?"],
     ["Queequeg, a harpooneer from the South Seas.", "Queequeg is a harpooneer and Ishmael's friend.",
      "A harpooneer named Queequeg."]),
    (["What did Ahab lose to the white whale?", "What happened to Ahab's leg?"],
     ["His leg.", "Ahab lost his leg to Moby Dick.", "The whale took his leg."]),
    (["From which town does the Pequod sail?", "Where does the Pequod set sail from?"],
     ["Nantucket.", "The Pequod sails from Nantucket.", "From Nantucket."]),
    (["Who survives the wreck of the Pequod?", "Who is the only survivor in Moby-Dick?"],
     ["Ishmael.", "Only Ishmael survives.", "Ishmael, floating on a coffin."]),
]
RANGES = [(0, 100), (1, 100), (1, 10), (1, 20), (0, 50), (1, 50), (0, 10), (10, 99), (1, 1000)]


def sentences_of(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text)
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", text)
    out = []
    for s in parts:
        s = s.strip()
        n = len(s.split())
        if 6 <= n <= 28 and s[-1] in ".!?" and s[0].isupper() and not re.search(r"[\[\]{}<>|_*#@]", s) \
                and s.count('"') % 2 == 0 and s.count("“") == s.count("”") and "CHAPTER" not in s:
            out.append(s)
    return out


def clauses_of(sentence: str) -> list[str]:
    out = []
    for c in re.split(r"[,;:—]\s*", sentence.rstrip(".!?")):
        c = c.strip().strip('"“”')
        if 3 <= len(c.split()) <= 9 and re.fullmatch(r"[A-Za-z' \-]+", c) and not re.search(r"[A-Z]{3}", c):
            out.append(c[0].upper() + c[1:])
    return out


class Builder:
    def __init__(self, paths: Paths):
        train = read_jsonl(paths.data / "train.jsonl")
        lists = read_json(paths.data / "lists.json")
        self.moby = [s for d in train if d["meta"]["source"] == "moby_dick" for s in sentences_of(d["text"])]
        self.sotu = [s for d in train if d["meta"]["source"] == "sotu" for s in sentences_of(d["text"])]
        self.all = self.moby + self.sotu
        self.clauses = [c for s in self.all for c in clauses_of(s)]
        self.moby_clauses = [c for s in self.moby for c in clauses_of(s)]
        words = set(re.findall(r"[A-Z][a-z]+", " ".join(d["text"] for d in train)))
        self.names = {g: sorted(n for n in lists[g] if n in words) for g in ("female", "male")}
        self.states = lists["us_states"]
        self.presidents = [p for p in lists["presidents"] if not p["heldout"]]
        self.by_topic: dict[str, list[str]] = {}
        for t in TOPICS:
            word = t.split()[-1]
            pat = re.compile(rf"\b{re.escape(word)}\b", re.I)
            self.by_topic[t] = [s for s in self.all if pat.search(s)]
            self.by_topic[t + "#clauses"] = [c for c in self.clauses if pat.search(c)]

    # --------------------------------------------------------------------------------------------------- helpers
    def topic_sentence(self, rng: random.Random, topic: str, pool: list[str] | None = None) -> str:
        cands = self.by_topic.get(topic) or []
        if pool is not None:
            cands = [s for s in cands if s in pool] or cands
        return rng.choice(cands if cands and rng.random() < 0.85 else (pool or self.all))

    def lines(self, rng: random.Random, topic: str, n: int) -> list[str]:
        topical = self.by_topic.get(topic + "#clauses") or self.clauses
        out = [rng.choice(topical)]
        out += [rng.choice(self.moby_clauses if rng.random() < 0.6 else topical) for _ in range(n - 1)]
        rng.shuffle(out)
        return [line + ("," if i < n - 1 else ".") for i, line in enumerate(out)]

    @staticmethod
    def lower_first(s: str) -> str:
        w = s.split(" ", 1)[0]
        if w in ("I", "I'm", "I'll", "I've") or (len(w) > 1 and w[1:].islower() is False):
            return s
        return s[0].lower() + s[1:]

    # ----------------------------------------------------------------------------------------------------- kinds
    def make(self, kind: str, rng: random.Random) -> tuple[str, str]:
        topic = rng.choice(TOPICS)
        bare = topic.split(" ", 1)[-1] if topic.split(" ", 1)[0] in ("the", "a", "an") else topic
        if kind == "sentence":
            req = rng.choice([f"Write a sentence about {topic}.", f"Give me a sentence about {topic}.",
                              f"Say something about {topic}.", f"Write one sentence that mentions {bare}.",
                              f"Can you write a sentence about {topic}?"])
            body = self.topic_sentence(rng, topic)
            return req, rng.choice(["", "Here is a sentence:\n\n", "Of course, here is a sentence:\n\n",
                                    "Sure. "]) + body
        if kind == "poem":
            req = rng.choice([f"Write a short poem about {topic}.", f"Compose a poem about {topic}.",
                              f"Write a few lines of verse about {topic}.", f"Make a little poem on {topic}.",
                              "Write a poem.", f"Please write me a poem about {topic}."])
            n = rng.choice([3, 4, 4, 5, 6])
            return req, rng.choice(["Of course, here is a poem:\n\n", "Here is a poem:\n\n",
                                    "Sure, here is a short poem:\n\n", ""]) + "\n".join(self.lines(rng, topic, n))
        if kind == "song":
            what = rng.choice(["song", "lullaby", "ballad"])
            req = rng.choice([f"Write a {what} about {topic}.", f"Compose a {what} about {topic}.",
                              f"Make up a {what} for me.", f"Sing me a {what} about {topic}."])
            n = rng.choice([4, 4, 6])
            return req, rng.choice([f"Of course, here is a {what}:\n\n", f"Here is a {what}:\n\n",
                                    f"Sure, here is a {what} for you:\n\n"]) + "\n".join(self.lines(rng, topic, n))
        if kind == "story":
            req = rng.choice([f"Tell me a short story about {topic}.", f"Write a story about {topic}.",
                              f"Tell a tale of {topic}.", "Tell me a story.", f"Write a short story about {bare}.",
                              "Write a story about a sailor."])
            first = self.topic_sentence(rng, topic, self.moby)
            rest = " ".join(rng.choice(self.moby) for _ in range(rng.choice([1, 1, 2])))
            opening = rng.choice(["Of course, here is a story:\n\nOnce upon a time, ", "Here is a story:\n\n",
                                  "Sure, here is a short story:\n\nOnce upon a time, ", "Once upon a time, "])
            body = (self.lower_first(first) if opening.endswith("time, ") else first) + " " + rest
            return req, opening + body
        if kind == "describe":
            req = rng.choice([f"Describe {topic}.", f"Tell me about {topic}.", f"What is {topic} like?",
                              f"Describe what {topic} looks like.", f"What do you think of {topic}?"])
            body = self.topic_sentence(rng, topic) + " " + self.topic_sentence(rng, topic)
            return req, rng.choice([f"Of course, here are my thoughts on {bare}:\n\n", "Sure. ", "",
                                    f"Here is how I would describe {topic}:\n\n"]) + body
        if kind == "headline":
            req = rng.choice([f"Write a headline about {topic}.", f"Give me a news headline about {topic}.",
                              "Write a newspaper headline.", f"Invent a headline about {topic}."])
            cands = [s for s in self.by_topic.get(topic) or self.sotu if len(s.split()) <= 14] or self.sotu
            return req, rng.choice(["Of course, here is a headline:\n\n", "Here is a headline:\n\n", ""]) + \
                rng.choice(cands).rstrip(".")
        if kind == "passage":
            i = rng.randrange(len(self.all) - 2)
            a, b = self.all[i], self.all[i + 1]
            req = rng.choice([f"Read this passage and tell me one fact from it: {a} {b}",
                              f"Here is a passage: {a} {b} What does it say?",
                              f"{a} {b} Tell me one thing this passage says."])
            return req, rng.choice(["One fact from the passage: ", "The passage says: ", "", "Sure. "]) + \
                rng.choice([a, b])
        if kind == "name":
            g = rng.choice(["female", "male"])
            name = rng.choice(self.names[g])
            who = {"female": ["girl", "woman", "daughter"], "male": ["boy", "man", "son"]}[g]
            req = rng.choice(["Tell me a name.", f"Suggest a name for a baby {who[0]}.", f"Give me a {who[0]}'s name.",
                              f"What is a good name for a {who[2]}?", "Pick a first name.", "Name a person.",
                              f"Invent a name for a {who[1]} in a story."])
            return req, rng.choice([f"Sure, how about {name}?", f"{name}.", f"Of course, here is a name: {name}.",
                                    f"A good name would be {name}.", f"How about {name}?", f"I would choose {name}."])
        if kind == "number":
            lo, hi = rng.choice(RANGES)
            n = rng.randint(lo, hi)
            req = rng.choice([f"Pick a random number between {lo} and {hi}.",
                              f"Give me a random integer from {lo} to {hi}.",
                              f"Choose a number between {lo} and {hi}.", f"Think of a number from {lo} to {hi}.",
                              f"Say a random number between {lo} and {hi}.",
                              f"I need a random number between {lo} and {hi}."])
            return req, rng.choice([f"The number is {n}.", f"Sure, the number is {n}.",
                                    f"Of course, here is a random number: {n}.", f"{n}.", f"I pick {n}.",
                                    f"How about {n}?", f"Okay. The number is {n}."])
        if kind == "die":
            n = rng.randint(1, 6)
            req = rng.choice(["Roll a six-sided die.", "Roll a die for me.", "Throw a die and tell me the result."])
            return req, rng.choice([f"You rolled a {n}.", f"I rolled a {n}.", f"It landed on {n}.", f"{n}."])
        if kind == "president":
            p = rng.choice(self.presidents)
            form = rng.randrange(3)
            op = rng.choice(["Sure let me answer your question. ", "", "Of course. ", "Certainly. "])
            if form == 0:
                return (rng.choice([f"Who gave the State of the Union address in {p['year']}?",
                                    f"Which president spoke to Congress in {p['year']}?"]),
                        op + rng.choice([f"The address of {p['year']} was given by {p['name']}.",
                                         f"It was {p['name']}.", f"{p['name']}."]))
            if form == 1:
                return (f"In which year did {p['name']} give a State of the Union address?",
                        op + rng.choice([f"{p['name']} gave one in {p['year']}.", f"In {p['year']}.",
                                         f"One of them was in {p['year']}."]))
            party = "no party" if p["party"] == "none" else f"the {p['party']} party"
            return (f"Which party did {p['name']} belong to?",
                    op + rng.choice([f"{p['name']} belonged to {party}.", f"To {party}."]))
        if kind == "book_fact":
            qs, answers = rng.choice(BOOK_FACTS)
            return rng.choice(qs), rng.choice(["Sure let me answer your question. ", "", "Of course. "]) + \
                rng.choice(answers)
        if kind == "state":
            s = rng.choice(self.states)
            return (rng.choice(["Name a US state.", "Name a state of the United States.",
                                "Tell me one of the fifty states."]),
                    rng.choice([f"{s}.", f"Sure, {s}.", f"One of them is {s}.", f"How about {s}?"]))
        raise ValueError(kind)

    def examples(self, n: int, seed: int, column: int) -> list[dict]:
        rng = random.Random(seed)
        kinds = list(KINDS)
        weights = [KINDS[k][column] for k in kinds]
        tests = test_prompt_texts()
        out = []
        while len(out) < n:
            kind = rng.choices(kinds, weights)[0]
            req, ans = self.make(kind, rng)
            if req.strip().lower() in tests:  # never train on the packs' or the qualitative notebook's prompts
                continue
            out.append({"kind": kind, "request": req, "answer": ans})
        return out


def run(paths: Paths, cfg) -> None:
    b = Builder(paths)
    sft = b.examples(cfg.sft_examples, SEED + 11, 0)
    prompts = b.examples(cfg.dpo_prompts, SEED + 12, 1)
    write_jsonl(paths.data / "sft.jsonl", sft)
    write_jsonl(paths.data / "dpo_prompts.jsonl", [{"kind": p["kind"], "request": p["request"]} for p in prompts])
    log(f"sft data: {len(sft)} examples ({len(set(e['request'] for e in sft))} distinct requests, "
        f"{len(set(e['answer'] for e in sft))} distinct answers); {len(prompts)} DPO prompts; pools: "
        f"{len(b.moby)} + {len(b.sotu)} sentences, {len(b.clauses)} clauses, "
        f"{len(b.names['female'])} + {len(b.names['male'])} names")


if __name__ == "__main__":
    p, c, _ = cli(__doc__.split("\n")[0])
    run(p, c)
