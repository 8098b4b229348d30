"""Questions about colleagues."""

from __future__ import annotations

from typing import List

from rasa_sdk import Tracker

from actions.claims import AnsweringAction
from actions.client import core, person_entity
from assistant.claim_chat import Turn
from assistant.colleagues import name_from_question, who_is


class ActionWhoIs(AnsweringAction):
    """A bare name ("章玮") may be the answer to "which of these people?"; otherwise: who they are."""

    def name(self) -> str:
        return "action_who_is"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        name = person_entity(tracker) or name_from_question(turn.text)
        return [who_is(core().directory, name, turn.lang, turn.person)]
