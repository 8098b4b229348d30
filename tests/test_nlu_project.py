"""The Rasa project itself: tokenizer, training data, bilingual responses, `rasa data validate`, test stories."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assistant.company import render_lookups
from assistant.config import ROOT
from assistant.devstack import quiet_env
from assistant.i18n import MESSAGES
from assistant.language import detect_language
from nlu.tokenizer import BilingualTokenizer

RASA = str(Path(sys.executable).parent / "rasa")
MODEL = ROOT / "models" / "deskmate.tar.gz"


TRAINING_FILES = sorted(ROOT.glob("data/nlu/*.yml"))


@pytest.fixture(scope="module")
def tokenizer() -> BilingualTokenizer:
    """The tokenizer as training leaves it: directory names and annotated Chinese values kept whole."""
    from assistant.company import load_company, name_variants

    people = load_company(ROOT / "company")["people"]["people"]
    words = [v for p in people for v in name_variants(p) if detect_language(v) == "zh"]
    words += [value for _text, value in _annotated_examples(TRAINING_FILES) if detect_language(value) == "zh"]
    return BilingualTokenizer({**BilingualTokenizer.get_default_config()}, None, None, words)


def tokens(tokenizer: BilingualTokenizer, text: str) -> list[str]:
    from rasa.shared.nlu.training_data.message import Message

    return [t.text for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


@pytest.mark.parametrize(("text", "expected"), [
    ("章玮是谁", ["章玮", "是", "谁"]),
    ("who's Lei Yang's manager?", ["who", "'s", "Lei", "Yang", "'s", "manager", "?"]),
    ("帮我 check 一下 1,280 块", ["帮", "我", "check", "一下", "1,280", "块"]),
    ("报销昨天打车58", ["报销", "昨天", "打车", "58"]),
    ("Li Na是谁", ["Li", "Na", "是", "谁"]),
    ("😀", ["😀"]),
    ("", []),
])
def test_tokenizer_splits_chinese_english_and_mixed_text(tokenizer: BilingualTokenizer, text: str,
                                                         expected: list[str]) -> None:
    assert tokens(tokenizer, text) == expected


def test_tokens_carry_offsets_into_the_original_text(tokenizer: BilingualTokenizer) -> None:
    from rasa.shared.nlu.training_data.message import Message

    text = "  嗯 杨磊的领导 是谁  "
    for token in tokenizer.tokenize(Message(data={"text": text}), "text"):
        assert text[token.start:token.end] == token.text


def _annotated_examples(paths: list[Path]) -> list[tuple[str, str]]:
    """(text, entity value) for every annotated entity in the given NLU files."""
    found = []
    pattern = re.compile(r"\[([^\]]+)\]\((\w+)\)|\[([^\]]+)\]\{[^}]*\}")
    for path in paths:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []):
            for line in (block.get("examples") or "").splitlines():
                line = line.strip()[2:]
                for match in pattern.finditer(line):
                    plain = pattern.sub(lambda m: m.group(1) or m.group(3), line)
                    found.append((plain, match.group(1) or match.group(3)))
    return found


def test_every_annotated_entity_is_a_whole_number_of_tokens(tokenizer: BilingualTokenizer) -> None:
    misaligned = []
    for text, value in _annotated_examples(TRAINING_FILES):
        start = text.index(value)
        end = start + len(value)
        from rasa.shared.nlu.training_data.message import Message

        toks = tokenizer.tokenize(Message(data={"text": text}), "text")
        if not any(t.start == start for t in toks) or not any(t.end == end for t in toks):
            misaligned.append((text, value))
    assert not misaligned, misaligned[:10]


def test_lookup_tables_are_generated_from_the_current_directory() -> None:
    path = ROOT / "data" / "nlu" / "lookups.yml"
    assert path.read_text(encoding="utf-8") == render_lookups(ROOT / "company"), "run `make data/nlu/lookups.yml`"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_core_message_exists_in_both_languages() -> None:
    for key, variants in MESSAGES.items():
        assert set(variants) == {"zh", "en"}, key
        assert variants["zh"].strip() and variants["en"].strip(), key
        assert _placeholders(variants["zh"]) == _placeholders(variants["en"]), key
        assert detect_language(variants["zh"]) in ("zh", None), key


def test_every_domain_response_has_an_english_default_and_a_chinese_variation() -> None:
    for path in ROOT.glob("domain/*.yml"):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses", {})
        for name, variations in responses.items():
            default = [v for v in variations if "channel" not in v]
            chinese = [v for v in variations if v.get("channel") == "zh"]
            assert default and all(detect_language(v["text"]) == "en" for v in default), name
            assert chinese and all(detect_language(v["text"]) == "zh" for v in chinese), name


def test_rasa_data_validate_is_clean() -> None:
    result = subprocess.run([RASA, "data", "validate", "--domain", "domain", "--data", "data", "--fail-on-warnings"],
                            cwd=ROOT, env=quiet_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "UserWarning" not in result.stderr


@pytest.mark.skipif(not MODEL.exists(), reason="no trained model: `make model` (make test builds it first)")
def test_rasa_test_stories_pass(tmp_path: Path) -> None:
    result = subprocess.run([RASA, "test", "core", "--model", str(MODEL), "--stories", "tests/test_stories.yml",
                             "--fail-on-prediction-errors", "--out", str(tmp_path / "results")],
                            cwd=ROOT, env=quiet_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_the_eval_replays_each_fallback_threshold_from_the_ranking() -> None:
    """make eval's threshold sweep: a confident right answer, a confident wrong one, an unsure right one and
    an ambiguous one, at the thresholds around them."""
    from tools.eval_nlu import Example, Prediction, fallback_sweep

    def said(gold: str, top: str, confidence: float, runner_up: float) -> Prediction:
        return Prediction(Example("x", gold), top, confidence, frozenset(), 1.0, top, confidence, runner_up)

    rows = {r["threshold"]: r for r in fallback_sweep([said("greet", "greet", 0.9, 0.05),
                                                      said("greet", "thanks", 0.7, 0.1),
                                                      said("help", "help", 0.42, 0.2),
                                                      said("deny", "deny", 0.5, 0.48)], ambiguity=0.05)}
    assert (rows[0.4]["accuracy"], rows[0.4]["wrong"], rows[0.4]["fallback"]) == (0.5, 1, 1)
    assert (rows[0.45]["accuracy"], rows[0.45]["wrong"], rows[0.45]["fallback"]) == (0.25, 1, 2)
    assert (rows[0.3]["accuracy"], rows[0.3]["fallback"]) == (0.5, 1)  # the ambiguous one falls back anyway
