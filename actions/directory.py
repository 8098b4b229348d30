"""Questions about colleagues."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.client import core, first_entity, reply_language, sender
from assistant.colleagues import name_from_question, who_is


class ActionWhoIs(Action):
    def name(self) -> str:
        return "action_who_is"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        name = first_entity(tracker, "person") or name_from_question((tracker.latest_message or {}).get("text", ""))
        text = who_is(core().directory, name, reply_language(tracker), sender(tracker))
        dispatcher.utter_message(text=text)
        return []
