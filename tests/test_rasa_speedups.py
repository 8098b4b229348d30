"""Rasa 3.6 speed-ups: the prebuilt action-response validator accepts and refuses exactly what Rasa's own check
does; a conversation session ends after SESSION_TURNS messages and nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import connectors.rest  # noqa: F401 - installs the speed-ups as the Rasa server does
from connectors.rasa_speedups import SESSION_TURNS, messages_in_session


def validate(result: dict) -> bool:
    return RemoteAction._validate_action_result(None, result)  # type: ignore[arg-type]


def test_a_valid_response_passes() -> None:
    assert validate({"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]})


@pytest.mark.parametrize("bad", [{"events": "nope"}, {"events": [{"no_event_key": 1}]}, {"responses": "x"}])
def test_an_invalid_response_is_refused_with_rasas_message(bad: dict) -> None:
    with pytest.raises(ValidationError) as err:
        validate(bad)
    assert "Failed to validate Action server response" in err.value.message


def _tracker(*sessions: int) -> DialogueStateTracker:
    """A tracker with one session per number, each of that many user messages and bot replies."""
    events: list = []
    for messages in sessions:
        events += [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
        for _ in range(messages):
            events += [UserUttered("hi", {"name": "greet"}), ActionExecuted("utter_greet"), BotUttered("hello"),
                       ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("zhangwei", events)


def test_only_the_latest_sessions_messages_count() -> None:
    assert messages_in_session(_tracker(30, 7)) == 7
    assert messages_in_session(_tracker(0)) == 0


@pytest.mark.parametrize(("messages", "expired"), [(0, False), (SESSION_TURNS - 1, False), (SESSION_TURNS, True)])
def test_a_session_of_session_turns_messages_has_expired(messages: int, expired: bool) -> None:
    processor = object.__new__(MessageProcessor)  # only its domain's session settings are read
    processor.domain = Domain.from_dict({"session_config": {"session_expiration_time": 120}})
    assert processor._has_session_expired(_tracker(messages)) is expired


async def test_a_long_conversation_is_cut_into_sessions_and_every_message_is_still_answered(
        trained_model: Path) -> None:
    """The trained model in an Agent with Rasa's in-memory tracker store, as `make run` has it."""
    agent = Agent.load(str(trained_model))
    total = 2 * SESSION_TURNS + 5
    for n in range(total):
        replies = await agent.handle_text("你好" if n % 2 else "hello", sender_id="lina")
        assert replies and replies[0].get("text"), f"message {n + 1} got no reply"
    stored = await agent.tracker_store.retrieve("lina")
    assert messages_in_session(stored) == total - 2 * SESSION_TURNS
    assert sum(isinstance(e, UserUttered) for e in stored.events) == total - 2 * SESSION_TURNS
