"""The company directory: people, departments, manager chain, roles, and name resolution.

Resolution never guesses: a name that fits several people (张伟 / 章玮 sound alike, "Wei Zhang" is
two people) comes back as `ambiguous` with every candidate, so the caller asks the user.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Literal

from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process
from sqlalchemy import select

from assistant.store import Database
from assistant.store.models import Department, Person, PersonRole

ROLES = ("ceo", "finance_director", "expense_reviewer", "hr_director")

SELF_WORDS = {"我", "我自己", "本人", "me", "myself", "i"}
MANAGER_WORDS = {"我的领导", "我领导", "我的经理", "我的上级", "我老板", "我的老板", "my manager", "my boss", "my lead"}
TEAM_WORDS = {"我的团队", "我团队", "我的组", "我们组", "我的下属", "我的手下",
              "my team", "my reports", "my direct reports"}
HONORIFICS = ("老师", "先生", "女士", "同学", "小姐", "mr.", "mrs.", "ms.", "mr", "mrs", "ms")
FUZZY_CUTOFF = 85.0


@dataclass(frozen=True)
class Employee:
    """A person as the rest of the core sees them (a plain value, detached from the session)."""

    id: str
    name_zh: str
    name_en: str
    title_zh: str
    title_en: str
    department_id: str
    manager_id: str | None
    roles: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "department": self.department_id,
            "manager": self.manager_id,
            "roles": list(self.roles),
        }


@dataclass(frozen=True)
class Unit:
    id: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    director_id: str | None

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


Kind = Literal["person", "group", "ambiguous", "unknown"]


@dataclass
class Resolution:
    """What a name stands for. `people` holds the match, the group, or the candidates to ask about."""

    query: str
    kind: Kind
    people: list[Employee] = field(default_factory=list)
    label: str = ""

    @property
    def person(self) -> Employee | None:
        return self.people[0] if self.kind == "person" else None


def normalize(text: str) -> str:
    """Lower-case, NFKC, no spaces, dots, dashes or brackets: 'Wei  Zhang' → 'weizhang'."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s.\-_·()（）]+", "", text)


def _strip_honorific(text: str) -> str:
    low = text.strip()
    for word in HONORIFICS:
        if low.lower().endswith(word) and len(low) > len(word):
            return low[: -len(word)].strip()
        if low.lower().startswith(word + " "):
            return low[len(word) + 1 :].strip()
    return low


def pinyin_key(text: str) -> str:
    """Toneless pinyin of the Chinese characters (other characters kept): 章玮 → 'zhangwei'."""
    return normalize("".join(lazy_pinyin(text, style=Style.NORMAL)))


def _english_names(name_en: str) -> set[str]:
    """'Wei Zhang (Mobile)' → {'Wei Zhang (Mobile)', 'Wei Zhang', 'Zhang Wei'}."""
    base = re.sub(r"\(.*?\)", "", name_en).strip()
    parts = base.split()
    return {name_en, base, " ".join(reversed(parts))} if len(parts) >= 2 else {name_en, base}


def _english_keys(name_en: str) -> set[str]:
    """Both orders of an English name, normalized: 'Wei Zhang (Mobile)' → weizhangmobile, weizhang, zhangwei."""
    return {normalize(name) for name in _english_names(name_en)}


