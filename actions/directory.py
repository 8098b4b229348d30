"""Questions about colleagues."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.client import core, first_entity, reply_language, sender
from assistant.colleagues import who_is


class ActionWhoIs(Action):
    def name(self) -> str:
        return "action_who_is"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        text = who_is(core().directory, first_entity(tracker, "person"), reply_language(tracker), sender(tracker))
        dispatcher.utter_message(text=text)
        return []
