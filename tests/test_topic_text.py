"""The topic text parser: titles, people, claim and topic numbers, conclusions, notes, links and search
queries, in Chinese and English, typed and spoken. Case ids start with the language (zh: / en:)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from assistant.topic_text import (
    MAX_TEXT,
    LinkRequest,
    OpenRequest,
    parse_claim_ref,
    parse_conclusion,
    parse_link,
    parse_note,
    parse_open,
    parse_people,
    parse_topic_ref,
    search_query,
)


def cases(lang: str, rows: list[tuple]) -> list:
    """pytest params with ids "zh:<text>" / "en:<text>"."""
    return [pytest.param(*row, id=f"{lang}:{str(row[0])[:40]}") for row in rows]


# --- Opening a topic -------------------------------------------------------------------------------------------

OPEN_ZH = [
    # text, title, people, claim id
    ("开个话题讨论Q3预算，拉上张伟和陈静", "Q3预算", ["张伟", "陈静"], None),
    ("开个话题讨论Q3预算,拉上张伟和陈静", "Q3预算", ["张伟", "陈静"], None),
    ("新建话题：年会方案 拉上王芳", "年会方案", ["王芳"], None),
    ("新建一个话题 年会方案", "年会方案", [], None),
    ("针对报销单42开个话题", None, [], 42),
    ("针对报销单四十二开个话题", None, [], 42),
    ("就报销单１７讨论一下", None, [], 17),
    ("针对23号报销单开个讨论", None, [], 23),
    ("帮忙针对52号单子开个话题", None, [], 52),
    ("以报销单19为主题开个讨论", None, [], 19),
    ("报销单93有点问题 单独开个话题说", None, [], 93),
    ("把报销单31拿出来讨论一下 开个话题", None, [], 31),
    ("开个话题讨论一下报销单56的发票问题", "报销单56的发票问题", [], 56),
    ("开个话题讨论移动端发版 拉上我的团队", "移动端发版", ["我的团队"], None),
    ("围绕Q3预算开个话题 和研发部一起", "Q3预算", ["研发部"], None),
    ("开一个讨论组 讨论测试环境的问题 把研发部的人都拉上", "测试环境的问题", ["研发部"], None),
    ("发起讨论 主题 供应商选型 参与人陈静 赵敏", "供应商选型", ["陈静", "赵敏"], None),
    ("发起一个话题 讨论下季度招聘计划 拉上吴婷和马晓", "下季度招聘计划", ["吴婷", "马晓"], None),
    ("开个话题 讨论下测试环境", "测试环境", [], None),
    ("我要开个话题 跟卡罗尔和徐丽对一下客户报价", "客户报价", ["卡罗尔", "徐丽"], None),
    ("建个讨论 关于新版报价单 叫上黄强", "新版报价单", ["黄强"], None),
    ("我想发起个讨论 关于合同审核流程 加上李娜和刘洋", "合同审核流程", ["李娜", "刘洋"], None),
    ("嗯 那个 开个话题聊聊办公室搬迁的事", "办公室搬迁", [], None),
    ("新开一个关于客户投诉的话题 叫上徐丽", "客户投诉", ["徐丽"], None),
    ("来个话题 讨论季度复盘 刘洋 李娜都要在", "季度复盘", ["刘洋", "李娜"], None),
    ("开个话题说说章玮提的那个需求 把他也拉上", "章玮提的那个需求", [], None),
    ("开个 topic 讨论 Q3 预算 拉上 Wei Zhang", "Q3 预算", ["Wei Zhang"], None),
    ("建个群聊聊年终奖方案 拉上王芳", "年终奖方案", ["王芳"], None),
    ("创建话题 Q4 OKR 拉上孙浩 周杰", "Q4 OKR", ["孙浩", "周杰"], None),
    ("开个化题讨论团建去哪", "团建去哪", [], None),
    ("开个话题 和组里的人同步一下需求", "需求", ["我的团队"], None),
    ("开个话题", None, [], None),
]
OPEN_EN = [
    ("start a topic about the Q3 budget with Wei Zhang and Jing Chen", "Q3 budget", ["Wei Zhang", "Jing Chen"], None),
    ("START A TOPIC ABOUT THE OFFICE MOVE", "OFFICE MOVE", [], None),
    ("discuss claim 42", None, [], 42),
    ("discuss claim forty two", None, [], 42),
    ("open a topic for claim #8", None, [], 8),
    ("create a topic for claim number 52", None, [], 52),
    ("let's talk about claim 19 in a topic", None, [], 19),
    ("i want to talk about claim 105 with the approvers", None, ["approvers"], 105),
    ("new topic about server procurement with my team", "server procurement", ["my team"], None),
    ("create a topic on the hiring plan and invite Xiao Ma", "hiring plan", ["Xiao Ma"], None),
    ("open a topic about next week's offsite with the sales team", "next week's offsite", ["sales team"], None),
    ("kick off a discussion about the release plan with Lei Yang, Min Zhao", "release plan",
     ["Lei Yang", "Min Zhao"], None),
    ("um start a topic about the sales commission", "sales commission", [], None),
    ("um i want a topic with my team to go over the schedule", "schedule", ["my team"], None),
    ("open a thread to discuss the pricing sheet with Li Xu", "pricing sheet", ["Li Xu"], None),
    ("start a new topic database migration with zhaomin", "database migration", ["zhaomin"], None),
    ("start a topik about team building", "team building", [], None),
    ("make a topic about the mobile release and add my reports", "mobile release", ["my reports"], None),
    ("topic about the printer budget with Na Li please", "printer budget", ["Na Li"], None),
    ("claim 93 needs a conversation open a topic", None, [], 93),
    ("start a topic", None, [], None),
]


@pytest.mark.parametrize(("text", "title", "people", "claim_id"), cases("zh", OPEN_ZH) + cases("en", OPEN_EN))
def test_parse_open(text: str, title: str | None, people: list[str], claim_id: int | None) -> None:
    request = parse_open(text)
    assert (request.title, request.people, request.claim_id) == (title, people, claim_id)
    assert request.current_claim is False


@pytest.mark.parametrize("text", ["针对这张报销单开个话题", "就这个报销开个讨论", "discuss this claim",
                                  "open a topic about my claim"])
def test_parse_open_bound_to_the_current_claim(text: str) -> None:
    assert parse_open(text) == OpenRequest(title=None, people=[], claim_id=None, current_claim=True)


def test_parse_open_cuts_a_very_long_title() -> None:
    title = parse_open("开个话题讨论" + "预算" * 100).title
    assert title is not None and len(title) <= 80 and title.endswith("…")


# --- People ----------------------------------------------------------------------------------------------------

PEOPLE_ZH = [
    ("把赵敏也拉进来", ["赵敏"]),
    ("把赵敏和孙浩移出去", ["赵敏", "孙浩"]),
    ("把赵敏、孙浩移出去", ["赵敏", "孙浩"]),
    ("邀请李娜，刘洋加入这个话题", ["李娜", "刘洋"]),
    ("拉李娜进来", ["李娜"]),
    ("让周杰也参与一下", ["周杰"]),
    ("再拉上杨磊", ["杨磊"]),
    ("嗯 再加个艾丽斯", ["艾丽斯"]),
    ("加一下艾丽斯", ["艾丽斯"]),
    ("拉章玮进这个讨论", ["章玮"]),
    ("把研发部的人都拉进来", ["研发部"]),
    ("把销售部的同事都加到讨论里", ["销售部"]),
    ("把我们组的人都拉进来", ["我们组"]),
    ("把我的团队加进来", ["我的团队"]),
    ("把我领导也拉进来", ["我领导"]),
    ("把人事的吴婷拉进来一起讨论", ["吴婷"]),
    ("去掉话题里的吴婷", ["吴婷"]),
    ("给话题加两个人 赵敏和张伟", ["赵敏", "张伟"]),
    ("多拉一个人 徐丽", ["徐丽"]),
    ("周杰不用参与了 把他移出去", ["周杰"]),
    ("呃 卡罗尔也要参与 把她加上", ["卡罗尔"]),
    ("这个话题还缺陈静 把她拉上", ["陈静"]),
    ("孙浩拉错了 移出去", ["孙浩"]),
    ("这个讨论不需要黄强 去掉他", ["黄强"]),
    ("杨磊不需要在这个话题里", ["杨磊"]),
    ("不要张伟参与了", ["张伟"]),
    ("从参与人里删除赵敏", ["赵敏"]),
    ("把卡罗尔从话题7里移出", ["卡罗尔"]),
    ("把Min Zhao拉进来", ["Min Zhao"]),
    ("加上zhaomin", ["zhaomin"]),
    ("把赵敏和赵敏拉进来", ["赵敏"]),
    ("把他也拉上", []),
    ("拉进来", []),
]
PEOPLE_EN = [
    ("add Min Zhao", ["Min Zhao"]),
    ("add Min Zhao and Li Na", ["Min Zhao", "Li Na"]),
    ("add Min Zhao, Li Na & Hao Sun", ["Min Zhao", "Li Na", "Hao Sun"]),
    ("add two people Min Zhao and Wei Zhang", ["Min Zhao", "Wei Zhang"]),
    ("invite Yang Liu to this topic", ["Yang Liu"]),
    ("loop in Jing Chen", ["Jing Chen"]),
    ("uh loop Bob Johnson in as well", ["Bob Johnson"]),
    ("can you add Lei Yang too", ["Lei Yang"]),
    ("can Min Zhao join this topic", ["Min Zhao"]),
    ("i want Yang Liu to join this", ["Yang Liu"]),
    ("we're missing Jing Chen here add her", ["Jing Chen"]),
    ("add my team to the topic", ["my team"]),
    ("add the finance team here", ["finance team"]),
    ("add everyone from sales to the thread", ["sales"]),
    ("get the finance folks into this topic", ["finance"]),
    ("take the whole sales team out of the topic", ["sales team"]),
    ("remove the sales people from this topic", ["sales"]),
    ("remove Min Zhao from this topic", ["Min Zhao"]),
    ("take Na Li off this topic", ["Na Li"]),
    ("kick Jie Zhou out of this discussion", ["Jie Zhou"]),
    ("remove Wei Zhang i added the wrong person", ["Wei Zhang"]),
    ("i added Hao Sun by mistake remove him", ["Hao Sun"]),
    ("Qiang Huang doesn't need to be here remove him", ["Qiang Huang"]),
    ("we don't need Qiang Huang on this remove him", ["Qiang Huang"]),
    ("Min Zhao can be removed from this topic", ["Min Zhao"]),
    ("get rid of Xiao Ma in this thread", ["Xiao Ma"]),
    ("please take yanglei out of the topic", ["yanglei"]),
    ("remove him", []),
    ("add", []),
]


@pytest.mark.parametrize(("text", "expected"), cases("zh", PEOPLE_ZH) + cases("en", PEOPLE_EN))
def test_parse_people(text: str, expected: list[str]) -> None:
    assert parse_people(text) == expected


# --- Claim and topic references --------------------------------------------------------------------------------

CLAIM_REFS = cases("zh", [
    ("报销单42", 42), ("报销42", 42), ("报销单四十二", 42), ("报销单 #42", 42), ("报销单＃４２", 42),
    ("23号报销单", 23), ("单号42的讨论", 42), ("报销一下", None), ("我有两单要报", None), ("这张报销单", None),
    ("话题7", None),
]) + cases("en", [
    ("claim 42", 42), ("claim #42", 42), ("claim number 42", 42), ("claim no. 42", 42), ("claim forty two", 42),
    ("expense claim 7 please", 7), ("claim for the budget", None), ("this claim", None), ("topic 7", None),
])


@pytest.mark.parametrize(("text", "expected"), CLAIM_REFS)
def test_parse_claim_ref(text: str, expected: int | None) -> None:
    assert parse_claim_ref(text) == expected


TOPIC_REFS = cases("zh", [
    ("话题7怎么样了", 7), ("话题 #7", 7), ("话题＃７", 7), ("话题１２", 12), ("第7个话题", 7), ("第七个话题", 7),
    ("第十一个话题", 11), ("7号话题", 7), ("话题七怎么样了", 7), ("关联话题 15", 15), ("结束话题7", 7),
    ("看看这个话题", None), ("开个话题一起讨论", None), ("话题一下", None), ("报销单42", None), ("", None),
]) + cases("en", [
    ("topic 7", 7), ("topic #7", 7), ("how's topic 7 going", 7), ("show topic number seven", 7),
    ("reopen topic twelve please", 12), ("the 3rd topic", 3), ("close this topic", None), ("topic is ready", None),
    ("claim 42", None),
])


@pytest.mark.parametrize(("text", "expected"), TOPIC_REFS)
def test_parse_topic_ref(text: str, expected: int | None) -> None:
    assert parse_topic_ref(text) == expected


# --- Conclusions and notes -------------------------------------------------------------------------------------

CONCLUSIONS = cases("zh", [
    ("记录结论：发票需要重新开具", "发票需要重新开具"),
    ("记录结论:发票需要重新开具", "发票需要重新开具"),
    ("结论是发票需要重新开具", "发票需要重新开具"),
    ("结论：Q3预算维持不变", "Q3预算维持不变"),
    ("嗯 结论就是报价单要重做", "报价单要重做"),
    ("呃 记录一下结论 测试环境周三前修好", "测试环境周三前修好"),
    ("我们的结论是住宿超标部分个人承担", "住宿超标部分个人承担"),
    ("最终决定由孙浩负责发版", "由孙浩负责发版"),
    ("最后的结论：差旅报销统一走新流程。", "差旅报销统一走新流程"),
    ("大家一致同意 合同续签一年", "合同续签一年"),
    ("定了：供应商选第二家", "供应商选第二家"),
    ("把结论记下来 发版推迟到月底", "发版推迟到月底"),
    ("讨论的最终结果是先不招人", "先不招人"),
    ("结论是可以报 但要补发票", "可以报 但要补发票"),
    ("记录结论", None),
    ("结论：", None),
    ("发票需要重新开具", None),
]) + cases("en", [
    ("conclusion: the invoice must be reissued", "the invoice must be reissued"),
    ("Conclusion: The invoice must be reissued.", "The invoice must be reissued"),
    ("we concluded that the invoice must be reissued", "the invoice must be reissued"),
    ("the conclusion is we move the release to next monday", "we move the release to next monday"),
    ("uh we agreed that the pricing sheet has to be redone", "the pricing sheet has to be redone"),
    ("everyone agreed the contract renews for a year", "the contract renews for a year"),
    ("the decision is to move the office next month", "move the office next month"),
    ("the decision we reached is to hire one contractor", "hire one contractor"),
    ("final decision the offsite goes to hangzhou", "the offsite goes to hangzhou"),
    ("the outcome of the discussion is no new hires for now", "no new hires for now"),
    ("um it's settled code reviews twice a week", "code reviews twice a week"),
    ("record this as the conclusion the contract needs another legal review",
     "the contract needs another legal review"),
    ("we're going with the new template", "we're going with the new template"),
    ("record the conclusion", None),
    ("the invoice must be reissued", None),
])


@pytest.mark.parametrize(("text", "expected"), CONCLUSIONS)
def test_parse_conclusion(text: str, expected: str | None) -> None:
    assert parse_conclusion(text) == expected


NOTES = cases("zh", [
    ("记一下：周五之前把预算表发给财务", "周五之前把预算表发给财务"),
    ("记一下:周五之前把预算表发给财务", "周五之前把预算表发给财务"),
    ("记一下 下周一前确认会议室", "下周一前确认会议室"),
    ("嗯 记录一下 测试环境周三重启", "测试环境周三重启"),
    ("备注：客户要求月底前报价", "客户要求月底前报价"),
    ("帮我记个待办 周四把合同发给法务", "周四把合同发给法务"),
    ("记一下待办事项 更新OKR文档", "更新OKR文档"),
    ("待办：跟李娜对一下预算", "跟李娜对一下预算"),
    ("todo 周四之前把报价发给卡罗尔", "周四之前把报价发给卡罗尔"),
    ("记一下", None),
    ("周五之前把预算表发给财务", None),
]) + cases("en", [
    ("note: send the budget sheet to finance by Friday", "send the budget sheet to finance by Friday"),
    ("Note: Send the budget sheet to finance by Friday.", "Send the budget sheet to finance by Friday"),
    ("note send the budget sheet to finance by friday", "send the budget sheet to finance by friday"),
    ("make a note that we need Lei Yang to confirm the schedule", "we need Lei Yang to confirm the schedule"),
    ("uh make a note to run regression tests before release", "run regression tests before release"),
    ("jot down book the meeting room before monday", "book the meeting room before monday"),
    ("note to self follow up with the vendor tomorrow", "follow up with the vendor tomorrow"),
    ("todo: send the contract to legal on thursday", "send the contract to legal on thursday"),
    ("action item: update the okr doc", "update the okr doc"),
    ("remember that the server contract expires at year end", "the server contract expires at year end"),
    ("please remember to send the budget sheet to finance", "send the budget sheet to finance"),
    ("do you remember that meeting", None),
    ("note:", None),
    ("send the budget sheet to finance", None),
])


@pytest.mark.parametrize(("text", "expected"), NOTES)
def test_parse_note(text: str, expected: str | None) -> None:
    assert parse_note(text) == expected


# --- Links -----------------------------------------------------------------------------------------------------

LINKS = cases("zh", [
    ("把这个话题和报销42关联", LinkRequest("claim", "42")),
    ("把这个话题和报销单四十二关联", LinkRequest("claim", "42")),
    ("关联一下报销单８", LinkRequest("claim", "8")),
    ("关联话题7", LinkRequest("topic", "7")),
    ("和第七个话题关联", LinkRequest("topic", "7")),
    ("把这个话题关联到李娜", LinkRequest("person", "李娜")),
    ("把话题跟陈静关联", LinkRequest("person", "陈静")),
    ("这个话题关联孙浩", LinkRequest("person", "孙浩")),
    ("把这个话题和刘洋关联起来", LinkRequest("person", "刘洋")),
    ("把Jing Chen关联到这个话题", LinkRequest("person", "Jing Chen")),
    ("关联文档 https://wiki/x", LinkRequest("document", "https://wiki/x")),
    ("关联文档 https://wiki.galaxy.tech/budget-q3。", LinkRequest("document", "https://wiki.galaxy.tech/budget-q3")),
    ("关联文档：https://wiki.galaxy.tech/x，谢谢", LinkRequest("document", "https://wiki.galaxy.tech/x")),
    ("关联文档", None),
    ("关联一下", None),
]) + cases("en", [
    ("link this to claim 42", LinkRequest("claim", "42")),
    ("link it with claim #23", LinkRequest("claim", "23")),
    ("link this to topic 7", LinkRequest("topic", "7")),
    ("link Li Na to this topic", LinkRequest("person", "Li Na")),
    ("associate Yang Liu with this topic", LinkRequest("person", "Yang Liu")),
    ("link to Min Zhao", LinkRequest("person", "Min Zhao")),
    ("link Qiang Huang", LinkRequest("person", "Qiang Huang")),
    ("link the doc https://wiki.galaxy.tech/x?id=3.", LinkRequest("document", "https://wiki.galaxy.tech/x?id=3")),
    ("link the doc (https://wiki.galaxy.tech/x)", LinkRequest("document", "https://wiki.galaxy.tech/x")),
    ("link the doc", None),
    ("link this", None),
    ("link it here", None),
])


@pytest.mark.parametrize(("text", "expected"), LINKS)
def test_parse_link(text: str, expected: LinkRequest | None) -> None:
    assert parse_link(text) == expected


# --- Search ----------------------------------------------------------------------------------------------------

SEARCHES = cases("zh", [
    ("之前关于住宿标准讨论过什么？", "住宿标准"),
    ("之前关于住宿标准讨论过什么?", "住宿标准"),
    ("有没有人讨论过打车发票的问题", "打车发票"),
    ("以前聊过年会预算吗", "年会预算"),
    ("知识库里有没有关于招待的讨论", "招待"),
    ("查查之前关于服务器采购的结论", "服务器采购"),
    ("嗯 之前有人问过外币报销怎么弄吗", "外币报销"),
    ("大家以前怎么处理发票抬头错误的", "发票抬头错误"),
    ("搜索话题 Q3预算", "Q3预算"),
    ("关于新员工入职 之前讨论过什么", "新员工入职"),
    ("过去的话题里有提到移动端发版吗", "移动端发版"),
    ("以前有人遇到过发票丢了的情况吗？怎么处理的", "发票丢了"),
    ("之前讨论过什么", ""),
]) + cases("en", [
    ("did anyone discuss hotel limits before?", "hotel limits"),
    ("Did anyone discuss Hotel Limits before?", "Hotel Limits"),
    ("has anyone talked about taxi receipts", "taxi receipts"),
    ("search topics for the annual party budget", "annual party budget"),
    ("what did we conclude about server procurement", "server procurement"),
    ("has the test environment come up in a topic before", "test environment"),
    ("has anyone lost an invoice before what did they do", "lost an invoice"),
    ("find topics that mention the mobile release", "mobile release"),
    ("um was there a discussion about foreign currency claims", "foreign currency claims"),
    ("did anyone discuss anything before", ""),
])


@pytest.mark.parametrize(("text", "expected"), SEARCHES)
def test_search_query(text: str, expected: str) -> None:
    assert search_query(text) == expected


# --- Robustness ------------------------------------------------------------------------------------------------

GARBAGE = [
    "", "   ", "？？？", "😀😀😀", "\x00\x01\x02", "https://", "#", "第个话题", "把", "claim", "link", "note:",
    "a" * 100_000, "话题" * 50_000, "把" * 10_000, "claim " * 10_000, "和" * 5_000, "和 " * 3_000, "把和" * 3_000,
    "link " * 5_000, "拉" * 5_000, "关联" * 3_000, "讨论 " * 3_000, "on " * 3_000, "刘洋 " * 2_000 + "都要在",
    "add " * 3_000, "everyone from " * 1_000, "记一下" * 2_000, "conclusion " * 2_000, "9" * 5_000, "话题" + "9" * 50,
]
PARSERS = [parse_open, parse_people, parse_conclusion, parse_note, parse_link, parse_topic_ref, parse_claim_ref,
           search_query]


@pytest.mark.parametrize("parser", PARSERS, ids=lambda f: f.__name__)
def test_garbage_never_raises_and_is_fast(parser) -> None:
    for text in [*GARBAGE, None, 42]:
        started = time.perf_counter()
        result = parser(text)  # type: ignore[arg-type]
        assert time.perf_counter() - started < 1.0, repr(text)[:40]
        if parser is parse_open:
            assert isinstance(result, OpenRequest)
        elif parser is parse_people:
            assert isinstance(result, list) and all(isinstance(n, str) and n for n in result)
        elif parser is search_query:
            assert isinstance(result, str)
        elif parser in (parse_topic_ref, parse_claim_ref):
            assert result is None or (isinstance(result, int) and result >= 0)
        elif parser is parse_link:
            assert result is None or isinstance(result, LinkRequest)
        else:
            assert result is None or (isinstance(result, str) and result)


@pytest.mark.parametrize("text", ["", "   ", None, "😀", "\n\n"])
def test_empty_input_gives_empty_answers(text: str | None) -> None:
    assert parse_open(text) == OpenRequest(title=None)  # type: ignore[arg-type]
    assert parse_people(text) == []  # type: ignore[arg-type]
    assert parse_conclusion(text) is None  # type: ignore[arg-type]
    assert parse_note(text) is None  # type: ignore[arg-type]
    assert parse_link(text) is None  # type: ignore[arg-type]
    assert parse_topic_ref(text) is None  # type: ignore[arg-type]
    assert search_query(text) == ""  # type: ignore[arg-type]


def test_only_the_first_max_text_characters_are_read() -> None:
    assert parse_topic_ref("x" * MAX_TEXT + "话题7") is None
    assert parse_topic_ref("话题7" + "x" * 10 * MAX_TEXT) == 7


def test_huge_numbers_are_no_references() -> None:
    assert parse_topic_ref("话题" + "9" * 50) is None
    assert parse_claim_ref("claim 99999999999") is None


def test_the_parser_does_not_import_rasa() -> None:
    code = ("import sys, assistant.topic_text; "
            "sys.exit(any(m.split('.')[0] in ('rasa', 'rasa_sdk') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0