class Directory:
    """An in-memory snapshot of the directory; cheap to build (one query per table) and to consult."""

    def __init__(self, people: Iterable[Employee], units: Iterable[Unit]) -> None:
        self.people: dict[str, Employee] = {p.id: p for p in people}
        self.units: dict[str, Unit] = {u.id: u for u in units}
        self._by_key: dict[str, set[str]] = {}
        self._by_sound: dict[str, set[str]] = {}
        for person in self.people.values():
            for key in {normalize(person.id), normalize(person.name_zh), *_english_keys(person.name_en)}:
                self._by_key.setdefault(key, set()).add(person.id)
            self._by_sound.setdefault(pinyin_key(person.name_zh), set()).add(person.id)
        self._unit_keys: dict[str, str] = {}
        for unit in self.units.values():
            for key in (unit.id, unit.name_zh, unit.name_en, *unit.aliases):
                self._unit_keys[normalize(key)] = unit.id
        # Fuzzy matching compares Latin spellings: ids, English names and the pinyin of Chinese names.
        self._fuzzy_choices: dict[str, str] = {}
        for person in self.people.values():
            for key in {normalize(person.id), pinyin_key(person.name_zh), *_english_keys(person.name_en)}:
                self._fuzzy_choices[f"{key}\x00{person.id}"] = key

        names = {n for p in self.people.values() for n in (p.name_zh, *_english_names(p.name_en)) if len(n) > 1}
        self._names = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) or "(?!)",
                                 re.IGNORECASE)

    def whole_name(self, fragment: str, text: str) -> str:
        """The directory name in `text` that `fragment` is part of: the NLU can cut a name short
        ('jie' of "is jie zhou busy"), and a part of a name is someone else or nobody."""
        key = normalize(fragment)
        if not key:
            return fragment
        for match in self._names.finditer(text or ""):
            name = match.group(0)
            before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]
            if name.isascii() and (before.isalpha() or after.isalpha()):  # "na li" inside "china lighting"
                continue
            if key in normalize(name) and len(normalize(name)) > len(key):
                return name
        return fragment

    def without_names(self, text: str) -> str:
        """The text with every employee's Chinese or English name removed (for language detection)."""
        return self._names.sub(" ", text)

    @classmethod
    def load(cls, db: Database) -> Directory:
        with db.session() as s:
            roles: dict[str, list[str]] = {}
            for row in s.execute(select(PersonRole)).scalars():
                roles.setdefault(row.person_id, []).append(row.role)
            people = [
                Employee(
                    id=p.id,
                    name_zh=p.name_zh,
                    name_en=p.name_en,
                    title_zh=p.title_zh,
                    title_en=p.title_en,
                    department_id=p.department_id,
                    manager_id=p.manager_id,
                    roles=tuple(sorted(roles.get(p.id, []))),
                )
                for p in s.execute(select(Person).where(Person.active.is_(True)).order_by(Person.id)).scalars()
            ]
            units = [
                Unit(d.id, d.name_zh, d.name_en, tuple(d.aliases or ()), d.director_id)
                for d in s.execute(select(Department).order_by(Department.id)).scalars()
            ]
        return cls(people, units)

    # -- structure ---------------------------------------------------------------------------

    def get(self, person_id: str) -> Employee | None:
        return self.people.get(person_id)

    def names(self, person_id: str | None) -> dict[str, str]:
        """{'zh': 张伟, 'en': Wei Zhang}, for messages whose reader's language is decided later; the id when
        the person is not (or no longer) in the directory."""
        found = self.get(person_id) if person_id else None
        return {lang: found.name(lang) if found else (person_id or "") for lang in ("zh", "en")}

    def manager_of(self, person_id: str) -> Employee | None:
        person = self.people.get(person_id)
        return self.people.get(person.manager_id) if person and person.manager_id else None

    def manager_chain(self, person_id: str) -> list[Employee]:
        """The person's manager, their manager, ... up to the top (cycle-safe)."""
        chain: list[Employee] = []
        seen = {person_id}
        current = self.manager_of(person_id)
        while current and current.id not in seen:
            chain.append(current)
            seen.add(current.id)
            current = self.manager_of(current.id)
        return chain

    def direct_reports(self, person_id: str) -> list[Employee]:
        return [p for p in self.people.values() if p.manager_id == person_id]

    def peers(self, person_id: str) -> list[Employee]:
        """Colleagues with the same manager (a status's "team", DESIGN.md); nobody for the top of the tree."""
        person = self.people.get(person_id)
        if person is None or not person.manager_id:
            return []
        return [p for p in self.direct_reports(person.manager_id) if p.id != person_id]

    def all_reports(self, person_id: str) -> list[Employee]:
        """Direct and indirect reports, breadth first."""
        found: list[Employee] = []
        queue = [person_id]
        seen = {person_id}
        while queue:
            for report in self.direct_reports(queue.pop(0)):
                if report.id not in seen:
                    seen.add(report.id)
                    found.append(report)
                    queue.append(report.id)
        return found

    def department_of(self, person_id: str) -> Unit | None:
        person = self.people.get(person_id)
        return self.units.get(person.department_id) if person else None

    def director_of(self, person_id: str) -> Employee | None:
        unit = self.department_of(person_id)
        return self.people.get(unit.director_id) if unit and unit.director_id else None

    def members(self, unit_id: str) -> list[Employee]:
        return [p for p in self.people.values() if p.department_id == unit_id]

    def with_role(self, role: str) -> list[Employee]:
        return [p for p in self.people.values() if role in p.roles]

    def one_with_role(self, role: str) -> Employee | None:
        holders = self.with_role(role)
        return holders[0] if holders else None

    # -- names -------------------------------------------------------------------------------

    def resolve(self, query: str, asker: str | None = None) -> Resolution:
        """What `query` names: one person, a group (my team, a department), several candidates, or nobody."""
        raw = (query or "").strip()
        if not raw:
            return Resolution(query, "unknown")
        key = normalize(raw)
        if asker and asker in self.people:
            if key in {normalize(w) for w in SELF_WORDS}:
                return Resolution(query, "person", [self.people[asker]])
            if key in {normalize(w) for w in MANAGER_WORDS}:
                manager = self.manager_of(asker)
                return Resolution(query, "person", [manager]) if manager else Resolution(query, "unknown")
            if key in {normalize(w) for w in TEAM_WORDS}:
                return Resolution(query, "group", self.direct_reports(asker), label="team")
        if key in self._unit_keys:
            unit_id = self._unit_keys[key]
            return Resolution(query, "group", self.members(unit_id), label=unit_id)

        if raw.lower() in self.people:  # a login id typed as such; "zhang wei" (spoken) is not an id
            return Resolution(query, "person", [self.people[raw.lower()]])
        key = normalize(_strip_honorific(raw))
        exact = self._by_key.get(key, set())
        sound = self._by_sound.get(pinyin_key(raw) if _has_cjk(raw) else key, set())
        candidates = exact | sound
        if len(candidates) == 1:
            return Resolution(query, "person", [self.people[candidates.pop()]])
        if candidates:
            ordered = sorted(candidates, key=lambda pid: (pid not in exact, pid))
            return Resolution(query, "ambiguous", [self.people[pid] for pid in ordered])
        return self._fuzzy(query, key)

    def _fuzzy(self, query: str, key: str) -> Resolution:
        if len(key) < 2:
            return Resolution(query, "unknown")
        target = pinyin_key(key) if _has_cjk(key) else key
        scored = process.extract(target, self._fuzzy_choices, scorer=fuzz.ratio, limit=10, score_cutoff=FUZZY_CUTOFF)
        best: dict[str, float] = {}
        for _key, score, choice in scored:
            pid = choice.split("\x00", 1)[1]
            best[pid] = max(best.get(pid, 0.0), score)
        if not best:
            return Resolution(query, "unknown")
        top = max(best.values())
        close = sorted(pid for pid, score in best.items() if top - score < 5.0)
        kind: Kind = "person" if len(close) == 1 else "ambiguous"
        return Resolution(query, kind, [self.people[pid] for pid in close])


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
