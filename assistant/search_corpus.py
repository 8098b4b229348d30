"""The knowledge-search corpus (tests/search/corpus.yml) and questions (questions.yml), loaded into a Database.

Used by tests/test_search.py, tools/eval_search.py and tools/bench_search.py. Topics are written the way the
topics service writes them: ORM rows plus the index calls of assistant.search in the same transaction, so the
corpus also exercises incremental indexing. The people must exist already (assistant.seed).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from assistant import search
from assistant.config import ROOT
from assistant.store import Database
from assistant.store.models import Topic, TopicConclusion, TopicMessage, TopicNote, TopicParticipant

CORPUS = ROOT / "tests" / "search" / "corpus.yml"
QUESTIONS = ROOT / "tests" / "search" / "questions.yml"
BASE_TIME = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai; topic i starts i days later


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader reads the corpus ten times faster


@lru_cache(maxsize=4)
def _read(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    """The topics of corpus.yml as plain dicts (read once per process; do not modify them)."""
    return _read(path)["topics"]


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    """The questions of questions.yml: lang, asker, q, expected (titles)."""
    return _read(path)["questions"]


def add_topic(s: Session, spec: dict[str, Any], started: datetime, key: str) -> Topic:
    """One corpus topic with its participants, messages, conclusions and notes, indexed as it is written."""
    topic = Topic(title=spec["title"], status="open", public=bool(spec.get("public")), created_by=spec["created_by"],
                  created_at=started)
    s.add(topic)
    s.flush()
    search.index_topic_text(s, topic.id, "title", topic.title)
    for person in spec["participants"]:
        s.add(TopicParticipant(topic_id=topic.id, person_id=person, added_at=started,
                               reason={"zh": "语料", "en": "corpus"}))
    when = started
    event_ids = []
    for n, (author, body) in enumerate(spec["messages"]):
        when = started + timedelta(minutes=7 * (n + 1))
        event_ids.append(f"$corpus-{key}-{n}")
        s.add(TopicMessage(topic_id=topic.id, event_id=event_ids[-1], author=author, body=body, sent_at=when))
        search.index_message(s, topic.id, body)
    for author, value in spec.get("notes") or []:
        when += timedelta(minutes=3)
        s.add(TopicNote(topic_id=topic.id, text=value, author=author, created_at=when))
        search.index_topic_text(s, topic.id, "note", value)
    for author, value in spec.get("conclusions") or []:
        when += timedelta(minutes=3)
        s.add(TopicConclusion(topic_id=topic.id, text=value, author=author, source_messages=event_ids[-3:],
                              created_at=when))
        search.index_topic_text(s, topic.id, "conclusion", value)
    if spec["status"] == "closed":
        topic.status, topic.closed_at = "closed", when + timedelta(hours=1)
    return topic


def seed_corpus(db: Database, path: Path = CORPUS) -> dict[str, int]:
    """Write every corpus topic in one transaction; returns topic id by title."""
    ids: dict[str, int] = {}
    with db.session() as s:
        for i, spec in enumerate(load_corpus(path)):
            ids[spec["title"]] = add_topic(s, spec, BASE_TIME + timedelta(days=i), str(i)).id
    return ids
