"""A small client of the running assistant: the REST chat channel and the HTTP API.

Used by the terminal chat, the scripted dialogues and the benchmark.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class HttpResult:
    status: int
    body: Any


def http(method: str, url: str, token: str | None = None, payload: Any = None,
         lang: str = "en", timeout: float = 60.0, extra_headers: dict[str, str] | None = None) -> HttpResult:
    data = json.dumps(payload).encode("utf-8") if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept-Language", lang)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (extra_headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = raw.decode("utf-8", "replace")
    return HttpResult(status, body)


def answers(url: str) -> bool:
    """Whether a GET of `url` answers 2xx within 2 s: is the service there?"""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers 2xx; RuntimeError early if `proc` exits, TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not answers(url):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")
        time.sleep(0.25)


class ChatClient:
    """Speaks to Deskmate through the authenticated REST channel."""

    def __init__(self, rasa_url: str, api_url: str, token: str) -> None:
        self.webhook = f"{rasa_url}/webhooks/deskmate/webhook"
        self.api_url = api_url
        self.token = token

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[str]:
        """Send one message as `sender`; returns the texts Deskmate answered with."""
        result = http("POST", self.webhook, self.token,
                      {"sender": sender, "message": text, "metadata": metadata or {}})
        if result.status != 200 or not isinstance(result.body, list):
            message = result.body.get("message") if isinstance(result.body, dict) else result.body
            raise RuntimeError(f"chat channel answered {result.status}: {message}")
        return [m["text"] for m in result.body if m.get("text")]

    def restart(self, sender: str) -> None:
        """Forget the conversation of `sender`: Rasa's tracker and the question Deskmate waits for (admin only)."""
        self.say(sender, "/restart")
        result = self.api("DELETE", f"/api/people/{sender}/conversation")
        if result.status not in (200, 404):  # 404: not an employee, nothing to forget
            raise RuntimeError(f"could not reset {sender}: {result.status} {result.body}")

    def api(self, method: str, path: str, token: str | None = None, payload: Any = None,
            lang: str = "en") -> HttpResult:
        return http(method, f"{self.api_url}{path}", token or self.token, payload, lang)
