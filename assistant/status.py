"""Work status: set by work events, overridden by hand, shown to each viewer only as far as the person allows.

A work event (a claim reviewed or filed, a topic opened or written in, a note, a call) calls `record` inside
the transaction that caused it: one row per person, the latest event wins, and an activity that goes on keeps
its start time. Nothing is recorded outside the person's working hours or while they paused it, and an
activity nobody touched for `status_expiry_minutes` is no longer shown. A status the person set by hand
("in a meeting until 3pm") overrides the automatic one until it ends.

Who sees what (DESIGN.md, visibility): the person's setting (everyone / team / manager chain / nobody) says
which viewers may look; the viewer's relation says how much they see: the manager chain the activity, the
team (same-manager peers) a coarse form, everyone else busy or available. Every look by someone else is
logged, refused ones too, and a refused look is told nothing, not even whether there is a status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.directory import Directory
from assistant.i18n import both, t
from assistant.preferences import setting_row
from assistant.store import Database
from assistant.store.models import PersonSetting, PersonStatus, StatusView, as_utc, utcnow

Clock = Callable[[], datetime]

AUDIENCES = ("everyone", "team", "chain", "nobody")
DEFAULT_AUDIENCE = "chain"
RELATIONS = ("chain", "team", "everyone")
# setting -> viewer's relation -> what they see; a relation missing from the row is refused
LEVELS: dict[str, dict[str, str]] = {
    "everyone": {"chain": "full", "team": "coarse", "everyone": "presence", "admin": "presence"},
    "team": {"chain": "full", "team": "coarse"},
    "chain": {"chain": "full"},
    "nobody": {},
}
VIEW_LOG_DAYS = 30


@dataclass(frozen=True)
class Activity:
    """A work event's status: kind (claim | topic | note | call), the object, the label in both languages."""

    kind: str
    ref: str
    label: dict[str, str]


def claim_activity(claim_id: int, doing: str) -> Activity:
    """doing: 'review' (an approver at a step) or 'file' (the applicant writing or submitting it)."""
    return Activity("claim", f"claim:{claim_id}", both(f"status.activity.claim_{doing}", id=claim_id))


def topic_activity(topic_id: int, title: str, doing: str = "in") -> Activity:
    """doing: 'in' (opened or wrote in the topic) or 'note' (wrote a note)."""
    kind = "note" if doing == "note" else "topic"
    return Activity(kind, f"topic:{topic_id}", both(f"status.activity.topic_{doing}", title=title))


def call_activity(topic_id: int | None, title: str | None) -> Activity:
    if topic_id is None or title is None:
        return Activity("call", "call", both("status.activity.call"))
    return Activity("call", f"topic:{topic_id}", both("status.activity.call_in_topic", title=title))


Recorder = Callable[[Session, str, Activity], bool]  # Status.record: a work event's status, in its transaction


@dataclass(frozen=True)
class StatusNow:
    """A person's status at one moment. state: manual | activity | available | off_hours."""

    state: str
    label: dict[str, str] | None = None  # the manual text (as said) or the activity label
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    at: datetime | None = None  # the moment this is the status of
    source: str | None = None  # the object of the activity: claim:42, topic:7

    @property
    def busy(self) -> bool:
        return self.state in ("manual", "activity")

    def render(self, level: str, lang: str, tz: ZoneInfo) -> str:
        """The status as a viewer at `level` (full | coarse | presence) reads it."""
        if self.state == "off_hours":
            return t("status.off_hours", lang)
        if self.state == "available":
            return t("status.available", lang)
        until = t("status.until", lang, time=clock_text(self.until, tz, self.at)) if self.until else ""
        if level == "presence":
            return t("status.busy", lang)
        if level == "coarse":
            key = "status.coarse.manual" if self.state == "manual" else f"status.coarse.{self.kind}"
            return t(key, lang, until=until)
        label = (self.label or {}).get(lang) or (self.label or {}).get("en", "")
        if self.state == "manual":
            return t("status.full.manual", lang, text=label, until=until)
        return t("status.full.activity", lang, text=label, since=clock_text(self.since, tz, self.at))


@dataclass(frozen=True)
class Look:
    """One viewer's look at one person: their relation, what they may see (or 'refused') and the status."""

    subject: str
    relation: str
    level: str
    status: StatusNow | None = None

    @property
    def refused(self) -> bool:
        return self.level == "refused"

    def as_dict(self, tz: ZoneInfo) -> dict[str, Any]:
        body: dict[str, Any] = {"person": self.subject, "relation": self.relation, "level": self.level}
        if self.status is None:
            return body
        status = self.status
        shown = status.state if self.level != "presence" or not status.busy else "busy"
        text = {lang: status.render(self.level, lang, tz) for lang in ("zh", "en")}
        body.update(state=shown, busy=status.busy, text=text)
        if self.level == "full":
            body.update(kind=status.kind, source=status.source, since=_iso(status.since), until=_iso(status.until))
        elif self.level == "coarse":
            body.update(kind=status.kind if status.state == "activity" else None, until=_iso(status.until))
        return body


