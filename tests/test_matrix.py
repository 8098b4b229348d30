"""Deskmate in a real Synapse: DMs, topic rooms for claims, recording, retries, outages, refusals.

Everything here goes through the local Synapse the test session starts (tests/conftest.py), logged in as
the sample company's employees with mautrix, exactly as `assistant chat` does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, AsyncIterator

import pytest
from sqlalchemy import func, select

from assistant import outbox, rooms, synapse, topics
from assistant.chatclient import ChatClient, http
from assistant.config import Settings
from assistant.matrix_chat import MatrixChatSession, open_session
from assistant.store import Database
from assistant.store.models import Claim, MatrixInboxEvent, OutboxEffect, PersonSetting, Topic

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def db(stack: Settings) -> Database:
    return Database(stack.database_url, migrate=False)


@pytest.fixture
async def sessions(stack: Settings, chat: ChatClient) -> AsyncIterator[Any]:
    """open(person) logs a person in over Matrix with a fresh conversation; all are closed afterwards."""
    opened: list[MatrixChatSession] = []

    async def open_as(person: str, *, fresh: bool = True) -> MatrixChatSession:
        if fresh:
            await asyncio.to_thread(chat.restart, person)
        session = await open_session(stack, person)
        opened.append(session)
        return session

    yield open_as
    for session in opened:
        await session.close()


async def say(session: MatrixChatSession, text: str) -> str:
    """Send in the DM, return Deskmate's reply text (all reply messages joined)."""
    event_id = await session.send(text)
    events = await session.wait_reply(event_id, timeout=30, keep_others=True)
    return "\n".join(e.text for e in events if e.sender != session.user_id)


async def until(check: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll a blocking check in a thread until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)


async def submit_taxi(session: MatrixChatSession, lang: str = "zh") -> int:
    import re

    if lang == "zh":
        reply = await say(session, "我要报销昨天打车58块")
        await say(session, "提交")
        assert "已提交" in await say(session, "是的")
    else:
        reply = await say(session, "I want to claim a 58 yuan taxi yesterday")
        await say(session, "submit")
        assert "submitted" in await say(session, "yes")
    return int(re.search(r"#(\d+)", reply).group(1))


def topic_room(db: Database, claim_id: int) -> str | None:
    with db.session() as s:
        topic = s.execute(select(Topic).where(Topic.claim_id == claim_id)).scalar_one_or_none()
    room = rooms.room_of(db, rooms.topic_purpose(topic.id)) if topic else None
    return room.room_id if room else None


async def test_a_direct_message_round_trip_in_chinese_and_english(sessions: Any, db: Database) -> None:
    wei = await sessions("zhangwei")
    assert "邻桌" in await say(wei, "你好")
    assert "Finance Director" in await say(wei, "who is Li Na")
    assert "财务总监" in await say(wei, "李娜是谁")
    with db.session() as s:
        assert s.get(PersonSetting, "zhangwei").language == "zh"  # the language Deskmate starts messages in


async def test_a_claim_submitted_over_matrix_opens_its_topic_room_and_invites_each_approver_in_turn(
        sessions: Any, db: Database) -> None:
    wei = await sessions("zhangwei")
    claim_id = await submit_taxi(wei)
    room = await until(lambda: topic_room(db, claim_id))
    assert room, "the claim's topic room was not created"
    seen = await wei.poll_until(lambda e: e.kind == "invite" and e.room_id == room, timeout=20)
    assert seen, "the applicant was not invited into the claim's room"
    assert str(claim_id) in seen.room_name
    lei = await sessions("yanglei")
    assert await lei.poll_until(lambda e: e.kind == "invite" and e.room_id == room, timeout=20)
    assert {wei.user_id, lei.user_id} <= await _members(wei, room)  # both joined (the chat accepts invites)
    liu = await sessions("liuyang")
    assert "已同意" in await say(lei, f"同意 {claim_id}")
    assert await liu.poll_until(lambda e: e.kind == "invite" and e.room_id == room, timeout=20), \
        "the next approver was not invited when the claim reached them"
    notice = await wei.poll_until(lambda e: e.room_id == room and "刘洋" in e.text and "Fang" not in e.text,
                                  timeout=20)
    assert notice, "the state change was not announced in the room"


async def _members(session: MatrixChatSession, room: str) -> set[str]:
    return set(await session.client.get_joined_members(room))


async def test_a_message_in_a_topic_room_is_recorded_with_the_claims_state(sessions: Any, db: Database) -> None:
    wei = await sessions("zhangwei")
    claim_id = await submit_taxi(wei)
    room = await until(lambda: topic_room(db, claim_id))
    assert await wei.poll_until(lambda e: e.kind == "invite" and e.room_id == room, timeout=20)
    event_id = await wei.send("发票我明天补上", room_id=room)
    with db.session() as s:
        topic_id = s.execute(select(Topic.id).where(Topic.claim_id == claim_id)).scalar_one()
    recorded = await until(lambda: [m for m in topics.messages(db, topic_id) if m["event_id"] == event_id])
    assert recorded and recorded[0]["author"] == "zhangwei" and recorded[0]["body"] == "发票我明天补上"
    assert recorded[0]["item_state"]["status"] == "in_review"
    assert recorded[0]["item_state"]["waiting_for"] == "yanglei"


