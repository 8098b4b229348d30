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

    def __post_init__(self) -> None:
        if not self.database_url:
            url = _env("DATABASE_URL", f"sqlite:///{self.var_dir / 'deskmate.db'}")
            object.__setattr__(self, "database_url", url)

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
