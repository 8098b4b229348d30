"""Topic conversations at the core, in Chinese and English: the text of each intent, the reply, what is stored.

The NLU is not involved (the intent is given); tests/dialogues/topics_*.yml play the same paths through Rasa.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from assistant.claim_chat import Turn
from assistant.core import Assistant
from assistant.topics import record_message
from tests.test_claim_chat import TODAY, core  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("core")


def say(core: Assistant, person: str, lang: str, method: str, text: str, room_id: str | None = None) -> str:  # noqa: F811
    return "\n".join(getattr(core.topic_chat, method)(Turn(person, lang, TODAY, text, room_id=room_id)))


def topic_id(reply: str) -> int:
    import re

    return int(re.search(r"(?:话题|[Tt]opic) #(\d+)", reply).group(1))


def test_every_topic_capability_in_chinese(core: Assistant) -> None:  # noqa: F811
    opened = say(core, "chenjing", "zh", "open_topic", "开个话题讨论Q3预算，拉上孙浩和赵敏")
    assert "已开话题" in opened and "孙浩" in opened and "赵敏" in opened
    tid = topic_id(opened)
    assert "李娜" in say(core, "chenjing", "zh", "add_to_topic", "把李娜也拉进来")
    assert "已经在" in say(core, "chenjing", "zh", "add_to_topic", "把李娜也拉进来")
    assert "移出" in say(core, "chenjing", "zh", "remove_from_topic", "把李娜移出这个话题")
    assert "退出" in say(core, "zhaomin", "zh", "leave_topic", f"我退出话题{tid}")
    record_message(core.db, tid, "$m1", "sunhao", "移动组预算要加两台测试机", datetime.now(timezone.utc))
    concluded = say(core, "chenjing", "zh", "record_conclusion", "记录结论：预算增加两台测试机")
    assert "预算增加两台测试机" in concluded and "1 条消息" in concluded
    assert "记下了" in say(core, "chenjing", "zh", "take_note", "记一下：周五之前把预算表发给财务")
    assert "关联" in say(core, "chenjing", "zh", "link_topic", "关联文档 https://wiki.example/q3")
    shown = say(core, "chenjing", "zh", "show_topic", "看看这个话题")
    assert "Q3预算" in shown and "预算增加两台测试机" in shown and "https://wiki.example/q3" in shown
    assert "所有人都能查看" in say(core, "chenjing", "zh", "make_topic_public", "公开这个话题")
    assert "已结束" in say(core, "chenjing", "zh", "close_topic", "结束这个话题")
    assert "重新打开" in say(core, "chenjing", "zh", "reopen_topic", "重新打开这个话题")
    say(core, "chenjing", "zh", "close_topic", "结束这个话题")
    found = say(core, "lina", "zh", "search_topics", "之前关于测试机预算讨论过什么？")
    assert "Q3预算" in found, found  # public and closed: anyone finds it
    assert "没找到" in say(core, "lina", "zh", "search_topics", "之前关于火星基地讨论过什么？")


def test_every_topic_capability_in_english(core: Assistant) -> None:  # noqa: F811
    opened = say(core, "yanglei", "en", "open_topic", "start a topic about the release plan with Min Zhao and Alice")
    assert "Opened topic" in opened and "Min Zhao" in opened and "Alice Smith" in opened
    tid = topic_id(opened)
    assert "Added Hao Sun" in say(core, "yanglei", "en", "add_to_topic", "add Hao Sun")
    assert "Removed Hao Sun" in say(core, "yanglei", "en", "remove_from_topic", "remove Hao Sun from this topic")
    assert "left" in say(core, "alice", "en", "leave_topic", f"I'm leaving topic {tid}")
    assert "Recorded conclusion" in say(core, "yanglei", "en", "record_conclusion",
                                        "conclusion: ship 2.0 on the 15th")
    assert "Noted" in say(core, "zhaomin", "en", "take_note", f"note: freeze the branch on the 10th in topic {tid}")
    assert "Linked" in say(core, "yanglei", "en", "link_topic", "link Li Na to this topic")
    assert "ship 2.0" in say(core, "yanglei", "en", "show_topic", "show this topic")
    assert "closed" in say(core, "yanglei", "en", "close_topic", "close this topic")
    hidden = say(core, "lina", "en", "search_topics", "did anyone discuss the release plan before?")
    assert "found no" in hidden and f"#{tid}" not in hidden  # private: not found, not even its number
    assert "no topic" in say(core, "lina", "en", "show_topic", f"show topic {tid}")


def test_claim_topics_write_back_and_refusals(core: Assistant) -> None:  # noqa: F811
    from tests.test_claim_chat import Person

    wei = Person(core, "zhaomin", "zh")
    wei.say("claim_expense", "我要报销昨天打车58块")
    wei.say("submit_claim", "提交")
    assert "已提交" in wei.say("affirm", "是的")
    claim_id = core.claims.latest("zhaomin", TODAY).id
    joined = say(core, "zhaomin", "zh", "open_topic", f"针对报销单{claim_id}开个话题")
    assert f"报销单 #{claim_id}" in joined and "杨磊" in joined
    assert "没有尚未写回的结论" in say(core, "zhaomin", "zh", "write_back", "写回报销单")
    say(core, "zhaomin", "zh", "record_conclusion", "记录结论：发票需要重新开具")
    assert "写进报销单" in say(core, "zhaomin", "zh", "write_back", "写回报销单")
    assert "发票需要重新开具" in core.claims.get("yanglei", claim_id, TODAY).description
    assert "不能移出" in say(core, "zhaomin", "zh", "leave_topic", "我退出这个话题")
    assert "找不到你能查看的报销单" in say(core, "sunhao", "zh", "open_topic", f"针对报销单{claim_id}开个话题")
    assert "no claim" in say(core, "sunhao", "en", "open_topic", f"discuss claim {claim_id}")


@pytest.mark.parametrize("text, lang, expected", [
    ("开个话题讨论薪资，拉上王小明", "zh", "通讯录里找不到"),
    ("start a topic about pay with Wei Zhang", "en", "could be"),  # two people: asked, never guessed
    ("开个话题", "zh", "讨论什么"),
    ("", "en", "What is the topic about"),
])
def test_bad_requests_change_nothing(core: Assistant, text: str, lang: str, expected: str) -> None:  # noqa: F811
    from sqlalchemy import func, select

    from assistant.store.models import Topic

    assert expected in say(core, "zhaomin", lang, "open_topic", text)
    with core.db.session() as s:
        assert s.execute(select(func.count()).select_from(Topic)).scalar_one() == 0


def test_without_a_current_topic_deskmate_asks_which(core: Assistant) -> None:  # noqa: F811
    assert "哪个话题" in say(core, "wangfang", "zh", "close_topic", "结束这个话题")
    assert "Which topic" in say(core, "wangfang", "en", "record_conclusion", "conclusion: done")


def test_an_ambiguous_invitee_is_asked_back_and_the_answer_opens_the_topic(core: Assistant) -> None:  # noqa: F811
    asked = say(core, "chenjing", "zh", "open_topic", "开个话题讨论发版计划，拉上张伟")
    assert "zhangwei2" in asked and "已开话题" not in asked  # nobody half-invited
    opened = "\n".join(core.claim_chat.answer(Turn("chenjing", "zh", TODAY, "章玮"), "ask_person"))
    assert "已开话题" in opened and "发版计划" in opened and "章玮" in opened and "张伟" not in opened
    asked = say(core, "chenjing", "en", "add_to_topic", "add Wei Zhang to this topic")
    added = "\n".join(core.claim_chat.answer(Turn("chenjing", "en", TODAY, "the first one"), "inform"))
    assert "Added Wei Zhang to topic" in added
