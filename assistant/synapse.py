"""The local Synapse: the embedded default IM backend for `make run`, the tests and the benchmark.

`make synapse` installs matrix-synapse into `.venv-synapse` (Python 3.11). This module writes a loopback
configuration under `<var>/synapse/` once (SQLite; PostgreSQL when DESKMATE_SYNAPSE_DATABASE_URL is set),
registers Deskmate as an application service, starts and stops the server and registers the company's
employees with the registration shared secret. A deployment next to an existing Synapse uses none of
this: it points DESKMATE_MATRIX_URL and DESKMATE_MATRIX_REGISTRATION at its own (docs/matrix.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from assistant.chatclient import answers, http, wait_http
from assistant.company import load_company
from assistant.config import Settings

SYNAPSE_PYTHON = Path(".venv-synapse/bin/python")
APPSERVICE_ID = "deskmate"


class SynapseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Registration:
    """What Deskmate and Synapse share: the application-service registration."""

    as_token: str
    hs_token: str
    sender_localpart: str
    url: str

    @classmethod
    def load(cls, path: Path) -> Registration:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(doc["as_token"], doc["hs_token"], doc["sender_localpart"], doc.get("url") or "")


def appservice_url(settings: Settings) -> str:
    """Where Synapse pushes transactions: the Matrix channel of the Rasa server."""
    return f"{settings.rasa_url}/webhooks/matrix"


def write_registration(settings: Settings) -> Path:
    """The registration file, created once with fresh tokens; the URL follows the current settings."""
    path = settings.matrix_registration
    doc: dict[str, Any] = {}
    if path.exists():
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    server = re.escape(settings.matrix_server_name)
    doc.update({
        "id": APPSERVICE_ID,
        "url": appservice_url(settings),
        "as_token": doc.get("as_token") or "dm-as-" + secrets.token_urlsafe(32),
        "hs_token": doc.get("hs_token") or "dm-hs-" + secrets.token_urlsafe(32),
        "sender_localpart": settings.matrix_bot,
        "rate_limited": False,
        "namespaces": {
            "users": [{"exclusive": True, "regex": f"@{settings.matrix_bot}:{server}"}],
            "aliases": [{"exclusive": True, "regex": f"#deskmate_.*:{server}"}],
            "rooms": [],
        },
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def synapse_dir(settings: Settings) -> Path:
    return settings.var_dir / "synapse"


def write_config(settings: Settings) -> Path:
    """homeserver.yaml for a loopback server; keys and secrets are generated once and kept."""
    folder = synapse_dir(settings)
    config = folder / "homeserver.yaml"
    python = settings.root / SYNAPSE_PYTHON
    if not python.exists():
        raise SynapseError(f"Synapse is not installed ({SYNAPSE_PYTHON} missing): run `make synapse`")
    folder.mkdir(parents=True, exist_ok=True)
    if not config.exists():
        subprocess.run([str(python), "-m", "synapse.app.homeserver", "--server-name", settings.matrix_server_name,
                        "--config-path", str(config), "--data-directory", str(folder), "--generate-config",
                        "--report-stats=no"], check=True, capture_output=True, cwd=folder)
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    port = urlparse(settings.matrix_url).port or 8008
    doc.update({
        "server_name": settings.matrix_server_name,
        "pid_file": str(folder / "homeserver.pid"),
        "listeners": [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                       "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]}],
        "database": _database(settings, folder),
        "media_store_path": str(folder / "media_store"),
        "app_service_config_files": [str(write_registration(settings))],
        "enable_registration": False,
        "trusted_key_servers": [],
        "federation_domain_whitelist": [],
        "suppress_key_server_warning": True,
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
        "report_stats": False,
        # A company server with its own assistant: the assistant and the tests send in bursts.
        **{name: {"per_second": 1000, "burst_count": 1000} for name in (
            "rc_message", "rc_joins_per_room", "rc_invites_per_issuer", "rc_3pid_validation")},
        "rc_registration": {"per_second": 1000, "burst_count": 1000},
        "rc_login": {kind: {"per_second": 1000, "burst_count": 1000} for kind in ("address", "account",
                                                                                   "failed_attempts")},
        "rc_joins": {kind: {"per_second": 1000, "burst_count": 1000} for kind in ("local", "remote")},
        "rc_invites": {kind: {"per_second": 1000, "burst_count": 1000} for kind in ("per_room", "per_user",
                                                                                     "per_issuer")},
        "rc_room_creation": {"per_second": 1000, "burst_count": 1000},
    })
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return config


def _database(settings: Settings, folder: Path) -> dict[str, Any]:
    url = settings.synapse_database_url
    if not url:
        return {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}}
    db = urlparse(url)
    return {"name": "psycopg2", "args": {"user": db.username or "postgres", "password": db.password or "",
                                         "host": db.hostname or "127.0.0.1", "port": db.port or 5432,
                                         "database": db.path.lstrip("/"), "cp_min": 2, "cp_max": 10}}


def shared_secret(settings: Settings) -> str:
    doc = yaml.safe_load((synapse_dir(settings) / "homeserver.yaml").read_text(encoding="utf-8"))
    return doc["registration_shared_secret"]


def _password(secret: str, person: str) -> str:
    return hmac.new(secret.encode(), f"password:{person}".encode(), hashlib.sha256).hexdigest()[:24]


def password_for(settings: Settings, person: str) -> str:
    """The local server's password of an employee, derived from its shared secret (development only)."""
    return _password(shared_secret(settings), person)


