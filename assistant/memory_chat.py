"""The personal memory by conversation: the reply language a person asks for, and forgetting what was learned."""

from __future__ import annotations

from typing import Callable

from assistant.claim_chat import Turn
from assistant.i18n import t
from assistant.memory import Memory
from assistant.status_text import parse_reply_language


class MemoryChat:
    def __init__(self, memory: Memory, category_name: Callable[[str, str], str]) -> None:
        self.memory = memory
        self._category_name = category_name

    def set_reply_language(self, turn: Turn) -> list[str]:
        """'以后都用英文回复我': kept until changed or forgotten; said in the new language."""
        lang = parse_reply_language(turn.text)
        if lang is None:
            return [t("memory.ask_language", turn.lang)]
        self.memory.set_reply_language(turn.person, lang)
        return [t("memory.language_set", lang)]

    def forget_preferences(self, turn: Turn) -> list[str]:
        forgotten = self.memory.forget(turn.person)
        lines = []
        for habit in forgotten.habits:
            lines.append(t("memory.forgot_habit", turn.lang, category=self._category_name(habit.category, turn.lang),
                           amount=habit.amount_text, claims=habit.claims))
        if forgotten.last_item is not None:
            item = forgotten.last_item
            lines.append(t("memory.forgot_last_item", turn.lang, category=self._category_name(item.category, turn.lang),
                           amount=item.amount_text, description=item.description))
        if forgotten.reply_language:
            language = t(f"memory.language.{forgotten.reply_language}", turn.lang)
            lines.append(t("memory.forgot_language", turn.lang, language=language))
        if not lines:
            return [t("memory.nothing_to_forget", turn.lang)]
        return [t("memory.forgot", turn.lang, what="\n".join(f"- {line}" for line in lines))]
