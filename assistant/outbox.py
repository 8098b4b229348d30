"""The persistent outbox: every side effect on the IM backend is a row here first.

Services enqueue effects in the same transaction as the change that causes them, under an idempotency
key, so a retried request or a double confirmation never produces a second message, room or invite, and
an IM outage loses nothing. A deliverer (assistant/delivery.py) claims due effects, performs them through
the IM port and marks them sent, or schedules a retry with exponential backoff.

Rooms are named by purpose ("topic:7", "dm:zhangwei"), never by IM room id: an effect may be enqueued
before the room it is about exists, and is retried until it does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.store import Database
from assistant.store.models import OutboxEffect, as_utc, utcnow

MAX_BACKOFF_SECONDS = 300


def enqueue(session: Session, key: str, kind: str, payload: dict[str, Any], *, leased: bool = False) -> bool:
    """Add one effect unless an effect with this key exists; True when added. `leased`: added as already
    claimed by the caller, who delivers it now (chat replies, in order); the background deliverer takes it
    only if the lease runs out (the caller died)."""
    if session.execute(select(OutboxEffect.id).where(OutboxEffect.key == key)).first():
        return False
    effect = OutboxEffect(key=key, kind=kind, payload=payload)
    if leased:
        effect.status, effect.next_attempt_at = "sending", utcnow() + timedelta(seconds=LEASE_SECONDS)
    session.add(effect)
    return True


def direct_message(session: Session, key: str, to: str, texts: dict[str, str], **extra: Any) -> bool:
    """A direct message to an employee; `texts` holds the message in zh and en, the connector picks one."""
    return enqueue(session, key, "dm", {"to": to, "text": texts, **extra})


Texts = dict[str, str]  # {"zh": ..., "en": ...}: the deliverer picks the reader's language


def create_room(session: Session, key: str, purpose: str, name: str, topic: str,
                invite: dict[str, Texts]) -> bool:
    """A room for `purpose`, Deskmate its admin, each invitee invited with the reason why."""
    return enqueue(session, key, "room.create", {"room": purpose, "name": name, "topic": topic, "invite": invite})


def invite(session: Session, key: str, purpose: str, person: str, reason: Texts) -> bool:
    return enqueue(session, key, "room.invite", {"room": purpose, "to": person, "reason": reason})


def remove(session: Session, key: str, purpose: str, person: str, reason: Texts) -> bool:
    return enqueue(session, key, "room.remove", {"room": purpose, "to": person, "reason": reason})


def post(session: Session, key: str, purpose: str, text: Texts | str, *, notice: bool = True,
         thread: str | None = None) -> bool:
    """A message in a room; a notice by default (Deskmate's own announcements)."""
    return enqueue(session, key, "room.post", {"room": purpose, "text": text, "notice": notice, "thread": thread})


def set_topic(session: Session, key: str, purpose: str, topic: str) -> bool:
    return enqueue(session, key, "room.topic", {"room": purpose, "topic": topic})


def close_room(session: Session, key: str, purpose: str, closed: bool = True) -> bool:
    """Make a room read-only for everyone but Deskmate (or writable again with closed=False)."""
    return enqueue(session, key, "room.close", {"room": purpose, "closed": closed})


LEASE_SECONDS = 60


def claim_due(db: Database, limit: int = 50) -> list[OutboxEffect]:
    """Take due effects for delivery, oldest first. A claimed effect is leased: no other deliverer takes it
    until it is marked or the lease runs out (a deliverer that died mid-way)."""
    now = utcnow()
    claimed: list[OutboxEffect] = []
    with db.session() as s:
        due = (select(OutboxEffect.id).where(OutboxEffect.status.in_(("pending", "sending")),
                                             OutboxEffect.next_attempt_at <= now)
               .order_by(OutboxEffect.id).limit(limit))
        for effect_id in list(s.execute(due).scalars()):  # one transaction; each row taken only if still due
            taken = s.execute(
                update(OutboxEffect)
                .where(OutboxEffect.id == effect_id, OutboxEffect.status.in_(("pending", "sending")),
                       OutboxEffect.next_attempt_at <= now)
                .values(status="sending", next_attempt_at=now + timedelta(seconds=LEASE_SECONDS)))
            if taken.rowcount == 1:
                claimed.append(s.get(OutboxEffect, effect_id))
    return claimed


def listing(db: Database, statuses: tuple[str, ...] = ("pending", "sending", "failed")) -> list[OutboxEffect]:
    with db.session() as s:
        query = select(OutboxEffect).where(OutboxEffect.status.in_(statuses)).order_by(OutboxEffect.id)
        return list(s.execute(query).scalars())


def mark_sent(db: Database, effect_id: int) -> None:
    with db.session() as s:
        effect = s.get(OutboxEffect, effect_id)
        effect.status, effect.sent_at, effect.last_error = "sent", utcnow(), None


def mark_failed(db: Database, effect_id: int, error: str, *, permanent: bool = False, max_attempts: int = 50,
                max_backoff: float = MAX_BACKOFF_SECONDS) -> None:
    """Record a failed attempt and schedule the next one with exponential backoff (0.5 s, 1 s, 2 s, ...
    up to `max_backoff`); a permanent failure, or the last allowed attempt, marks it failed for an admin."""
    with db.session() as s:
        effect = s.get(OutboxEffect, effect_id)
        effect.attempts += 1
        effect.last_error = error[:2000]
        if permanent or effect.attempts >= max_attempts:
            effect.status = "failed"
        else:
            effect.status = "pending"
            delay = min(0.25 * 2 ** effect.attempts, max_backoff)
            effect.next_attempt_at = utcnow() + timedelta(seconds=delay)


def defer(db: Database, effect_ids: list[int], until: datetime) -> None:
    """Hand effects back untried, due at `until`: they wait behind an earlier effect on the same room that
    failed, so a room's messages never overtake one another."""
    if not effect_ids:
        return
    with db.session() as s:
        s.execute(update(OutboxEffect).where(OutboxEffect.id.in_(effect_ids))
                  .values(status="pending", next_attempt_at=until))


def next_attempt(db: Database, effect_id: int) -> datetime:
    """When the effect is due next, in UTC (SQLite hands back naive datetimes)."""
    with db.session() as s:
        return as_utc(s.get(OutboxEffect, effect_id).next_attempt_at)
