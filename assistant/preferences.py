"""What Deskmate remembers about a person between conversations (the personal-assistant issue grows this)."""

from __future__ import annotations

from assistant.store import Database
from assistant.store.models import PersonSetting, utcnow


def language_of(db: Database, person: str) -> str | None:
    with db.session() as s:
        setting = s.get(PersonSetting, person)
        return setting.language if setting else None


def remember_language(db: Database, person: str, lang: str) -> None:
    """Store the language a person wrote in, for the messages Deskmate starts later."""
    with db.session() as s:
        setting = s.get(PersonSetting, person)
        if setting is None:
            s.add(PersonSetting(person_id=person, language=lang))
        elif setting.language != lang:
            setting.language, setting.updated_at = lang, utcnow()
