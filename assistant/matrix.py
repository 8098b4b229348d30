"""The IM port on Matrix: what Deskmate does in rooms, as its application-service user, through mautrix.

Every call is safe to repeat, because the outbox retries an effect whose outcome it never saw: rooms are
created under an alias (a second creation finds the first room), messages carry the effect's key as their
transaction id (Synapse drops a repeat), and invites or removals that are already done count as done.
"""

from __future__ import annotations

import html
import re
from typing import Any

from mautrix.api import HTTPAPI
from mautrix.client import ClientAPI
from mautrix.errors import MatrixConnectionError, MatrixRequestError
from mautrix.types import EventType, Format, MessageType, RoomCreatePreset, TextMessageEventContent

from assistant.config import Settings
from assistant.synapse import Registration

_BOLD = re.compile(r"\*\*(.+?)\*\*")
REPLY_MARKER = "org.deskmate.reply"  # {"to": event id, "part": i, "parts": n} on each message of an answer
OPEN_POWER = 0      # anyone in the room may post
CLOSED_POWER = 100  # only Deskmate may post: the room is read-only


class Unavailable(Exception):
    """The IM server could not be reached or answered 5xx: try again later."""


class Refused(Exception):
    """The IM server refused the request for good (4xx other than rate limits): retrying will not help."""


def html_body(text: str) -> str:
    """The formatted body of a plain-text message: escaped, **bold** kept, line breaks kept."""
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(text)).replace("\n", "<br>")


class MatrixPort:
    """One per process; holds an HTTP session to Synapse with the application service's token."""

    def __init__(self, settings: Settings, registration: Registration | None = None) -> None:
        self.settings = settings
        registration = registration or Registration.load(settings.matrix_registration)
        self.api = HTTPAPI(settings.matrix_url, registration.as_token, as_user_id=settings.bot_id,
                           default_retry_count=0)
        self.client = ClientAPI(settings.bot_id, api=self.api)

    async def close(self) -> None:
        if self.api.session is not None:
            await self.api.session.close()

    async def _call(self, coro: Any) -> Any:
        """Await a mautrix call, turning its failures into Unavailable (retry) or Refused (give up)."""
        try:
            return await coro
        except MatrixRequestError as exc:
            if exc.http_status in (429,) or exc.http_status >= 500:
                raise Unavailable(f"{exc.http_status} {exc.errcode}: {exc.message}") from exc
            raise Refused(f"{exc.http_status} {exc.errcode}: {exc.message}") from exc
        except (MatrixConnectionError, OSError, TimeoutError) as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # aiohttp's ClientError family
            if type(exc).__module__.startswith("aiohttp"):
                raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
            raise

    async def create_room(self, alias_localpart: str, name: str, topic: str, *, direct_with: str | None = None
                          ) -> str:
        """A private room with Deskmate as its only admin; an existing room under the alias is reused.

        Deskmate, the creator, gets full power from Synapse (in room version 12 it may not even be listed)."""
        power = {"users_default": 0, "events_default": OPEN_POWER, "state_default": 100,
                 "invite": 100, "kick": 100, "ban": 100, "redact": 100,
                 "events": {"m.room.name": 100, "m.room.topic": 100, "m.room.power_levels": 100}}
        try:
            return await self._call(self.client.create_room(
                alias_localpart=alias_localpart, name=name, topic=topic, preset=RoomCreatePreset.PRIVATE,
                is_direct=direct_with is not None,
                invitees=[self.settings.matrix_id(direct_with)] if direct_with else None,
                power_level_override=power))
        except Refused as exc:
            if "M_ROOM_IN_USE" not in str(exc):
                raise
        alias = f"#{alias_localpart}:{self.settings.matrix_server_name}"
        info = await self._call(self.client.resolve_room_alias(alias))
        return info.room_id

    async def invite(self, room_id: str, person: str, reason: str) -> None:
        try:
            await self._call(self.client.invite_user(room_id, self.settings.matrix_id(person), reason=reason))
        except Refused as exc:
            if "already" not in str(exc):  # "... is already in the room" / "already invited": done before
                raise

    async def remove(self, room_id: str, person: str, reason: str) -> None:
        try:
            await self._call(self.client.kick_user(room_id, self.settings.matrix_id(person), reason=reason))
        except Refused as exc:
            if "not in the room" not in str(exc) and "M_NOT_FOUND" not in str(exc):
                raise

    async def post(self, room_id: str, text: str, *, txn_id: str, notice: bool = False,
                   thread: str | None = None, reply: dict[str, Any] | None = None) -> str:
        """A message with a plain body and an HTML body; `txn_id` makes a repeated send a no-op. `reply`
        ({"to": event id, "part": i, "parts": n}) marks it as part i of n of the answer to a message, so a
        client can tell when the whole answer has arrived (REPLY_MARKER; other clients ignore it)."""
        content = TextMessageEventContent(msgtype=MessageType.NOTICE if notice else MessageType.TEXT, body=text,
                                          format=Format.HTML, formatted_body=html_body(text))
        if thread:
            content.set_thread_parent(thread)
        if reply:
            content[REPLY_MARKER] = reply
        return await self._call(self.client.send_message_event(room_id, EventType.ROOM_MESSAGE, content,
                                                               txn_id=txn_id))

    async def set_topic(self, room_id: str, topic: str) -> None:
        await self._call(self.client.send_state_event(room_id, EventType.ROOM_TOPIC, {"topic": topic}))

    async def set_closed(self, room_id: str, closed: bool) -> None:
        """Read-only (only Deskmate may post) or open again, by the room's power levels."""
        levels = await self._call(self.client.get_state_event(room_id, EventType.ROOM_POWER_LEVELS))
        levels.events_default = CLOSED_POWER if closed else OPEN_POWER
        await self._call(self.client.send_state_event(room_id, EventType.ROOM_POWER_LEVELS, levels))

    async def set_display_name(self, name: str) -> None:
        await self._call(self.client.set_displayname(name))

    async def join(self, room_id: str) -> None:
        await self._call(self.client.join_room_by_id(room_id))

    async def members(self, room_id: str) -> set[str]:
        return set(await self._call(self.client.get_joined_members(room_id)))
