"""The gate every incoming chat message passes before the NLU, whatever the channel.

It refuses what no model should see (empty, huge, wordless messages, unknown senders) with a clear reply
in the sender's language, and picks the language to answer in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from assistant.i18n import t
from assistant.language import detect_language

_WORDISH = re.compile(r"[\w]", re.UNICODE)


@dataclass(frozen=True)
class Verdict:
    """`reply` is set when the message is refused; `lang` is the language to answer in either way."""

    lang: str
    reply: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reply is None


def _has_words(text: str) -> bool:
    return any(_WORDISH.match(ch) and unicodedata.category(ch)[0] in "LN" for ch in text)


def check_message(text: str | None, *, sender_known: bool, sender: str, previous_lang: str | None,
                  default_lang: str, max_chars: int, allow_commands: bool = False,
                  without_names: Callable[[str], str] = lambda s: s) -> Verdict:
    """Accept or refuse one message. Nothing is stored either way.

    People's names say nothing about the language ("who is 李娜" is English), so the language is read
    from the text with the names taken out, when anything is left.
    """
    text = text or ""
    lang = detect_language(without_names(text)) or detect_language(text) or previous_lang or default_lang
    if not sender_known:
        return Verdict(lang, t("intake.unknown_sender", lang, sender=sender[:64]))
    stripped = text.strip()
    if not stripped:
        return Verdict(lang, t("intake.empty", lang))
    if len(stripped) > max_chars:
        return Verdict(lang, t("intake.too_long", lang, length=len(stripped), limit=max_chars))
    if stripped.startswith("/") and not allow_commands:
        return Verdict(lang, t("intake.command_refused", lang))
    if not _has_words(stripped):
        return Verdict(lang, t("intake.no_text", lang))
    return Verdict(lang)
