"""The prebuilt action-response validator accepts and refuses exactly what Rasa's own check does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import connectors.rest  # noqa: F401 - installs the speed-up as the Rasa server does


def validate(result: dict) -> bool:
    return RemoteAction._validate_action_result(None, result)  # type: ignore[arg-type]


def test_a_valid_response_passes() -> None:
    assert validate({"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]})


@pytest.mark.parametrize("bad", [{"events": "nope"}, {"events": [{"no_event_key": 1}]}, {"responses": "x"}])
def test_an_invalid_response_is_refused_with_rasas_message(bad: dict) -> None:
    with pytest.raises(ValidationError) as err:
        validate(bad)
    assert "Failed to validate Action server response" in err.value.message
