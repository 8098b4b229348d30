"""Name resolution and the org chart of the sample company (DESIGN.md)."""

from __future__ import annotations

import pytest

from assistant.colleagues import who_is
from assistant.directory import Directory


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lina", "lina"),
        ("李娜", "lina"),
        ("Na Li", "lina"),
        ("Li Na", "lina"),
        ("li na", "lina"),
        ("  NA   LI ", "lina"),
        ("陈静", "chenjing"),
        ("Jing Chen", "chenjing"),
        ("chen jing", "chenjing"),
        ("Jing Chenn", "chenjing"),  # a typo is forgiven when only one person is close
        ("zhangwei", "zhangwei"),  # a login id is exact
        ("zhangwei2", "zhangwei2"),
        ("Wei Zhang (Mobile)", "zhangwei2"),
        ("王芳", "wangfang"),
        ("王 芳", "wangfang"),
        ("李娜老师", "lina"),
        ("Mr. Bob Johnson", "bob"),
        ("Alice Smith", "alice"),
        ("艾丽斯", "alice"),
    ],
)
def test_one_person_is_found_by_any_of_their_names(directory: Directory, query: str, expected: str) -> None:
    found = directory.resolve(query)
    assert found.kind == "person", (query, found.kind, [p.id for p in found.people])
    assert found.person.id == expected


@pytest.mark.parametrize("query", ["张伟", "章玮", "Wei Zhang", "Zhang Wei", "zhang wei", "章伟"])
def test_names_that_sound_or_read_alike_return_every_candidate(directory: Directory, query: str) -> None:
    found = directory.resolve(query)
    assert found.kind == "ambiguous"
    assert {p.id for p in found.people} == {"zhangwei", "zhangwei2"}


def test_exact_characters_are_listed_first_among_candidates(directory: Directory) -> None:
    assert directory.resolve("章玮").people[0].id == "zhangwei2"
    assert directory.resolve("张伟").people[0].id == "zhangwei"


@pytest.mark.parametrize("query", ["", "   ", "nobody", "张三丰", "Xavier Quinn", "q"])
def test_unknown_names_are_not_guessed(directory: Directory, query: str) -> None:
    assert directory.resolve(query).kind == "unknown"


def test_my_team_is_the_askers_direct_reports(directory: Directory) -> None:
    for phrase in ("我的团队", "my team", "My Team"):
        found = directory.resolve(phrase, asker="yanglei")
        assert found.kind == "group"
        assert sorted(p.id for p in found.people) == ["alice", "zhangwei", "zhaomin"]


def test_me_and_my_manager_depend_on_who_asks(directory: Directory) -> None:
    assert directory.resolve("我", asker="zhaomin").person.id == "zhaomin"
    assert directory.resolve("my manager", asker="zhaomin").person.id == "yanglei"
    assert directory.resolve("我的领导", asker="yanglei").person.id == "chenjing"
    assert directory.resolve("my manager", asker="wangfang").kind == "unknown"


@pytest.mark.parametrize(("query", "unit"), [("财务部", "finance"), ("Finance", "finance"), ("研发部", "engineering"),
                                             ("HR", "hr"), ("人事部", "hr"), ("sales team", "sales")])
def test_department_names_resolve_to_their_members(directory: Directory, query: str, unit: str) -> None:
    found = directory.resolve(query)
    assert found.kind == "group"
    assert found.people and all(p.department_id == unit for p in found.people)


def test_manager_chain_and_reports(directory: Directory) -> None:
    assert [p.id for p in directory.manager_chain("zhangwei")] == ["yanglei", "chenjing", "wangfang"]
    assert directory.manager_chain("wangfang") == []
    assert {p.id for p in directory.all_reports("chenjing")} == {
        "yanglei", "sunhao", "zhangwei", "zhaomin", "alice", "zhangwei2", "zhoujie"}
    assert directory.director_of("zhangwei").id == "chenjing"
    assert directory.director_of("carol").id == "bob"


def test_roles_of_the_approval_chain(directory: Directory) -> None:
    assert directory.one_with_role("ceo").id == "wangfang"
    assert directory.one_with_role("expense_reviewer").id == "liuyang"
    assert directory.one_with_role("finance_director").id == "lina"
    assert directory.one_with_role("hr_director").id == "wuting"


def test_who_is_answers_in_the_asked_language(directory: Directory) -> None:
    zh = who_is(directory, "李娜", "zh")
    assert "财务总监" in zh and "王芳" in zh
    en = who_is(directory, "Na Li", "en")
    assert "Finance Director" in en and "Fang Wang" in en


def test_who_is_an_ambiguous_name_asks_back_with_numbered_candidates(directory: Directory) -> None:
    reply = who_is(directory, "Wei Zhang", "en")
    assert "Which one" in reply and "1. " in reply and "2. " in reply
    assert "zhangwei2" in reply and "Mobile Engineer" in reply


def test_who_is_an_unknown_name_says_so(directory: Directory) -> None:
    assert "找不到" in who_is(directory, "张三丰", "zh")
    assert "can't find" in who_is(directory, "Xavier Quinn", "en")
    assert "哪位" in who_is(directory, None, "zh")


def test_names_are_taken_out_for_language_detection(directory: Directory) -> None:
    from assistant.language import detect_language

    assert detect_language(directory.without_names("who is 李娜")) == "en"
    assert detect_language(directory.without_names("Na Li是谁")) == "zh"
    assert detect_language(directory.without_names("王芳")) is None


@pytest.mark.parametrize(
    ("fragment", "text", "whole"),
    [
        ("jie", "is jie zhou busy", "jie zhou"),  # the NLU cut the name short
        ("Zhou", "what is Jie Zhou up to", "Jie Zhou"),
        ("李", "李娜在忙吗", "李娜"),
        ("Li Na", "approve Li Na's claim", "Li Na"),  # already whole
        ("na", "send it to china lighting", "na"),  # "na li" inside other words is no name
        ("Xavier", "is Xavier Quinn busy", "Xavier"),  # nobody in the directory: left as the NLU read it
    ],
)
def test_a_name_the_nlu_cut_short_is_widened_to_the_whole_name(directory: Directory, fragment: str, text: str,
                                                               whole: str) -> None:
    assert directory.whole_name(fragment, text) == whole


@pytest.mark.parametrize(("question", "name"), [("张三丰是谁", "张三丰"), ("who is Xavier Quinn?", "Xavier Quinn"),
                                               ("请问杨磊的领导是谁", "杨磊"), ("who is that", None), ("你好", None)])
def test_a_name_is_read_from_the_question_when_the_nlu_found_none(question: str, name: str | None) -> None:
    from assistant.colleagues import name_from_question

    assert name_from_question(question) == name
