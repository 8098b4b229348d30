"""The intake gate: what never reaches the NLU, and the language of every reply."""

from __future__ import annotations

import pytest

from assistant.intake import check_message
from assistant.language import detect_language


def gate(text: str | None, *, known: bool = True, previous: str | None = None, admin: bool = False):  # noqa: ANN201
    return check_message(text, sender_known=known, sender="zhangwei", previous_lang=previous,
                         default_lang="zh", max_chars=2000, allow_commands=admin)


@pytest.mark.parametrize(("text", "lang"), [
    ("你好", "zh"), ("hello there", "en"), ("帮我 check 一下", "zh"), ("approve claim 42 for 张伟", "en"),
    ("我要报销 taxi 58", "zh"), ("ok", "en"), ("42", None), ("😀👍", None), ("", None), ("Li Na是谁", "zh"),
])
def test_language_detection(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_an_ordinary_message_passes() -> None:
    verdict = gate("李娜是谁")
    assert verdict.accepted and verdict.lang == "zh"


@pytest.mark.parametrize(("text", "previous", "needle"), [
    ("", "en", "empty"), ("   \n ", "zh", "空的"), (None, None, "空的"),
    ("😀😀😀", "en", "only read words"), ("👍", "zh", "只能读懂文字"),
])
def test_empty_and_wordless_messages_get_a_clear_reply_in_the_last_language(text, previous, needle) -> None:  # noqa: ANN001
    verdict = gate(text, previous=previous)
    assert not verdict.accepted and needle in verdict.reply


def test_a_huge_message_is_refused_with_its_size() -> None:
    verdict = gate("报销" * 5000)
    assert not verdict.accepted and "10000" in verdict.reply and "2000" in verdict.reply
    verdict = gate("a " * 5000)
    assert "too long" in verdict.reply


def test_an_unknown_sender_is_refused_politely_in_their_language() -> None:
    assert "通讯录里没有你" in gate("你好", known=False).reply
    assert "not in the company directory" in gate("hello", known=False).reply


def test_slash_commands_are_for_admins_only() -> None:
    assert not gate("/restart").accepted
    assert gate("/restart", admin=True).accepted


def test_the_language_is_read_without_peoples_names() -> None:
    without = lambda s: s.replace("李娜", " ").replace("Na Li", " ")  # noqa: E731
    english = check_message("who is 李娜", sender_known=True, sender="x", previous_lang="zh", default_lang="zh",
                            max_chars=2000, without_names=without)
    chinese = check_message("Na Li是谁", sender_known=True, sender="x", previous_lang="en", default_lang="en",
                            max_chars=2000, without_names=without)
    assert english.lang == "en" and chinese.lang == "zh"