def _register(url: str, secret: str, localpart: str, displayname: str) -> bool:
    """Register one user with the shared secret (what `register_new_matrix_user` does); False if it exists.

    mautrix has no call for this Synapse admin API, so it is the one request written by hand here.
    """
    nonce = http("GET", url, timeout=30).body["nonce"]
    password = _password(secret, localpart)
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"notadmin"]))
    result = http("POST", url, payload={"nonce": nonce, "username": localpart, "password": password,
                                        "displayname": displayname, "admin": False, "mac": mac.hexdigest()},
                  timeout=30)
    if result.status == 200:
        return True
    if isinstance(result.body, dict) and result.body.get("errcode") == "M_USER_IN_USE":
        return False
    raise SynapseError(f"registering {localpart} failed: {result.status} {result.body}")


def register_company(settings: Settings, people: list[tuple[str, str]] | None = None) -> int:
    """Register every (id, display name) not registered yet, by default the company's employees ("中文名
    English name"); returns how many were new."""
    if people is None:
        employees = load_company(settings.company_dir)["people"]["people"]
        people = [(p["id"], f"{p['name_zh']} {p['name_en']}") for p in employees]
    secret, url = shared_secret(settings), f"{settings.matrix_url}/_synapse/admin/v1/register"
    return sum(_register(url, secret, person, name) for person, name in people)


def is_up(settings: Settings) -> bool:
    return answers(f"{settings.matrix_url}/_matrix/client/versions")


def server_argv(settings: Settings) -> list[str]:
    return [str(settings.root / SYNAPSE_PYTHON), "-m", "synapse.app.homeserver",
            "--config-path", str(write_config(settings))]


def wait_up(settings: Settings, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    try:
        wait_http(f"{settings.matrix_url}/_matrix/client/versions", timeout, proc)
    except RuntimeError as exc:  # the process exited before it answered
        raise SynapseError(f"{exc}; see {synapse_dir(settings)}/homeserver.log") from None
    except TimeoutError:
        raise SynapseError(f"Synapse did not answer at {settings.matrix_url} within {timeout:.0f}s") from None


def start_daemon(settings: Settings) -> int:
    """`assistant synapse start`: run the server in the background; returns its pid."""
    if is_up(settings):
        return _pid(settings) or 0
    argv = server_argv(settings)
    with open(synapse_dir(settings) / "synapse.out", "ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=synapse_dir(settings))
    wait_up(settings, proc=proc)
    (synapse_dir(settings) / "daemon.pid").write_text(str(proc.pid))
    return proc.pid


def _pid(settings: Settings) -> int | None:
    path = synapse_dir(settings) / "daemon.pid"  # Synapse writes its pid_file only when it daemonizes itself
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def stop_daemon(settings: Settings, timeout: float = 20.0) -> bool:
    """Stop the server this var/ folder runs; False if none was running."""
    pid = _pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_up(settings):
        time.sleep(0.1)
    if is_up(settings):
        os.kill(pid, signal.SIGKILL)
    (synapse_dir(settings) / "daemon.pid").unlink(missing_ok=True)
    return True
