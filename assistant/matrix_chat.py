"""`assistant chat` over Matrix: the terminal chat an employee sees, through the company's Synapse.

It logs in as the employee like any Matrix client would, so what it shows is what their IM shows: the direct
room with Deskmate, the topic rooms Deskmate invites them to (joined at once, as a person would), and what is
posted there. Everything goes through mautrix; the sync responses are read as plain JSON because only a
handful of fields matter here.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError
from mautrix.client import ClientAPI
from mautrix.errors import MatrixConnectionError, MatrixError, MatrixRequestError
from mautrix.types import EventType, RoomCreatePreset

from assistant.chat import BANNER
from assistant.config import Settings
from assistant.i18n import both, t
from assistant.language import CJK
from assistant.matrix import REPLY_MARKER
from assistant.synapse import password_for, synapse_dir

DEVICE_NAME = "deskmate-chat"
MESSAGE_TYPES = {"m.text": "message", "m.notice": "notice"}
Name = str | dict[str, str]  # a display name, or {"zh": ..., "en": ...} when it has both
_BILINGUAL = re.compile(rf"^\s*([{CJK}·]+)\s+([^{CJK}]+?)\s*$|^\s*([^{CJK}]+?)\s+([{CJK}·]+)\s*$")
# Failures that mean "the server is not there (now)", as opposed to a refusal.
OFFLINE = (MatrixConnectionError, ClientError, OSError, asyncio.TimeoutError)


class ChatUnavailable(RuntimeError):
    """The chat cannot start: `key` names the message in assistant/locale/matrix_chat.yml."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key, self.values = key, values
        super().__init__(t(key, "en", **values))

    def line(self) -> str:
        """Both languages on one line: the terminal's reader may read either."""
        return " / ".join(both(self.key, **self.values).values())


def split_name(displayname: str) -> Name:
    """'张伟 Wei Zhang' -> {'zh': '张伟', 'en': 'Wei Zhang'}, so each language shows its own half."""
    match = _BILINGUAL.match(displayname or "")
    if not match:
        return displayname
    zh, en = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    return {"zh": zh, "en": en}


def _pick(name: Name, lang: str) -> str:
    return name.get(lang, name.get("en", "")) if isinstance(name, dict) else name


@dataclass
class ChatEvent:
    """One thing the person should see.

    `sender` is who did it (the author, the inviter, the renamer), except for "join"/"leave", where it is the
    member who came or went and `actor_name` says who removed them. Names may be {"zh", "en"} pairs.
    """

    kind: str  # message | notice | invite | join | leave | rename | topic
    room_id: str
    room_name: str
    sender: str
    text: str
    event_id: str
    sender_name: Name = ""
    actor_name: Name = ""
    is_dm: bool = False
    about_me: bool = False

    @property
    def is_message(self) -> bool:
        return self.kind in ("message", "notice")

    def render(self, lang: str) -> str:
        """One entry for the terminal: DM replies as "邻桌> text", other rooms prefixed with their name."""
        who = self.sender_name or self.sender
        if self.is_message:
            if self.is_dm:
                return f"{_pick(who, lang)}> {self.text}"
            return f"[{self.room_name}] {_pick(who, lang)}: {self.text}"
        member = both("matrix_chat.you") if self.about_me else who
        values: dict[str, Any] = {"room": self.room_name, "actor": who, "member": member}
        if self.kind == "invite":
            key = "matrix_chat.invited_reason" if self.text else "matrix_chat.invited"
            return t(key, lang, inviter=who, room=self.room_name, reason=self.text)
        if self.kind == "join":
            return t("matrix_chat.joined", lang, **values)
        if self.kind == "leave":
            if not self.actor_name:
                return t("matrix_chat.left", lang, **values)
            key = "matrix_chat.removed_reason" if self.text else "matrix_chat.removed"
            return t(key, lang, **{**values, "actor": self.actor_name}, reason=self.text)
        if self.kind == "rename":
            return t("matrix_chat.renamed", lang, **values, name=self.text)
        if self.kind == "topic":
            return t("matrix_chat.topic", lang, **values, topic=self.text)
        return f"[{self.room_name}] {self.text}"


