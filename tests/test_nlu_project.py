"""The Rasa project itself: tokenizer, training data, bilingual responses, `rasa data validate`, test stories."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
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


def test_a_tokens_remembered_fingerprint_is_rasas_and_changes_with_its_data(tokenizer: BilingualTokenizer) -> None:
    """Rasa's training cache keys on fingerprints: a remembered one that outlived a change of the token (a regex
    pattern set on it) would let a stale cached result pass for a fresh one."""
    from rasa.nlu.tokenizers.tokenizer import Token
    from rasa.shared.nlu.training_data.message import Message

    token = tokenizer.tokenize(Message(data={"text": "报销打车 58"}), "text")[0]
    plain = Token(token.text, token.start, token.end)
    assert token.fingerprint() == plain.fingerprint()
    token.set("pattern", {"amount": True})
    plain.set("pattern", {"amount": True})
    assert token.fingerprint() == plain.fingerprint() != Token(token.text, token.start, token.end).fingerprint()


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
    an ambiguous one, at the thresholds around them; and each feature's F1 as a user would get it there."""
    from tools.eval_nlu import Example, Prediction, fallback_sweep

    def said(gold: str, top: str, confidence: float, runner_up: float) -> Prediction:
        return Prediction(Example("x", gold), top, confidence, frozenset(), 1.0, top, confidence, runner_up)

    rows = {r["threshold"]: r for r in fallback_sweep([said("greet", "greet", 0.9, 0.05),
                                                      said("greet", "thanks", 0.7, 0.1),
                                                      said("help", "help", 0.42, 0.2),
                                                      said("deny", "deny", 0.5, 0.48)], ambiguity=0.05,
                                     features={"help": ("help",), "chitchat": ("greet", "thanks", "deny")})}
    assert (rows[0.4]["accuracy"], rows[0.4]["wrong"], rows[0.4]["fallback"]) == (0.5, 1, 1)
    assert (rows[0.45]["accuracy"], rows[0.45]["wrong"], rows[0.45]["fallback"]) == (0.25, 1, 2)
    assert (rows[0.3]["accuracy"], rows[0.3]["fallback"]) == (0.5, 1)  # the ambiguous one falls back anyway
    assert rows[0.4]["feature_f1"]["en"]["help"] == 1.0  # the unsure help answer still stands at 0.4...
    assert rows[0.45]["feature_f1"]["en"]["help"] == 0.0  # ...and falls back at 0.45


def test_the_eval_scores_each_feature_on_its_own_intents() -> None:
    """The issues' targets are per feature (base intents, claim intents): a claim message read as a greeting
    lowers the base intents' F1 too, a fallback only the claim intents'."""
    from tools.eval_nlu import Example, Prediction, feature_f1

    def said(gold: str, predicted: str, text: str = "x") -> Prediction:
        return Prediction(Example(text, gold), predicted, 0.9, frozenset(), 1.0, predicted, 0.9, 0.0)

    features = {"chitchat": ("greet", "thanks"), "claims": ("claim_expense",)}
    scores = feature_f1([said("greet", "greet"), said("thanks", "thanks"), said("claim_expense", "greet"),
                         said("claim_expense", "nlu_fallback"), said("claim_expense", "claim_expense")], features)
    assert scores["en"]["chitchat"] == pytest.approx((2 / 3 + 1) / 2)  # greet: 1 right of 2 said
    assert scores["en"]["claims"] == pytest.approx(0.5)  # 1 of 3 found, never wrongly said
    assert scores["zh"] == {}


def test_the_eval_reports_the_issues_intent_groups_as_features() -> None:
    """Issue 2's target is on the base intents together, issue 3's on the claim form's and the approvals'."""
    from tools.eval_nlu import load_dataset

    features = load_dataset().features
    assert set(features["base intents"]) == {"greet", "goodbye", "thanks", "help", "affirm", "deny", "out_of_scope"}
    assert set(features["reimbursement intents"]) == set(features["claims"]) | set(features["approvals"])
    assert {"claim_expense", "ask_policy", "submit_claim", "approve_claim", "withdraw_claim",
            "claim_status"} <= set(features["reimbursement intents"])


