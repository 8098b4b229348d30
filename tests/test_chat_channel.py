"""The authenticated REST chat channel, over HTTP against the running Rasa server."""

from __future__ import annotations

import json
import urllib.request

import pytest
from sqlalchemy import func, select

from assistant.auth import issue_token
from assistant.chatclient import ChatClient, http
from assistant.config import Settings
from assistant.store import Database
from assistant.store.models import AuditEntry

pytestmark = pytest.mark.stack


def webhook(stack: Settings) -> str:
    return f"{stack.rasa_url}/webhooks/deskmate/webhook"


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_a_missing_or_wrong_token_is_refused_in_the_callers_language(stack: Settings, token: str | None) -> None:
    zh = http("POST", webhook(stack), token, {"sender": "zhangwei", "message": "你好"}, lang="zh")
    en = http("POST", webhook(stack), token, {"sender": "zhangwei", "message": "hi"}, lang="en")
    assert zh.status == en.status == 401
    assert zh.body["message"] == "缺少或无效的访问令牌。" and en.body["message"] == "Missing or invalid bearer token."


def test_an_employee_token_speaks_only_as_that_employee(stack: Settings) -> None:
    token = issue_token(Database(stack.database_url, migrate=False), "zhaomin")
    own = http("POST", webhook(stack), token, {"sender": "zhaomin", "message": "李娜是谁"})
    assert own.status == 200 and "财务总监" in own.body[0]["text"]
    implicit = http("POST", webhook(stack), token, {"message": "who is Na Li"})
    assert implicit.status == 200 and "Finance Director" in implicit.body[0]["text"]
    other = http("POST", webhook(stack), token, {"sender": "lina", "message": "hi"}, lang="zh")
    assert other.status == 403 and "lina" in other.body["message"]
    command = http("POST", webhook(stack), token, {"sender": "zhaomin", "message": "/greet"})
    assert command.status == 200 and "reserved for admins" in command.body[0]["text"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", json.dumps({"sender": 42, "message": "hi"}).encode(),
                                  json.dumps({"sender": "zhangwei", "message": ["a"]}).encode(),
                                  json.dumps({"sender": "zhangwei", "message": "hi", "metadata": "x"}).encode()])
def test_malformed_requests_get_a_400_not_a_traceback(stack: Settings, body: bytes) -> None:
    request = urllib.request.Request(webhook(stack), data=body, method="POST", headers={
        "Authorization": f"Bearer {stack.admin_token()}", "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=30)
        status, text = 200, ""
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    assert status == 400 and "Traceback" not in text and "sender" in json.loads(text)["message"]


def test_an_unknown_sender_is_refused_and_nothing_is_written(stack: Settings, chat: ChatClient) -> None:
    db = Database(stack.database_url, migrate=False)
    with db.session() as s:
        before = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    reply = chat.say("ghost", "你好，李娜是谁")
    assert len(reply) == 1 and "通讯录里没有你" in reply[0] and "财务总监" not in reply[0]
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before
