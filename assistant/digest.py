"""A manager's daily digest: what each report did in the last 24 hours (claims handled and filed, topics
opened and closed), sent as a direct message through the outbox at the time the manager chose.

Each report's privacy setting applies as for a status look (the look is logged with channel "digest"): a
report who shares nothing with the manager is left out, and the digest only says how many were left out.
The work comes from the audit log, which every service writes in the same transaction as the change.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Callable

from sqlalchemy import select

from assistant import outbox
from assistant.directory import Directory
from assistant.i18n import t
from assistant.preferences import setting_row
from assistant.status import Status, StatusError
from assistant.store import Database
from assistant.store.models import AuditEntry, PersonSetting, utcnow

DEFAULT_DIGEST_TIME = time(9, 0)
WINDOW = timedelta(hours=24)
# audit action -> digest column
COLUMNS = {"approve": "decided", "return": "decided", "reject": "decided", "submitted": "filed", "resubmitted": "filed",
           "topic.open": "opened", "topic.close": "closed"}


class Digests:
    def __init__(self, db: Database, directory: Callable[[], Directory], status: Status) -> None:
        self.db = db
        self._directory = directory
        self.status = status

    def subscribe(self, person: str, at: time | None) -> time:
        """Opt in (or move the time); only someone with reports has anything to read."""
        if not self._directory().direct_reports(person):
            raise StatusError("no_reports")
        at = at or DEFAULT_DIGEST_TIME
        with self.db.session() as s:
            row = setting_row(s, person)
            row.digest_at, row.updated_at = at.strftime("%H:%M"), utcnow()
        return at

    def unsubscribe(self, person: str) -> bool:
        with self.db.session() as s:
            row = s.get(PersonSetting, person)
            was = row is not None and row.digest_at is not None
            if row is not None:
                row.digest_at = None
            return was

    def compose(self, manager: str, now: datetime) -> dict[str, str]:
        """The digest text in both languages, for the 24 hours before `now`."""
        directory = self._directory()
        reports = directory.all_reports(manager)
        looks = self.status.look_many(manager, [p.id for p in reports], "digest")
        shown = [look.subject for look in looks if not look.refused]
        work: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        if shown:
            with self.db.session() as s:
                rows = s.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.object_id)
                                 .where(AuditEntry.actor.in_(shown), AuditEntry.at >= now - WINDOW,
                                        AuditEntry.at < now, AuditEntry.action.in_(list(COLUMNS))))
                for actor, action, object_id in rows:
                    work[actor][COLUMNS[action]].add(object_id)
        day = now.astimezone(self.status.tz)
        texts = {}
        for lang in ("zh", "en"):
            lines = [t("digest.head", lang, date=day.strftime("%m-%d"), count=len(shown))]
            for person in shown:
                done = work.get(person, {})
                name = directory.get(person).name(lang)  # type: ignore[union-attr]
                if not done:
                    lines.append(t("digest.idle", lang, name=name))
                    continue
                parts = [t(f"digest.{column}", lang, count=len(ids), ids=_ids(ids))
                         for column in ("decided", "filed", "opened", "closed") if (ids := done.get(column))]
                lines.append(t("digest.line", lang, name=name, work=("，" if lang == "zh" else "; ").join(parts)))
            if len(shown) < len(reports):
                lines.append(t("digest.hidden", lang, count=len(reports) - len(shown)))
            texts[lang] = "\n".join(lines)
        return texts

    def send_due(self) -> list[str]:
        """Enqueue today's digest for every subscriber whose time has come; the managers it was sent to.
        The outbox key carries the date, so a crash between enqueue and mark cannot send it twice."""
        now = self.status.clock()
        local = now.astimezone(self.status.tz)
        with self.db.session() as s:
            due = [row.person_id for row in s.execute(select(PersonSetting).where(PersonSetting.digest_at.is_not(None)))
                   .scalars() if row.digest_at <= local.strftime("%H:%M") and row.digest_sent_on != local.date()]
        sent = []
        for manager in due:
            texts = self.compose(manager, now)
            with self.db.session() as s:
                outbox.direct_message(s, f"digest:{manager}:{local.date().isoformat()}", manager, texts)
                row = s.get(PersonSetting, manager)
                row.digest_sent_on = local.date()
            sent.append(manager)
        return sent


def _ids(ids: set[str]) -> str:
    return " ".join(f"#{i}" for i in sorted(ids, key=int))
