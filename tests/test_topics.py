"""The topics service on SQLite and PostgreSQL: opening, people, conclusions, write-back, closing, links,
notes, visibility and a claim's timeline. The IM side is checked through the outbox it writes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from assistant.claims import Claims
from assistant.directory import Directory
from assistant.policy import Policy
from assistant.store import Database
from assistant.store.models import AuditEntry, OutboxEffect, Topic
from assistant.topics import TopicError, Topics, record_message
from tests.test_claims import TODAY, item, submitted


@pytest.fixture
def services(seeded: Database) -> tuple[Claims, Topics]:
    directory, policy = Directory.load(seeded), Policy.load(seeded)
    claims = Claims(seeded, lambda: directory, lambda: policy)
    return claims, Topics(seeded, lambda: directory, claims)


def effects(db: Database, kind: str) -> list[dict]:
    with db.session() as s:
        return [e.payload for e in s.execute(select(OutboxEffect).where(OutboxEffect.kind == kind)
                                             .order_by(OutboxEffect.id)).scalars()]


def say(db: Database, topic_id: int, author: str, body: str, at: datetime | None = None) -> str:
    event_id = f"${author}-{body}"
    assert record_message(db, topic_id, event_id, author, body, at or datetime.now(timezone.utc))
    return event_id


def test_a_free_topic_invites_the_people_named_with_their_reason(services, seeded: Database) -> None:
    _, topics = services
    view = topics.open_free("zhangwei", "Q3预算", ["zhangwei", "chenjing"])
    assert [p["person"] for p in view.participants] == ["zhangwei", "chenjing"]
    create = effects(seeded, "room.create")[-1]
    assert create["room"] == f"topic:{view.id}" and set(create["invite"]) == {"zhangwei", "chenjing"}
    assert "张伟开话题「Q3预算」时点名请你参加" in create["invite"]["chenjing"]["zh"]
    assert topics.current("zhangwei") == view.id
    with pytest.raises(TopicError) as err:
        topics.open_free("zhangwei", "   ", [])
    assert err.value.code == "no_title"


def test_a_claims_topic_is_reused_and_whoever_may_see_the_claim_joins_it(services, seeded: Database) -> None:
    claims, topics = services
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    first, created = topics.open_for_claim("zhangwei", claim.id)
    assert not created  # submission opened it already
    again, created = topics.open_for_claim("liuyang", claim.id)  # Finance may see every claim
    assert again.id == first.id and not created
    assert {p["person"] for p in again.participants} == {"zhangwei", "yanglei", "liuyang"}
    with pytest.raises(TopicError) as err:
        topics.open_for_claim("sunhao", claim.id)  # a colleague with no business in it
    assert err.value.code == "claim_not_found"
    with seeded.session() as s:
        assert len(s.execute(select(Topic).where(Topic.claim_id == claim.id)).all()) == 1


def test_adding_removing_and_leaving(services, seeded: Database) -> None:
    claims, topics = services
    view = topics.open_free("zhangwei", "office move", ["chenjing"])
    _, added = topics.add("chenjing", view.id, ["zhaomin", "chenjing"])
    assert added == ["zhaomin"]
    assert effects(seeded, "room.invite")[-1]["to"] == "zhaomin"
    with pytest.raises(TopicError) as err:
        topics.remove("chenjing", view.id, ["zhaomin"])  # only the creator removes others
    assert err.value.code == "only_creator_removes"
    _, removed = topics.remove("zhangwei", view.id, ["zhaomin"])
    assert removed == ["zhaomin"] and effects(seeded, "room.remove")[-1]["to"] == "zhaomin"
    topics.remove("chenjing", view.id, ["chenjing"])  # leaving
    assert [p["person"] for p in topics.get("zhangwei", view.id).participants] == ["zhangwei"]
    with pytest.raises(TopicError) as err:
        topics.get("zhaomin", view.id)  # removed: no longer readable
    assert err.value.code == "not_found"
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    bound, _ = topics.open_for_claim("zhangwei", claim.id)
    with pytest.raises(TopicError) as err:
        topics.remove("zhangwei", bound.id, ["yanglei"])
    assert err.value.code in ("protected", "only_creator_removes")


def test_a_conclusion_links_its_messages_and_is_written_back_to_the_claim_once(services, seeded: Database) -> None:
    claims, topics = services
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    topic_id = topics.open_for_claim("zhangwei", claim.id)[0].id
    first = say(seeded, topic_id, "yanglei", "发票抬头不对")
    second = say(seeded, topic_id, "zhangwei", "我去重开")
    done = topics.conclude("yanglei", topic_id, "发票需要重新开具")
    assert done["sources"] == 2
    assert topics.get("zhangwei", topic_id).conclusions[0]["source_messages"] == [first, second]
    back = topics.write_back("zhangwei", topic_id)
    assert back["claim_id"] == claim.id
    shown = claims.get("yanglei", claim.id, TODAY)
    assert "发票需要重新开具" in shown.description
    assert any(e["kind"] == "conclusion" for e in shown.timeline)
    with seeded.session() as s:
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "claim.write_back")).first()
    with pytest.raises(TopicError) as err:
        topics.write_back("zhangwei", topic_id)
    assert err.value.code == "nothing_to_write_back"
    free = topics.open_free("zhangwei", "hiring", [])
    topics.conclude("zhangwei", free.id, "hire two")
    with pytest.raises(TopicError) as err:
        topics.write_back("zhangwei", free.id)
    assert err.value.code == "not_bound"


def test_closing_posts_a_summary_makes_the_room_read_only_and_reopening_undoes_it(services, seeded: Database
                                                                                  ) -> None:
    _, topics = services
    view = topics.open_free("zhangwei", "Q3预算", ["chenjing"])
    topics.conclude("chenjing", view.id, "预算增加 10%")
    closed = topics.close("chenjing", view.id)
    assert closed.status == "closed"
    summary = effects(seeded, "room.post")[-1]["text"]
    assert "张伟" in summary["zh"] and "陈静" in summary["zh"] and "预算增加 10%" in summary["zh"]
    assert "Participants: Wei Zhang, Jing Chen" in summary["en"]
    assert effects(seeded, "room.close")[-1] == {"room": f"topic:{view.id}", "closed": True}
    with pytest.raises(TopicError):
        topics.close("chenjing", view.id)
    assert topics.reopen("zhangwei", view.id).status == "open"
    assert effects(seeded, "room.close")[-1]["closed"] is False


def test_a_private_topic_is_invisible_and_a_closed_public_one_readable_by_all(services, seeded: Database) -> None:
    _, topics = services
    view = topics.open_free("zhangwei", "salary review", ["chenjing"])
    for outsider_sees in (lambda: topics.get("sunhao", view.id), lambda: topics.get("sunhao", 99999)):
        with pytest.raises(TopicError) as err:
            outsider_sees()
        assert err.value.code == "not_found"  # the same answer whether it exists or not
    with pytest.raises(TopicError) as err:
        topics.make_public("chenjing", view.id)
    assert err.value.code == "only_owner_publishes"
    topics.make_public("zhangwei", view.id)
    with pytest.raises(TopicError):
        topics.get("sunhao", view.id)  # public only once closed
    topics.close("zhangwei", view.id)
    assert topics.get("sunhao", view.id).title == "salary review"
    with pytest.raises(TopicError) as err:
        topics.note("sunhao", view.id, "me too")  # reading is not taking part
    assert err.value.code == "not_participant"


def test_links_and_notes(services, seeded: Database) -> None:
    claims, topics = services
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    view = topics.open_free("zhangwei", "taxi rules", [])
    other = topics.open_free("zhangwei", "Q3预算", [])
    assert topics.link("zhangwei", view.id, "claim", str(claim.id))["new"]
    assert not topics.link("zhangwei", view.id, "claim", str(claim.id))["new"]
    topics.link("zhangwei", view.id, "topic", str(other.id))
    topics.link("zhangwei", view.id, "person", "lina")
    topics.link("zhangwei", view.id, "document", "https://wiki.example/taxi")
    topics.note("zhangwei", view.id, "周五之前把预算表发给财务")
    shown = topics.get("zhangwei", view.id)
    assert {(link["kind"], link["target"]) for link in shown.links} >= {
        ("claim", str(claim.id)), ("topic", str(other.id)), ("person", "lina"),
        ("document", "https://wiki.example/taxi")}
    assert shown.notes[0]["text"] == "周五之前把预算表发给财务"
    back = topics.get("zhangwei", other.id).links
    assert ("topic", str(view.id)) in {(link["kind"], link["target"]) for link in back}
    for kind, target, code in (("claim", "9999", "claim_not_found"), ("topic", str(view.id), "not_found"),
                               ("person", "nobody", "unknown_person")):
        with pytest.raises(TopicError) as err:
            topics.link("zhangwei", view.id, kind, target)
        assert err.value.code == code


def test_a_returned_then_approved_claims_timeline_shows_each_message_under_its_state(services, seeded: Database
                                                                                     ) -> None:
    claims, topics = services
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    topic_id = topics.open_for_claim("zhangwei", claim.id)[0].id
    say(seeded, topic_id, "yanglei", "发票看不清")
    claims.decide("yanglei", claim.id, "return", "发票不清楚", TODAY)
    say(seeded, topic_id, "zhangwei", "已重新上传")
    claims.submit("zhangwei", claim.id, TODAY)
    say(seeded, topic_id, "yanglei", "这次清楚了")
    claims.decide("yanglei", claim.id, "approve", None, TODAY)
    claims.decide("liuyang", claim.id, "approve", None, TODAY)
    timeline = topics.claim_timeline("zhangwei", claim.id)
    by_message = {m["body"]: (e["kind"], m["item_state"]["status"]) for e in timeline for m in e["messages"]}
    assert by_message["发票看不清"] == ("submitted", "in_review")
    assert by_message["已重新上传"] == ("returned", "returned")
    assert by_message["这次清楚了"] == ("resubmitted", "in_review")
    assert [e["kind"] for e in timeline][-2:] == ["approved_step", "approved_step"]
    with pytest.raises(TopicError):
        topics.claim_timeline("sunhao", claim.id)