@dataclass
class _Room:
    """What the chat knows of a room's state: enough to name it and its members."""

    name: str = ""
    alias: str = ""
    creator: str = ""
    members: dict[str, tuple[str, str]] = field(default_factory=dict)  # mxid -> (membership, displayname)

    def apply(self, event: dict[str, Any]) -> None:
        if "state_key" not in event:
            return
        kind, content = event.get("type"), event.get("content") or {}
        if kind == "m.room.name":
            self.name = content.get("name") or ""
        elif kind == "m.room.canonical_alias":
            self.alias = content.get("alias") or ""
        elif kind == "m.room.create":
            self.creator = event.get("sender", "")
        elif kind == "m.room.member":
            self.members[event["state_key"]] = (content.get("membership", ""), content.get("displayname") or "")

    def with_membership(self, *memberships: str) -> set[str]:
        return {mxid for mxid, (membership, _) in self.members.items() if membership in memberships}


class MatrixChatSession:
    """One person logged in to Synapse, with their direct room with Deskmate and a sync position."""

    def __init__(self, settings: Settings, person: str, client: ClientAPI) -> None:
        self.settings, self.person, self.client = settings, person, client
        self.me = settings.matrix_id(person)
        self.bot = settings.bot_id
        self.dm_room = ""
        self.since: str | None = None
        self.rooms: dict[str, _Room] = {}
        self.direct: dict[str, list[str]] = {}  # the m.direct account data
        self._known: set[str] = set()  # rooms already seen joined: their state changes are news
        self._backlog: list[ChatEvent] = []  # invitations found by the initial sync
        self._sent: set[str] = set()  # own DM messages not seen in a sync yet
        self._unanswered: set[str] = set()  # own DM messages seen, no reply from Deskmate after them yet
        self._answered: set[str] = set()
        self._parts: dict[str, set[int]] = {}  # own message -> parts of Deskmate's answer seen (REPLY_MARKER)
        self._complete: set[str] = set()  # own messages whose whole answer has been seen

    # -- opening -----------------------------------------------------------------------------------------------

    async def _start(self) -> None:
        """Initial sync (so old history is not replayed), then the DM room: found, accepted or created."""
        resp = await self.client.sync(timeout=0)
        self.since = resp["next_batch"]
        self._account_data(resp)
        rooms = resp.get("rooms") or {}
        for room_id, data in (rooms.get("join") or {}).items():
            room = self.rooms.setdefault(room_id, _Room())
            for event in _events(data, "state") + _events(data, "timeline"):
                room.apply(event)
            self._known.add(room_id)
        invites: dict[str, Any] = dict(rooms.get("invite") or {})
        self.dm_room = await self._existing_dm() or await self._accept_direct_invite(invites) or await self._create_dm()
        invites.pop(self.dm_room, None)
        await self._until_bot_joined(self.dm_room)
        if self.dm_room not in self.direct.get(self.bot, []):
            direct = {**self.direct, self.bot: [self.dm_room, *self.direct.get(self.bot, [])]}
            await self.client.set_account_data(EventType.DIRECT, direct)
            self.direct = direct
        for room_id, data in invites.items():  # pending from before: shown by the first poll, like new ones
            self._backlog.extend(await self._invited(room_id, data))

    async def _existing_dm(self) -> str | None:
        """The room m.direct names for the bot, else a joined room of just the person and the bot.

        A room of just those two that the bot created and named is a topic room of a claim, not the DM."""
        for room_id in self.direct.get(self.bot, []):
            room = self.rooms.get(room_id)
            if room is None or self.me not in room.with_membership("join"):
                continue
            if self.bot not in room.with_membership("join", "invite"):
                try:  # Deskmate left: it joins any room it is invited to
                    await self.client.invite_user(room_id, self.bot)
                except MatrixRequestError:
                    continue
            return room_id
        for room_id, room in self.rooms.items():
            if self.me in room.with_membership("join") and room.with_membership("join", "invite") == {
                    self.me, self.bot} and (room.creator == self.me or not room.name):
                return room_id
        return None

    async def _accept_direct_invite(self, invites: dict[str, Any]) -> str | None:
        """A direct room Deskmate opened with the person before they ever chatted: join it, it is the DM."""
        for room_id, data in invites.items():
            for event in _events(data, "invite_state"):
                content = event.get("content") or {}
                if event.get("type") == "m.room.member" and event.get("state_key") == self.me \
                        and event.get("sender") == self.bot and content.get("is_direct"):
                    await self.client.join_room_by_id(room_id)
                    room = self.rooms.setdefault(room_id, _Room())
                    for state in _events(data, "invite_state"):
                        room.apply(state)
                    room.members[self.me] = ("join", room.members.get(self.me, ("", ""))[1])
                    return room_id
        return None

    async def _until_bot_joined(self, room_id: str, timeout: float = 15.0) -> bool:
        """Synapse passes Deskmate only the events of rooms it has joined: a message sent while it is merely
        invited would never reach it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if self.bot in await self.client.get_joined_members(room_id):
                return True
            await asyncio.sleep(0.1)
        return False

    async def _create_dm(self) -> str:
        room_id = await self.client.create_room(is_direct=True, invitees=[self.bot],
                                                preset=RoomCreatePreset.TRUSTED_PRIVATE)
        self.rooms[room_id] = _Room(creator=self.me, members={self.me: ("join", ""), self.bot: ("invite", "")})
        return room_id

    @property
    def user_id(self) -> str:
        return self.me

    # -- talking -----------------------------------------------------------------------------------------------

    async def send(self, text: str, room_id: str | None = None) -> str:
        """Say something to Deskmate (or in another room); the event id lets wait_reply know which answer is
        new."""
        event_id = await self.client.send_text(room_id or self.dm_room, text)
        if room_id in (None, self.dm_room):
            self._sent.add(event_id)
        return event_id

    def answered(self, event_id: str) -> bool:
        """Whether Deskmate has said something in the DM since `event_id` (as far as the polls have seen)."""
        return event_id in self._answered

    def has_whole_answer(self, event_id: str) -> bool:
        """Whether all of Deskmate's answer to `event_id` has arrived: every part its REPLY_MARKER announced.
        Once answers carry markers, the late end of an earlier answer is not taken for this one's; from a bot
        that marks nothing, anything it said in the DM since `event_id` counts."""
        return event_id in self._complete or (not self._parts and self.answered(event_id))

    async def wait_reply(self, after_event: str, timeout: float = 30.0, settle: float = 0.5,
                         keep_others: bool = False) -> list[ChatEvent]:
        """Poll until Deskmate answers in the DM after `after_event`; returns every event seen meanwhile
        (also those of other rooms, unless `keep_others` keeps them for the next poll). An answer may take
        several messages, so it goes on polling while more of them arrive within `settle` seconds. On timeout
        it returns what it saw, without the reply."""
        seen = await self._wait_reply(after_event, timeout, settle)
        if not keep_others:
            return seen
        self._backlog = [e for e in seen if not e.is_dm] + self._backlog
        return [e for e in seen if e.is_dm]

    async def _wait_reply(self, after_event: str, timeout: float, settle: float) -> list[ChatEvent]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[ChatEvent] = []
        while not self.has_whole_answer(after_event):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return seen
            seen.extend(await self.poll(timeout_ms=int(min(remaining, 30.0) * 1000)))
        if after_event in self._complete:  # the answer said how many messages it has: all are here
            return seen
        while settle > 0:
            more = await self.poll(timeout_ms=int(settle * 1000))
            seen.extend(more)
            if not any(e.is_dm and e.is_message and e.sender == self.bot for e in more):
                return seen
        return seen

    async def poll_until(self, found: Callable[[ChatEvent], bool], timeout: float = 30.0) -> ChatEvent | None:
        """Poll until an event satisfies `found` and return it (None on timeout). The other events seen are
        kept, in order, for the next poll, so waiting for one thing loses nothing else."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        kept: list[ChatEvent] = []
        pending, self._backlog = self._backlog, []
        try:
            while True:
                for index, event in enumerate(pending):
                    if found(event):
                        kept.extend(pending[index + 1:])
                        return event
                    kept.append(event)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                pending = await self.poll(timeout_ms=int(min(remaining, 30.0) * 1000))
        finally:
            self._backlog = kept + self._backlog

    async def room_name(self, room_id: str) -> str | None:
        """A room's name (asked from the server for a room this session has not seen), None if it has none."""
        room = self.rooms.get(room_id)
        if room is not None and room.name:
            return room.name
        try:
            content = await self.client.get_state_event(room_id, EventType.ROOM_NAME)
        except MatrixRequestError:  # M_NOT_FOUND: unnamed; M_FORBIDDEN: not a member
            return None
        return content.name or None

    async def poll(self, timeout_ms: int = 30000) -> list[ChatEvent]:
        """One /sync since the last one: what happened, as ChatEvents; invitations are accepted on the way."""
        events, self._backlog = self._backlog, []
        resp = await self.client.sync(since=self.since, timeout=0 if events else timeout_ms)
        self.since = resp["next_batch"]
        self._account_data(resp)
        rooms = resp.get("rooms") or {}
        for room_id, data in (rooms.get("join") or {}).items():
            events.extend(self._joined(room_id, data))
        for room_id, data in (rooms.get("leave") or {}).items():
            events.extend(self._joined(room_id, data))
            self._known.discard(room_id)
        for room_id, data in (rooms.get("invite") or {}).items():
            events.extend(await self._invited(room_id, data))
        return events

    async def close(self) -> None:
        """Log out (removes the device, so chats leave no trace of sessions) and close the HTTP session."""
        with suppress(MatrixError, *OFFLINE):
            if self.client.api.token:
                await asyncio.wait_for(self.client.logout(), timeout=5)
        await self.client.api.session.close()

    # -- reading syncs -----------------------------------------------------------------------------------------

    def _account_data(self, resp: dict[str, Any]) -> None:
        for event in _events(resp, "account_data"):
            if event.get("type") == "m.direct" and isinstance(event.get("content"), dict):
                self.direct = event["content"]

    async def _invited(self, room_id: str, data: dict[str, Any]) -> list[ChatEvent]:
        """Join at once (a person using the chat would) and say who invited them where, and why."""
        room = self.rooms.setdefault(room_id, _Room())
        invite: dict[str, Any] = {}
        for event in _events(data, "invite_state"):
            room.apply(event)
            if event.get("type") == "m.room.member" and event.get("state_key") == self.me:
                invite = event
        try:
            await self.client.join_room_by_id(room_id)
        except MatrixRequestError:  # withdrawn or the room is gone: nothing to show
            return []
        inviter = invite.get("sender", "")
        return [ChatEvent("invite", room_id, self._room_name(room_id), inviter,
                          (invite.get("content") or {}).get("reason") or "", invite.get("event_id", ""),
                          sender_name=self._name(inviter, room))]

    def _joined(self, room_id: str, data: dict[str, Any]) -> list[ChatEvent]:
        """The timeline of a joined (or just left) room. In a room joined since the last sync, its earlier
        messages are shown but its earlier state changes are not: they are how the room came to be."""
        room = self.rooms.setdefault(room_id, _Room())
        for event in _events(data, "state"):
            room.apply(event)
        timeline = _events(data, "timeline")
        if room_id == self.dm_room and (data.get("timeline") or {}).get("limited"):
            self._unanswered |= self._sent  # a gap: what was sent may be in it
            self._sent.clear()
        news_from = 0
        if room_id not in self._known:
            news_from = next((i + 1 for i, e in enumerate(timeline) if self._is_own_join(e)), len(timeline))
        self._known.add(room_id)
        found = []
        for index, event in enumerate(timeline):
            item = self._describe(room_id, room, event, state_is_news=index >= news_from)
            room.apply(event)
            if item is not None:
                found.append(item)
        return found

    def _is_own_join(self, event: dict[str, Any]) -> bool:
        return (event.get("type") == "m.room.member" and event.get("state_key") == self.me
                and (event.get("content") or {}).get("membership") == "join"
                and _prev_membership(event) != "join")

    def _describe(self, room_id: str, room: _Room, event: dict[str, Any], *, state_is_news: bool
                  ) -> ChatEvent | None:
        kind, sender = event.get("type"), event.get("sender", "")
        content = event.get("content") or {}
        is_dm = room_id == self.dm_room
        base = {"room_id": room_id, "room_name": self._room_name(room_id), "event_id": event.get("event_id", ""),
                "is_dm": is_dm}
        if kind == "m.room.message" and "state_key" not in event:
            return self._message(room, event, content, base)
        if "state_key" not in event or not state_is_news:
            return None
        if kind == "m.room.member":
            return None if is_dm else self._membership(room, event, content, base)
        if kind == "m.room.name" and event["state_key"] == "":
            name = content.get("name") or ""
            if name == room.name:
                return None
            return ChatEvent("rename", sender=sender, text=name, sender_name=self._name(sender, room), **base)
        if kind == "m.room.topic" and event["state_key"] == "":
            return ChatEvent("topic", sender=sender, text=content.get("topic") or "",
                             sender_name=self._name(sender, room), **base)
        return None

    def _message(self, room: _Room, event: dict[str, Any], content: dict[str, Any], base: dict[str, Any]
                 ) -> ChatEvent | None:
        sender, event_id = event.get("sender", ""), event.get("event_id", "")
        if sender == self.me:
            if base["is_dm"] and event_id in self._sent:
                self._sent.discard(event_id)
                self._unanswered.add(event_id)
            return None
        if isinstance(content.get("m.new_content"), dict):  # an edit: show what it says now
            content = content["m.new_content"]
        kind = MESSAGE_TYPES.get(content.get("msgtype", ""))
        if kind is None:
            return None
        if base["is_dm"] and sender == self.bot:
            self._answered |= self._unanswered
            self._unanswered.clear()
            marker = content.get(REPLY_MARKER)
            if isinstance(marker, dict) and isinstance(marker.get("to"), str):
                parts = self._parts.setdefault(marker["to"], set())
                parts.add(marker.get("part"))
                if len(parts) >= int(marker.get("parts") or 1):
                    self._complete.add(marker["to"])
        return ChatEvent(kind, sender=sender, text=content.get("body") or "", sender_name=self._name(sender, room),
                         **base)

    def _membership(self, room: _Room, event: dict[str, Any], content: dict[str, Any], base: dict[str, Any]
                    ) -> ChatEvent | None:
        member, actor = event["state_key"], event.get("sender", "")
        membership, before = content.get("membership"), _prev_membership(event)
        if membership not in ("leave", "ban"):
            if member == self.me or membership != "join" or before == "join":
                return None  # own join (the invitation said it), invitations of others, profile changes
            name = split_name(content.get("displayname") or "") or self._name(member, room)
            return ChatEvent("join", sender=member, text="", sender_name=name, **base)
        if member == self.me:
            if actor == self.me:
                return None
        elif before != "join":
            return None  # a declined or withdrawn invitation
        member_name = self._name(member, room)  # the room still holds the member's display name
        actor_name = self._name(actor, room) if actor != member else ""
        return ChatEvent("leave", sender=member, text=content.get("reason") or "", sender_name=member_name,
                         actor_name=actor_name, about_me=member == self.me, **base)

    def _name(self, mxid: str, room: _Room | None = None) -> Name:
        """Deskmate by its name in each language; others by their display name, else their id."""
        if mxid == self.bot:
            return both("matrix_chat.bot_name")
        rooms = ([room] if room else []) + list(self.rooms.values())
        for candidate in rooms:
            displayname = candidate.members.get(mxid, ("", ""))[1]
            if displayname:
                return split_name(displayname)
        return self.settings.person_of(mxid) or mxid

    def _room_name(self, room_id: str) -> str:
        """The room's name, else its alias, else who else is in it; the DM needs none (it shows as 邻桌>)."""
        room = self.rooms.get(room_id) or _Room()
        if room.name or room.alias:
            return room.name or room.alias
        if room_id == self.dm_room:
            return ""
        others = sorted(room.with_membership("join", "invite") - {self.me})
        lang = self.settings.default_language
        return ", ".join(_pick(self._name(mxid, room), lang) for mxid in others) or room_id


