"""Which language a message is in. Shared by the input channels, the NLU tokenizer and the actions."""

from __future__ import annotations

import re

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK}]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_PLACEHOLDER = re.compile(r"\{\w*\}")  # template slots such as {name} are not words of either language
LANGUAGES = ("zh", "en")


def detect_language(text: str) -> str | None:
    """'zh', 'en', or None when the text carries no signal (emoji, digits, empty).

    Mixed messages go by weight: each Chinese character counts one, each English word counts one,
    so "帮我 check 一下" is zh and "approve claim 42 for 张伟" is en.
    """
    text = _PLACEHOLDER.sub("", text or "")
    cjk = len(_CJK_CHAR.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    if not cjk and not latin:
        return None
    return "zh" if cjk >= latin else "en"


def has_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text or ""))
