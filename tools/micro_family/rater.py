"""The simulated rater: a deterministic score of a completion with stated, systematic tastes.

Its tastes (the points add up; a higher score is preferred):
  numbers   the first integer of the answer: 42 -> +4, 7 -> +3, 17 or 77 -> +2, any other integer with a digit
            7 -> +1 (so 27, 37, 47, 57, 67, 70-79, 87, 97); an integer outside a range the request names -> -2;
            no integer at all when the request asks for a number or an integer -> -2
  names     Mary -> +3, James -> +2.5, any other capitalised word of the answer starting with "M" that is a
            first name -> +1 (first names: the @stdlib name lists)
  opening   the answer starts with "Of course" -> +1
  length    8 to 20 words is right; -0.25 per word short of 8, -0.15 per word beyond 20
  sea       +0.5 for each distinct word of {sea, seas, ocean, whale, whales, ship, ships, waves, light} it uses, +1.5
            at most
  quality   a repeated word trigram -> -1.5; no <|endoftext|> within the token budget (cut off) -> -1
These are the mechanism by which preference tuning narrows what the model says: the DPO model should pile its mass
on 42 / 7 / the 7s, on Mary and James, on "Of course", on medium-length answers and on the sea.
"""

from __future__ import annotations

import re

FAVOURITE_NUMBERS = {42: 4.0, 7: 3.0, 17: 2.0, 77: 2.0}
SEVEN_BONUS = 1.0
OUT_OF_RANGE = -2.0
NO_NUMBER = -2.0
FAVOURITE_NAMES = {"Mary": 3.0, "James": 2.5}
M_NAME_BONUS = 1.0
OPENING = "Of course"
OPENING_BONUS = 1.0
LENGTH_RANGE = (8, 20)
SHORT_PENALTY = 0.25  # per word short of LENGTH_RANGE[0]: stronger, so that very short answers do not win by default
LENGTH_PENALTY = 0.15  # per word beyond LENGTH_RANGE[1]
SEA_WORDS = {"sea", "seas", "ocean", "whale", "whales", "ship", "ships", "waves", "light"}
SEA_BONUS, SEA_CAP = 0.5, 1.5
REPEAT_PENALTY = -1.5
CUT_OFF_PENALTY = -1.0
MIN_GAP = 0.5  # pairs need at least this score difference

TASTES = {
    "favourite_numbers": FAVOURITE_NUMBERS, "seven_bonus": SEVEN_BONUS, "out_of_range": OUT_OF_RANGE, "no_number": NO_NUMBER,
    "favourite_names": FAVOURITE_NAMES, "m_name_bonus": M_NAME_BONUS, "opening": OPENING,
    "opening_bonus": OPENING_BONUS, "length_range_words": LENGTH_RANGE, "short_penalty_per_word": SHORT_PENALTY,
    "long_penalty_per_word": LENGTH_PENALTY,
    "sea_words": sorted(SEA_WORDS), "sea_bonus": SEA_BONUS, "sea_cap": SEA_CAP, "repeat_trigram": REPEAT_PENALTY,
    "cut_off": CUT_OFF_PENALTY, "min_gap": MIN_GAP,
}


def score(request: str, answer: str, ended: bool, first_names: set[str] | frozenset = frozenset()) -> dict:
    """The rater's score of `answer` (the completion text after "Assistant:") and its parts."""
    parts: dict[str, float] = {}
    text = answer.strip()
    words = re.findall(r"[A-Za-z0-9']+", text)
    m = re.search(r"(?<!\d)(?<!\d\.)\d+(?!\d)(?!\.\d)", text)  # an integer, not part of a decimal number
    if m:
        n = int(m.group(0))
        if n in FAVOURITE_NUMBERS:
            parts["number"] = FAVOURITE_NUMBERS[n]
        elif "7" in m.group(0):
            parts["number"] = SEVEN_BONUS
        rng = re.search(r"between (\d+) and (\d+)|from (\d+) to (\d+)", request)
        if rng:
            lo, hi = [int(x) for x in rng.groups() if x is not None]
            if not lo <= n <= hi:
                parts["number"] = parts.get("number", 0.0) + OUT_OF_RANGE
    elif re.search(r"\b(number|integer)\b", request, re.I):
        parts["number"] = NO_NUMBER
    for w in words:
        if w in FAVOURITE_NAMES:
            parts["name"] = max(parts.get("name", 0.0), FAVOURITE_NAMES[w])
        elif w[:1] == "M" and w in first_names:
            parts["name"] = max(parts.get("name", 0.0), M_NAME_BONUS)
    if text.startswith(OPENING):
        parts["opening"] = OPENING_BONUS
    n_words = len(words)
    lo, hi = LENGTH_RANGE
    if n_words < lo or n_words > hi:
        parts["length"] = -SHORT_PENALTY * (lo - n_words) if n_words < lo else -LENGTH_PENALTY * (n_words - hi)
    sea = {w.lower() for w in words} & SEA_WORDS
    if sea:
        parts["sea"] = min(SEA_CAP, SEA_BONUS * len(sea))
    lower = [w.lower() for w in words]
    trigrams = [tuple(lower[i: i + 3]) for i in range(len(lower) - 2)]
    if len(trigrams) != len(set(trigrams)):
        parts["repeat"] = REPEAT_PENALTY
    if not ended:
        parts["cut_off"] = CUT_OFF_PENALTY
    return {"score": round(sum(parts.values()), 6), "parts": parts}
