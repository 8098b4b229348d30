"""Topics: a discussion with a stable id, its participants and its recorded messages.

A claim's topic opens by itself when the claim is submitted, with the applicant and the approver it
waits for; each later approver is invited when the claim reaches them, every state change is posted into
the room as a notice, and the topic closes (read-only room) when the claim reaches a final state. Each
human message in the room is stored with the claim's state at that moment, so a claim's timeline shows
what was said while it waited for whom.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant import audit, outbox, rooms
from assistant.claim_status import FINAL
from assistant.directory import Directory
from assistant.i18n import both, listing, t
from assistant.preferences import setting_row
from assistant.status import Recorder, topic_activity
from assistant.store import Database
from assistant.store.models import (
    Claim,
    ClaimEvent,
    ClaimItem,
    PersonSetting,
    Topic,
    TopicConclusion,
    TopicLink,
    TopicMessage,
    TopicNote,
    TopicParticipant,
    as_utc,
    utcnow,
)


def claim_state(claim: Claim) -> dict[str, Any]:
    """The bound item's state as recorded beside each message: status, step and whom it waits for."""
    return {"status": claim.status, "step": claim.current_step, "waiting_for": claim.current_approver,
            "version": claim.version}


def _title(claim: Claim, directory: Directory) -> str:
    names = directory.names(claim.applicant_id)
    return f"{t('topic.claim_title', 'zh', id=claim.id, applicant=names)} · " \
           f"{t('topic.claim_title', 'en', id=claim.id, applicant=names)}"


def _new_claim_topic(s: Session, claim: Claim, directory: Directory, created_by: str,
                     invite: dict[str, dict[str, str]]) -> Topic:
    """The claim's topic, its participants (`invite`: person -> reason), its room and its index entry."""
    topic = Topic(claim_id=claim.id, title=_title(claim, directory), created_by=created_by)
    s.add(topic)
    s.flush()
    for person, reason in invite.items():
        s.add(TopicParticipant(topic_id=topic.id, person_id=person, reason=reason))
    purpose = rooms.topic_purpose(topic.id)
    outbox.create_room(s, f"{purpose}:room", purpose, topic.title, _room_topic(claim, directory), invite)
    _index(s, topic.id, "title", topic.title)
    return topic


def follow_claim(s: Session, claim: Claim, directory: Directory) -> None:
    """Bring the claim's topic up to date with the claim, in the transaction that changed the claim:
    open it on first submission, invite whoever the claim now waits for, announce the state, close at the end."""
    topic = s.execute(select(Topic).where(Topic.claim_id == claim.id)).scalar_one_or_none()
    if topic is None:
        if claim.status == "draft":
            return
        invite = {claim.applicant_id: both("topic.reason.applicant", id=claim.id)}
        hr = directory.one_with_role("hr_director")
        if hr and hr.id != claim.applicant_id and s.execute(select(ClaimItem.id).where(
                ClaimItem.claim_id == claim.id, ClaimItem.category == "training")).first():
            invite[hr.id] = both("topic.reason.hr", id=claim.id)
        topic = _new_claim_topic(s, claim, directory, claim.applicant_id, invite)
    purpose = rooms.topic_purpose(topic.id)
    key = f"{purpose}:v{claim.version}"
    if claim.status == "in_review" and claim.current_approver:
        _add_participant(s, topic, claim.current_approver,
                         both("topic.reason.approver", id=claim.id, step=both(f"step.{claim.current_step}")), key)
    outbox.post(s, f"{key}:state", purpose, _state_notice(claim, directory))
    outbox.set_topic(s, f"{key}:topic", purpose, _room_topic(claim, directory))
    if claim.status in FINAL and topic.status == "open":
        topic.status, topic.closed_at = "closed", utcnow()
        outbox.post(s, f"{key}:summary", purpose, summary(view_of(s, topic), directory))
        outbox.close_room(s, f"{key}:close", purpose)
    elif claim.status not in FINAL and topic.status == "closed":
        topic.status, topic.closed_at = "open", None
        outbox.close_room(s, f"{key}:reopen", purpose, closed=False)


