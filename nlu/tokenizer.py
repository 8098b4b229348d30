"""One tokenizer for Chinese, English and mixed text.

Chinese runs go through jieba with a user dictionary built at training time from the lookup tables
(people's names, departments: generated from the directory) and the annotated entity values, so a name
like 章玮 stays one token. Latin and digit runs split on whitespace and punctuation. No space tokens.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.language import CJK, has_cjk

logger = logging.getLogger(__name__)

WORDS_FILE = "user_words.json"
# A CJK run, a number (1,280 / 1.2 / 58), a Latin word (hyphens kept inside), an apostrophe suffix
# ('s of "Lei Yang's" stands alone, so the name is a whole token), or one other visible symbol.
_RUN = re.compile(rf"[{CJK}]+|\d+(?:[.,]\d+)*|[A-Za-z]+(?:-[A-Za-z]+)*|['’][A-Za-z]+|[^\s{CJK}A-Za-z\d]")


class FingerprintedToken(Token):
    """A token that keeps its fingerprint until its data changes. Rasa's training fingerprints every example,
    tokens included, after each component that adds features to it; computing each token's fingerprint afresh took
    3.5 of the 5 s of each such pass over 9,160 examples (docs/nlu.md)."""

    _fingerprint: str | None = None

    def set(self, prop: str, info: Any) -> None:
        self._fingerprint = None
        super().set(prop, info)

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = super().fingerprint()
        return self._fingerprint


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class BilingualTokenizer(Tokenizer):
    """jieba for CJK runs (with a generated user dictionary), whitespace/punctuation for the rest."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # Extra words (one per line) to keep whole, e.g. domain terms; relative to the working directory.
            "extra_words_path": None,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["jieba"]

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        words: List[str] | None = None,
    ) -> None:
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self._words: List[str] = sorted(set(words or []))
        self._jieba = self._make_jieba(self._words)

    @staticmethod
    def _make_jieba(words: List[str]) -> Any:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for word in words:
            tokenizer.add_word(word, freq=200000)
        return tokenizer

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BilingualTokenizer:
        return cls(config, model_storage, resource, cls._extra_words(config))

    @staticmethod
    def _extra_words(config: Dict[str, Any]) -> List[str]:
        path = config.get("extra_words_path")
        if not path:
            return []
        with open(path, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip() and not line.startswith("#")]

    def train(self, training_data: TrainingData) -> Resource:
        """Collect the Chinese words to keep whole and store them with the model."""
        words = set(self._words)
        for table in training_data.lookup_tables:
            words.update(e for e in table.get("elements", []) if has_cjk(e) and len(e) > 1)
        for example in training_data.entity_examples:
            for entity in example.get("entities", []):
                value = example.get("text", "")[entity["start"] : entity["end"]]
                if has_cjk(value) and len(value) > 1:
                    words.add(value)
        self._words = sorted(words)
        self._jieba = self._make_jieba(self._words)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / WORDS_FILE).write_text(json.dumps(self._words, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BilingualTokenizer:
        words: List[str] = []
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((directory / WORDS_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.debug("No stored user words for %s; using only the extra words.", cls.__name__)
            words = cls._extra_words(config)
        return cls(config, model_storage, resource, words)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = message.get(attribute) or ""
        tokens: List[Token] = []
        for run in _RUN.finditer(text):
            piece, start = run.group(0), run.start()
            if has_cjk(piece[0]):
                tokens.extend(FingerprintedToken(word, start + s) for word, s, _e in self._jieba.tokenize(piece))
            else:
                tokens.append(FingerprintedToken(piece, start))
        return self._apply_token_pattern(tokens)
