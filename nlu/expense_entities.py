"""The amount, date and category entities, read by the claim parser instead of learned by DIET.

The claim actions read amounts, dates and categories with `assistant.expense_text` (1.2万, fifty eight yuan,
上周三, "two eighty"); DIET learned the same entities from a few hundred examples and missed a third of them
on unseen phrasings. This component replaces DIET's amount/date/category entities with the parser's, so what
the NLU reports is what the actions do. Each entity type is reported only under the intents configured for
it (`intents`): "until four thirty" in a status message is no amount, "today" in "who looked at me today" no
expense date. The intent is the classifier's top guess, before the FallbackClassifier.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from assistant.expense_text import entity_spans


def reported(text: str, intent: str | None, intents: Mapping[str, Sequence[str]]) -> List[Dict[str, Any]]:
    """The parser's entities in `text` that `intents` allows under `intent`, in Rasa's entity format. Under
    any other intent (most messages) the text is not parsed at all."""
    allowed = {entity for entity, under in intents.items() if intent in under}
    if not allowed:
        return []
    return [
        {"entity": span.entity, "start": span.start, "end": span.end, "value": span.value}
        for span in entity_spans(text)
        if span.entity in allowed
    ]


def _top_intent(message: Message) -> str | None:
    """The classifier's best intent, also when a fallback has already replaced it."""
    ranking = message.get(INTENT_RANKING_KEY) or []
    if ranking:
        return ranking[0].get(INTENT_NAME_KEY)
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ExpenseEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Amount, date and category entities from `assistant.expense_text`, per intent."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # entity type -> the intents under which it is reported; config.yml lists them
        return {"intents": {}}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.intents: Dict[str, List[str]] = {k: list(v) for k, v in (config.get("intents") or {}).items()}

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> ExpenseEntityExtractor:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            kept = [e for e in message.get(ENTITIES, []) if e.get("entity") not in self.intents]
            found = reported(message.get(TEXT) or "", _top_intent(message), self.intents)
            message.set(ENTITIES, kept + self.add_extractor_name(found), add_to_output=True)
        return messages