def _events(data: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return list((data.get(section) or {}).get("events") or [])


def _prev_membership(event: dict[str, Any]) -> str | None:
    return ((event.get("unsigned") or {}).get("prev_content") or {}).get("membership")


async def open_session(settings: Settings, person: str) -> MatrixChatSession:
    """Log in as `person` and find (or open) their DM with Deskmate; ChatUnavailable says why it could not."""
    try:
        password = password_for(settings, person)
    except OSError as exc:
        raise ChatUnavailable("matrix_chat.not_configured", path=synapse_dir(settings) / "homeserver.yaml") from exc
    client = ClientAPI(settings.matrix_id(person), base_url=settings.matrix_url)
    session = MatrixChatSession(settings, person, client)
    try:
        try:
            await client.login(password=password, device_name=DEVICE_NAME)
        except MatrixRequestError as exc:
            raise ChatUnavailable("matrix_chat.login_failed", person=person, detail=_detail(exc)) from exc
        await session._start()
    except BaseException as exc:
        await session.close()
        if isinstance(exc, OFFLINE):
            raise ChatUnavailable("matrix_chat.unreachable", url=settings.matrix_url) from exc
        if isinstance(exc, MatrixRequestError):
            raise ChatUnavailable("matrix_chat.refused", detail=_detail(exc)) from exc
        raise
    return session


def _detail(exc: BaseException) -> str:
    if isinstance(exc, MatrixRequestError):
        return f"{exc.http_status} {exc.errcode or ''} {exc.message or ''}".strip()
    return str(exc) or type(exc).__name__


# -- the terminal ----------------------------------------------------------------------------------------------


class _Console:
    """Prints events while the person may be typing: on a terminal, the half-typed line is drawn again."""

    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        self.prompt_shown = False  # set by the reader thread while input() waits
        try:
            import readline
        except ImportError:
            readline = None  # type: ignore[assignment]
        self.readline = readline
        self.redraw = bool(prompt) and sys.stdout.isatty()

    def show(self, line: str) -> None:
        if self.redraw and self.prompt_shown:
            typed = self.readline.get_line_buffer() if self.readline else ""
            sys.stdout.write(f"\r\x1b[K{line}\n{self.prompt}{typed}")
            sys.stdout.flush()
        else:
            print(line, flush=True)


def _read_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue, console: _Console) -> None:
    """input() in a daemon thread (so Ctrl-C or the end never wait for it); None in the queue means Ctrl-D."""
    while True:
        console.prompt_shown = True
        try:
            line: str | None = input(console.prompt)
        except (EOFError, OSError, ValueError):
            line = None
        console.prompt_shown = False
        loop.call_soon_threadsafe(lines.put_nowait, line)
        if line is None:
            return


