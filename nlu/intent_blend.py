"""DIET's intent ranking blended with a linear model on character and word n-grams.

With 50-odd intents and 30-100 examples each, DIET spreads its confidence thin on unseen phrasings, and a
quarter of them fell below the FallbackClassifier's threshold in cross-validation. A logistic regression on
TF-IDF character n-grams (which carry Chinese and typos) and the tokenizer's words makes different mistakes;
the average of the two probability rankings is right more often at fewer wrong answers (docs/nlu.md has the
measurements and the cost: under a minute of training on 9,160 examples). It is stored with the model.

The linear model reads numbers (digits, and numbers in words as voice-to-text writes them: 五十八, eighty seven)
as 0 and people's names (the `person` lookup table) as one placeholder: which claim or which colleague does not
change what is asked, and 58 or 张伟 seen in one intent's examples should not pull an unseen phrasing towards
that intent (docs/nlu.md, "Placeholders for numbers and names").

Every message also gets a sentence vector from a pretrained multilingual encoder (nlu/sentence_encoder.py) beside
the n-grams, so that a paraphrase with none of the training words still lands near its intent (docs/nlu.md, "A
multilingual sentence encoder").
"""

from __future__ import annotations

import pickle
import re
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from assistant.expense_text import spelled_integers
from assistant.language import has_cjk
from nlu.sentence_encoder import load_encoder
from nlu.softmax_regression import SideBySide, SoftmaxRegression

MODEL_FILE = "linear_intents.pkl"
NAMES_TABLE = "person"  # the lookup table whose names become PERSON
PERSON, NUMBER = "§", "0"
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
Row = Tuple[str, Tuple[str, ...]]  # the message text and its tokens, lower case, placeholders in


class Placeholders:
    """Finds numbers and people's names in a message and rewrites text and tokens with placeholders."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted({n.strip() for n in names if len(n.strip()) > 1}, key=lambda n: (-len(n), n))
        # Chinese names anywhere (no word boundaries in Chinese); Latin ones only as whole words
        alternatives = [re.escape(n) if has_cjk(n) else rf"(?<![a-z]){re.escape(n)}(?![a-z])" for n in self.names]
        self._names = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None

    def spans(self, text: str) -> List[Tuple[int, int, str]]:
        found = [(m.start(), m.end(), PERSON) for m in self._names.finditer(text)] if self._names else []
        numbers = [(m.start(), m.end()) for m in _DIGITS.finditer(text)]
        numbers += [(start, end) for _value, start, end, strong in spelled_integers(text) if strong]
        for start, end in sorted(numbers):
            if not any(a < end and start < b for a, b, _ in found):
                found.append((start, end, NUMBER))
        return sorted(found)

    def row(self, message: Message) -> Row:
        text = message.get(TEXT) or ""
        spans = self.spans(text)
        pieces, cursor = [], 0
        for start, end, placeholder in spans:
            pieces += [text[cursor:start], placeholder]
            cursor = end
        tokens: List[str] = []
        for token in message.get(TEXT_TOKENS, []):
            inside = next((s for s in spans if s[0] <= token.start and token.end <= s[1]), None)
            if inside is None:
                tokens.append(token.text.lower())
            elif token.start == inside[0]:  # a name's first token stands for the whole name ("Wei Zhang")
                tokens.append(inside[2])
        return "".join(pieces + [text[cursor:]]), tuple(tokens)


def _text_of(row: Row) -> str:
    return row[0].lower()


def _words_and_pairs(row: Row) -> List[str]:
    words = list(row[1])
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


class SentenceVectors(BaseEstimator, TransformerMixin):
    """The encoder's unit vector of a row's text (placeholders in), times `weight`. Pickles as the weight alone:
    the encoder comes with the installed package, not with the trained model."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, rows: Sequence[Row], y: Any = None) -> SentenceVectors:
        return self

    def transform(self, rows: Sequence[Row]) -> np.ndarray:
        return load_encoder().encode(row[0] for row in rows) * np.float32(self.weight)


def linear_model(c: float, sentence_weight: float = 0.0) -> Pipeline:
    """TF-IDF of character n-grams (1-4, within words) and of words and word pairs, and with a sentence weight
    above 0 the message's sentence vector beside them, then a multinomial logistic regression. Only n-grams seen
    in two examples or more: a quarter of the features, a quarter of the fitting time, and the same
    cross-validated accuracy. Rows are (text, tokens); module-level functions pick them, so the fitted pipeline
    pickles."""
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, preprocessor=_text_of, min_df=2)
    words = TfidfVectorizer(analyzer=_words_and_pairs, sublinear_tf=True, min_df=2)
    sentences = SentenceVectors(sentence_weight) if sentence_weight > 0 else None
    return make_pipeline(SideBySide(make_union(chars, words), sentences), SoftmaxRegression(C=c, max_iter=3000))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentBlend(GraphComponent, IntentClassifier):
    """Replaces DIET's intent and ranking with the weighted average of DIET's and the linear model's."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "diet_weight": 0.3,  # DIET's share of the blend; the linear model has the rest (docs/nlu.md)
            "C": 10.0,  # inverse regularization of the logistic regression
            "sentence_weight": 0.0,  # the sentence vector's scale beside the unit-length TF-IDF blocks; 0: none
            "ranking_length": 10,
        }

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Pipeline | None, placeholders: Placeholders | None = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.placeholders = placeholders or Placeholders(())

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> IntentBlend:
        return cls(config, model_storage, resource, None)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        self.placeholders = Placeholders(
            e for table in training_data.lookup_tables if table.get("name") == NAMES_TABLE
            for e in table.get("elements", []) if isinstance(e, str))
        model = linear_model(float(self._config["C"]), float(self._config["sentence_weight"]))
        model.fit([self.placeholders.row(m) for m in examples], [m.get(INTENT) for m in examples])
        self.model = model
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_bytes(pickle.dumps({"model": model, "names": self.placeholders.names}))
        return self._resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> IntentBlend:
        with model_storage.read_from(resource) as directory:
            stored = pickle.loads((directory / MODEL_FILE).read_bytes())  # written by train() above
        if float(config["sentence_weight"]) > 0:
            load_encoder()  # about 2 s: at start-up, not on the first message
        return cls(config, model_storage, resource, stored["model"], Placeholders(stored["names"]))

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None or not messages:
            return messages
        probabilities = self.model.predict_proba([self.placeholders.row(m) for m in messages])
        weight = float(self._config["diet_weight"])
        for message, linear in zip(messages, probabilities, strict=True):
            diet = {r[INTENT_NAME_KEY]: r["confidence"] for r in message.get(INTENT_RANKING_KEY) or []}
            blended = {
                intent: weight * diet.get(intent, 0.0) + (1 - weight) * float(p)
                for intent, p in zip(self.model.classes_, linear, strict=True)
            }
            ranking = [{INTENT_NAME_KEY: name, "confidence": confidence}
                       for name, confidence in sorted(blended.items(), key=lambda kv: -kv[1])]
            ranking = ranking[: int(self._config["ranking_length"])]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