def _transaction(stack: Settings, txn_id: str, events: list[dict[str, Any]], token: str | None) -> int:
    url = f"{stack.rasa_url}/webhooks/matrix/_matrix/app/v1/transactions/{txn_id}"
    return http("PUT", url, None, {"events": events}, extra_headers={"Authorization": f"Bearer {token}"}
                if token else None).status


async def test_a_retried_transaction_is_processed_once(sessions: Any, stack: Settings, db: Database) -> None:
    wei = await sessions("zhangwei")
    token = synapse.Registration.load(stack.matrix_registration).hs_token
    event_id = f"$retry-{uuid.uuid4().hex}"
    event = {"type": "m.room.message", "event_id": event_id, "room_id": wei.dm_room, "sender": wei.user_id,
             "origin_server_ts": int(time.time() * 1000), "content": {"msgtype": "m.text", "body": "你好"}}
    txn = f"t{uuid.uuid4().hex}"
    assert _transaction(stack, txn, [event], token) == 200
    assert _transaction(stack, txn, [event], token) == 200  # Synapse retrying the same transaction
    assert _transaction(stack, f"t{uuid.uuid4().hex}", [event], token) == 200  # the same event in a new one

    def replies() -> list[OutboxEffect]:
        with db.session() as s:
            return list(s.execute(select(OutboxEffect).where(OutboxEffect.key.like(f"reply:{event_id}:%"))).scalars())

    sent = await until(lambda: [r for r in replies() if r.status == "sent"])
    await asyncio.sleep(1.0)
    assert len(replies()) == len(sent) == 1
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(MatrixInboxEvent)
                         .where(MatrixInboxEvent.event_id == event_id)).scalar_one() == 1
    answers = await wei.poll_until(lambda e: e.room_id == wei.dm_room and "邻桌" in e.text, timeout=10)
    assert answers


def test_a_wrong_or_missing_hs_token_is_refused(stack: Settings) -> None:
    event = {"type": "m.room.message", "event_id": f"$x{uuid.uuid4().hex}", "room_id": "!r:deskmate.local",
             "sender": "@zhangwei:deskmate.local", "content": {"msgtype": "m.text", "body": "你好"}}
    assert _transaction(stack, "t-wrong", [event], "not-the-token") == 403
    assert _transaction(stack, "t-none", [event], None) == 401


async def test_an_unknown_matrix_user_gets_a_polite_refusal_and_nothing_is_created(
        sessions: Any, stack: Settings, db: Database) -> None:
    synapse.register_company(stack, [("visitor", "Visitor")])
    with db.session() as s:
        claims_before = s.execute(select(func.count()).select_from(Claim)).scalar_one()
    visitor = await sessions("visitor", fresh=False)
    reply = await say(visitor, "我要报销昨天打车58块")
    assert "通讯录里没有你" in reply
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(Claim)).scalar_one() == claims_before
        assert s.get(PersonSetting, "visitor") is None
    assert rooms.room_of(db, rooms.dm_purpose("visitor")) is None


async def test_synapse_down_during_a_submission_the_room_appears_once_when_it_returns(
        sessions: Any, running_stack: Any, chat: ChatClient, db: Database) -> None:
    """The claim is submitted through the REST channel while Synapse is stopped; the outbox keeps retrying."""
    await asyncio.to_thread(chat.restart, "zhaomin")
    running_stack.stop_synapse()
    try:
        reply = await asyncio.to_thread(chat.say, "zhaomin", "我要报销昨天打车58块")
        import re

        claim_id = int(re.search(r"#(\d+)", " ".join(reply)).group(1))
        await asyncio.to_thread(chat.say, "zhaomin", "提交")
        assert "已提交" in " ".join(await asyncio.to_thread(chat.say, "zhaomin", "是的"))

        def create_effect() -> OutboxEffect | None:
            with db.session() as s:
                topic_id = s.execute(select(Topic.id).where(Topic.claim_id == claim_id)).scalar_one()
                return s.execute(select(OutboxEffect).where(
                    OutboxEffect.key == f"{rooms.topic_purpose(topic_id)}:room")).scalar_one()

        failed = await until(lambda: (create_effect().attempts >= 2) and create_effect(), timeout=30)
        assert failed and failed.status in ("pending", "sending") and failed.last_error
        assert topic_room(db, claim_id) is None
    finally:
        # Not in a worker thread: children die with the *thread* that spawned them (PR_SET_PDEATHSIG).
        running_stack.start_synapse()
    sent = await until(lambda: create_effect().status == "sent", timeout=30)
    assert sent, f"the room was not created after Synapse returned: {create_effect().last_error}"
    room = topic_room(db, claim_id)
    min_ = await sessions("zhaomin", fresh=False)
    invite = await min_.poll_until(lambda e: e.kind == "invite" and str(claim_id) in (e.room_name or ""), timeout=20)
    assert invite and invite.room_id == room
    named = [r for r in await min_.client.get_joined_rooms()
             if str(claim_id) in (await min_.room_name(r) or "")]
    assert named == [room], "the claim's room exists more than once"
    assert not outbox.listing(db, ("failed",))


