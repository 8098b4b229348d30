"""Settings from environment variables, each with an embedded default that works on a laptop."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once per process. See docs/configuration.md."""

    root: Path = ROOT
    var_dir: Path = field(default_factory=lambda: Path(_env("DESKMATE_VAR", str(ROOT / "var"))))
    database_url: str = ""
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    company_dir: Path = field(default_factory=lambda: Path(_env("DESKMATE_COMPANY", str(ROOT / "company"))))
    host: str = field(default_factory=lambda: _env("DESKMATE_HOST", "127.0.0.1"))
    api_port: int = field(default_factory=lambda: int(_env("DESKMATE_API_PORT", "5055")))
    rasa_port: int = field(default_factory=lambda: int(_env("DESKMATE_RASA_PORT", "5005")))
    default_language: str = field(default_factory=lambda: _env("DESKMATE_DEFAULT_LANGUAGE", "zh"))
    timezone: str = field(default_factory=lambda: _env("DESKMATE_TIMEZONE", "Asia/Shanghai"))
    max_message_chars: int = field(default_factory=lambda: int(_env("DESKMATE_MAX_MESSAGE_CHARS", "2000")))
    # The IM backend: "matrix" (Synapse; the local one unless DESKMATE_MATRIX_URL points elsewhere) or "none".
    im_backend: str = field(default_factory=lambda: _env("DESKMATE_IM", "matrix"))
    matrix_url: str = field(default_factory=lambda: _env("DESKMATE_MATRIX_URL", "http://127.0.0.1:8008"))
    matrix_server_name: str = field(default_factory=lambda: _env("DESKMATE_MATRIX_SERVER_NAME", "deskmate.local"))
    matrix_bot: str = field(default_factory=lambda: _env("DESKMATE_MATRIX_BOT", "deskmate"))
    matrix_registration: Path = Path()
    local_synapse: bool = field(default_factory=lambda: _env("DESKMATE_LOCAL_SYNAPSE", "1") == "1")
    synapse_database_url: str = field(default_factory=lambda: _env("DESKMATE_SYNAPSE_DATABASE_URL", ""))
    outbox_max_backoff: float = field(default_factory=lambda: float(_env("DESKMATE_OUTBOX_MAX_BACKOFF", "300")))
    # Work status: automatic status only inside working hours (a person may set their own hours) on working
    # days (ISO weekdays, 1 = Monday), and it expires after this much inactivity.
    working_hours: str = field(default_factory=lambda: _env("DESKMATE_WORKING_HOURS", "09:00-19:00"))
    working_days: str = field(default_factory=lambda: _env("DESKMATE_WORKING_DAYS", "1-5"))
    status_expiry_minutes: int = field(default_factory=lambda: int(_env("DESKMATE_STATUS_EXPIRY_MINUTES", "120")))

    def __post_init__(self) -> None:
        if not self.database_url:
            url = _env("DATABASE_URL", f"sqlite:///{self.var_dir / 'deskmate.db'}")
            object.__setattr__(self, "database_url", url)
        if self.matrix_registration == Path():
            path = _env("DESKMATE_MATRIX_REGISTRATION", str(self.var_dir / "synapse" / "deskmate-appservice.yaml"))
            object.__setattr__(self, "matrix_registration", Path(path))

    def matrix_id(self, person: str) -> str:
        return f"@{person}:{self.matrix_server_name}"

    @property
    def bot_id(self) -> str:
        return self.matrix_id(self.matrix_bot)

    def person_of(self, matrix_id: str) -> str | None:
        """The employee id of a Matrix user of this server (localpart), None for other servers."""
        if not matrix_id.startswith("@") or ":" not in matrix_id:
            return None
        localpart, server = matrix_id[1:].split(":", 1)
        return localpart if server == self.matrix_server_name else None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    def admin_token(self) -> str:
        """The admin bearer token: DESKMATE_ADMIN_TOKEN, else one generated once into var/admin_token."""
        env = os.environ.get("DESKMATE_ADMIN_TOKEN", "").strip()
        if env:
            return env
        path = self.var_dir / "admin_token"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        token = "dm-admin-" + secrets.token_urlsafe(24)
        path.touch(mode=0o600)
        path.write_text(token + "\n")
        return token


def get_settings() -> Settings:
    return Settings()
