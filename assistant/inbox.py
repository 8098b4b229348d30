"""The Matrix inbox: events Synapse pushed to the application service, accepted once and handled once.

Synapse retries a transaction until it gets a 200, with the same transaction id and events. A transaction is
accepted by storing its events (each event id once) and its key in one database transaction, before answering;
handling happens afterwards, from the stored rows, so a slow turn never makes Synapse retry and a
restart loses nothing. An event whose handling was cut short by a crash is not handled again (a claim
half-submitted twice is worse than a message to repeat); it is marked `interrupted` for the log.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select, update

from assistant.store import Database
from assistant.store.models import MatrixInboxEvent, MatrixTransaction, utcnow


def transaction_key(txn_id: str, events: list[dict[str, Any]]) -> str:
    """The transaction id with a digest of its event ids: Synapse numbers transactions afresh after a restart
    (seen with 1.163 on SQLite), so a known id with other events is a new transaction, not a retry."""
    ids = "\n".join(sorted({str(e.get("event_id")) for e in events}))
    return f"{txn_id[:200]}:{hashlib.sha256(ids.encode()).hexdigest()[:16]}"


def accept(db: Database, txn_id: str, events: list[dict[str, Any]]) -> int | None:
    """Store a transaction's events; None when this transaction was accepted before, else how many
    events were new."""
    key = transaction_key(txn_id, events)
    with db.session() as s:
        if s.get(MatrixTransaction, key) is not None:
            return None
        new = 0
        seen: set[str] = set()
        for event in events:
            event_id = event.get("event_id")
            if not isinstance(event_id, str) or event_id in seen or s.get(MatrixInboxEvent, event_id) is not None:
                continue
            seen.add(event_id)
            s.add(MatrixInboxEvent(event_id=event_id, txn_id=txn_id, room_id=str(event.get("room_id", "")),
                                   sender=str(event.get("sender", "")), event=event))
            new += 1
        s.add(MatrixTransaction(txn_id=key, events=len(events)))
        return new


def take(db: Database, limit: int = 50) -> list[MatrixInboxEvent]:
    """The oldest new events, marked as being handled."""
    with db.session() as s:
        rows = list(s.execute(select(MatrixInboxEvent).where(MatrixInboxEvent.status == "new")
                              .order_by(MatrixInboxEvent.received_at, MatrixInboxEvent.event_id)
                              .limit(limit)).scalars())
        for row in rows:
            row.status = "handling"
        return rows


def finish(db: Database, event_id: str, outcome: str) -> None:
    with db.session() as s:
        row = s.get(MatrixInboxEvent, event_id)
        row.status, row.outcome, row.handled_at = "done", outcome[:32], utcnow()


def mark_interrupted(db: Database) -> int:
    """At start-up: events left `handling` by a process that died."""
    with db.session() as s:
        return s.execute(update(MatrixInboxEvent).where(MatrixInboxEvent.status == "handling")
                         .values(status="interrupted", handled_at=utcnow())).rowcount
