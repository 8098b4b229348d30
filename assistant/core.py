"""The assistant's services wired together once per process: settings, store, snapshots, claims."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Callable, TypeVar
from zoneinfo import ZoneInfo

from assistant.approval_chat import ApprovalChat
from assistant.claim_chat import ClaimChat, Turn
from assistant.claims import Claims
from assistant.config import Settings, get_settings
from assistant.digest import Digests
from assistant.directory import Directory
from assistant.memory import Memory
from assistant.memory_chat import MemoryChat
from assistant.policy import Policy
from assistant.status import Clock, Status
from assistant.status_chat import StatusChat
from assistant.store import Database
from assistant.store.models import utcnow
from assistant.topic_chat import TopicChat
from assistant.topics import Topics

SNAPSHOT_TTL_SECONDS = 30.0
T = TypeVar("T")


class Assistant:
    """One per process. The API servlets and the Rasa actions both call into it."""

    def __init__(self, settings: Settings | None = None, db: Database | None = None, clock: Clock = utcnow) -> None:
        """`clock` is what "now" means for work status (tests inject one); stored timestamps are always real."""
        self.settings = settings or get_settings()
        self.db = db or Database(self.settings.database_url)
        self.admin_token = self.settings.admin_token()
        self._cache: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self.status = Status(self.db, lambda: self.directory, self.settings, clock)
        self.digests = Digests(self.db, lambda: self.directory, self.status)
        self.memory = Memory(self.db)
        self.claims = Claims(self.db, lambda: self.directory, lambda: self.policy, activity=self.status.record)
        self.claim_chat = ClaimChat(self.db, self.claims, lambda: self.directory, lambda: self.policy, self.memory)
        self.approval_chat = ApprovalChat(self.claims, self.claim_chat, lambda: self.directory)
        self.topics = Topics(self.db, lambda: self.directory, self.claims, activity=self.status.record)
        self.topic_chat = TopicChat(self.topics, lambda: self.directory)
        self.status_chat = StatusChat(self.status, self.digests, lambda: self.directory)
        self.memory_chat = MemoryChat(self.memory, self.claim_chat.category_name)
        self.claim_chat.redo = self._redo

    def _redo(self, request: dict[str, Any], chosen: str, turn: Turn) -> list[str]:
        """A request stopped by an ambiguous name (assistant/pending.py), run again with the person picked."""
        text = request["text"].replace(request["name"], f" {chosen} ", 1)
        return getattr(getattr(self, request["chat"]), request["method"])(replace(turn, text=text))

    def _cached(self, name: str, load: Callable[[Database], T]) -> T:
        """A snapshot loaded from the store, reloaded at most every SNAPSHOT_TTL_SECONDS."""
        now = time.monotonic()
        entry = self._cache.get(name)
        if entry is None or now - entry[0] > SNAPSHOT_TTL_SECONDS:
            with self._lock:
                entry = self._cache.get(name)
                if entry is None or now - entry[0] > SNAPSHOT_TTL_SECONDS:
                    entry = (now, load(self.db))
                    self._cache[name] = entry
        return entry[1]  # type: ignore[return-value]

    @property
    def directory(self) -> Directory:
        return self._cached("directory", Directory.load)

    @property
    def policy(self) -> Policy:
        return self._cached("policy", Policy.load)

    def refresh(self) -> None:
        """Forget the cached directory and policy (after a seed)."""
        with self._lock:
            self._cache.clear()

    def today(self, person: str | None = None) -> date:
        """Today's date where the person is (the company's time zone until people have their own)."""
        return datetime.now(ZoneInfo(self.settings.timezone)).date()


_shared: Assistant | None = None


def shared_assistant() -> Assistant:
    """The process-wide Assistant, created on first use."""
    global _shared
    if _shared is None:
        _shared = Assistant()
    return _shared


def set_shared_assistant(assistant: Assistant | None) -> None:
    global _shared
    _shared = assistant