def _add_participant(s: Session, topic: Topic, person: str, reason: dict[str, str], key: str) -> bool:
    """Make `person` a participant (again) and queue the room invite; False if they already are one."""
    existing = s.get(TopicParticipant, (topic.id, person))
    if existing is not None and existing.removed_at is None:
        return False
    if existing is None:
        s.add(TopicParticipant(topic_id=topic.id, person_id=person, reason=reason))
    else:
        existing.removed_at, existing.reason = None, reason
    outbox.invite(s, f"{key}:invite:{person}", rooms.topic_purpose(topic.id), person, reason)
    return True


def _state_notice(claim: Claim, directory: Directory) -> dict[str, str]:
    if claim.status == "in_review":
        return both("topic.state.waiting", id=claim.id, approver=directory.names(claim.current_approver),
                    step=both(f"step.{claim.current_step}"))
    return both("topic.state.changed", id=claim.id,
                status=both(f"status.{claim.status}"))


def _room_topic(claim: Claim, directory: Directory) -> str:
    from assistant.policy import yuan

    notice = _state_notice(claim, directory)
    return f"{yuan(claim.total_fen)} CNY · {notice['zh']} · {notice['en']}"


def topic_of_room(db: Database, room_id: str) -> int | None:
    """The topic a room serves, if it is a topic room."""
    return rooms.topic_of_purpose(rooms.purpose_of(db, room_id))


def record_message(db: Database, topic_id: int, event_id: str, author: str, body: str, sent_at: datetime,
                   activity: Recorder | None = None) -> bool:
    """Store one human message of a topic room with the bound item's state now; False if already stored.
    `activity` sets the author's status from it (assistant/status.py)."""
    with db.session() as s:
        if s.execute(select(TopicMessage.id).where(TopicMessage.event_id == event_id)).first():
            return False
        topic = s.get(Topic, topic_id)
        if topic is None:
            return False
        state = None
        if topic.claim_id is not None:
            claim = s.get(Claim, topic.claim_id)
            state = claim_state(claim) if claim else None
        s.add(TopicMessage(topic_id=topic_id, event_id=event_id, author=author, body=body[:20000], sent_at=sent_at,
                           item_state=state))
        _index(s, topic_id, "message", body[:20000])
        if activity is not None:
            activity(s, author, topic_activity(topic.id, topic.title))
        return True


def title_of(db: Database, topic_id: int) -> str | None:
    with db.session() as s:
        topic = s.get(Topic, topic_id)
        return topic.title if topic else None


def messages(db: Database, topic_id: int) -> list[dict[str, Any]]:
    with db.session() as s:
        return _messages(s, topic_id)


