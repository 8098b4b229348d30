"""The terminal chat over Matrix, against a real Synapse: Deskmate's side is played by a mautrix client with
the application service's token, since no Rasa server runs here."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from mautrix.api import HTTPAPI
from mautrix.client import ClientAPI
from mautrix.types import EventType, MessageType

from assistant import synapse
from assistant.config import ROOT, Settings
from assistant.matrix_chat import ChatEvent, ChatUnavailable, MatrixChatSession, open_session, terminal_chat_matrix

# Its own variable: tests/conftest.py's stack fixture runs another Synapse on DESKMATE_TEST_SYNAPSE_PORT.
SYNAPSE_PORT = int(os.environ.get("DESKMATE_TEST_CHAT_SYNAPSE_PORT", "5318"))
PEOPLE = [("zhangwei", "张伟 Wei Zhang"), ("lina", "李娜 Li Na"), ("wangfang", "王芳 Fang Wang")]


@pytest.fixture(scope="session")
def synapse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A private Synapse for this test session (SQLite, its own port and var/), stopped at the end."""
    if not (ROOT / synapse.SYNAPSE_PYTHON).exists():
        pytest.skip(f"SYNAPSE IS NOT INSTALLED ({synapse.SYNAPSE_PYTHON} missing): the Matrix chat tests did NOT "
                    "run. Install it with `make synapse`.")
    var = tmp_path_factory.mktemp("synapse")
    # The application service URL points at a port where nothing listens: Synapse just queues transactions.
    settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'deskmate.db'}",
                        matrix_url=f"http://127.0.0.1:{SYNAPSE_PORT}", rasa_port=SYNAPSE_PORT + 1)
    if synapse.is_up(settings):
        pytest.fail(f"port {SYNAPSE_PORT} already serves a Matrix server; set DESKMATE_TEST_CHAT_SYNAPSE_PORT")
    pid = synapse.start_daemon(settings)
    try:
        synapse.register_company(settings, PEOPLE)
        yield settings
    finally:
        if not synapse.stop_daemon(settings) and pid:
            _stop(pid)


def _stop(pid: int, timeout: float = 20.0) -> None:
    """Stop the server by the pid start_daemon returned (Synapse writes no pid file unless it daemonizes).
    It is this process's child, so it is reaped here: a zombie would still answer kill(pid, 0)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.fixture
async def bot(synapse_server: Settings) -> AsyncIterator[ClientAPI]:
    """Deskmate's Matrix user, as the application service acts for it."""
    registration = synapse.Registration.load(synapse_server.matrix_registration)
    client = ClientAPI(synapse_server.bot_id, api=HTTPAPI(synapse_server.matrix_url, registration.as_token,
                                                          as_user_id=synapse_server.bot_id))
    yield client
    await client.api.session.close()


@pytest.fixture
async def zhangwei(synapse_server: Settings) -> AsyncIterator[MatrixChatSession]:
    session = await open_session(synapse_server, "zhangwei")
    yield session
    await session.close()


async def poll_until(session: MatrixChatSession, found: Callable[[ChatEvent], bool],
                     timeout: float = 20.0) -> list[ChatEvent]:
    """Poll until an event matches; returns all events seen (the match included)."""
    seen: list[ChatEvent] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.extend(await session.poll(timeout_ms=1000))
        if any(found(event) for event in seen):
            return seen
    raise AssertionError(f"not seen within {timeout}s; saw {[event.render('en') for event in seen]}")


async def test_dm_room_is_created_once_and_then_reused(synapse_server: Settings, bot: ClientAPI) -> None:
    first = await open_session(synapse_server, "wangfang")
    try:
        members = await first.client.get_joined_members(first.dm_room)
        direct = await first.client.get_account_data(EventType.DIRECT)
        assert set(members) == {synapse_server.matrix_id("wangfang")}
        assert direct[synapse_server.bot_id] == [first.dm_room]
    finally:
        await first.close()
    await bot.join_room_by_id(first.dm_room)  # what the application service does when invited
    second = await open_session(synapse_server, "wangfang")
    try:
        assert second.dm_room == first.dm_room
        assert await second.client.get_joined_rooms() == [first.dm_room]
    finally:
        await second.close()


