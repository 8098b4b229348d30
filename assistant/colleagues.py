"""Answers about colleagues ("李娜是谁", "who is Lei Yang's manager?") from the directory."""

from __future__ import annotations

import re

from assistant.directory import Directory, Employee, Resolution
from assistant.expense_text import position_number
from assistant.i18n import listing, t


def _dept(directory: Directory, person: Employee, lang: str) -> str:
    unit = directory.units.get(person.department_id)
    return unit.name(lang) if unit else person.department_id


def candidates_text(directory: Directory, people: list[Employee], lang: str) -> str:
    """A numbered list of candidates, so the user can answer with a number, a name or an id."""
    return "\n".join(
        t("who.candidate", lang, index=i, name=p.name(lang), id=p.id, title=p.title(lang),
          department=_dept(directory, p, lang))
        for i, p in enumerate(people, 1)
    )


def describe(directory: Directory, person: Employee, lang: str) -> str:
    manager = directory.manager_of(person.id)
    manager_line = t("who.manager_line", lang, manager=manager.name(lang)) if manager else t("who.top", lang)
    other = person.name_en if lang == "zh" else person.name_zh
    return t("who.person", lang, name=person.name(lang), other_name=other, id=person.id,
             title=person.title(lang), department=_dept(directory, person, lang), manager_line=manager_line)


_ASKED_NAME = (
    re.compile(r"^\s*(?:请问|那个|嗯)?\s*(.+?)\s*(?:是谁|是哪位|是做什么的|是干什么的|在哪个部门|的领导是谁|的上级是谁)"),
    re.compile(r"^\s*(?:who|what)(?:'s| is| does)\s+(.+?)(?:'s manager|'s boss| do| work)?\s*[?？.!]*$", re.I),
)


_NOT_NAMES = {"that", "this", "he", "she", "it", "they", "you", "他", "她", "这", "那", "这个人", "那个人", "你"}


_ASKED_STATUS = (
    re.compile(r"^\s*(?:请问|那个|嗯|呃)?\s*(.+?)\s*(?:现在|今天|这会儿|目前)?\s*(?:在忙什么|在忙啥|在干嘛|在干什么|在做什么|"
               r"忙什么|忙不忙|忙吗|有空吗|有没有空|在不在|的状态)"),
    re.compile(r"^\s*(?:um|uh)?\s*(?:what(?:'s| is)|what are)\s+(.+?)\s+(?:up to|doing|working on|busy with)\b", re.I),
    re.compile(r"^\s*(?:um|uh)?\s*(?:is|are)\s+(.+?)\s+(?:busy|free|available|around)\b", re.I),
    re.compile(r"^\s*(?:um|uh)?\s*(?:show me\s+|what(?:'s| is)\s+)?(.+?)'s\s+(?:current\s+)?status\b", re.I),
)


def name_from_question(text: str) -> str | None:
    """The name in "张三丰是谁" / "who is Xavier Quinn", for when the NLU found no person entity."""
    return _first_name(_ASKED_NAME, text)


def name_from_status_question(text: str) -> str | None:
    """The name in "孙浩在忙什么" / "what is Hao Sun up to", for when the NLU found no person entity."""
    return _first_name(_ASKED_STATUS, text)


def _first_name(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    for pattern in patterns:
        match = pattern.search(text or "")
        name = match.group(1).strip() if match else ""
        if 0 < len(name) <= 40 and name.lower() not in _NOT_NAMES:
            return name
    return None


def who_is(directory: Directory, name: str | None, lang: str, asker: str | None = None) -> str:
    """One reply about `name`: the person, the group's members, the candidates to choose from, or a clear no."""
    if not name or not name.strip():
        return t("who.need_name", lang)
    found: Resolution = directory.resolve(name, asker=asker)
    if found.kind == "person":
        return describe(directory, found.people[0], lang)
    if found.kind == "ambiguous":
        return t("who.ambiguous", lang, name=name, candidates=candidates_text(directory, found.people, lang))
    if found.kind == "group":
        return t("who.group", lang, name=name, count=len(found.people),
                 members=listing(lang, (p.name(lang) for p in found.people)))
    return t("who.unknown", lang, name=name)


_ORDINAL = re.compile(
    r"^(?:第\s*)?(?P<n>[1-9]|[一二两三四五六七八九])\s*(?:个|位)?$"
    r"|^(?:the\s+)?(?P<w>first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|one|two|three|four|five)(?:\s+one)?$",
    re.I)
_ANSWER_FRAME = re.compile(
    r"^(?:嗯|呃|um|uh|是|就是|我说的是|我是说|我指的是|i mean|i meant|the one|应该是)[\s,，:：]*"
    r"|[\s。.!！?？,，]+$|(?:那个|那位|吧|啊)$", re.I)


def pick_candidate(directory: Directory, text: str, candidates: list[str]) -> str | None:
    """The candidate an answer picks: by its number in the list, its id, or a name that fits only one of them."""
    said = (text or "").strip()[:80]
    for _ in range(3):
        said = _ANSWER_FRAME.sub("", said).strip()
    ordinal = _ORDINAL.match(said)
    if ordinal:
        index = position_number(ordinal.group("n") or ordinal.group("w")) or 0
        return candidates[index - 1] if 0 < index <= len(candidates) else None
    for person_id in candidates:
        person = directory.get(person_id)
        if person and said.lower() in (person.id, person.name_zh, person.name_en.lower()):
            return person_id
    found = {p.id for p in directory.resolve(said).people} & set(candidates) if said else set()
    return found.pop() if len(found) == 1 else None
