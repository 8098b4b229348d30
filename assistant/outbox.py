"""The persistent outbox: every side effect on the IM backend is a row here first.

Services enqueue effects in the same transaction as the change that causes them, under an idempotency
key, so a retried request or a double confirmation never produces a second message, room or invite, and
an IM outage loses nothing. A delivery worker (the IM connector) sends pending effects and marks them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store import Database
from assistant.store.models import OutboxEffect, utcnow

MAX_BACKOFF_SECONDS = 300


def enqueue(session: Session, key: str, kind: str, payload: dict[str, Any]) -> bool:
    """Add one effect unless an effect with this key exists; True when added."""
    if session.execute(select(OutboxEffect.id).where(OutboxEffect.key == key)).first():
        return False
    session.add(OutboxEffect(key=key, kind=kind, payload=payload))
    return True


def direct_message(session: Session, key: str, to: str, texts: dict[str, str], **extra: Any) -> bool:
    """A direct message to an employee; `texts` holds the message in zh and en, the connector picks one."""
    return enqueue(session, key, "dm", {"to": to, "text": texts, **extra})


def pending(db: Database, now: datetime | None = None, limit: int = 100) -> list[OutboxEffect]:
    """Effects due for delivery, oldest first."""
    with db.session() as s:
        query = (select(OutboxEffect).where(OutboxEffect.status == "pending",
                                            OutboxEffect.next_attempt_at <= (now or utcnow()))
                 .order_by(OutboxEffect.id).limit(limit))
        return list(s.execute(query).scalars())


def listing(db: Database, statuses: tuple[str, ...] = ("pending", "failed")) -> list[OutboxEffect]:
    with db.session() as s:
        query = select(OutboxEffect).where(OutboxEffect.status.in_(statuses)).order_by(OutboxEffect.id)
        return list(s.execute(query).scalars())


def mark_sent(db: Database, effect_id: int) -> None:
    with db.session() as s:
        effect = s.get(OutboxEffect, effect_id)
        effect.status, effect.sent_at, effect.last_error = "sent", utcnow(), None


def mark_failed(db: Database, effect_id: int, error: str, *, max_attempts: int = 50) -> None:
    """Record a failed attempt and schedule the next one with exponential backoff."""
    with db.session() as s:
        effect = s.get(OutboxEffect, effect_id)
        effect.attempts += 1
        effect.last_error = error[:2000]
        if effect.attempts >= max_attempts:
            effect.status = "failed"
        else:
            delay = min(2 ** effect.attempts, MAX_BACKOFF_SECONDS)
            effect.next_attempt_at = utcnow() + timedelta(seconds=delay)
