"""Turns a message made only of words the model has never seen into `nlu_fallback`.

DIET gives confident answers to gibberish ("qwzx plmk" → thanks at 0.9); a message none of whose
alphabetic tokens occur in the training data or lookup tables cannot be understood, so it is honest to
say so. Messages with at least one known word are left to the classifier and the FallbackClassifier.

A message with Chinese in it is always left to them: Chinese characters carry meaning one by one, so a word
the tokenizer never saw whole (罢了, 交单, 正是如此) is no gibberish, and the character n-grams read it. On the
folds the guard had turned 22 such Chinese messages into fallbacks, 18 of them with the classifier's best
guess right (docs/nlu.md, "Where this leaves the targets").
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Set, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.language import has_cjk

VOCABULARY_FILE = "vocabulary.json"


def _words(message: Message) -> List[str]:
    return [t.text.lower() for t in message.get(TEXT_TOKENS, []) if any(ch.isalpha() for ch in t.text)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class VocabularyGuard(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: Set[str]) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> VocabularyGuard:
        return cls(model_storage, resource, set())

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary = {w for example in training_data.training_examples for w in _words(example)}
        for table in training_data.lookup_tables:
            for element in table.get("elements", []):
                vocabulary.update(part.lower() for part in str(element).split())
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(vocabulary), ensure_ascii=False),
                                                     encoding="utf-8")
        self.vocabulary = vocabulary
        return self._resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> VocabularyGuard:
        with model_storage.read_from(resource) as directory:
            vocabulary = set(json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8")))
        return cls(model_storage, resource, vocabulary)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            words = _words(message)
            if any(has_cjk(w) for w in words):
                continue
            if words and not any(w in self.vocabulary for w in words) and message.get(TEXT):
                fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
                message.data[INTENT] = fallback
                message.data.setdefault(INTENT_RANKING_KEY, []).insert(0, fallback)
        return messages
