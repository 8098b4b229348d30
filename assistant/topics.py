"""Topics: a discussion with a stable id, its participants and its recorded messages.

A claim's topic opens by itself when the claim is submitted, with the applicant and the approver it
waits for; each later approver is invited when the claim reaches them, every state change is posted into
the room as a notice, and the topic closes (read-only room) when the claim reaches a final state. Each
human message in the room is stored with the claim's state at that moment, so a claim's timeline shows
what was said while it waited for whom.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import outbox, rooms
from assistant.directory import Directory
from assistant.i18n import both, t
from assistant.store import Database
from assistant.store.models import Claim, ClaimItem, Topic, TopicMessage, TopicParticipant, utcnow

FINAL = ("approved", "rejected", "withdrawn", "cancelled")


def claim_state(claim: Claim) -> dict[str, Any]:
    """The bound item's state as recorded beside each message: status, step and whom it waits for."""
    return {"status": claim.status, "step": claim.current_step, "waiting_for": claim.current_approver,
            "version": claim.version}


def _names(directory: Directory, person: str | None) -> dict[str, str]:
    found = directory.get(person) if person else None
    return {lang: found.name(lang) if found else (person or "") for lang in ("zh", "en")}


def _title(claim: Claim, directory: Directory) -> str:
    names = _names(directory, claim.applicant_id)
    return f"{t('topic.claim_title', 'zh', id=claim.id, applicant=names)} · " \
           f"{t('topic.claim_title', 'en', id=claim.id, applicant=names)}"


def follow_claim(s: Session, claim: Claim, directory: Directory) -> None:
    """Bring the claim's topic up to date with the claim, in the transaction that changed the claim:
    open it on first submission, invite whoever the claim now waits for, announce the state, close at the end."""
    topic = s.execute(select(Topic).where(Topic.claim_id == claim.id)).scalar_one_or_none()
    if topic is None:
        if claim.status == "draft":
            return
        topic = Topic(claim_id=claim.id, title=_title(claim, directory), created_by=claim.applicant_id)
        s.add(topic)
        s.flush()
        purpose = rooms.topic_purpose(topic.id)
        invite = {claim.applicant_id: both("topic.reason.applicant", id=claim.id)}
        hr = directory.one_with_role("hr_director")
        if hr and hr.id != claim.applicant_id and s.execute(select(ClaimItem.id).where(
                ClaimItem.claim_id == claim.id, ClaimItem.category == "training")).first():
            invite[hr.id] = both("topic.reason.hr", id=claim.id)
        for person, reason in invite.items():
            s.add(TopicParticipant(topic_id=topic.id, person_id=person, reason=reason))
        outbox.create_room(s, f"{purpose}:room", purpose, topic.title, _room_topic(claim, directory), invite)
    purpose = rooms.topic_purpose(topic.id)
    key = f"{purpose}:v{claim.version}"
    if claim.status == "in_review" and claim.current_approver:
        _add_participant(s, topic, claim.current_approver,
                         both("topic.reason.approver", id=claim.id, step={lang: t(f"step.{claim.current_step}", lang)
                                                                           for lang in ("zh", "en")}), key)
    outbox.post(s, f"{key}:state", purpose, _state_notice(claim, directory))
    outbox.set_topic(s, f"{key}:topic", purpose, _room_topic(claim, directory))
    if claim.status in FINAL and topic.status == "open":
        topic.status, topic.closed_at = "closed", utcnow()
        outbox.close_room(s, f"{key}:close", purpose)
    elif claim.status not in FINAL and topic.status == "closed":
        topic.status, topic.closed_at = "open", None
        outbox.close_room(s, f"{key}:reopen", purpose, closed=False)


def _add_participant(s: Session, topic: Topic, person: str, reason: dict[str, str], key: str) -> None:
    existing = s.get(TopicParticipant, (topic.id, person))
    if existing is not None and existing.removed_at is None:
        return
    if existing is None:
        s.add(TopicParticipant(topic_id=topic.id, person_id=person, reason=reason))
    else:
        existing.removed_at, existing.reason = None, reason
    outbox.invite(s, f"{key}:invite:{person}", rooms.topic_purpose(topic.id), person, reason)


def _state_notice(claim: Claim, directory: Directory) -> dict[str, str]:
    if claim.status == "in_review":
        return both("topic.state.waiting", id=claim.id, approver=_names(directory, claim.current_approver),
                    step={lang: t(f"step.{claim.current_step}", lang) for lang in ("zh", "en")})
    return both("topic.state.changed", id=claim.id,
                status={lang: t(f"status.{claim.status}", lang) for lang in ("zh", "en")})


def _room_topic(claim: Claim, directory: Directory) -> str:
    from assistant.policy import yuan

    notice = _state_notice(claim, directory)
    return f"{yuan(claim.total_fen)} CNY · {notice['zh']} · {notice['en']}"


def topic_of_room(db: Database, room_id: str) -> int | None:
    """The topic a room serves, if it is a topic room."""
    purpose = rooms.purpose_of(db, room_id)
    if purpose and purpose.startswith("topic:"):
        return int(purpose.split(":", 1)[1])
    return None


def record_message(db: Database, topic_id: int, event_id: str, author: str, body: str, sent_at: datetime
                   ) -> bool:
    """Store one human message of a topic room with the bound item's state now; False if already stored."""
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
        return True


def messages(db: Database, topic_id: int) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = s.execute(select(TopicMessage).where(TopicMessage.topic_id == topic_id)
                         .order_by(TopicMessage.sent_at, TopicMessage.id)).scalars()
        return [{"event_id": m.event_id, "author": m.author, "body": m.body, "sent_at": m.sent_at.isoformat(),
                 "item_state": m.item_state} for m in rows]


def topic_for_claim(db: Database, claim_id: int) -> dict[str, Any] | None:
    with db.session() as s:
        topic = s.execute(select(Topic).where(Topic.claim_id == claim_id)).scalar_one_or_none()
        if topic is None:
            return None
        people = s.execute(select(TopicParticipant).where(TopicParticipant.topic_id == topic.id,
                                                          TopicParticipant.removed_at.is_(None))).scalars()
        return {"id": topic.id, "title": topic.title, "status": topic.status, "claim_id": topic.claim_id,
                "participants": sorted(p.person_id for p in people)}
