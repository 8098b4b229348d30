"""The assistant's services wired together once per process: settings, store, directory snapshot."""

from __future__ import annotations

import threading
import time

from assistant.config import Settings, get_settings
from assistant.directory import Directory
from assistant.store import Database

DIRECTORY_TTL_SECONDS = 30.0


class Assistant:
    """One per process. The API servlets and the Rasa actions both call into it."""

    def __init__(self, settings: Settings | None = None, db: Database | None = None) -> None:
        self.settings = settings or get_settings()
        self.db = db or Database(self.settings.database_url)
        self.admin_token = self.settings.admin_token()
        self._directory: Directory | None = None
        self._directory_at = 0.0
        self._lock = threading.Lock()

    @property
    def directory(self) -> Directory:
        """A snapshot of the directory, reloaded at most every DIRECTORY_TTL_SECONDS."""
        now = time.monotonic()
        if self._directory is None or now - self._directory_at > DIRECTORY_TTL_SECONDS:
            with self._lock:
                if self._directory is None or now - self._directory_at > DIRECTORY_TTL_SECONDS:
                    self._directory = Directory.load(self.db)
                    self._directory_at = now
        return self._directory

    def refresh_directory(self) -> None:
        with self._lock:
            self._directory = None


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
