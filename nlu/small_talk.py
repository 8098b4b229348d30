"""Whole-message small talk (hello, bye, thanks, yes, no) and help from a lexicon instead of the classifier's guess.

"886", "ttyl", "好嘞" or "nah" are idioms: a classifier that has not seen one cannot work it out from its
letters, and VocabularyGuard rightly calls a message of unseen words ("hlep") gibberish. `nlu/small_talk.yml`
lists the whole messages that mean greet / goodbye / thanks / affirm / deny / help in either language; a message that is
exactly one of them (case, punctuation, emoji, spaces and a leading filler aside) gets that intent with full
confidence. Anything longer is left to the classifier. The lexicon is read at training time and stored with
the model. It runs last, so neither the FallbackClassifier nor VocabularyGuard turns a known idiom into
"didn't understand".
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Mapping

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.word_patterns import HESITATION

LEXICON_FILE = "small_talk.json"
# hesitations (嗯嗯, ummm), and 额 / 那个 as voice-to-text writes them
_FILLER = re.compile(rf"^(?:(?:{HESITATION}|额+|那个)\s*)+(?=\S)")
_SPACES = re.compile(r"\s+")


def small_talk_key(text: str) -> str:
    """The form a message and a lexicon entry are compared in: NFKC, lower case, no punctuation, symbols or
    emoji, single spaces, no leading filler."""
    text = unicodedata.normalize("NFKC", text).lower()
    kept = "".join(ch if unicodedata.category(ch)[0] in "LN" else " " for ch in text)
    kept = _SPACES.sub(" ", kept).strip()
    return _FILLER.sub("", kept).strip()


def read_lexicon(path: Path) -> Dict[str, str]:
    """{key: intent} from a lexicon file ({intent: {zh: [...], en: [...]}}); a phrase under two intents is an
    error, not a coin toss."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lexicon: Dict[str, str] = {}
    for intent, languages in raw.items():
        for phrases in (languages or {}).values():
            for phrase in phrases or []:
                key = small_talk_key(str(phrase))
                if key and lexicon.setdefault(key, intent) != intent:
                    raise ValueError(f"{path}: {phrase!r} is under both {lexicon[key]} and {intent}")
    return lexicon


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SmallTalkMatcher(GraphComponent, IntentClassifier):
    """A whole message found in the small-talk lexicon gets the lexicon's intent."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"lexicon_path": None}  # relative to the working directory, read at training time

    def __init__(self, config: Mapping[str, Any], model_storage: ModelStorage, resource: Resource,
                 lexicon: Dict[str, str]) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.lexicon = lexicon

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SmallTalkMatcher:
        return cls(config, model_storage, resource, {})

    def train(self, training_data: TrainingData) -> Resource:
        path = self._config.get("lexicon_path")
        self.lexicon = read_lexicon(Path(path)) if path else {}
        unknown = set(self.lexicon.values()) - training_data.intents
        if unknown:
            raise ValueError(f"small-talk lexicon names intents the training data lacks: {sorted(unknown)}")
        with self._model_storage.write_to(self._resource) as directory:
            (directory / LEXICON_FILE).write_text(json.dumps(self.lexicon, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SmallTalkMatcher:
        with model_storage.read_from(resource) as directory:
            lexicon = json.loads((directory / LEXICON_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, lexicon)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = self.lexicon.get(small_talk_key(message.get(TEXT) or ""))
            if intent:
                matched = {INTENT_NAME_KEY: intent, "confidence": 1.0}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent]
                message.set(INTENT, matched, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [matched, *ranking], add_to_output=True)
        return messages
