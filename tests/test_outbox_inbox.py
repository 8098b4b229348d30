"""The outbox's and the Matrix inbox's guarantees, on SQLite and PostgreSQL: once per key, leases, backoff,
order behind a failure; a transaction or event accepted once, an interrupted event not handled twice."""

from __future__ import annotations

from datetime import timedelta

from assistant import inbox, outbox
from assistant.store import Database
from assistant.store.models import MatrixInboxEvent, utcnow


def _post(db: Database, key: str, room: str = "topic:1") -> bool:
    with db.session() as s:
        return outbox.post(s, key, room, {"zh": "你好", "en": "hello"})


def test_an_effect_is_enqueued_once_per_key_and_leased_to_one_deliverer(db: Database) -> None:
    assert _post(db, "k1") and not _post(db, "k1")
    first = outbox.claim_due(db)
    assert [e.key for e in first] == ["k1"]
    assert outbox.claim_due(db) == []  # leased: a second deliverer gets nothing
    outbox.mark_sent(db, first[0].id)
    assert [e.status for e in outbox.listing(db, ("sent",))] == ["sent"]


def test_a_reply_enqueued_leased_is_left_to_the_one_who_sends_it(db: Database) -> None:
    """Chat replies: the replying coroutine sends them in order; the background deliverer must not take the
    second while the first is on its way."""
    with db.session() as s:
        for i in range(2):
            outbox.enqueue(s, f"reply:$e:{i}", "room.post", {"room_id": "!r", "text": str(i)}, leased=True)
    assert outbox.claim_due(db) == []
    assert [e.status for e in outbox.listing(db)] == ["sending", "sending"]


def test_a_failed_attempt_backs_off_and_a_refusal_is_final(db: Database) -> None:
    _post(db, "a")
    _post(db, "b")
    a, b = outbox.claim_due(db)
    outbox.mark_failed(db, a.id, "Synapse down", max_backoff=2.0)
    outbox.mark_failed(db, b.id, "403 M_FORBIDDEN", permanent=True)
    pending = {e.key: e for e in outbox.listing(db)}
    assert pending["a"].status == "pending" and pending["a"].attempts == 1 and pending["a"].last_error == "Synapse down"
    assert pending["b"].status == "failed"
    assert outbox.claim_due(db) == []  # not due before its backoff
    for _ in range(10):
        outbox.mark_failed(db, a.id, "still down", max_backoff=2.0)
    delay = outbox.next_attempt(db, a.id) - utcnow()
    assert timedelta(0) < delay <= timedelta(seconds=2.1)  # capped


def test_effects_deferred_behind_a_failure_keep_their_order(db: Database) -> None:
    for key in ("m1", "m2", "m3"):
        _post(db, key)
    m1, m2, m3 = outbox.claim_due(db)
    outbox.mark_failed(db, m1.id, "down", max_backoff=0.0)
    outbox.defer(db, [m2.id, m3.id], outbox.next_attempt(db, m1.id))
    assert [e.key for e in outbox.claim_due(db)] == ["m1", "m2", "m3"]


def _event(event_id: str) -> dict:
    return {"event_id": event_id, "room_id": "!r:x", "sender": "@zhangwei:x", "type": "m.room.message",
            "content": {"msgtype": "m.text", "body": "hi"}}


def test_a_transaction_is_accepted_once_and_an_event_once(db: Database) -> None:
    assert inbox.accept(db, "t1", [_event("$1"), _event("$2"), _event("$1")]) == 2
    assert inbox.accept(db, "t1", [_event("$1"), _event("$2")]) is None  # Synapse retrying
    assert inbox.accept(db, "t2", [_event("$2"), _event("$3")]) == 1  # an event seen before, in a new txn
    assert inbox.accept(db, "t1", [_event("$4")]) == 1  # Synapse restarted and numbers transactions from 1 again
    taken = inbox.take(db)
    assert [e.event_id for e in taken] == ["$1", "$2", "$3", "$4"]
    assert inbox.take(db) == []
    inbox.finish(db, "$1", "answered")
    assert inbox.mark_interrupted(db) == 3  # $2, $3 and $4 were being handled when the process died
    with db.session() as s:
        assert s.get(MatrixInboxEvent, "$1").outcome == "answered"
        assert s.get(MatrixInboxEvent, "$2").status == "interrupted"
    assert inbox.take(db) == []  # never handled twice
