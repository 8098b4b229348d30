"""Settles an on/off pair of intents (subscribe / unsubscribe digest) by the words that turn a thing off.

"subscribe me to the team digest" and "don't send me the team digest" share every content word; a bag of
n-grams weighs the one word that differs against a dozen that don't, and picked the wrong one of the pair in
about one such message in five on the folds (docs/nlu.md, "On/off pairs"). When the classifier's answer is
one of a pair and the message says which way unambiguously, this component answers that one of the pair,
with the confidence the classifier gave the pair as a whole:

- a word that turns the thing off (退订, 别, 不用, stop, don't, disable...), and none that asks for it back
  (重新, 恢复, resume...), means off;
- otherwise a word that asks for the thing (订阅, 开通, 推给我, subscribe, enable, i want...) means on;
- neither: the classifier's answer stands.

The words live in config.yml, so the model carries them. It runs before the FallbackClassifier, so a pair the
classifier was torn between is not "didn't understand" when the message is clear.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from assistant.word_patterns import alternation


def _words_re(words: List[str]) -> re.Pattern[str]:
    """Any of the words, longest first; Latin words only as whole words (the claim parser's rule)."""
    return re.compile(alternation(words) if words else "(?!)", re.IGNORECASE)


class Pair:
    """One on/off pair and its words."""

    def __init__(self, on: str, off: str, on_words: List[str], off_words: List[str], again_words: List[str]) -> None:
        self.on, self.off = on, off
        self._on = _words_re(on_words)
        self._off = _words_re(off_words)
        self._again = _words_re(again_words)

    def which(self, text: str) -> str | None:
        """The intent of the pair the text asks for, or None when it does not say."""
        if self._off.search(text):
            return self.on if self._again.search(text) else self.off
        return self.on if self._on.search(text) else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OnOffPairs(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # each: {intent_on: ..., intent_off: ..., on_words: [...], off_words: [...], again_words: [...]}
        return {"pairs": []}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.pairs = [Pair(p["intent_on"], p["intent_off"], p.get("on_words") or [], p.get("off_words") or [],
                           p.get("again_words") or []) for p in config.get("pairs") or []]

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> OnOffPairs:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._settle(message)
        return messages

    def _settle(self, message: Message) -> None:
        answer = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        pair = next((p for p in self.pairs if answer in (p.on, p.off)), None)
        chosen = pair.which(message.get(TEXT) or "") if pair else None
        if pair is None or chosen is None:
            return
        ranking = message.get(INTENT_RANKING_KEY) or []
        together = sum(r["confidence"] for r in ranking if r[INTENT_NAME_KEY] in (pair.on, pair.off))
        together = max(together, (message.get(INTENT) or {}).get("confidence") or 0.0)
        other = pair.off if chosen == pair.on else pair.on
        ranking = [{**r, "confidence": together if r[INTENT_NAME_KEY] == chosen else 0.0}
                   if r[INTENT_NAME_KEY] in (chosen, other) else r for r in ranking]
        ranking.sort(key=lambda r: r["confidence"], reverse=True)
        message.set(INTENT, {INTENT_NAME_KEY: chosen, "confidence": together}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
