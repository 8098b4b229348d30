"""Bearer tokens: one admin token (configuration) and per-employee tokens (only their hash is stored)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from assistant import audit
from assistant.store import Database
from assistant.store.models import ApiToken, Person, utcnow


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: an employee, or the admin (who may act for any employee)."""

    person_id: str | None
    is_admin: bool = False


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UnknownPerson(LookupError):
    """A token was asked for someone who is not in the directory."""


def issue_token(db: Database, person_id: str, actor: str = "admin") -> str:
    """A new token for an employee; the clear token is returned once and never stored."""
    token = "dm-" + secrets.token_urlsafe(24)
    with db.session() as s:
        person = s.get(Person, person_id)
        if person is None or not person.active:
            raise UnknownPerson(person_id)
        s.add(ApiToken(token_hash=_hash(token), person_id=person_id))
        audit.record(s, actor, "issue_token", "people", person_id)
    return token


def revoke_tokens(db: Database, person_id: str, actor: str = "admin") -> int:
    with db.session() as s:
        rows = list(s.execute(select(ApiToken).where(ApiToken.person_id == person_id,
                                                     ApiToken.revoked_at.is_(None))).scalars())
        for row in rows:
            row.revoked_at = utcnow()
        if rows:
            audit.record(s, actor, "revoke_tokens", "people", person_id, detail={"count": len(rows)})
    return len(rows)


def authenticate(db: Database, admin_token: str, header: str | None) -> Principal | None:
    """The principal of an `Authorization: Bearer …` header, or None when it is missing or wrong."""
    if not header or not header.startswith("Bearer "):
        return None
    token = header[len("Bearer "):].strip()
    if not token:
        return None
    if hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(None, is_admin=True)
    with db.session() as s:
        row = s.execute(
            select(ApiToken.person_id).join(Person, Person.id == ApiToken.person_id).where(
                ApiToken.token_hash == _hash(token), ApiToken.revoked_at.is_(None), Person.active.is_(True))
        ).first()
    return Principal(row[0]) if row else None
