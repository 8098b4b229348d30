"""The personal memory: a habit offered after three similar claims (never applied without a yes), "same as last
time", the reply language a person asks for (kept across channels), and erasure that says what it erased."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.claims import NewItem
from assistant.core import Assistant
from connectors.rest import ChatGate
from tests.test_claim_chat import TODAY, Person, core  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("core")


def submitted_taxi(core: Assistant, person: str, amount: int, description: str = "打车") -> None:  # noqa: F811
    claim, _ = core.claims.open_draft(person, "zh", TODAY)
    core.claims.add_items(person, claim.id, [NewItem("transport", Decimal(amount), "CNY", TODAY, description)], TODAY)
    core.claims.submit(person, claim.id, TODAY)


def test_a_habit_is_offered_after_three_similar_claims_and_taken_on_yes(core: Assistant) -> None:  # noqa: F811
    zhangwei = Person(core, "zhangwei", "zh")
    for amount in (58, 62):
        submitted_taxi(core, "zhangwei", amount)
    reply = zhangwei.say("claim_expense", "报销")
    assert "和上次一样" not in reply and "花了什么钱" in reply  # two claims are not a habit yet
    zhangwei.say("cancel_claim", "不报了")
    submitted_taxi(core, "zhangwei", 58)
    reply = zhangwei.say("claim_expense", "报销")
    assert "和上次一样是交通吗？金额多少？" in reply and "最近 3 次" in reply and "58 CNY" in reply
    assert core.claims.editable("zhangwei", TODAY).items == []  # offered, not applied
    reply = zhangwei.say("affirm", "对，60")
    claim = core.claims.editable("zhangwei", TODAY)
    assert [(i.category, i.amount_fen, i.description) for i in claim.items] == [("transport", 6000, "打车")]
    assert "已记下" in reply and "60" in reply


def test_a_plain_yes_takes_the_usual_amount_and_no_asks_instead(core: Assistant) -> None:  # noqa: F811
    for amount in (35, 35, 40):
        submitted_taxi(core, "zhaomin", amount, "taxi to the office")
    zhaomin = Person(core, "zhaomin", "en")
    assert "Another transport like last time? How much?" in zhaomin.say("claim_expense", "expense claim")
    zhaomin.say("affirm", "yes")
    assert [(i.amount_fen, i.spent_on) for i in core.claims.editable("zhaomin", TODAY).items] == [(3500, TODAY)]
    zhaomin.say("cancel_claim", "cancel")
    zhaomin.say("claim_expense", "expense claim")
    assert "What did you spend" in zhaomin.say("deny", "no")
    assert core.claims.editable("zhaomin", TODAY).items == []  # nothing applied without a yes


def test_same_as_last_time_with_a_new_date(core: Assistant) -> None:  # noqa: F811
    lina = Person(core, "lina", "zh")
    assert "不记得" in lina.say("repeat_last_item", "老样子，今天")
    submitted_taxi(core, "lina", 88, "打车去机场")
    reply = lina.say("repeat_last_item", "老样子，昨天")
    items = core.claims.editable("lina", TODAY).items
    assert [(i.category, i.amount_fen, i.description, i.spent_on.day) for i in items] == \
        [("transport", 8800, "打车去机场", TODAY.day - 1)]
    assert "88" in reply


def test_forgetting_erases_and_says_what(core: Assistant) -> None:  # noqa: F811
    for amount in (58, 58, 58):
        submitted_taxi(core, "zhangwei", amount)
    zhangwei = Person(core, "zhangwei", "zh")
    assert "English" in "\n".join(core.memory_chat.set_reply_language(zhangwei_turn("以后都用英文回复我")))
    reply = "\n".join(core.memory_chat.forget_preferences(zhangwei_turn("忘掉我的习惯")))
    assert "常报的交通（最近 3 次，通常 58 CNY）" in reply and "回复语言：英文" in reply and "报销单本身" in reply
    assert "花了什么钱" in zhangwei.say("claim_expense", "报销")  # no offer any more
    zhangwei.say("cancel_claim", "不报了")
    assert "不记得" in zhangwei.say("repeat_last_item", "老样子")
    assert "还没有记住" in "\n".join(core.memory_chat.forget_preferences(zhangwei_turn("忘掉我的习惯")))
    assert len(core.claims.own("zhangwei", ("in_review",), TODAY)) == 3  # the claims stay


def zhangwei_turn(text: str):  # noqa: ANN201
    from assistant.claim_chat import Turn

    return Turn("zhangwei", "zh", TODAY, text)


def test_the_reply_language_persists_across_messages_and_channels(core: Assistant) -> None:  # noqa: F811
    gate = ChatGate(core)
    assert gate.admit("zhangwei", "报销单到哪了", is_admin=False) == ("zh", None)
    reply = core.memory_chat.set_reply_language(zhangwei_turn("以后都用英文回复我"))
    assert reply == ["OK, from now on I'll answer you in English. Say \"forget my preferences\" to undo it."]
    assert gate.admit("zhangwei", "报销单到哪了", is_admin=False) == ("en", None)
    assert ChatGate(core).admit("zhangwei", "你好", is_admin=False) == ("en", None)  # another channel, same rule
    core.memory_chat.set_reply_language(zhangwei_turn("always answer me in Chinese"))
    assert gate.admit("zhangwei", "hello there", is_admin=False) == ("zh", None)
    assert "中文还是英文" in core.memory_chat.set_reply_language(zhangwei_turn("以后换个语言"))[0]
    lang, refusal = gate.admit("zhangwei", "", is_admin=False)
    assert refusal is not None  # an empty message is still refused, in the language it was judged in


def test_the_usual_reason_for_an_over_cap_item_is_offered_and_reused(core: Assistant) -> None:  # noqa: F811
    claim, _ = core.claims.open_draft("maxiao", "zh", TODAY)
    core.claims.add_items("maxiao", claim.id, [NewItem("meals", Decimal(150), "CNY", TODAY, "晚饭", has_invoice=True,
                                                       justification="加班到很晚，和客户一起")], TODAY)
    core.claims.submit("maxiao", claim.id, TODAY)
    maxiao = Person(core, "maxiao", "zh")
    asked = maxiao.say("claim_expense", "昨天晚饭花了160，有发票")
    assert "超过标准" in asked and "上次你的说明是“加班到很晚，和客户一起”" in asked
    maxiao.say("deny", "不，同上")
    item = core.claims.editable("maxiao", TODAY).items[0]
    assert (item.amount_fen, item.justification) == (16000, "加班到很晚，和客户一起")
    carol = Person(core, "carol", "en")  # no reason given before: nothing offered
    assert "Last time your reason" not in carol.say("claim_expense", "dinner 180 yesterday with invoice")
