"""Regexes built from word lists, as every text reader here needs them (claims, topics, status, NLU pairs).

One rule for all of them: Chinese words match anywhere, Latin words only as whole words ("um" is no filler
inside "umbrella", "mon" no Monday inside "c'mon"), and a digit is no letter, so "58rmb" still reads rmb.
"""

from __future__ import annotations

import re
from typing import Iterable


def alternation(words: Iterable[str], plural: str = "", drawn_out: bool = False) -> str:
    """A regex alternation of the words, longest first. Latin words do not match inside a longer word and may
    take the `plural` ending (a regex, e.g. "(?:e?s)?"); a space matches any run of white space; `drawn_out`
    lets the last letter repeat (嗯嗯, ummm), as voice-to-text writes a long hesitation."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        part = re.escape(word).replace(r"\ ", r"\s+")
        if drawn_out:
            part += re.escape(word[-1]) + "*"
        if word[0].isascii() and word[0].isalpha():
            part = rf"(?<![a-z']){part}"
        if word[-1].isascii() and word[-1].isalpha():
            part = rf"{part}{plural}(?![a-z])"
        parts.append(part)
    return "(?:" + "|".join(parts) + ")"


# the sounds of hesitation, not words: removed from what a message says wherever they stand (unlike 那个 /
# so / like, which are fillers only at some places and words elsewhere)
HESITATIONS = ("嗯", "呃", "um", "uh", "uhm", "erm", "hmm")
HESITATION = alternation(HESITATIONS, drawn_out=True)
