"""Work status by conversation: set, clear and pause it, choose who sees it, preview it, see who looked,
ask about a colleague or one's team, working hours and the daily digest. Arguments are read from the text
(assistant/status_text.py); times are in the company's time zone.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Callable

from assistant import pending, status_text
from assistant.claim_chat import Turn
from assistant.colleagues import candidates_text, name_from_status_question
from assistant.digest import Digests
from assistant.directory import Directory
from assistant.i18n import listing, t
from assistant.status import RELATIONS, Look, Status, StatusError, clock_text, hours_text


class StatusChat:
    def __init__(self, status: Status, digests: Digests, directory: Callable[[], Directory]) -> None:
        self.status = status
        self.digests = digests
        self._directory = directory

    def _local_now(self) -> datetime:
        return self.status.clock().astimezone(self.status.tz)

    def _clock(self, value: datetime) -> str:
        return clock_text(value, self.status.tz, self.status.clock())

    def _name(self, person: str | None, lang: str) -> str:
        found = self._directory().get(person) if person else None
        return found.name(lang) if found else t("status.admin", lang)

    def _people(self, people: list[str], lang: str) -> str:
        return listing(lang, (self._name(p, lang) for p in people)) or t("status.nobody_there", lang)

    def _error(self, err: StatusError, lang: str) -> list[str]:
        return [t(f"status.error.{err.code}", lang, **err.values)]

    # -- one's own status --------------------------------------------------------------------------------------

    def set_status(self, turn: Turn) -> list[str]:
        manual = status_text.parse_manual_status(turn.text, self._local_now())
        if manual is None:
            return [t("status.ask_what", turn.lang)]
        try:
            until = self.status.set_manual(turn.person, manual.text, manual.until)
        except StatusError as err:
            return self._error(err, turn.lang)
        return [t("status.set", turn.lang, text=manual.text, until=self._clock(until))]

    def clear_status(self, turn: Turn) -> list[str]:
        had = self.status.clear_manual(turn.person)
        return [t("status.cleared" if had else "status.nothing_to_clear", turn.lang)]

    def pause_auto_status(self, turn: Turn) -> list[str]:
        now = self._local_now()
        duration = status_text.parse_duration(turn.text)
        until = now + duration if duration else status_text.parse_clock(turn.text, now)
        if until is None:
            settings = self.status.settings_of(turn.person)
            end = settings.end_of_day(now)
            until = end if end > now else now + timedelta(hours=2)
        if until - now > timedelta(days=14):
            return [t("status.error.pause_too_long", turn.lang)]
        try:
            self.status.pause(turn.person, until)
        except StatusError as err:
            return self._error(err, turn.lang)
        return [t("status.paused", turn.lang, until=self._clock(until))]

    def resume_auto_status(self, turn: Turn) -> list[str]:
        was = self.status.resume(turn.person)
        return [t("status.resumed" if was else "status.not_paused", turn.lang)]

    def set_working_hours(self, turn: Turn) -> list[str]:
        hours = status_text.parse_working_hours(turn.text)
        if hours is None:
            settings = self.status.settings_of(turn.person)
            return [t("status.ask_hours", turn.lang, hours=hours_text(settings.start, settings.end))]
        try:
            self.status.set_hours(turn.person, *hours)
        except StatusError as err:
            return self._error(err, turn.lang)
        return [t("status.hours_set", turn.lang, hours=hours_text(*hours))]

    # -- privacy -----------------------------------------------------------------------------------------------

    def _audience_people(self, person: str) -> dict[str, list[str]]:
        directory = self._directory()
        return {"chain": [m.id for m in directory.manager_chain(person)],
                "team": [p.id for p in directory.peers(person)]}

    def set_status_privacy(self, turn: Turn) -> list[str]:
        audience = status_text.parse_audience(turn.text)
        if audience is None:
            return [t("status.ask_audience", turn.lang)]
        self.status.set_audience(turn.person, audience)
        return [t(f"status.audience_set.{audience}", turn.lang)] + self._preview_lines(turn)

    def preview_my_status(self, turn: Turn) -> list[str]:
        return self._preview_lines(turn)

    def _preview_lines(self, turn: Turn) -> list[str]:
        audience, status, levels = self.status.preview(turn.person)
        people = self._audience_people(turn.person)
        lines = [t("status.preview.head", turn.lang, audience=t(f"status.audience.{audience}", turn.lang),
                   mine=status.render("full", turn.lang, self.status.tz))]
        for relation in RELATIONS:
            seen = status.render(levels[relation], turn.lang, self.status.tz) if levels[relation] != "refused" \
                else t("status.preview.hidden", turn.lang)
            who = self._people(people[relation], turn.lang) if relation in people else ""
            lines.append(t(f"status.preview.{relation}", turn.lang, who=who, seen=seen))
        return ["\n".join(lines)]

    def status_viewers(self, turn: Turn) -> list[str]:
        views = self.status.views(turn.person)
        if not views:
            return [t("status.viewers.none", turn.lang, days=30)]
        counts = Counter((v.viewer_id, v.level) for v in views)
        latest: dict[tuple[str | None, str], datetime] = {}
        for v in views:
            latest.setdefault((v.viewer_id, v.level), v.viewed_at)
        lines = [t("status.viewers.head", turn.lang, days=30, count=len({v.viewer_id for v in views}))]
        for (viewer, level), count in sorted(counts.items(), key=lambda kv: latest[kv[0]], reverse=True):
            key = "status.viewers.refused" if level == "refused" else "status.viewers.line"
            lines.append(t(key, turn.lang, who=self._name(viewer, turn.lang), count=count,
                           level=t(f"status.level.{level}", turn.lang), last=self._clock(latest[(viewer, level)])))
        return ["\n".join(lines)]

    # -- asking about others -----------------------------------------------------------------------------------

    def ask_status(self, turn: Turn, name: str | None = None) -> list[str]:
        name = name or name_from_status_question(turn.text)
        if not name:
            return [t("status.ask_who", turn.lang)]
        directory = self._directory()
        found = directory.resolve(name, asker=turn.person)
        if found.kind == "ambiguous":
            pending.ask_which_person(self.status.db, turn.person, chat="status_chat", method="ask_status",
                                     text=turn.text, name=name,
                                     candidates=[p.id for p in found.people])
            return [t("who.ambiguous", turn.lang, name=name,
                      candidates=candidates_text(directory, found.people, turn.lang))]
        if found.kind == "group":
            mine = {p.id for p in directory.all_reports(turn.person)}
            if found.people and {p.id for p in found.people} <= mine:  # "我的团队" / "my team"
                return self.team_status(turn)
            return [t("status.ask_group", turn.lang, name=name)]
        if found.kind != "person" or not found.people:
            return [t("who.unknown", turn.lang, name=name)]
        look = self.status.look(turn.person, found.people[0].id, "chat")
        return [self._look_line(look, turn.lang, alone=True)]

    def _look_line(self, look: Look, lang: str, alone: bool = False) -> str:
        name = self._name(look.subject, lang)
        if look.refused or look.status is None:
            return t("status.refused" if alone else "status.team.hidden", lang, name=name)
        return t("status.of", lang, name=name, status=look.status.render(look.level, lang, self.status.tz))

    def team_status(self, turn: Turn) -> list[str]:
        directory = self._directory()

        def below(person: str, depth: int) -> list[tuple[str, int]]:  # each report under their manager
            return [row for p in directory.direct_reports(person) for row in [(p.id, depth), *below(p.id, depth + 1)]]

        reports = below(turn.person, 0)
        if not reports:
            return [t("status.team.no_reports", turn.lang)]
        looks = self.status.look_many(turn.person, [p for p, _ in reports], "chat")
        lines = [t("status.team.head", turn.lang, count=len(reports))]
        for look, (_, depth) in zip(looks, reports, strict=True):
            lines.append("  " * depth + "- " + self._look_line(look, turn.lang))
        return ["\n".join(lines)]

    # -- digest ------------------------------------------------------------------------------------------------

    def subscribe_digest(self, turn: Turn) -> list[str]:
        at = status_text.parse_daily_time(turn.text)
        try:
            at = self.digests.subscribe(turn.person, at)
        except StatusError as err:
            return self._error(err, turn.lang)
        return [t("status.digest.subscribed", turn.lang, time=at.strftime("%H:%M"))]

    def unsubscribe_digest(self, turn: Turn) -> list[str]:
        was = self.digests.unsubscribe(turn.person)
        return [t("status.digest.unsubscribed" if was else "status.digest.not_subscribed", turn.lang)]

