"""The Matrix channel: Deskmate as a Synapse application service.

Synapse pushes transactions to PUT /webhooks/matrix/_matrix/app/v1/transactions/{txnId} (the registration's
`url` is this channel's base). The request must carry the registration's hs_token. Events are stored in
the inbox before the 200 (assistant/inbox.py), then handled in order per sender:

- an invitation of Deskmate is accepted; a direct one becomes that employee's DM with Deskmate;
- a message in a DM, or one that mentions Deskmate elsewhere, goes to Rasa with the room, event and thread
  in its metadata; the replies are posted in the same room (and thread) through the outbox at once;
- every human message in a topic room is recorded against the topic (assistant/topics.py).

A Matrix user who is not an employee gets a polite refusal and nothing is created for them.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select

from assistant import inbox, outbox, rooms, topics
from assistant.core import Assistant
from assistant.delivery import Deliverer
from assistant.i18n import t
from assistant.matrix import MatrixPort, Unavailable
from assistant.status import call_activity
from assistant.store.models import OutboxEffect
from assistant.synapse import Registration
from connectors import rasa_speedups
from connectors.rest import ChatGate, shared_gate

rasa_speedups.install()

log = logging.getLogger(__name__)

BOT_NAMES = ("邻桌", "deskmate")
CALL_EVENTS = ("m.call.invite", "m.call.hangup")  # 1:1 VoIP signalling (Matrix spec, client-server, VoIP)


def _matrix_error(status: int, errcode: str, message: str) -> HTTPResponse:
    return response.json({"errcode": errcode, "error": message}, status=status)


class MatrixInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "matrix"

    def __init__(self, assistant: Assistant | None = None) -> None:
        self._assistant = assistant
        self._ready = False
        self._wake = asyncio.Event()
        self._worker: asyncio.Task | None = None
        self._direct: dict[str, bool] = {}

    def _setup(self) -> bool:
        """Built on first use, inside the server's event loop; False while there is no registration file."""
        if self._ready:
            return True
        self.gate = ChatGate(self._assistant) if self._assistant is not None else shared_gate()
        assistant = self.assistant = self.gate.assistant
        self.settings = assistant.settings
        names = (self.settings.bot_id, self.settings.matrix_bot, *BOT_NAMES)
        self._mention = re.compile(r"^\s*@?(" + "|".join(re.escape(n) for n in names) + r")\b[\s:：,，]*", re.I)
        if not self.settings.matrix_registration.exists():
            log.warning("no application-service registration at %s: the Matrix channel is idle "
                        "(`assistant synapse start` writes one)", self.settings.matrix_registration)
            return False
        self.registration = Registration.load(self.settings.matrix_registration)
        self.port = MatrixPort(self.settings, self.registration)
        self.deliverer = Deliverer(assistant.db, self.settings, self.port)
        self._ready = True
        return True

    def _authorized(self, request: Request) -> bool | None:
        """True for the hs_token, False for a wrong one, None when there is none."""
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.args.get("access_token")
        if not token:
            return None
        return hmac.compare_digest(token.encode(), self.registration.hs_token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        def guard(request: Request) -> HTTPResponse | None:
            if not self._setup():
                return _matrix_error(503, "M_UNKNOWN", "Deskmate has no application-service registration")
            self._ensure_worker(on_new_message)
            allowed = self._authorized(request)
            if allowed is None:
                return _matrix_error(401, "M_UNAUTHORIZED", "missing hs_token")
            if not allowed:
                return _matrix_error(403, "M_FORBIDDEN", "wrong hs_token")
            return None

        @hook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/_matrix/app/v1/transactions/<txn_id>", methods=["PUT"])
        async def transaction(request: Request, txn_id: str) -> HTTPResponse:
            refused = guard(request)
            if refused is not None:
                return refused
            body = request.json if isinstance(request.json, dict) else {}
            # Deskmate's own events come back too (2 per chat turn, ~12 per new room): dropped before storing.
            events = [e for e in body.get("events", []) if isinstance(e, dict)
                      and e.get("sender") != self.settings.bot_id]
            new = await asyncio.to_thread(inbox.accept, self.assistant.db, txn_id, events)
            if new:
                self._wake.set()
            return response.json({})

        @hook.route("/_matrix/app/v1/users/<user_id>", methods=["GET"])
        async def user_query(request: Request, user_id: str) -> HTTPResponse:
            return guard(request) or _matrix_error(404, "M_NOT_FOUND", "Deskmate creates no users on demand")

        @hook.route("/_matrix/app/v1/rooms/<alias>", methods=["GET"])
        async def room_query(request: Request, alias: str) -> HTTPResponse:
            return guard(request) or _matrix_error(404, "M_NOT_FOUND", "Deskmate creates no rooms on demand")

        @hook.route("/_matrix/app/v1/ping", methods=["POST"])
        async def ping(request: Request) -> HTTPResponse:
            return guard(request) or response.json({})

        @hook.listener("after_server_start")
        async def start_worker(_app: Any, _loop: Any) -> None:
            if self._setup():
                self._ensure_worker(on_new_message)

        return hook

    def _ensure_worker(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        if self._worker is None or self._worker.done():
            interrupted = inbox.mark_interrupted(self.assistant.db)
            if interrupted:
                log.warning("%d Matrix event(s) were cut short by a restart and are not handled again", interrupted)
            self._worker = asyncio.get_running_loop().create_task(self._work(on_new_message))

    async def _work(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Handle stored events: senders in parallel, each sender's events in order."""
        while True:
            try:
                events = await asyncio.to_thread(inbox.take, self.assistant.db)
            except Exception:  # noqa: BLE001 - keep the worker alive through a database hiccup
                log.exception("reading the Matrix inbox failed")
                events = []
            if not events:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 5.0)
                except asyncio.TimeoutError:
                    pass
                continue
            by_sender: dict[str, list[Any]] = defaultdict(list)
            for row in events:
                by_sender[row.sender].append(row)

            async def run(rows: list[Any]) -> None:
                for row in rows:
                    try:
                        outcome = await self._handle(row.event, on_new_message)
                    except Exception:  # noqa: BLE001 - one bad event must not stop the others
                        log.exception("handling Matrix event %s failed", row.event_id)
                        outcome = "error"
                    await asyncio.to_thread(inbox.finish, self.assistant.db, row.event_id, outcome)

            await asyncio.gather(*(run(rows) for rows in by_sender.values()))

    async def _handle(self, event: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> str:
        settings, db = self.settings, self.assistant.db
        sender, room_id = event.get("sender", ""), event.get("room_id", "")
        person = settings.person_of(sender)
        if person is not None and self.assistant.directory.get(person) is None:
            person = None
        content = event.get("content") or {}
        if event.get("type") == "m.room.member":
            if event.get("state_key") == settings.bot_id and content.get("membership") == "invite":
                return await self._invited(room_id, person, bool(content.get("is_direct")))
            return "member"
        if event.get("type") in CALL_EVENTS:
            return await self._call(event["type"], room_id, person)
        if event.get("type") != "m.room.message" or content.get("msgtype") != "m.text" \
                or not isinstance(content.get("body"), str) or "m.new_content" in content:
            return "ignored"
        body: str = content["body"]
        purpose = await asyncio.to_thread(rooms.purpose_of, db, room_id)  # one lookup per message
        topic_id = rooms.topic_of_purpose(purpose)
        if topic_id is not None and person is not None:
            sent_at = datetime.fromtimestamp(event.get("origin_server_ts", 0) / 1000, tz=timezone.utc)
            await asyncio.to_thread(topics.record_message, db, topic_id, event["event_id"], person, body, sent_at,
                                    self.assistant.status.record)
        mentioned, text = self._addressed(content, body)
        if not mentioned and not await self._is_direct(room_id, sender, purpose):
            return "recorded" if topic_id is not None and person is not None else "ignored"
        relates = content.get("m.relates_to") or {}
        thread = relates.get("event_id") if relates.get("rel_type") == "m.thread" else None
        reply_to = (relates.get("m.in_reply_to") or {}).get("event_id")
        replies = await self._converse(person, sender, text, event["event_id"], on_new_message,
                                       {"room_id": room_id, "thread": thread, "reply_to": reply_to})
        await self._reply(room_id, event["event_id"], thread, replies)
        return "answered" if person is not None else "refused"

    async def _call(self, kind: str, room_id: str, person: str | None) -> str:
        """A call started or ended by an employee: their status follows (in the topic, in a topic room)."""
        if person is None:
            return "ignored"
        if kind == "m.call.hangup":
            await asyncio.to_thread(self.assistant.status.end_call, person)
            return "call_ended"
        topic_id = await asyncio.to_thread(topics.topic_of_room, self.assistant.db, room_id)
        title = await asyncio.to_thread(topics.title_of, self.assistant.db, topic_id) if topic_id else None
        await asyncio.to_thread(self.assistant.status.record_now, person, call_activity(topic_id, title))
        return "call_started"

    async def _invited(self, room_id: str, person: str | None, is_direct: bool) -> str:
        try:
            await self.port.join(room_id)
        except Unavailable:
            log.warning("could not join %s now; the inviter can invite again", room_id)
            return "join_failed"
        if person is not None and is_direct:
            await asyncio.to_thread(rooms.record, self.assistant.db, rooms.dm_purpose(person), room_id)
        self._direct.pop(room_id, None)
        return "joined"

    def _addressed(self, content: dict[str, Any], body: str) -> tuple[bool, str]:
        """(mentions Deskmate, the text without the mention)."""
        bot = self.settings.bot_id
        mentions = (content.get("m.mentions") or {}).get("user_ids") or []
        stripped = self._mention.sub("", body, count=1)
        mentioned = bot in mentions or stripped != body or bot in (content.get("formatted_body") or "")
        return mentioned, stripped.strip() or body

    async def _is_direct(self, room_id: str, sender: str, purpose: str | None) -> bool:
        """A DM: the room recorded as someone's DM, or a room of exactly the sender and Deskmate."""
        if purpose is not None:
            return purpose.startswith("dm:")
        if room_id not in self._direct:
            try:
                self._direct[room_id] = await self.port.members(room_id) == {sender, self.settings.bot_id}
            except Exception:  # noqa: BLE001 - unknown membership: do not answer unasked
                return False
        return self._direct[room_id]

    async def _converse(self, person: str | None, sender: str, text: str, event_id: str,
                        on_new_message: Callable[[UserMessage], Awaitable[Any]], where: dict[str, Any]) -> list[str]:
        metadata = {"event_id": event_id, "matrix_sender": sender, **where}
        replies = await self.gate.converse(person or sender, text, self.name(), metadata, on_new_message)
        return [m["text"] for m in replies if m.get("text")] or [t("error.no_reply", self.settings.default_language)]

    async def _reply(self, room_id: str, event_id: str, thread: str | None, texts: list[str]) -> None:
        """Enqueue the replies, then deliver them now; a failed delivery is retried by the outbox."""
        keys = [f"reply:{event_id}:{i}" for i in range(len(texts))]

        def enqueue() -> list[Any]:
            """Leased to this coroutine, so the background deliverer cannot send the second before the first."""
            with self.assistant.db.session() as s:
                for part, (key, text) in enumerate(zip(keys, texts, strict=True), 1):
                    outbox.enqueue(s, key, "room.post", {"room_id": room_id, "text": text, "notice": False,
                                                         "thread": thread, "reply": {"to": event_id, "part": part,
                                                                                     "parts": len(texts)}},
                                   leased=True)
                s.flush()
                return list(s.execute(select(OutboxEffect).where(OutboxEffect.key.in_(keys))
                                      .order_by(OutboxEffect.id)).scalars())

        mine = [e for e in await asyncio.to_thread(enqueue) if e.status == "sending"]  # not a replayed event's
        await self.deliverer.deliver_in_order(mine)
