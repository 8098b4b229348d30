"""Scripted dialogues (tests/dialogues/*.yml) against the running assistant, one test per dialogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.auth import issue_token
from assistant.chatclient import ChatClient
from assistant.config import Settings
from assistant.dialogues import load, play
from assistant.store import Database

DIALOGUES = Path(__file__).parent / "dialogues"
ALL = load(DIALOGUES)


@pytest.mark.stack
@pytest.mark.parametrize("dialogue", ALL, ids=[f"{d['source']}:{d['name']}" for d in ALL])
def test_dialogue(dialogue: dict, stack: Settings, chat: ChatClient) -> None:
    db = Database(stack.database_url, migrate=False)
    tokens: dict[str, str] = {}

    def token_for(person: str) -> str:
        if person == "admin":
            return stack.admin_token()
        return tokens.setdefault(person, issue_token(db, person, actor="tests"))

    outcome = play(dialogue, chat, token_for)
    assert outcome.passed, "\n".join(outcome.failures + ["transcript:"] + outcome.transcript)


def test_there_are_dialogues_in_both_languages() -> None:
    langs = {d.get("lang") for d in ALL}
    assert {"zh", "en"} <= langs
