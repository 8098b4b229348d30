"""Start and stop the running assistant: the assistant service (API + action webhook) and the Rasa server.

Used by `assistant run`, the test session and the benchmark, so they all run the same processes.
Children get their own process group and die with their parent (PR_SET_PDEATHSIG), leaving no orphans.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from assistant.chatclient import wait_http
from assistant.config import Settings

PR_SET_PDEATHSIG = 1
MODEL = Path("models/deskmate.tar.gz")


def quiet_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for child processes: no telemetry (it would reach for the network), quiet TensorFlow."""
    env = dict(os.environ)
    env.update({
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
        "TOKENIZERS_PARALLELISM": "false",
    })
    env.update(extra or {})
    return env


def _die_with_parent() -> None:
    """The child gets SIGTERM when its parent dies. Linux ties this to the spawning *thread*: spawn children
    from a thread that lives as long as they should (not from asyncio.to_thread's short-lived workers)."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def endpoints_file(settings: Settings) -> Path:
    """var/endpoints.yml: endpoints.yml with the action webhook on this settings' port, plus a SQL tracker
    store (DATABASE_URL on PostgreSQL) and a Redis lock store (REDIS_URL) when they are configured."""
    from urllib.parse import urlparse

    import yaml

    doc = yaml.safe_load((settings.root / "endpoints.yml").read_text(encoding="utf-8"))
    doc["action_endpoint"] = {"url": f"{settings.api_url}/webhook"}
    if settings.database_url.startswith("postgresql"):
        db = urlparse(settings.database_url)
        doc["tracker_store"] = {
            "type": "SQL", "dialect": "postgresql", "url": db.hostname, "port": db.port or 5432,
            "db": db.path.lstrip("/"), "username": db.username or "", "password": db.password or "",
        }
    if settings.redis_url:
        redis = urlparse(settings.redis_url)
        doc["lock_store"] = {"type": "redis", "url": redis.hostname, "port": redis.port or 6379,
                             "db": int(redis.path.lstrip("/") or 0)}
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    out = settings.var_dir / "endpoints.yml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


@dataclass
class Stack:
    """The assistant service and the Rasa server, started together, stopped together."""

    settings: Settings
    model: Path = MODEL
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log_dir = self.log_dir or self.settings.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, cwd=self.settings.root, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=quiet_env(self.extra_env),
                                preexec_fn=_die_with_parent)
        self.procs[name] = proc
        return proc

    def start(self, timeout: float = 240.0) -> Stack:
        if not (self.settings.root / self.model).exists():
            raise FileNotFoundError(f"no trained model at {self.model}: run `make model`")
        s = self.settings
        env = {"DESKMATE_API_PORT": str(s.api_port), "DESKMATE_RASA_PORT": str(s.rasa_port),
               "DATABASE_URL": s.database_url, "DESKMATE_VAR": str(s.var_dir), "DESKMATE_IM": s.im_backend,
               "DESKMATE_MATRIX_URL": s.matrix_url, "DESKMATE_MATRIX_SERVER_NAME": s.matrix_server_name,
               "DESKMATE_MATRIX_REGISTRATION": str(s.matrix_registration),
               "DESKMATE_OUTBOX_MAX_BACKOFF": str(s.outbox_max_backoff)}
        self.extra_env = {**env, **self.extra_env}
        bindir = Path(sys.executable).parent
        try:
            if s.im_backend == "matrix" and s.local_synapse:
                self.start_synapse(timeout)
            service = self._spawn("assistant", [sys.executable, "-m", "assistant.cli", "serve"])
            rasa = self._spawn("rasa", [
                str(bindir / "rasa"), "run", "--model", str(self.model), "--credentials", "credentials.yml",
                "--endpoints", str(endpoints_file(self.settings)), "--interface", self.settings.host,
                "--port", str(self.settings.rasa_port)])
            wait_http(f"{self.settings.api_url}/api/health", timeout, service)
            wait_http(f"{self.settings.rasa_url}/webhooks/deskmate/", timeout, rasa)
        except BaseException:
            self.stop()
            raise
        return self

    def start_synapse(self, timeout: float = 60.0) -> None:
        """The local Synapse (registration written first, so it knows Deskmate), with every employee registered."""
        from assistant import synapse

        if not synapse.is_up(self.settings):  # else one started by `assistant synapse start`: use it
            proc = self._spawn("synapse", synapse.server_argv(self.settings))
            synapse.wait_up(self.settings, timeout, proc)
        synapse.register_company(self.settings)

    def stop_synapse(self) -> None:
        """Stop only the local Synapse (the tests use it to show the outbox riding out an outage)."""
        proc = self.procs.pop("synapse", None)
        if proc is not None:
            _terminate([proc])

    def stop(self) -> None:
        _terminate(list(self.procs.values()))
        self.procs.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _terminate(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each process group, SIGKILL what has not exited after 15 s."""
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
