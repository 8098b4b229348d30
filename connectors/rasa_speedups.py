"""A measured fix for Rasa 3.6's action-turn cost, installed when the Deskmate channel is loaded.

`RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks the response schema against
its metaschema on every call: 40–60 ms of CPU per action turn on this machine, on Rasa's single event loop.
A validator built once checks the same schema with the same errors in about 0.05 ms.
"""

from __future__ import annotations

from typing import Any, Dict

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


def _validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def install() -> None:
    """Replace RemoteAction's validation with one prebuilt validator (idempotent)."""
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
