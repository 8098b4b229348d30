"""Which IM room serves which purpose: "dm:<person>" for a direct chat, "topic:<id>" for a topic.

The core speaks of purposes only; the room ids are the IM backend's, filled in when a room is created
(or, for a direct chat an employee opened, when Deskmate joins it).
"""

from __future__ import annotations

from sqlalchemy import select

from assistant.store import Database
from assistant.store.models import ImRoom


def dm_purpose(person: str) -> str:
    return f"dm:{person}"


def topic_purpose(topic_id: int) -> str:
    return f"topic:{topic_id}"


def topic_of_purpose(purpose: str | None) -> int | None:
    """The topic id of a "topic:<id>" purpose, None for any other."""
    if purpose and purpose.startswith("topic:"):
        return int(purpose.split(":", 1)[1])
    return None


def room_of(db: Database, purpose: str) -> ImRoom | None:
    with db.session() as s:
        return s.get(ImRoom, purpose)


def room_ids(db: Database, purposes: list[str]) -> dict[str, str]:
    """purpose -> room id of the rooms created so far, in one query."""
    with db.session() as s:
        return dict(s.execute(select(ImRoom.purpose, ImRoom.room_id).where(ImRoom.purpose.in_(purposes))).all())


def purpose_of(db: Database, room_id: str) -> str | None:
    with db.session() as s:
        return s.execute(select(ImRoom.purpose).where(ImRoom.room_id == room_id)).scalar_one_or_none()


def record(db: Database, purpose: str, room_id: str) -> str:
    """Remember the room of a purpose; the first room recorded wins. Returns the room id in use."""
    with db.session() as s:
        existing = s.get(ImRoom, purpose)
        if existing is not None:
            return existing.room_id
        if s.execute(select(ImRoom.purpose).where(ImRoom.room_id == room_id)).first():
            return room_id  # this room already serves another purpose
        s.add(ImRoom(purpose=purpose, room_id=room_id))
        return room_id


def set_closed(db: Database, purpose: str, closed: bool) -> None:
    with db.session() as s:
        room = s.get(ImRoom, purpose)
        if room is not None:
            room.closed = closed