async def test_wait_reply_returns_the_bot_reply_and_not_old_history(
        synapse_server: Settings, bot: ClientAPI) -> None:
    warmup = await open_session(synapse_server, "zhangwei")
    dm = warmup.dm_room
    await warmup.close()
    await bot.join_room_by_id(dm)
    await bot.send_text(dm, "an old message, from before the session", msgtype=MessageType.NOTICE)
    session = await open_session(synapse_server, "zhangwei")
    try:
        assert session.dm_room == dm
        sent = await session.send("你好")
        await bot.send_text(dm, "你好，张伟！有什么可以帮你？")
        events = await session.wait_reply(sent, timeout=20)
        replies = [e for e in events if e.is_dm and e.sender == synapse_server.bot_id]
        assert [e.text for e in replies] == ["你好，张伟！有什么可以帮你？"]
        assert replies[0].kind == "message"
        assert replies[0].render("zh") == "邻桌> 你好，张伟！有什么可以帮你？"
        assert replies[0].render("en") == "Deskmate> 你好，张伟！有什么可以帮你？"
        assert all(e.text != "你好" for e in events), "the person's own message is not echoed"
        assert session.answered(sent)
    finally:
        await session.close()


async def test_the_late_end_of_one_answer_is_not_taken_for_the_answer_to_the_next_message(
        bot: ClientAPI, zhangwei: MatrixChatSession) -> None:
    """Piped input sends the next line before the last answer is in: the chat must wait for the answer to its
    own last message (all parts its REPLY_MARKER announces), not leave on the tail of the one before."""
    from mautrix.types import TextMessageEventContent

    from assistant.matrix import REPLY_MARKER

    await bot.join_room_by_id(zhangwei.dm_room)

    async def part(to: str, i: int, n: int, text: str) -> None:
        content = TextMessageEventContent(msgtype=MessageType.TEXT, body=text)
        content[REPLY_MARKER] = {"to": to, "part": i, "parts": n}
        await bot.send_message_event(zhangwei.dm_room, EventType.ROOM_MESSAGE, content)

    first = await zhangwei.send("我要报销昨天打车58块")
    await part(first, 1, 2, "好的，我来帮你填报销单 #1。")
    second = await zhangwei.send("what can you do")
    await part(first, 2, 2, "已记下：交通“打车” 58 元。")
    await poll_until(zhangwei, lambda e: e.text.startswith("已记下"))
    assert zhangwei.has_whole_answer(first)
    assert zhangwei.answered(second) and not zhangwei.has_whole_answer(second)
    await part(second, 1, 1, "I can help you with: ...")
    events = await zhangwei.wait_reply(second, timeout=20)
    assert [e.text for e in events if e.is_dm] == ["I can help you with: ..."]
    assert zhangwei.has_whole_answer(second)


async def test_an_invitation_is_shown_and_accepted_and_the_room_notices_follow(
        synapse_server: Settings, bot: ClientAPI, zhangwei: MatrixChatSession) -> None:
    room = await bot.create_room(name="报销单 #42", topic="差旅报销")
    await bot.invite_user(room, zhangwei.me, reason="你提交的报销单有了讨论组")
    events = await poll_until(zhangwei, lambda e: e.kind == "invite" and e.room_id == room)
    invite = next(e for e in events if e.kind == "invite" and e.room_id == room)
    assert (invite.room_name, invite.sender, invite.text) == ("报销单 #42", bot.mxid, "你提交的报销单有了讨论组")
    assert invite.render("zh") == "* 邻桌 邀请你加入“报销单 #42”：你提交的报销单有了讨论组"
    assert invite.render("en") == "* invited to '报销单 #42' by Deskmate: 你提交的报销单有了讨论组"
    assert room in await zhangwei.client.get_joined_rooms()

    await bot.send_text(room, "报销单 #42 已提交给李娜审批。", msgtype=MessageType.NOTICE)
    events = await poll_until(zhangwei, lambda e: e.is_message and e.room_id == room)
    notices = [e for e in events if e.is_message and e.room_id == room]
    assert [(e.kind, e.room_name, e.text) for e in notices] == [
        ("notice", "报销单 #42", "报销单 #42 已提交给李娜审批。")]
    assert not notices[0].is_dm
    assert notices[0].render("zh") == "[报销单 #42] 邻桌: 报销单 #42 已提交给李娜审批。"
    assert notices[0].render("en") == "[报销单 #42] Deskmate: 报销单 #42 已提交给李娜审批。"
    assert not any(e.kind in ("rename", "topic", "join") for e in events), "how the room was made is not news"
    assert await zhangwei.room_name(room) == "报销单 #42"

    said = await zhangwei.send("发票我明天补上", room_id=room)
    assert (await bot.get_event(room, said)).content.body == "发票我明天补上"
    assert not zhangwei.answered(said), "a message in a topic room awaits no DM reply"


