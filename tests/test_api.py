"""The HTTP API: auth, the directory resources, errors in the caller's language, the OpenAPI document."""

from __future__ import annotations

from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from assistant.api.app import create_app
from assistant.auth import issue_token
from assistant.config import Settings
from assistant.core import Assistant
from assistant.seed import seed
from assistant.store import Database
from tests.conftest import COMPANY


@pytest.fixture
def assistant(settings: Settings) -> Assistant:
    db = Database(settings.database_url)
    seed(db, COMPANY)
    return Assistant(settings, db)


@pytest.fixture
async def client(assistant: Assistant) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(assistant, with_actions=False))) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_health_and_openapi_need_no_token(client: TestClient) -> None:
    health = await client.get("/api/health")
    assert health.status == 200 and (await health.json())["people"] == 17
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/health", "/api/people", "/api/people/{person_id}"} <= set(doc["paths"])


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "bearer dm-xyz"])
async def test_people_refuse_a_missing_or_wrong_token(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    resp = await client.get("/api/people", headers=headers)
    assert resp.status == 401
    assert (await resp.json())["error"] == "unauthorized"


async def test_errors_speak_the_callers_language(client: TestClient) -> None:
    zh = await (await client.get("/api/people", headers={"Accept-Language": "zh-CN,zh;q=0.9"})).json()
    en = await (await client.get("/api/people", headers={"Accept-Language": "en-US"})).json()
    assert zh["message"] == "缺少或无效的访问令牌。"
    assert en["message"] == "Missing or invalid bearer token."


async def test_an_employee_reads_the_directory(client: TestClient, assistant: Assistant) -> None:
    token = issue_token(assistant.db, "zhangwei")
    body = await (await client.get("/api/people", headers=bearer(token))).json()
    assert len(body["people"]) == 17
    lina = await (await client.get("/api/people/lina", headers=bearer(token))).json()
    assert lina["name_zh"] == "李娜" and lina["manager"] == "wangfang" and lina["reports"] == ["liuyang"]
    assert lina["department_name_en"] == "Finance" and lina["roles"] == ["finance_director"]


async def test_admin_token_reads_too(client: TestClient, assistant: Assistant) -> None:
    resp = await client.get("/api/people/wangfang", headers=bearer(assistant.admin_token))
    assert resp.status == 200 and (await resp.json())["roles"] == ["ceo"]


async def test_name_search_returns_candidates_not_a_guess(client: TestClient, assistant: Assistant) -> None:
    headers = bearer(assistant.admin_token)
    body = await (await client.get("/api/people", params={"q": "张伟"}, headers=headers)).json()
    assert body["match"] == "ambiguous" and {p["id"] for p in body["people"]} == {"zhangwei", "zhangwei2"}
    body = await (await client.get("/api/people", params={"q": "Na Li"}, headers=headers)).json()
    assert body["match"] == "person" and body["people"][0]["id"] == "lina"


async def test_unknown_person_and_bad_requests(client: TestClient, assistant: Assistant) -> None:
    headers = {**bearer(assistant.admin_token), "Accept-Language": "zh"}
    missing = await client.get("/api/people/nobody", headers=headers)
    assert missing.status == 404 and (await missing.json())["message"] == "找不到请求的内容。"
    too_long = await client.get("/api/people", params={"q": "x" * 500}, headers=headers)
    assert too_long.status == 400 and "200" in (await too_long.json())["message"]
    wrong_method = await client.post("/api/people", headers=headers, data=b"{")
    assert wrong_method.status == 405
    nowhere = await client.get("/api/nothing-here", headers=headers)
    assert nowhere.status == 404 and "Traceback" not in await nowhere.text()


async def test_a_revoked_token_stops_working(client: TestClient, assistant: Assistant) -> None:
    from assistant.auth import revoke_tokens

    token = issue_token(assistant.db, "maxiao")
    assert (await client.get("/api/people", headers=bearer(token))).status == 200
    revoke_tokens(assistant.db, "maxiao")
    assert (await client.get("/api/people", headers=bearer(token))).status == 401
