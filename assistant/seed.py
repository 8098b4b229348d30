"""`assistant seed`: load the company files into the store. Re-running with unchanged files changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import audit
from assistant.company import load_company
from assistant.store import Database
from assistant.store.models import (
    Department,
    Person,
    PersonRole,
    PolicyCategory,
    PolicyChange,
    PolicySetting,
)

ACTOR = "system:seed"


def _upsert(session: Session, model: type, key: dict[str, Any], values: dict[str, Any]) -> str:
    """Insert or update one row; returns 'created', 'updated' or '' (unchanged) and audits changes."""
    row = session.get(model, tuple(key.values()) if len(key) > 1 else next(iter(key.values())))
    object_id = ":".join(str(v) for v in key.values())
    if row is None:
        session.add(model(**key, **values))
        audit.record(session, ACTOR, "create", model.__tablename__, object_id)
        return "created"
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return ""
    for name, value in changed.items():
        setattr(row, name, value)
    audit.record(session, ACTOR, "update", model.__tablename__, object_id, detail={"fields": sorted(changed)})
    return "updated"


def seed(db: Database, company_dir: Path) -> dict[str, int]:
    """Load people, departments, roles, policy and policy changes; returns counts of created/updated rows."""
    data = load_company(company_dir)
    counts = {"created": 0, "updated": 0, "deactivated": 0}

    def count(outcome: str) -> None:
        if outcome:
            counts[outcome] += 1

    with db.session() as s:
        org = data["people"]
        for unit in org["departments"]:
            count(_upsert(s, Department, {"id": unit["id"]}, {
                "name_zh": unit["name_zh"], "name_en": unit["name_en"],
                "aliases": list(unit.get("aliases", [])), "director_id": unit.get("director"),
            }))
        s.flush()
        # Managers first, so the foreign key to people.id always points at an existing row.
        ordered = sorted(org["people"], key=lambda p: _depth(p["id"], org["people"]))
        listed = set()
        for person in ordered:
            listed.add(person["id"])
            count(_upsert(s, Person, {"id": person["id"]}, {
                "name_zh": person["name_zh"], "name_en": person["name_en"],
                "title_zh": person.get("title_zh", ""), "title_en": person.get("title_en", ""),
                "department_id": person["department"], "manager_id": person.get("manager"), "active": True,
            }))
            s.flush()
        for row in s.execute(select(Person).where(Person.active.is_(True))).scalars():
            if row.id not in listed:
                row.active = False
                audit.record(s, ACTOR, "deactivate", "people", row.id)
                counts["deactivated"] += 1
        wanted = {(p["id"], r) for p in org["people"] for r in p.get("roles", [])}
        existing = {(r.person_id, r.role): r for r in s.execute(select(PersonRole)).scalars()}
        for pid, role in sorted(wanted - existing.keys()):
            s.add(PersonRole(person_id=pid, role=role))
            audit.record(s, ACTOR, "grant_role", "people", pid, detail={"role": role})
            counts["created"] += 1
        for key in sorted(existing.keys() - wanted):
            s.delete(existing[key])
            audit.record(s, ACTOR, "revoke_role", "people", key[0], detail={"role": key[1]})
            counts["updated"] += 1

        policy = data["policy"]
        for name in ("currency", "exchange_rates", "invoice_required_over", "max_age_days"):
            count(_upsert(s, PolicySetting, {"key": name}, {"value": policy[name]}))
        for cat in policy["categories"]:
            cap = cat.get("cap") or {}
            rules = {k: v for k, v in cat.items()
                     if k not in {"id", "name_zh", "name_en", "cap", "note_zh", "note_en"}}
            count(_upsert(s, PolicyCategory, {"id": cat["id"]}, {
                "name_zh": cat["name_zh"], "name_en": cat["name_en"],
                "cap_fen": int(round(float(cap["amount"]) * 100)) if cap else None, "cap_per": cap.get("per"),
                "note_zh": cat.get("note_zh", ""), "note_en": cat.get("note_en", ""), "rules": rules,
            }))
        for change in data["changes"]["changes"]:
            effective = change["effective"]
            count(_upsert(s, PolicyChange, {"id": change["id"]}, {
                "effective": effective if isinstance(effective, date) else date.fromisoformat(str(effective)),
                "categories": list(change.get("categories", [])),
                "text_zh": change["text_zh"], "text_en": change["text_en"],
            }))
    return counts


def _depth(person_id: str, people: list[dict[str, Any]]) -> int:
    managers = {p["id"]: p.get("manager") for p in people}
    depth, current, seen = 0, managers.get(person_id), {person_id}
    while current and current not in seen:
        seen.add(current)
        depth += 1
        current = managers.get(current)
    return depth