async def _listen(session: MatrixChatSession, console: _Console, lang: str) -> None:
    """Poll forever, printing what arrives; an outage is said once, and again when it is over."""
    down = False
    while True:
        try:
            events = await session.poll()
        except (MatrixError, *OFFLINE) as exc:
            if not down:
                console.show("! " + t("matrix_chat.connection_lost", lang, detail=_detail(exc)))
                down = True
            await asyncio.sleep(2)
            continue
        if down:
            console.show("! " + t("matrix_chat.connection_back", lang))
            down = False
        for event in events:
            console.show(event.render(lang))


async def _chat(settings: Settings, person: str) -> int:
    lang = settings.default_language
    try:
        session = await open_session(settings, person)
    except ChatUnavailable as exc:
        print(f"! {exc.line()}", file=sys.stderr)
        return 1
    interactive = sys.stdin.isatty()
    console = _Console(f"{person}> " if interactive else "")
    print(BANNER["zh"].format(name=person))
    print(BANNER["en"].format(name=person))
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(target=_read_lines, args=(loop, lines, console), daemon=True, name="chat-input").start()
    listener = asyncio.create_task(_listen(session, console, lang))
    last: str | None = None
    try:
        while True:
            line = await lines.get()
            if line is None:
                if interactive:
                    print()
                elif last is not None:  # piped input: let the last answer arrive before leaving
                    for _ in range(300):
                        if session.has_whole_answer(last) or listener.done():
                            break
                        await asyncio.sleep(0.1)
                return 0
            if not line.strip():
                continue
            try:
                last = await session.send(line)
            except (MatrixError, *OFFLINE) as exc:
                console.show("! " + t("matrix_chat.send_failed", lang, detail=_detail(exc)))
    finally:
        listener.cancel()
        with suppress(asyncio.CancelledError):
            await listener
        await session.close()


def terminal_chat_matrix(settings: Settings, person: str) -> int:
    """Chat as `person` in the terminal over Matrix: the DM with Deskmate, plus news from the other rooms."""
    try:
        return asyncio.run(_chat(settings, person))
    except KeyboardInterrupt:
        print()
        return 130