class TopicError(Exception):
    """A request the topic's state, the rules or visibility refuse; `code` names the message (topic.error.*)."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


@dataclass
class TopicView:
    id: int
    title: str
    status: str
    public: bool
    claim_id: int | None
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    participants: list[dict[str, Any]]
    conclusions: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    waiting_for: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "public": self.public,
                "claim_id": self.claim_id, "created_by": self.created_by, "created_at": self.created_at.isoformat(),
                "closed_at": self.closed_at.isoformat() if self.closed_at else None,
                "participants": self.participants, "conclusions": self.conclusions, "notes": self.notes,
                "links": self.links, "waiting_for": self.waiting_for, "messages": self.messages}


def _ts(value: datetime) -> str:
    return value.isoformat()


class Topics:
    """The topics service: opening, people, conclusions, write-back, closing, links, notes, visibility.

    Every change and the IM effects it implies are written in one transaction; the room follows through
    the outbox. `directory` and `claims` are callables/services so the snapshots stay fresh."""

    def __init__(self, db: Database, directory: Callable[[], Directory], claims: Any,
                 activity: Recorder | None = None) -> None:
        self.db = db
        self._directory = directory
        self.claims = claims
        self.activity = activity

    def _did(self, s: Session, person: str, topic: Topic, doing: str = "in") -> None:
        """The work event sets the person's status (assistant/status.py), in this transaction."""
        if self.activity is not None:
            self.activity(s, person, topic_activity(topic.id, topic.title, doing))

    # -- reading ---------------------------------------------------------------------------------------------

    def can_read(self, viewer: str | None, s: Session, topic: Topic) -> bool:
        """Participants read a topic; anyone reads a closed public one; None is the admin."""
        if viewer is None or (topic.status == "closed" and topic.public):
            return True
        part = s.get(TopicParticipant, (topic.id, viewer))
        return part is not None and part.removed_at is None

    def _readable(self, s: Session, viewer: str | None, topic_id: int) -> Topic:
        topic = s.get(Topic, topic_id)
        if topic is None or not self.can_read(viewer, s, topic):
            raise TopicError("not_found", id=topic_id)  # the same answer whether it exists or not
        return topic

    def _member(self, s: Session, person: str, topic_id: int) -> Topic:
        """A topic the person takes part in (changes need that, public or not)."""
        topic = s.get(Topic, topic_id)
        part = s.get(TopicParticipant, (topic_id, person)) if topic else None
        if topic is None or part is None or part.removed_at is not None:
            if topic is not None and topic.status == "closed" and topic.public:
                raise TopicError("not_participant", id=topic_id)
            raise TopicError("not_found", id=topic_id)
        return topic

    def get(self, viewer: str | None, topic_id: int, with_messages: bool = False) -> TopicView:
        with self.db.session() as s:
            return view_of(s, self._readable(s, viewer, topic_id), with_messages)

    def current(self, person: str, room_id: str | None = None, explicit: int | None = None) -> int:
        """The topic a command is about: named, the room it was said in, else the person's current one."""
        if explicit is not None:
            return explicit
        if room_id:
            topic_id = topic_of_room(self.db, room_id)
            if topic_id is not None:
                return topic_id
        with self.db.session() as s:
            setting = s.get(PersonSetting, person)
            if setting is None or setting.current_topic_id is None:
                raise TopicError("no_current")
            return setting.current_topic_id

    def _set_current(self, s: Session, person: str, topic_id: int) -> None:
        setting_row(s, person).current_topic_id = topic_id

    # -- opening and people ----------------------------------------------------------------------------------

    def open_free(self, creator: str, title: str, people: list[str]) -> TopicView:
        """A free topic: its creator and the people named (already resolved to ids)."""
        title = " ".join(title.split())[:200]
        if not title:
            raise TopicError("no_title")
        directory = self._directory()
        with self.db.session() as s:
            topic = Topic(title=title, created_by=creator)
            s.add(topic)
            s.flush()
            by = directory.names(creator)
            invite = {creator: both("topic.reason.creator", title=title)}
            for person in people:
                if person != creator:
                    invite[person] = both("topic.reason.named", title=title, by=by)
            for person, reason in invite.items():
                s.add(TopicParticipant(topic_id=topic.id, person_id=person, reason=reason))
            purpose = rooms.topic_purpose(topic.id)
            outbox.create_room(s, f"{purpose}:room", purpose, title, title, invite)
            audit.record(s, creator, "topic.open", "topic", str(topic.id), detail={"people": sorted(invite)})
            self._set_current(s, creator, topic.id)
            self._did(s, creator, topic)
            _index(s, topic.id, "title", title)
            return view_of(s, topic)

    def open_for_claim(self, person: str, claim_id: int) -> tuple[TopicView, bool]:
        """The claim's topic, opened now if it has none (a draft's, say); (view, created). Whoever may see the
        claim may open or join its topic; they are added when they are not in it yet."""
        directory = self._directory()
        with self.db.session() as s:
            claim = s.get(Claim, claim_id)
            if claim is None or not self.claims.can_view(person, claim):
                raise TopicError("claim_not_found", id=claim_id)
            topic = s.execute(select(Topic).where(Topic.claim_id == claim_id)).scalar_one_or_none()
            created = topic is None
            if topic is None:
                invite = {claim.applicant_id: both("topic.reason.applicant", id=claim.id)}
                for step in claim.chain or []:
                    if step.get("state") in ("done", "current") and step.get("approver"):
                        invite.setdefault(step["approver"], both("topic.reason.approver", id=claim.id,
                                                                 step=both(f"step.{step['step']}")))
                invite.setdefault(person, both("topic.reason.opened_claim", id=claim.id))
                topic = _new_claim_topic(s, claim, directory, person, invite)
            else:
                _add_participant(s, topic, person, both("topic.reason.opened_claim", id=claim.id),
                                 f"{rooms.topic_purpose(topic.id)}:join:{person}")
            audit.record(s, person, "topic.open" if created else "topic.join", "topic", str(topic.id),
                         detail={"claim_id": claim_id})
            self._set_current(s, person, topic.id)
            self._did(s, person, topic)
            return view_of(s, topic), created

    def add(self, actor: str, topic_id: int, people: list[str]) -> tuple[TopicView, list[str]]:
        """Invite people; returns the view and who was new."""
        directory = self._directory()
        with self.db.session() as s:
            topic = self._member(s, actor, topic_id)
            if topic.status == "closed":
                raise TopicError("closed", id=topic_id)
            added = []
            reason = both("topic.reason.added", title=topic.title, by=directory.names(actor))
            for person in people:
                if _add_participant(s, topic, person, reason,
                                    f"{rooms.topic_purpose(topic.id)}:add:{person}:{_now_key()}"):
                    added.append(person)
            if added:
                audit.record(s, actor, "topic.add", "topic", str(topic.id), detail={"people": added})
            return view_of(s, topic), added

    def remove(self, actor: str, topic_id: int, people: list[str]) -> tuple[TopicView, list[str]]:
        """Remove people. The creator may remove anyone, anyone may remove themselves (leave), but a bound
        claim's applicant and approvers stay: the claim needs them reachable."""
        directory = self._directory()
        with self.db.session() as s:
            topic = self._member(s, actor, topic_id)
            protected: set[str] = set()
            if topic.claim_id is not None:
                claim = s.get(Claim, topic.claim_id)
                protected = {claim.applicant_id} | {step.get("approver") for step in claim.chain or []}
            removed = []
            for person in people:
                if person != actor and actor != topic.created_by:
                    raise TopicError("only_creator_removes", id=topic.id)
                if person in protected:
                    raise TopicError("protected", id=topic.id, person=directory.names(person))
                part = s.get(TopicParticipant, (topic.id, person))
                if part is None or part.removed_at is not None:
                    continue
                part.removed_at = utcnow()
                why = both("topic.reason.left" if person == actor else "topic.reason.removed",
                           title=topic.title, by=directory.names(actor))
                outbox.remove(s, f"{rooms.topic_purpose(topic.id)}:remove:{person}:{_now_key()}",
                              rooms.topic_purpose(topic.id), person, why)
                removed.append(person)
            if removed:
                audit.record(s, actor, "topic.remove", "topic", str(topic.id), detail={"people": removed})
            return view_of(s, topic), removed

    # -- conclusions, notes, links ---------------------------------------------------------------------------

    def conclude(self, person: str, topic_id: int, text: str, reply_to: str | None = None) -> dict[str, Any]:
        """Store a conclusion linked to the messages it came from: the one replied to, else the messages
        since the previous conclusion (at most the last 20)."""
        text = text.strip()[:4000]
        if not text:
            raise TopicError("no_conclusion")
        with self.db.session() as s:
            topic = self._member(s, person, topic_id)
            if reply_to:
                sources = [reply_to]
            else:
                since = s.execute(select(func.max(TopicConclusion.created_at))
                                  .where(TopicConclusion.topic_id == topic.id)).scalar()
                query = select(TopicMessage.event_id).where(TopicMessage.topic_id == topic.id)
                if since is not None:
                    query = query.where(TopicMessage.sent_at > since)
                sources = list(reversed(list(s.execute(query.order_by(TopicMessage.sent_at.desc(),
                                                                      TopicMessage.id.desc()).limit(20)).scalars())))
            conclusion = TopicConclusion(topic_id=topic.id, text=text, author=person, source_messages=sources)
            s.add(conclusion)
            s.flush()
            outbox.post(s, f"{rooms.topic_purpose(topic.id)}:conclusion:{conclusion.id}", rooms.topic_purpose(topic.id),
                        both("topic.notice.conclusion", text=text, by=self._directory().names(person)))
            audit.record(s, person, "topic.conclude", "topic", str(topic.id), detail={"conclusion": conclusion.id})
            self._did(s, person, topic)
            _index(s, topic.id, "conclusion", text)
            return {"id": conclusion.id, "text": text, "sources": len(sources), "topic_id": topic.id,
                    "claim_id": topic.claim_id}

    def write_back(self, person: str, topic_id: int) -> dict[str, Any]:
        """Append the latest conclusion not yet written back to the bound claim's description, for approvers."""
        with self.db.session() as s:
            topic = self._member(s, person, topic_id)
            if topic.claim_id is None:
                raise TopicError("not_bound", id=topic.id)
            conclusion = s.execute(select(TopicConclusion).where(TopicConclusion.topic_id == topic.id,
                                                                 TopicConclusion.written_back_at.is_(None))
                                   .order_by(TopicConclusion.id.desc()).limit(1)).scalar_one_or_none()
            if conclusion is None:
                raise TopicError("nothing_to_write_back", id=topic.id)
            claim = s.get(Claim, topic.claim_id, with_for_update=True)
            line = f"[{t('topic.conclusion_label', claim.lang)} #{conclusion.id}] {conclusion.text}"
            claim.description = f"{claim.description}\n{line}".strip() if claim.description else line
            claim.updated_at = utcnow()
            conclusion.written_back_at = utcnow()
            s.add(ClaimEvent(claim_id=claim.id, actor=person, kind="conclusion", step=claim.current_step,
                             detail={"topic_id": topic.id, "conclusion_id": conclusion.id, "text": conclusion.text}))
            audit.record(s, person, "claim.write_back", "claim", str(claim.id),
                         detail={"topic_id": topic.id, "conclusion_id": conclusion.id})
            outbox.post(s, f"{rooms.topic_purpose(topic.id)}:written_back:{conclusion.id}",
                        rooms.topic_purpose(topic.id), both("topic.notice.written_back", id=claim.id,
                                                            text=conclusion.text))
            return {"claim_id": claim.id, "conclusion_id": conclusion.id, "text": conclusion.text}

    def note(self, person: str, topic_id: int, text: str) -> dict[str, Any]:
        text = text.strip()[:4000]
        if not text:
            raise TopicError("no_note")
        with self.db.session() as s:
            topic = self._member(s, person, topic_id)
            note = TopicNote(topic_id=topic.id, text=text, author=person)
            s.add(note)
            s.flush()
            s.add(TopicLink(topic_id=topic.id, kind="note", target=str(note.id), created_by=person))
            outbox.post(s, f"{rooms.topic_purpose(topic.id)}:note:{note.id}", rooms.topic_purpose(topic.id),
                        both("topic.notice.note", text=text, by=self._directory().names(person)))
            _index(s, topic.id, "note", text)
            self._did(s, person, topic, "note")
            return {"id": note.id, "topic_id": topic.id, "title": topic.title}

    def link(self, person: str, topic_id: int, kind: str, target: str) -> dict[str, Any]:
        """Link the topic to a claim, another topic, a person or a document, once each."""
        with self.db.session() as s:
            topic = self._member(s, person, topic_id)
            if kind == "claim":
                claim = s.get(Claim, int(target))
                if claim is None or not self.claims.can_view(person, claim):
                    raise TopicError("claim_not_found", id=target)
            elif kind == "topic":
                other = s.get(Topic, int(target))
                if other is None or other.id == topic.id or not self.can_read(person, s, other):
                    raise TopicError("not_found", id=target)
            elif kind == "person":
                if self._directory().get(target) is None:
                    raise TopicError("unknown_person", name=target)
            elif kind != "document":
                raise TopicError("bad_link")
            exists = s.execute(select(TopicLink.id).where(TopicLink.topic_id == topic.id, TopicLink.kind == kind,
                                                          TopicLink.target == target)).first()
            if not exists:
                s.add(TopicLink(topic_id=topic.id, kind=kind, target=target, created_by=person))
                if kind == "topic":  # both ways: each topic shows the other
                    s.add(TopicLink(topic_id=int(target), kind="topic", target=str(topic.id), created_by=person))
                audit.record(s, person, "topic.link", "topic", str(topic.id), detail={"kind": kind, "target": target})
            return {"topic_id": topic.id, "title": topic.title, "kind": kind, "target": target, "new": not exists}

    # -- closing ---------------------------------------------------------------------------------------------

    def close(self, person: str, topic_id: int) -> TopicView:
        """Resolve the topic: the room becomes read-only and a summary is posted."""
        directory = self._directory()
        with self.db.session() as s:
            topic = self._member(s, person, topic_id)
            if topic.status == "closed":
                raise TopicError("already_closed", id=topic.id)
            topic.status, topic.closed_at = "closed", utcnow()
            view = view_of(s, topic)
            purpose = rooms.topic_purpose(topic.id)
            key = f"{purpose}:closed:{_now_key()}"
            outbox.post(s, f"{key}:summary", purpose, summary(view, directory))
            outbox.close_room(s, f"{key}:room", purpose)
            audit.record(s, person, "topic.close", "topic", str(topic.id))
            return view

    def reopen(self, person: str, topic_id: int) -> TopicView:
        with self.db.session() as s:
            topic = self._member(s, person, topic_id)
            if topic.status == "open":
                raise TopicError("already_open", id=topic.id)
            if topic.claim_id is not None:
                claim = s.get(Claim, topic.claim_id)
                if claim is not None and claim.status in FINAL:
                    raise TopicError("claim_final", id=topic.id, claim=claim.id)
            topic.status, topic.closed_at = "open", None
            purpose = rooms.topic_purpose(topic.id)
            key = f"{purpose}:reopened:{_now_key()}"
            outbox.close_room(s, f"{key}:room", purpose, closed=False)
            by = self._directory().names(person)
            outbox.post(s, f"{key}:notice", purpose, both("topic.notice.reopened", by=by))
            audit.record(s, person, "topic.reopen", "topic", str(topic.id))
            self._set_current(s, person, topic.id)
            return view_of(s, topic)

    def make_public(self, person: str, topic_id: int) -> TopicView:
        """Readable by everyone once closed (its creator decides; for a claim's topic, the applicant)."""
        with self.db.session() as s:
            topic = self._member(s, person, topic_id)
            owner = topic.created_by
            if topic.claim_id is not None:
                owner = s.get(Claim, topic.claim_id).applicant_id
            if person != owner:
                raise TopicError("only_owner_publishes", id=topic.id, owner=self._directory().names(owner))
            topic.public = True
            audit.record(s, person, "topic.public", "topic", str(topic.id))
            return view_of(s, topic)

    # -- a claim's timeline ----------------------------------------------------------------------------------

    def claim_timeline(self, viewer: str | None, claim_id: int) -> list[dict[str, Any]]:
        """The claim's states in order, each with the topic messages written while it was in that state."""
        with self.db.session() as s:
            claim = s.get(Claim, claim_id)
            if claim is None or not self.claims.can_view(viewer, claim):
                raise TopicError("claim_not_found", id=claim_id)
            events = list(s.execute(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id)
                                    .order_by(ClaimEvent.at, ClaimEvent.id)).scalars())
            topic = s.execute(select(Topic).where(Topic.claim_id == claim_id)).scalar_one_or_none()
            said = _messages(s, topic.id) if topic is not None else []
        entries = [{"at": _ts(e.at), "actor": e.actor, "kind": e.kind, "step": e.step, "reason": e.reason,
                    "detail": e.detail, "messages": []} for e in events]
        times = [as_utc(e.at) for e in events]
        sent_times = [datetime.fromisoformat(m["sent_at"]) for m in said]
        for message, sent_at in zip(said, sent_times, strict=True):
            if entries:  # under the last state change at or before the message (the first, for earlier ones)
                entries[max(0, bisect_right(times, sent_at) - 1)]["messages"].append(message)
        return entries