def _message(text: str, intent: str, diet_entities: list[dict]) -> Any:
    from rasa.shared.nlu.training_data.message import Message

    ranking = [{"name": intent, "confidence": 0.4}, {"name": "greet", "confidence": 0.3}]
    # the FallbackClassifier has already replaced an unsure intent: the ranking keeps the classifier's guess
    return Message(data={"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.55},
                         "intent_ranking": ranking, "entities": diet_entities})


def test_amounts_dates_and_categories_come_from_the_claim_parser_under_expense_intents() -> None:
    """The pipeline reports what the claim actions read (two eighty = 280, 上周三), not DIET's guesses, and
    reports no amount in a status message ("until four thirty") or date in a question about viewers."""
    from nlu.expense_entities import ExpenseEntityExtractor

    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    settings = next(c for c in config["pipeline"] if c["name"].endswith("ExpenseEntityExtractor"))
    extractor = ExpenseEntityExtractor({**ExpenseEntityExtractor.get_default_config(), **settings})
    diet = [{"entity": "amount", "start": 11, "end": 17, "value": "eighty", "extractor": "DIETClassifier"},
            {"entity": "person", "start": 23, "end": 30, "value": "Philips", "extractor": "DIETClassifier"}]
    claim, status, viewers, zh = extractor.process([
        _message("dinner two eighty with Philips last Wednesday", "claim_expense", diet),
        _message("in a meeting until four thirty", "set_status", []),
        _message("who checked my status today", "status_viewers", []),
        _message("上周三打车五十八", "claim_expense", []),
    ])
    assert [(e["entity"], e["value"], e["extractor"]) for e in claim.get("entities")] == [
        ("person", "Philips", "DIETClassifier"), ("category", "meals", "ExpenseEntityExtractor"),
        ("amount", "280 CNY", "ExpenseEntityExtractor"), ("date", "last Wednesday", "ExpenseEntityExtractor")]
    assert status.get("entities") == [] and viewers.get("entities") == []
    assert [(e["entity"], "上周三打车五十八"[e["start"]:e["end"]]) for e in zh.get("entities")] == [
        ("date", "上周三"), ("category", "打车"), ("amount", "五十八")]


def test_unseen_latin_gibberish_falls_back_but_unseen_chinese_words_are_left_to_the_classifier(
        tokenizer: BilingualTokenizer) -> None:
    """"qwzx plmk" means nothing, whatever the classifier says; 罢了 or 交单 never seen whole still mean
    something, character by character, so the classifier and its threshold decide."""
    from rasa.shared.nlu.training_data.message import Message

    from nlu.vocabulary_guard import VocabularyGuard

    guard = VocabularyGuard(None, None, {"报销", "交", "hello", "claim"})

    def classified(text: str) -> Message:
        message = Message(data={"text": text, "intent": {"name": "greet", "confidence": 0.9},
                                "intent_ranking": [{"name": "greet", "confidence": 0.9}]})
        tokenizer.process([message])
        return message

    messages = guard.process([classified(t) for t in ("qwzx plmk", "罢了", "交单", "hello qwzx", "qwzx 罢了", "42")])
    assert [m.get("intent")["name"] for m in messages] == [
        "nlu_fallback", "greet", "greet", "greet", "greet", "greet"]


def test_the_words_that_turn_a_digest_off_decide_between_subscribe_and_unsubscribe() -> None:
    """"don't send me the digest" is no subscription, however many words it shares with one; a message that
    does not say which way, or an intent outside the pair, keeps the classifier's answer."""
    from rasa.shared.nlu.training_data.message import Message

    from nlu.on_off_pairs import OnOffPairs

    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    pairs = OnOffPairs(next(c for c in config["pipeline"] if c["name"].endswith("OnOffPairs")))

    def classified(text: str, first: str, second: str) -> Message:
        ranking = [{"name": first, "confidence": 0.4}, {"name": second, "confidence": 0.35},
                   {"name": "team_status", "confidence": 0.25}]
        return Message(data={"text": text, "intent": {"name": first, "confidence": 0.4}, "intent_ranking": ranking})

    messages = pairs.process([
        classified("don't send me the team digest anymore", "subscribe_digest", "unsubscribe_digest"),
        classified("别每天发我下属的状态了", "subscribe_digest", "unsubscribe_digest"),
        classified("subscribe me to the team digest", "unsubscribe_digest", "subscribe_digest"),
        classified("之前退订的团队日报 帮我重新订上", "unsubscribe_digest", "subscribe_digest"),
        classified("the team digest at 10:30", "unsubscribe_digest", "subscribe_digest"),
        classified("stop showing my team's status", "team_status", "unsubscribe_digest"),
    ])
    answers = [(m.get("intent")["name"], round(m.get("intent")["confidence"], 2)) for m in messages]
    assert answers == [("unsubscribe_digest", 0.75), ("unsubscribe_digest", 0.75), ("subscribe_digest", 0.75),
                       ("subscribe_digest", 0.75), ("unsubscribe_digest", 0.4), ("team_status", 0.4)]
    ranking = messages[0].get("intent_ranking")
    assert [r["name"] for r in ranking] == ["unsubscribe_digest", "team_status", "subscribe_digest"]


