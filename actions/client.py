"""What every action needs: the core services, who is speaking, and the language to answer in."""

from __future__ import annotations

from rasa_sdk import Tracker

from assistant.core import Assistant, shared_assistant
from assistant.language import detect_language


def core() -> Assistant:
    return shared_assistant()


def reply_language(tracker: Tracker) -> str:
    """The language the input channel chose for this turn, else the language of the latest message."""
    message = tracker.latest_message or {}
    lang = (message.get("metadata") or {}).get("lang")
    return lang or detect_language(message.get("text") or "") or core().settings.default_language


def sender(tracker: Tracker) -> str:
    """The employee id: the input channels use it as the conversation's sender id."""
    return tracker.sender_id


def person_entity(tracker: Tracker) -> str | None:
    """The person the message names, widened to the whole directory name when the NLU cut it short."""
    found = next(tracker.get_latest_entity_values("person"), None)
    if found is None:
        return None
    return core().directory.whole_name(found, (tracker.latest_message or {}).get("text") or "")