def view_of(s: Session, topic: Topic, with_messages: bool = False) -> TopicView:
    """A topic as shown in chat and the API: participants, conclusions, notes, links, whom it waits for."""
    parts = s.execute(select(TopicParticipant).where(TopicParticipant.topic_id == topic.id,
                                                     TopicParticipant.removed_at.is_(None))
                      .order_by(TopicParticipant.added_at)).scalars()
    conclusions = s.execute(select(TopicConclusion).where(TopicConclusion.topic_id == topic.id)
                            .order_by(TopicConclusion.id)).scalars()
    notes = s.execute(select(TopicNote).where(TopicNote.topic_id == topic.id).order_by(TopicNote.id)).scalars()
    links = s.execute(select(TopicLink).where(TopicLink.topic_id == topic.id).order_by(TopicLink.id)).scalars()
    waiting = None
    if topic.claim_id is not None:
        claim = s.get(Claim, topic.claim_id)
        waiting = claim.current_approver if claim is not None and claim.status == "in_review" else None
    view = TopicView(
        topic.id, topic.title, topic.status, topic.public, topic.claim_id, topic.created_by, topic.created_at,
        topic.closed_at,
        [{"person": p.person_id, "reason": p.reason, "added_at": _ts(p.added_at)} for p in parts],
        [{"id": c.id, "text": c.text, "author": c.author, "created_at": _ts(c.created_at),
          "source_messages": c.source_messages, "written_back": c.written_back_at is not None}
         for c in conclusions],
        [{"id": n.id, "text": n.text, "author": n.author, "created_at": _ts(n.created_at)} for n in notes],
        [{"kind": link.kind, "target": link.target, "created_by": link.created_by} for link in links],
        waiting)
    if with_messages:
        view.messages = _messages(s, topic.id)
    return view