async def test_poll_until_returns_the_match_and_keeps_the_other_events(
        bot: ClientAPI, zhangwei: MatrixChatSession) -> None:
    await bot.join_room_by_id(zhangwei.dm_room)
    for text in ("first", "second", "third"):
        await bot.send_text(zhangwei.dm_room, text, msgtype=MessageType.NOTICE)
    match = await zhangwei.poll_until(lambda e: e.text == "second", timeout=20)
    assert match is not None and match.is_dm and match.kind == "notice"
    rest = await zhangwei.poll(timeout_ms=0)
    assert [e.text for e in rest if e.is_message] == ["first", "third"]
    assert await zhangwei.poll_until(lambda e: e.text == "never", timeout=0.5) is None


async def test_members_renames_topics_and_removals_in_a_topic_room(
        synapse_server: Settings, bot: ClientAPI, zhangwei: MatrixChatSession) -> None:
    room = await bot.create_room(name="报销单 #43")
    await bot.invite_user(room, zhangwei.me)
    await poll_until(zhangwei, lambda e: e.kind == "invite" and e.room_id == room)
    lina = ClientAPI(synapse_server.matrix_id("lina"), base_url=synapse_server.matrix_url)
    try:
        await lina.login(password=synapse.password_for(synapse_server, "lina"))
        await bot.invite_user(room, lina.mxid)
        await lina.join_room_by_id(room)
        await lina.send_text(room, "我看一下发票")
        await bot.send_state_event(room, EventType.ROOM_NAME, {"name": "报销单 #43（已批准）"})
        await bot.send_state_event(room, EventType.ROOM_TOPIC, {"topic": "已批准，等待付款"})
        await bot.kick_user(room, lina.mxid, reason="审批完成")
        await bot.kick_user(room, zhangwei.me, reason="报销单已归档")
        events = await poll_until(zhangwei, lambda e: e.kind == "leave" and e.about_me)
    finally:
        await lina.logout()
        await lina.api.session.close()
    lines = [e.render("en") for e in events if e.room_id == room]
    assert lines == [
        "* Li Na joined '报销单 #43'",
        "[报销单 #43] Li Na: 我看一下发票",
        "* Deskmate renamed '报销单 #43' to '报销单 #43（已批准）'",
        "* Deskmate set the topic of '报销单 #43（已批准）': 已批准，等待付款",
        "* Deskmate removed Li Na from '报销单 #43（已批准）': 审批完成",
        "* Deskmate removed you from '报销单 #43（已批准）': 报销单已归档",
    ]
    assert [e.render("zh") for e in events if e.room_id == room][::5] == [
        "* 李娜 加入了“报销单 #43”", "* 邻桌 把你移出了“报销单 #43（已批准）”：报销单已归档"]


def test_render_in_both_languages() -> None:
    deskmate = {"zh": "邻桌", "en": "Deskmate"}
    reply = ChatEvent("notice", "!dm", "", "@deskmate:x", "好的", "$1", sender_name=deskmate, is_dm=True)
    assert (reply.render("zh"), reply.render("en")) == ("邻桌> 好的", "Deskmate> 好的")
    said = ChatEvent("message", "!r", "Claim #42", "@lina:x", "OK", "$2", sender_name={"zh": "李娜", "en": "Li Na"})
    assert (said.render("zh"), said.render("en")) == ("[Claim #42] 李娜: OK", "[Claim #42] Li Na: OK")
    invite = ChatEvent("invite", "!r", "Claim #42", "@deskmate:x", "", "", sender_name=deskmate)
    assert invite.render("zh") == "* 邻桌 邀请你加入“Claim #42”"
    assert invite.render("en") == "* invited to 'Claim #42' by Deskmate"
    left = ChatEvent("leave", "!r", "Claim #42", "@bob:x", "", "$3", sender_name="Bob")
    assert (left.render("zh"), left.render("en")) == ("* Bob 离开了“Claim #42”", "* Bob left 'Claim #42'")


async def test_a_server_that_is_down_gives_one_clear_line(
        synapse_server: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    down = dataclasses.replace(synapse_server, matrix_url="http://127.0.0.1:9")
    with pytest.raises(ChatUnavailable) as caught:
        await open_session(down, "zhangwei")
    assert caught.value.key == "matrix_chat.unreachable"
    assert await asyncio.to_thread(terminal_chat_matrix, down, "zhangwei") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "连不上聊天服务器" in err and "Cannot reach the chat server" in err
