"""The one question Deskmate is waiting for a person to answer (`pending_questions`), kept in the store so an
answer still fits after a restart. The claim form asks most of them (assistant/claim_chat.py); any chat asks
"which of these people?" when a name fits several (`ask_which_person`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from assistant.store import Database
from assistant.store.models import PendingQuestion, utcnow

WHICH_PERSON = "which_person"


def get(db: Database, person: str) -> PendingQuestion | None:
    with db.session() as s:
        return s.get(PendingQuestion, person)


def ask(db: Database, person: str, kind: str, claim_id: int | None, **payload: Any) -> None:
    with db.session() as s:
        row = s.get(PendingQuestion, person)
        if row is None:
            row = PendingQuestion(person_id=person, kind=kind)
            s.add(row)
        row.kind, row.claim_id, row.payload, row.asked_at = kind, claim_id, payload, utcnow()


def clear(db: Database, person: str) -> None:
    with db.session() as s:
        s.execute(delete(PendingQuestion).where(PendingQuestion.person_id == person))


def ask_which_person(db: Database, person: str, *, chat: str, method: str, text: str, name: str,
                     candidates: list[str]) -> None:
    """Remember a request stopped by an ambiguous name, to run it again with the person the answer picks
    (`chat.method(turn)` with `name` replaced by their id in `text`). A question the claim form is waiting for
    is not replaced: the form keeps its place and the user names the person again; nor is a request whose text
    does not hold the name as said (nothing to replace)."""
    if name in text and get(db, person) is None:
        ask(db, person, WHICH_PERSON, None, chat=chat, method=method, text=text, name=name, candidates=candidates)
