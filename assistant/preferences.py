"""The language Deskmate uses with a person: the one they asked for, else the one they last wrote in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from assistant.store import Database
from assistant.store.models import PersonSetting, utcnow


def setting_row(s: Session, person: str) -> PersonSetting:
    """The person's settings row in this session, added when they have none yet."""
    row = s.get(PersonSetting, person)
    if row is None:
        row = PersonSetting(person_id=person)
        s.add(row)
    return row


def language_of(db: Database, person: str) -> str | None:
    """For the messages Deskmate starts (notifications, invitations, digests)."""
    with db.session() as s:
        setting = s.get(PersonSetting, person)
        return (setting.reply_language or setting.language) if setting else None


def reply_language_of(db: Database, person: str) -> str | None:
    """The language the person asked to be answered in ("以后都用英文回复我"), None when they did not."""
    with db.session() as s:
        setting = s.get(PersonSetting, person)
        return setting.reply_language if setting else None


def remember_language(db: Database, person: str, lang: str) -> None:
    """Store the language a person wrote in, for the messages Deskmate starts later."""
    with db.session() as s:
        setting = setting_row(s, person)
        if setting.language != lang:
            setting.language, setting.updated_at = lang, utcnow()