@dataclass
class StatusSettings:
    """One person's effective status settings (their own or the deployment's defaults)."""

    audience: str
    start: time
    end: time
    tz: ZoneInfo
    days: frozenset[int] = field(default_factory=frozenset)

    def working(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        return local.isoweekday() in self.days and self.start <= local.time() < self.end

    def end_of_day(self, now: datetime) -> datetime:
        local = now.astimezone(self.tz)
        return datetime.combine(local.date(), self.end, self.tz)


def parse_hours(text: str) -> tuple[time, time]:
    """'09:00-19:00' -> (09:00, 19:00); '24:00' is the end of the day."""
    start, end = (part.strip() for part in text.split("-", 1))
    return _time(start), _time(end)


def _time(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    return time.max if hours == 24 else time(hours, minutes)


def _days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        days.update(range(int(low), int(high or low) + 1))
    return frozenset(days)


def hours_text(start: time, end: time) -> str:
    return f"{start:%H:%M}-{'24:00' if end == time.max else f'{end:%H:%M}'}"


def clock_text(value: datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    """'15:00' on the day of `now`, '11-27 15:00' on another day."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    if now is not None and local.date() != now.astimezone(tz).date():
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%H:%M")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


class StatusError(Exception):
    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


class Status:
    def __init__(self, db: Database, directory: Callable[[], Directory], settings: Settings,
                 clock: Clock = utcnow) -> None:
        self.db = db
        self._directory = directory
        self._clock = clock
        self.tz = ZoneInfo(settings.timezone)
        self.default_hours = parse_hours(settings.working_hours)
        self.days = _days(settings.working_days)
        self.expiry = timedelta(minutes=settings.status_expiry_minutes)

    def clock(self) -> datetime:
        """Now, in UTC: SQLite keeps no time zone, so everything stored is UTC."""
        return self._clock().astimezone(timezone.utc)

    # -- settings ----------------------------------------------------------------------------------------------

    def _settings(self, row: PersonSetting | None) -> StatusSettings:
        start, end = self.default_hours
        if row is not None and row.work_start and row.work_end:
            start, end = _time(row.work_start), _time(row.work_end)
        audience = row.status_audience if row is not None and row.status_audience else DEFAULT_AUDIENCE
        return StatusSettings(audience, start, end, self.tz, self.days)

    def settings_of(self, person: str) -> StatusSettings:
        with self.db.session() as s:
            return self._settings(s.get(PersonSetting, person))

    def _status_row(self, s: Session, person: str) -> PersonStatus:
        row = s.get(PersonStatus, person)
        if row is None:
            row = PersonStatus(person_id=person)
            s.add(row)
        return row

    def set_audience(self, person: str, audience: str) -> str:
        if audience not in AUDIENCES:
            raise StatusError("bad_audience")
        with self.db.session() as s:
            row = setting_row(s, person)
            previous = row.status_audience or DEFAULT_AUDIENCE
            row.status_audience, row.updated_at = audience, utcnow()
        return previous

    def set_hours(self, person: str, start: time, end: time) -> None:
        if not start < end:
            raise StatusError("bad_hours")
        with self.db.session() as s:
            row = setting_row(s, person)
            row.work_start, row.work_end = hours_text(start, end).split("-")
            row.updated_at = utcnow()

    # -- recording ---------------------------------------------------------------------------------------------

    def record(self, s: Session, person: str, activity: Activity) -> bool:
        """Set the person's automatic status from a work event, in the caller's transaction.
        False (and nothing written) outside their working hours or while they paused it."""
        now = self.clock()
        if not self._settings(s.get(PersonSetting, person)).working(now):
            return False
        row = self._status_row(s, person)
        if row.paused_until is not None and as_utc(row.paused_until) > now:
            return False
        seen = as_utc(row.activity_seen_at)
        if row.activity_ref != activity.ref or row.activity_kind != activity.kind or seen is None \
                or now - seen > self.expiry:
            row.activity_since = now
        row.activity_kind, row.activity_ref, row.activity_label = activity.kind, activity.ref, activity.label
        row.activity_seen_at = now
        return True

    def record_now(self, person: str, activity: Activity) -> bool:
        """`record` in a transaction of its own (events that are not part of a store change, e.g. a call)."""
        with self.db.session() as s:
            return self.record(s, person, activity)

    def end_call(self, person: str) -> None:
        """A call ended: its status ends with it (the activity before it is not brought back)."""
        with self.db.session() as s:
            row = s.get(PersonStatus, person)
            if row is not None and row.activity_kind == "call":
                row.activity_kind = row.activity_ref = row.activity_label = None
                row.activity_since = row.activity_seen_at = None

    def set_manual(self, person: str, text: str, until: datetime | None) -> datetime:
        """A status set by hand; without an end it lasts until the end of the working day (or the expiry
        time, after hours). Returns when it ends."""
        now = self.clock()
        if until is None:
            settings = self.settings_of(person)
            end = settings.end_of_day(now)
            until = end if end > now else now + self.expiry
        if until <= now:
            raise StatusError("until_past", time=clock_text(until, self.tz))
        until = until.astimezone(timezone.utc)
        with self.db.session() as s:
            row = self._status_row(s, person)
            row.manual_text, row.manual_since, row.manual_until = text[:200], now, until
        return until

    def clear_manual(self, person: str) -> bool:
        now = self.clock()
        with self.db.session() as s:
            row = s.get(PersonStatus, person)
            active = row is not None and row.manual_text is not None and as_utc(row.manual_until) > now
            if row is not None:
                row.manual_text = row.manual_since = row.manual_until = None
            return active

    def pause(self, person: str, until: datetime) -> None:
        """No automatic status until then; the current one is hidden too."""
        if until <= self.clock():
            raise StatusError("until_past", time=clock_text(until, self.tz))
        with self.db.session() as s:
            self._status_row(s, person).paused_until = until.astimezone(timezone.utc)

    def resume(self, person: str) -> bool:
        now = self.clock()
        with self.db.session() as s:
            row = s.get(PersonStatus, person)
            paused = row is not None and row.paused_until is not None and as_utc(row.paused_until) > now
            if row is not None:
                row.paused_until = None
            return paused

    # -- reading -----------------------------------------------------------------------------------------------

    def _now(self, row: PersonStatus | None, settings: StatusSettings, now: datetime) -> StatusNow:
        if row is not None and row.manual_text and as_utc(row.manual_until) > now:
            return StatusNow("manual", {"zh": row.manual_text, "en": row.manual_text}, None,
                             as_utc(row.manual_since), as_utc(row.manual_until), now)
        if not settings.working(now):
            return StatusNow("off_hours", at=now)
        if row is None or row.activity_kind is None:
            return StatusNow("available", at=now)
        if row.paused_until is not None and as_utc(row.paused_until) > now:
            return StatusNow("available", at=now)
        if now - as_utc(row.activity_seen_at) > self.expiry:
            return StatusNow("available", at=now)
        return StatusNow("activity", row.activity_label, row.activity_kind, as_utc(row.activity_since), at=now,
                         source=row.activity_ref)

    def current(self, person: str) -> StatusNow:
        """The person's own status, for themselves (nothing logged)."""
        with self.db.session() as s:
            return self._now(s.get(PersonStatus, person), self._settings(s.get(PersonSetting, person)), self.clock())

    def relation(self, viewer: str | None, subject: str) -> str:
        """self | chain (a manager above them) | team (same manager) | everyone | admin (the admin token)."""
        if viewer is None:
            return "admin"
        if viewer == subject:
            return "self"
        directory = self._directory()
        if any(m.id == viewer for m in directory.manager_chain(subject)):
            return "chain"
        if any(p.id == viewer for p in directory.peers(subject)):
            return "team"
        return "everyone"

    def look(self, viewer: str | None, subject: str, channel: str) -> Look:
        """What `viewer` may see of `subject`'s status now; logged unless it is their own."""
        return self.look_many(viewer, [subject], channel)[0]

    def look_many(self, viewer: str | None, subjects: list[str], channel: str) -> list[Look]:
        now = self.clock()
        looks: list[Look] = []
        with self.db.session() as s:
            settings = {r.person_id: r for r in s.execute(
                select(PersonSetting).where(PersonSetting.person_id.in_(subjects))).scalars()}
            statuses = {r.person_id: r for r in s.execute(
                select(PersonStatus).where(PersonStatus.person_id.in_(subjects))).scalars()}
            for subject in subjects:
                their = self._settings(settings.get(subject))
                relation = self.relation(viewer, subject)
                level = "full" if relation == "self" else LEVELS[their.audience].get(relation, "refused")
                status = None if level == "refused" else self._now(statuses.get(subject), their, now)
                looks.append(Look(subject, relation, level, status))
                if relation != "self":
                    s.add(StatusView(subject_id=subject, viewer_id=viewer, relation=relation, level=level,
                                     channel=channel, viewed_at=now))
        return looks

    def preview(self, person: str) -> tuple[str, StatusNow, dict[str, str]]:
        """(their setting, their status, the level each kind of viewer gets): for "what do others see?"."""
        with self.db.session() as s:
            settings = self._settings(s.get(PersonSetting, person))
            status = self._now(s.get(PersonStatus, person), settings, self.clock())
        levels = {relation: LEVELS[settings.audience].get(relation, "refused") for relation in RELATIONS}
        return settings.audience, status, levels

    def views(self, person: str, days: int = VIEW_LOG_DAYS) -> list[StatusView]:
        """Who looked at the person's status in the last `days` days, newest first."""
        since = self.clock() - timedelta(days=days)
        with self.db.session() as s:
            return list(s.execute(select(StatusView).where(StatusView.subject_id == person,
                                                           StatusView.viewed_at >= since)
                                  .order_by(StatusView.viewed_at.desc(), StatusView.id.desc())).scalars())