def test_a_whole_small_talk_message_gets_the_lexicons_intent_even_after_a_fallback(tmp_path: Path) -> None:
    """"886" and "ttyl" are idioms no classifier can work out: the lexicon answers for whole messages only,
    whatever the punctuation, emoji, case or leading filler; longer messages stay the classifier's."""
    from rasa.shared.nlu.training_data.message import Message

    from nlu.small_talk import SmallTalkMatcher, read_lexicon, small_talk_key

    assert small_talk_key("  嗯，好的！👍 ") == "好的"
    assert small_talk_key("Um... OK!!") == "ok"
    matcher = SmallTalkMatcher({}, None, None, read_lexicon(ROOT / "nlu" / "small_talk.yml"))
    said = {text: Message(data={"text": text, "intent": {"name": "nlu_fallback", "confidence": 1.0},
                                "intent_ranking": [{"name": "nlu_fallback", "confidence": 1.0},
                                                   {"name": "claim_expense", "confidence": 0.3}]})
            for text in ("886", "TTYL!", "呃 好嘞", "谢谢~", "nope", "Hlep!", "求助", "886 帮我报销昨天打车58")}
    matcher.process(list(said.values()))
    intents = {text: m.get("intent")["name"] for text, m in said.items()}
    assert intents == {"886": "goodbye", "TTYL!": "goodbye", "呃 好嘞": "affirm", "谢谢~": "thanks",
                       "nope": "deny", "Hlep!": "help", "求助": "help", "886 帮我报销昨天打车58": "nlu_fallback"}
    assert said["886"].get("intent_ranking")[0] == {"name": "goodbye", "confidence": 1.0}

    conflicting = tmp_path / "lexicon.yml"
    conflicting.write_text('affirm: {en: ["ok"]}\ndeny: {en: ["OK!"]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="both affirm and deny"):
        read_lexicon(conflicting)


def test_the_small_talk_lexicon_holds_no_word_that_is_an_action_here() -> None:
    """同意 approves a claim, 确认 submits one, 算了 cancels: such words stay with the classifier."""
    from nlu.small_talk import read_lexicon

    actions = ("同意", "确认", "提交", "取消", "算了", "审批", "报销", "approve", "confirm", "submit", "cancel",
               "never mind", "claim")
    lexicon = read_lexicon(ROOT / "nlu" / "small_talk.yml")
    assert [key for key in lexicon if any(a in key for a in actions)] == []
    assert set(lexicon.values()) == {"greet", "goodbye", "thanks", "affirm", "deny", "help"}


def test_the_intent_blend_averages_diet_with_a_linear_model_that_survives_a_reload(tmp_path: Path) -> None:
    """An unsure DIET guess (greet at 0.40 for 多谢了) is outvoted by the linear model, which has seen 谢 only in
    thanks examples; the stored model gives the same ranking after loading."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu.intent_blend import IntentBlend

    tokenizer = BilingualTokenizer({**BilingualTokenizer.get_default_config()}, None, None, [])
    said = {"greet": ["你好", "你好呀", "hello", "hi there"], "thanks": ["谢谢", "多谢", "thanks a lot", "thank you"],
            "claim_expense": ["报销打车58", "我要报销午饭", "claim a taxi 58", "expense my lunch"]}
    examples = [Message(data={"text": text, "intent": intent}) for intent, texts in said.items() for text in texts]
    tokenizer.process(examples)
    storage, resource = LocalModelStorage(tmp_path), Resource("blend")
    blend = IntentBlend.create({**IntentBlend.get_default_config()}, storage, resource, None)
    blend.train(TrainingData(training_examples=examples))

    def parse(component: IntentBlend, text: str) -> list[str]:
        message = Message(data={"text": text, "intent_ranking": [
            {"name": "greet", "confidence": 0.40}, {"name": "thanks", "confidence": 0.35},
            {"name": "claim_expense", "confidence": 0.25}]})
        tokenizer.process([message])
        component.process([message])
        assert message.get("intent") == message.get("intent_ranking")[0]
        return [r["name"] for r in message.get("intent_ranking")]

    assert parse(blend, "多谢了")[0] == "thanks"
    assert parse(blend, "报销晚饭")[0] == "claim_expense"
    reloaded = IntentBlend.load({**IntentBlend.get_default_config()}, storage, resource, None)
    assert parse(reloaded, "多谢了") == parse(blend, "多谢了")


def test_the_linear_models_regression_ends_where_scikit_learns_logistic_regression_ends() -> None:
    """The regression of the blend keeps the sentence vectors out of the sparse matrix for speed; it must still be
    LogisticRegression's model (multinomial, L2 of 1 / C, intercepts unpenalized): the same probabilities on
    messages neither saw."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from nlu.softmax_regression import Blocks, SoftmaxRegression

    rng = np.random.default_rng(7)
    ngrams = sp.random(260, 400, density=0.03, format="csr", random_state=7)
    vectors = rng.normal(size=(260, 24))
    labels = np.array(["greet", "thanks", "claim_expense", "approve_claim"])[
        (ngrams @ rng.normal(size=(400, 4)) + vectors @ rng.normal(size=(24, 4))).argmax(axis=1)]
    seen, unseen = slice(0, 200), slice(200, 260)
    ours = SoftmaxRegression(C=10.0).fit(Blocks(ngrams[seen], vectors[seen]), labels[seen])
    theirs = LogisticRegression(C=10.0, max_iter=3000).fit(sp.hstack([ngrams[seen], vectors[seen]]).tocsr(),
                                                            labels[seen])
    assert list(ours.classes_) == list(theirs.classes_)
    expected = theirs.predict_proba(sp.hstack([ngrams[unseen], vectors[unseen]]).tocsr())
    assert ours.predict_proba(Blocks(ngrams[unseen], vectors[unseen])) == pytest.approx(expected, abs=2e-3)
    assert (ours.predict(Blocks(ngrams[unseen], vectors[unseen])) == theirs.classes_[expected.argmax(axis=1)]).all()


@pytest.mark.parametrize(("text", "row"), [
    ("同意张伟的报销 42", ("同意§的报销 0", ("同意", "§", "的", "报销", "0"))),
    ("approve Wei Zhang's claim #1,280", ("approve §'s claim #0", ("approve", "§", "'s", "claim", "#", "0"))),
    ("look up lina", ("look up §", ("look", "up", "§"))),
    # a name inside a longer Latin word ("lina" in "linear") is no name; a decimal is one number
    ("linear 2.5 元", ("linear 0 元", ("linear", "0", "元"))),
    # numbers in words, as voice-to-text writes them, are numbers too; a lone 一 or "one" may be a word
    ("uh sign off eighty seven", ("uh sign off 0", ("uh", "sign", "off", "0"))),
    ("同意四十二 看一下", ("同意0 看一下", ("同意", "0", "看", "一下"))),
    ("approve one", ("approve one", ("approve", "one"))),
])
def test_the_linear_model_reads_names_and_numbers_as_placeholders(
        tokenizer: BilingualTokenizer, text: str, row: tuple[str, tuple[str, ...]]) -> None:
    """Which colleague or which claim does not change what is asked: the linear half of the blend sees one
    placeholder for any name of the directory and one for any number, in digits or in words."""
    from rasa.shared.nlu.training_data.message import Message

    from assistant.company import load_company, name_variants
    from nlu.intent_blend import Placeholders

    people = load_company(ROOT / "company")["people"]["people"]
    placeholders = Placeholders(v for p in people for v in name_variants(p))
    message = Message(data={"text": text})
    tokenizer.process([message])
    assert placeholders.row(message) == row