def _messages(s: Session, topic_id: int) -> list[dict[str, Any]]:
    rows = s.execute(select(TopicMessage).where(TopicMessage.topic_id == topic_id)
                     .order_by(TopicMessage.sent_at, TopicMessage.id)).scalars()
    return [{"event_id": m.event_id, "author": m.author, "body": m.body, "sent_at": _ts(as_utc(m.sent_at)),
             "item_state": m.item_state} for m in rows]


def _now_key() -> str:
    """Part of an effect key for a change that may happen more than once (re-adding someone, reopening)."""
    return str(int(utcnow().timestamp() * 1000))


def summary(view: TopicView, directory: Directory) -> dict[str, str]:
    """The closing summary: participants, duration, conclusions, in both languages."""
    closed = view.closed_at or utcnow()
    minutes = max(1, int((as_utc(closed) - as_utc(view.created_at)).total_seconds() // 60))
    out = {}
    for lang in ("zh", "en"):
        people = listing(lang, (directory.names(p["person"])[lang] for p in view.participants))
        lines = [t("topic.summary.head", lang, title=view.title, people=people, duration=_duration(minutes, lang))]
        if view.conclusions:
            lines += [f"{i}. {c['text']}" for i, c in enumerate(view.conclusions, 1)]
        else:
            lines.append(t("topic.summary.no_conclusions", lang))
        out[lang] = "\n".join(lines)
    return out


def _duration(minutes: int, lang: str) -> str:
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "zh":
        return (f"{days} 天" if days else "") + (f"{hours} 小时" if hours else "") + (f"{mins} 分钟" if mins or not
                                                                                    (days or hours) else "")
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p) or "1 min"


def _index(s: Session, topic_id: int, field_name: str, text: str) -> None:
    """Keep the knowledge index current, in the same transaction (assistant/search.py)."""
    from assistant import search

    search.index_topic_text(s, topic_id, field_name, text)
