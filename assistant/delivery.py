"""The deliverer: takes due outbox effects and performs them through the IM port, exactly once each.

It runs inside the assistant service (a background task, woken when a service enqueues something), and
inside the Rasa server for chat replies, which are delivered at once rather than on the next round. Effects
on one room go out in order; effects on different rooms go out concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from assistant import outbox, rooms
from assistant.config import Settings
from assistant.matrix import MatrixPort, Refused, Unavailable
from assistant.preferences import language_of
from assistant.store import Database
from assistant.store.models import OutboxEffect

log = logging.getLogger(__name__)

CONCURRENT_ROOMS = 8
DM_NAME = "邻桌 Deskmate"
DM_TOPIC = "与邻桌的私聊 · Your direct chat with Deskmate"


class NotReady(Unavailable):
    """The room an effect is about has not been created yet."""


class Deliverer:
    def __init__(self, db: Database, settings: Settings, port: MatrixPort) -> None:
        self.db = db
        self.settings = settings
        self.port = port
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, interval: float = 1.0) -> None:
        """Deliver until cancelled; sleeps `interval` between rounds unless woken."""
        while True:
            try:
                delivered = await self.deliver_due()
            except Exception:  # noqa: BLE001 - a database hiccup must not stop deliveries for good
                log.exception("delivery round failed")
                delivered = 0
            if delivered:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), interval)
            except asyncio.TimeoutError:
                pass

    async def deliver_due(self) -> int:
        """One round: every due effect, grouped by room. Returns how many were delivered."""
        effects = await asyncio.to_thread(outbox.claim_due, self.db)
        if not effects:
            return 0
        groups: dict[str, list[OutboxEffect]] = defaultdict(list)
        for effect in effects:
            groups[_room_key(effect)].append(effect)
        limit = asyncio.Semaphore(CONCURRENT_ROOMS)

        async def deliver_group(group: list[OutboxEffect]) -> int:
            async with limit:
                return await self.deliver_in_order(group)

        return sum(await asyncio.gather(*(deliver_group(g) for g in groups.values())))

    async def deliver_in_order(self, effects: list[OutboxEffect]) -> int:
        """Deliver claimed effects of one room in order; after a failure the rest wait behind it. Returns how
        many were delivered."""
        for index, effect in enumerate(effects):
            if not await self.deliver(effect):
                until = await asyncio.to_thread(outbox.next_attempt, self.db, effect.id)
                await asyncio.to_thread(outbox.defer, self.db, [e.id for e in effects[index + 1:]], until)
                return index
        return len(effects)

    async def deliver(self, effect: OutboxEffect) -> bool:
        """Perform one claimed effect and mark it; True when it is done."""
        try:
            await self._perform(effect)
        except Unavailable as exc:
            await asyncio.to_thread(outbox.mark_failed, self.db, effect.id, str(exc),
                                    max_backoff=self.settings.outbox_max_backoff)
            log.info("effect %s (%s) postponed: %s", effect.id, effect.kind, exc)
            return False
        except Refused as exc:
            await asyncio.to_thread(outbox.mark_failed, self.db, effect.id, str(exc), permanent=True)
            log.warning("effect %s (%s) refused by the IM server: %s", effect.id, effect.kind, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - unforeseen: retried with backoff, visible in `assistant outbox`
            log.exception("effect %s (%s) failed", effect.id, effect.kind)
            await asyncio.to_thread(outbox.mark_failed, self.db, effect.id, f"{type(exc).__name__}: {exc}",
                                    max_backoff=self.settings.outbox_max_backoff)
            return False
        await asyncio.to_thread(outbox.mark_sent, self.db, effect.id)
        return True

    async def _perform(self, effect: OutboxEffect) -> None:
        p: dict[str, Any] = effect.payload
        kind = effect.kind
        if kind == "room.create":
            room_id = await self._create(effect, p["room"], p["name"], p.get("topic", ""))
            for person, reason in p.get("invite", {}).items():
                await self.port.invite(room_id, person, await self._pick(reason, person))
        elif kind == "dm":
            room_id = await self._dm_room(effect, p["to"])
            await self.port.post(room_id, await self._pick(p["text"], p["to"]), txn_id=effect.key)
        elif kind == "room.post":
            room_id = p.get("room_id") or await self._room(p["room"])
            text = p["text"] if isinstance(p["text"], str) else _bilingual(p["text"])
            await self.port.post(room_id, text, txn_id=effect.key, notice=p.get("notice", True),
                                 thread=p.get("thread"), reply=p.get("reply"))
        elif kind == "room.invite":
            await self.port.invite(await self._room(p["room"]), p["to"], await self._pick(p["reason"], p["to"]))
        elif kind == "room.remove":
            await self.port.remove(await self._room(p["room"]), p["to"], await self._pick(p["reason"], p["to"]))
        elif kind == "room.topic":
            await self.port.set_topic(await self._room(p["room"]), p["topic"])
        elif kind == "room.close":
            await self.port.set_closed(await self._room(p["room"]), p["closed"])
            await asyncio.to_thread(rooms.set_closed, self.db, p["room"], p["closed"])
        else:
            raise Refused(f"unknown effect kind {kind!r}")

    async def _room(self, purpose: str) -> str:
        room = await asyncio.to_thread(rooms.room_of, self.db, purpose)
        if room is None:
            raise NotReady(f"the room for {purpose} is not created yet")
        return room.room_id

    async def _create(self, effect: OutboxEffect, purpose: str, name: str, topic: str,
                      direct_with: str | None = None) -> str:
        """Create the room of `purpose` once: a retry finds it by its alias, unique to this effect."""
        existing = await asyncio.to_thread(rooms.room_of, self.db, purpose)
        if existing is not None:
            return existing.room_id
        alias = f"deskmate_{purpose.replace(':', '_')}_{int(effect.created_at.timestamp() * 1000)}"
        room_id = await self.port.create_room(alias, name, topic, direct_with=direct_with)
        return await asyncio.to_thread(rooms.record, self.db, purpose, room_id)

    async def _dm_room(self, effect: OutboxEffect, person: str) -> str:
        return await self._create(effect, rooms.dm_purpose(person), DM_NAME, DM_TOPIC, direct_with=person)

    async def _pick(self, texts: dict[str, str] | str, person: str) -> str:
        """The text in the language the person last wrote to Deskmate in."""
        if isinstance(texts, str):
            return texts
        lang = await asyncio.to_thread(language_of, self.db, person) or self.settings.default_language
        return texts.get(lang) or next(iter(texts.values()))


def _room_key(effect: OutboxEffect) -> str:
    p = effect.payload
    if effect.kind == "dm":
        return rooms.dm_purpose(p["to"])
    return p.get("room") or p.get("room_id") or f"effect:{effect.id}"


def _bilingual(texts: dict[str, str]) -> str:
    """A notice in a room of several readers: both languages, each once."""
    zh, en = texts.get("zh", ""), texts.get("en", "")
    return zh if zh == en or not en else en if not zh else f"{zh}\n{en}"
