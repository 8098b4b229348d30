"""Measured fixes for Rasa 3.6's cost per turn, installed when a Deskmate channel is loaded.

- `RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks the response schema against
  its metaschema on every call: 40–60 ms of CPU per action turn on one machine, on Rasa's single event loop.
  A validator built once checks the same schema with the same errors in about 0.05 ms.
- A turn costs more the longer the conversation session: the tracker store deserializes and re-serializes the
  session's events and the policies re-read them on every turn (one sender without a break went from 28 to
  96 ms per turn over 200 turns), and a session only ends after `session_expiration_time` minutes of silence,
  so a busy person's session never does. Deskmate's dialogue needs no Rasa history (no slots, no forms, no
  stories: every rule is one intent and its action; a claim form's state and open questions live in the core's
  database), so a session also ends after SESSION_TURNS messages: the next message starts a new one, through
  Rasa's own `action_session_start`, and every tracker store then loads only that one.
"""

from __future__ import annotations

from typing import Any, Dict

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

SESSION_TURNS = 20  # user messages per Rasa session


def _validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def messages_in_session(tracker: DialogueStateTracker) -> int:
    """User messages since the tracker's latest session start."""
    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        count += isinstance(event, UserUttered)
    return count


def install() -> None:
    """Replace RemoteAction's validation with one prebuilt validator and bound a session's length (idempotent)."""
    if getattr(RemoteAction._validate_action_result, "deskmate", False):
        return
    validator = _validator()

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError as exc:
            exc.message += (". Failed to validate Action server response from API, make sure your response from "
                            f"the Action endpoint is valid. For more information about the format visit "
                            f"{DOCS_BASE_URL}/custom-actions")
            raise
        return True

    _validate_action_result.deskmate = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]

    expired_by_time = MessageProcessor._has_session_expired

    def _has_session_expired(self: MessageProcessor, tracker: DialogueStateTracker) -> bool:
        return expired_by_time(self, tracker) or messages_in_session(tracker) >= SESSION_TURNS

    MessageProcessor._has_session_expired = _has_session_expired  # type: ignore[method-assign]
