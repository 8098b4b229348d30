"""Tables. Every change here comes with an Alembic migration in assistant/store/migrations/versions/."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime: SQLite hands them back naive (they were written in UTC),
    PostgreSQL in the session's time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Department(Base):
    __tablename__ = "departments"
    id = Column(String(64), primary_key=True)
    name_zh = Column(String(128), nullable=False)
    name_en = Column(String(128), nullable=False)
    aliases = Column(JSON, nullable=False, default=list)
    director_id = Column(String(64), nullable=True)


class Person(Base):
    __tablename__ = "people"
    id = Column(String(64), primary_key=True)
    name_zh = Column(String(128), nullable=False)
    name_en = Column(String(128), nullable=False)
    title_zh = Column(String(128), nullable=False, default="")
    title_en = Column(String(128), nullable=False, default="")
    department_id = Column(String(64), ForeignKey("departments.id"), nullable=False)
    manager_id = Column(String(64), ForeignKey("people.id"), nullable=True)
    active = Column(Boolean, nullable=False, default=True)


class PersonRole(Base):
    __tablename__ = "person_roles"
    person_id = Column(String(64), ForeignKey("people.id"), primary_key=True)
    role = Column(String(64), primary_key=True)


class ApiToken(Base):
    """Per-employee API tokens; only a SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"
    token_hash = Column(String(64), primary_key=True)
    person_id = Column(String(64), ForeignKey("people.id"), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at = Column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """Append-only: rows are inserted, never updated or deleted (see assistant/audit.py)."""

    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    object_type = Column(String(64), nullable=False)
    object_id = Column(String(128), nullable=False)
    reason = Column(Text, nullable=True)
    detail = Column(JSON, nullable=True)


class PolicyCategory(Base):
    __tablename__ = "policy_categories"
    id = Column(String(32), primary_key=True)
    name_zh = Column(String(64), nullable=False)
    name_en = Column(String(64), nullable=False)
    cap_fen = Column(Integer, nullable=True)  # money is stored in fen (0.01 CNY) as integers
    cap_per = Column(String(32), nullable=True)
    note_zh = Column(Text, nullable=False, default="")
    note_en = Column(Text, nullable=False, default="")
    rules = Column(JSON, nullable=False, default=dict)


class PolicySetting(Base):
    """Policy-wide values: exchange rates, invoice threshold, maximum age of an expense."""

    __tablename__ = "policy_settings"
    key = Column(String(64), primary_key=True)
    value = Column(JSON, nullable=False)


class PolicyChange(Base):
    __tablename__ = "policy_changes"
    id = Column(String(64), primary_key=True)
    effective = Column(Date, nullable=False, index=True)
    categories = Column(JSON, nullable=False, default=list)
    text_zh = Column(Text, nullable=False)
    text_en = Column(Text, nullable=False)


class Claim(Base):
    """A reimbursement claim. `id` is the claim number people say ("报销单 42")."""

    __tablename__ = "claims"
    id = Column(Integer, primary_key=True, autoincrement=True)
    applicant_id = Column(String(64), ForeignKey("people.id"), nullable=False, index=True)
    status = Column(String(16), nullable=False, default="draft", index=True)
    lang = Column(String(2), nullable=False, default="zh")
    description = Column(Text, nullable=False, default="")
    total_fen = Column(Integer, nullable=False, default=0)
    chain = Column(JSON, nullable=False, default=list)
    current_step = Column(String(32), nullable=True)
    current_approver = Column(String(64), ForeignKey("people.id"), nullable=True, index=True)
    step_since = Column(DateTime(timezone=True), nullable=True)
    workflow_state = Column(Text, nullable=True)
    submit_key = Column(String(128), nullable=True, unique=True)
    version = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    submitted_at = Column(DateTime(timezone=True), nullable=True)
    closed_at = Column(DateTime(timezone=True), nullable=True)


class ClaimItem(Base):
    __tablename__ = "claim_items"
    id = Column(Integer, primary_key=True, autoincrement=True)
    claim_id = Column(Integer, ForeignKey("claims.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    category = Column(String(32), nullable=False)
    amount_fen = Column(Integer, nullable=False)  # in CNY, after conversion
    original_amount = Column(String(32), nullable=False)  # decimal text in `currency`
    currency = Column(String(3), nullable=False, default="CNY")
    spent_on = Column(Date, nullable=False)
    description = Column(String(200), nullable=False, default="")
    client = Column(String(120), nullable=True)
    has_invoice = Column(Boolean, nullable=True)
    nights = Column(Integer, nullable=True)
    justification = Column(Text, nullable=True)


class ClaimEvent(Base):
    """The claim's timeline: every state change, with who, when, which step and why."""

    __tablename__ = "claim_events"
    id = Column(Integer, primary_key=True, autoincrement=True)
    claim_id = Column(Integer, ForeignKey("claims.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor = Column(String(64), nullable=False)
    kind = Column(String(32), nullable=False)
    step = Column(String(32), nullable=True)
    reason = Column(Text, nullable=True)
    detail = Column(JSON, nullable=True)


class PendingQuestion(Base):
    """What Deskmate last asked a person and is waiting for (one per person), so answers survive restarts."""

    __tablename__ = "pending_questions"
    person_id = Column(String(64), ForeignKey("people.id"), primary_key=True)
    kind = Column(String(32), nullable=False)
    claim_id = Column(Integer, ForeignKey("claims.id", ondelete="CASCADE"), nullable=True)
    payload = Column(JSON, nullable=False, default=dict)
    asked_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class OutboxEffect(Base):
    """One side effect on the IM backend, delivered at most once per idempotency key, retried until sent."""

    __tablename__ = "outbox"
    id = Column(Integer, primary_key=True, autoincrement=True)
    key = Column(String(200), nullable=False, unique=True)
    kind = Column(String(32), nullable=False)
    payload = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_error = Column(Text, nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = Column(DateTime(timezone=True), nullable=True)


class PersonSetting(Base):
    """Per-person settings Deskmate keeps. `language` is the one they last wrote in (for messages Deskmate
    starts); `reply_language` is the one they asked to be answered in, whatever they write. Status settings
    left empty fall back to the deployment's defaults (docs/configuration.md)."""

    __tablename__ = "person_settings"
    person_id = Column(String(64), ForeignKey("people.id"), primary_key=True)
    language = Column(String(2), nullable=True)
    current_topic_id = Column(Integer, ForeignKey("topics.id", ondelete="SET NULL"), nullable=True)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    reply_language = Column(String(2), nullable=True)
    status_audience = Column(String(16), nullable=True)  # everyone | team | chain | nobody; None = chain
    work_start = Column(String(5), nullable=True)  # "09:00" in the company's time zone
    work_end = Column(String(5), nullable=True)
    digest_at = Column(String(5), nullable=True)  # a manager's daily digest time, None = not subscribed
    digest_sent_on = Column(Date, nullable=True)
    memory_since = Column(DateTime(timezone=True), nullable=True)  # habits are learned from claims after this


class PersonStatus(Base):
    """What a person is doing now: the latest work activity (set by events) and the status they set by hand."""

    __tablename__ = "person_statuses"
    person_id = Column(String(64), ForeignKey("people.id"), primary_key=True)
    activity_kind = Column(String(16), nullable=True)  # claim | topic | note | call
    activity_ref = Column(String(64), nullable=True)  # claim:42, topic:7
    activity_label = Column(JSON, nullable=True)  # {"zh": ..., "en": ...}
    activity_since = Column(DateTime(timezone=True), nullable=True)  # when this activity started
    activity_seen_at = Column(DateTime(timezone=True), nullable=True)  # its latest event: expiry counts from here
    manual_text = Column(String(200), nullable=True)
    manual_since = Column(DateTime(timezone=True), nullable=True)
    manual_until = Column(DateTime(timezone=True), nullable=True)
    paused_until = Column(DateTime(timezone=True), nullable=True)


class StatusView(Base):
    """Append-only log of status lookups, for "who looked at my status?" (refused lookups included)."""

    __tablename__ = "status_views"
    id = Column(Integer, primary_key=True, autoincrement=True)
    subject_id = Column(String(64), nullable=False, index=True)
    viewer_id = Column(String(64), nullable=True)  # None: the admin token
    relation = Column(String(16), nullable=False)  # chain | team | everyone | admin
    level = Column(String(16), nullable=False)  # full | coarse | presence | refused
    channel = Column(String(16), nullable=False)  # chat | api | digest
    viewed_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Topic(Base):
    """A discussion with a stable id, bound to a claim or free; its IM room is `im_rooms.purpose = topic:<id>`."""

    __tablename__ = "topics"
    id = Column(Integer, primary_key=True, autoincrement=True)
    claim_id = Column(Integer, ForeignKey("claims.id", ondelete="CASCADE"), nullable=True, unique=True)
    title = Column(String(200), nullable=False)
    status = Column(String(16), nullable=False, default="open", index=True)
    public = Column(Boolean, nullable=False, default=False)  # readable by all once closed
    created_by = Column(String(64), ForeignKey("people.id"), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    closed_at = Column(DateTime(timezone=True), nullable=True)


class TopicMessage(Base):
    """A human message in a topic room, with the bound item's state at the moment it was written."""

    __tablename__ = "topic_messages"
    id = Column(Integer, primary_key=True, autoincrement=True)
    topic_id = Column(Integer, ForeignKey("topics.id", ondelete="CASCADE"), nullable=False, index=True)
    event_id = Column(String(255), nullable=False, unique=True)
    author = Column(String(64), nullable=False)
    body = Column(Text, nullable=False)
    sent_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    item_state = Column(JSON, nullable=True)


class ImRoom(Base):
    """Which IM room serves which purpose ("dm:zhangwei", "topic:7"): filled when the room is created."""

    __tablename__ = "im_rooms"
    purpose = Column(String(128), primary_key=True)
    room_id = Column(String(255), nullable=False, unique=True)
    closed = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class MatrixTransaction(Base):
    """Application-service transactions already accepted: a retried txn id is answered without a second pass."""

    __tablename__ = "matrix_transactions"
    txn_id = Column(String(255), primary_key=True)
    events = Column(Integer, nullable=False, default=0)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class MatrixInboxEvent(Base):
    """An event Synapse pushed, kept until handled: accepted once, handled once, survives a restart."""

    __tablename__ = "matrix_inbox"
    event_id = Column(String(255), primary_key=True)
    txn_id = Column(String(255), nullable=False)
    room_id = Column(String(255), nullable=False)
    sender = Column(String(255), nullable=False)
    event = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False, default="new", index=True)
    outcome = Column(String(32), nullable=True)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    handled_at = Column(DateTime(timezone=True), nullable=True)


class TopicParticipant(Base):
    """Who takes part in a topic and why (approver of step 2, named by the creator...); removal is kept."""

    __tablename__ = "topic_participants"
    topic_id = Column(Integer, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    person_id = Column(String(64), ForeignKey("people.id"), primary_key=True)
    reason = Column(JSON, nullable=False)
    added_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    removed_at = Column(DateTime(timezone=True), nullable=True)


class TopicConclusion(Base):
    """A conclusion of a topic, with the messages it came from; `written_back_at` once on the claim."""

    __tablename__ = "topic_conclusions"
    id = Column(Integer, primary_key=True, autoincrement=True)
    topic_id = Column(Integer, ForeignKey("topics.id", ondelete="CASCADE"), nullable=False, index=True)
    text = Column(Text, nullable=False)
    author = Column(String(64), nullable=False)
    source_messages = Column(JSON, nullable=False, default=list)  # event ids of topic_messages
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    written_back_at = Column(DateTime(timezone=True), nullable=True)


class TopicNote(Base):
    """A note ("记一下：…") recorded in a topic."""

    __tablename__ = "topic_notes"
    id = Column(Integer, primary_key=True, autoincrement=True)
    topic_id = Column(Integer, ForeignKey("topics.id", ondelete="CASCADE"), nullable=False, index=True)
    text = Column(Text, nullable=False)
    author = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class TopicLink(Base):
    """A link from a topic to another topic, a claim, a note, a document or a person."""

    __tablename__ = "topic_links"
    id = Column(Integer, primary_key=True, autoincrement=True)
    topic_id = Column(Integer, ForeignKey("topics.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)  # topic | claim | note | document | person
    target = Column(String(500), nullable=False)
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
