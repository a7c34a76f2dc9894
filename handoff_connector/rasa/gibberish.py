"""Keyboard mash and letter runs ("ppppppp", "hdhdhdhd", "asdf qwer"): text no one means.

Pure Python. An intent classifier trained on a few hundred examples still
gives such text a confident intent; these shapes are reliable enough to send
it to ``nlu_fallback`` instead, so the bot asks to rephrase and the "can't
help" count goes up. Real words, numbers and short replies ("ok", "hmm",
"ugh", "ty") never count.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[a-z]+")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_VOWELS = set("aeiouy")
_EMOTICON = re.compile(r"^[:;=8][-'^]?[()\[\]DPp/\\|*]+$")
# Interjections that are real words for this purpose.
_KNOWN = {"hmm", "hmmm", "hmmmm", "mmm", "mmmm", "grr", "grrr", "grrrr", "argh", "brr", "shh",
          "pfft", "psst", "tsk", "nth", "pls", "plz", "thx", "txt", "msg", "ppl",
          "hrs", "mths", "wkly", "bldg", "apt", "st", "rd", "nd", "th"}


def _keyboard_run(token: str, length: int = 4) -> bool:
    """``length`` or more letters in a row along one keyboard row, either way."""
    for row in _KEYBOARD_ROWS:
        for start in range(len(row) - length + 1):
            run = row[start:start + length]
            if run in token or run[::-1] in token:
                return True
    return False


def is_nonsense_token(token: str) -> bool:
    if token in _KNOWN:
        return False
    # Stretched words ("noooo", "heyyy") are words; a stretched letter is not.
    token = re.sub(r"(.)\1{2,}", r"\1", token)
    if len(token) <= 1:  # pppp, zzz
        return True
    if len(token) == 3 and _keyboard_run(token, 3):  # qwe, asd, jkl
        return True
    if len(token) < 4 or token in _KNOWN:
        return False
    if len(set(token)) <= 2:  # hdhdhd, xoxoxo
        return True
    if not _VOWELS & set(token):  # fgjk, bcdfg
        return True
    return _keyboard_run(token)


def is_gibberish(text: str) -> bool:
    """True when most of the words are letter runs or keyboard mash."""
    text = (text or "").strip()
    if text.startswith("/"):  # a button payload
        return False
    tokens = _TOKEN.findall(text.lower())
    if not tokens:  # ";;;;", "?!?!", "#$%&": symbols only, nothing to go on (":-)" says something)
        return len(text) >= 3 and not re.search(r"\w", text) and not _EMOTICON.match(text)
    nonsense = sum(is_nonsense_token(t) for t in tokens)
    return nonsense * 2 > len(tokens) or (nonsense >= 1 and len(tokens) == 1)