async def test_a_free_topic_is_opened_discussed_concluded_and_closed_through_matrix(sessions: Any, db: Database
                                                                                    ) -> None:
    import re

    from mautrix.errors import MatrixRequestError

    wei, jing = await sessions("zhangwei"), await sessions("chenjing")
    reply = await say(wei, "开个话题讨论Q4团建，拉上陈静")
    opened = re.search(r"话题 #(\d+)", reply)
    assert opened, reply
    topic_id = int(opened.group(1))
    room = await until(lambda: (rooms.room_of(db, rooms.topic_purpose(topic_id)) or None)
                       and rooms.room_of(db, rooms.topic_purpose(topic_id)).room_id)
    assert room and await jing.poll_until(lambda e: e.kind == "invite" and e.room_id == room, timeout=20)
    assert await wei.poll_until(lambda e: e.kind == "invite" and e.room_id == room, timeout=20)
    said = await jing.send("我建议去莫干山", room_id=room)
    assert await until(lambda: [m for m in topics.messages(db, topic_id) if m["event_id"] == said])
    await wei.send("邻桌 记录结论：团建去莫干山", room_id=room)  # a mention in the room: Deskmate answers there
    answer = await wei.poll_until(lambda e: e.room_id == room and e.sender != wei.user_id and "结论" in e.text
                                  and "团建去莫干山" in e.text, timeout=30)
    assert answer, "Deskmate did not answer the mention in the topic room"
    with db.session() as s:
        from assistant.store.models import TopicConclusion

        conclusion = s.execute(select(TopicConclusion).where(TopicConclusion.topic_id == topic_id)).scalar_one()
    assert said in conclusion.source_messages
    await wei.send("邻桌 结束这个话题", room_id=room)
    assert await jing.poll_until(lambda e: e.room_id == room and "已结束" in e.text and "团建去莫干山" in e.text,
                                 timeout=30), "no closing summary in the room"

    async def refused() -> bool:
        try:
            await jing.send("还有人吗", room_id=room)
        except MatrixRequestError:
            return True
        return False

    deadline = time.monotonic() + 20
    while not await refused():  # the read-only power levels land right after the summary
        assert time.monotonic() < deadline, "the closed topic's room still accepts messages"
        await asyncio.sleep(0.5)


async def test_a_call_in_a_topic_room_sets_the_callers_status_until_hangup(sessions: Any, db: Database,
                                                                          chat: ChatClient) -> None:
    """Matrix 1:1 VoIP signalling (m.call.invite / m.call.hangup) sent by a real client into a topic room."""
    import re

    from mautrix.types import EventType

    from assistant.auth import issue_token

    wei = await sessions("zhaomin")
    reply = await say(wei, "开个话题讨论发版回滚演练")
    topic_id = int(re.search(r"话题 #(\d+)", reply).group(1))
    room = await until(lambda: (rooms.room_of(db, rooms.topic_purpose(topic_id)) or None)
                       and rooms.room_of(db, rooms.topic_purpose(topic_id)).room_id)
    assert room and await wei.poll_until(lambda e: e.kind == "invite" and e.room_id == room, timeout=20)
    token = issue_token(db, "zhaomin")

    def status() -> dict[str, Any]:
        return chat.api("GET", "/api/people/zhaomin/status", token).body

    call = {"call_id": "c1", "version": 0, "lifetime": 60000, "offer": {"type": "offer", "sdp": "v=0"}}
    await wei.client.send_message_event(room, EventType("m.call.invite", EventType.Class.MESSAGE), call)
    on_call = await until(lambda: (lambda b: b if b.get("kind") == "call" else None)(status()))
    assert on_call and on_call["text"]["en"].startswith("on a call in topic '发版回滚演练'"), on_call
    await wei.client.send_message_event(room, EventType("m.call.hangup", EventType.Class.MESSAGE),
                                        {"call_id": "c1", "version": 0})
    assert await until(lambda: status().get("state") == "available")


async def test_an_answer_of_several_messages_arrives_whole_and_in_order(sessions: Any) -> None:
    """Each part carries {"to", "part", "parts"} (assistant.matrix.REPLY_MARKER), so the client knows when the
    whole answer is there, however slow the machine; the parts are sent in order."""
    qiang = await sessions("huangqiang")
    reply = await say(qiang, "所有人都可以看我的状态")
    assert "好的，所有人都能看到你的状态" in reply and "你的状态可见范围：所有人" in reply
    assert reply.index("好的，所有人都能看到") < reply.index("你的状态可见范围")
    assert "你的状态可见范围：仅上级链" in await say(qiang, "我的状态只给我领导看")  # nothing left over
