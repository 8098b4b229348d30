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


async def test_claims_are_visible_only_to_those_allowed(client: TestClient, assistant: Assistant) -> None:
    from datetime import date
    from decimal import Decimal

    from assistant.claims import NewItem

    today = assistant.today()
    draft, _ = assistant.claims.open_draft("zhangwei", "zh", today)
    assistant.claims.add_items("zhangwei", draft.id, [NewItem("transport", Decimal("58"), "CNY", today, "打车")], today)
    assistant.claims.submit("zhangwei", draft.id, today)
    assert isinstance(today, date)

    def as_(person: str) -> dict[str, str]:
        return bearer(issue_token(assistant.db, person))

    own = await (await client.get(f"/api/claims/{draft.id}", headers=as_("zhangwei"))).json()
    assert own["status"] == "in_review" and own["total_cny"] == "58" and own["current_approver"] == "yanglei"
    assert [c["approver"] for c in own["chain"]] == ["yanglei", "liuyang"]
    assert [e["kind"] for e in own["timeline"]] == ["created", "item_added", "submitted"]
    for allowed in ("yanglei", "liuyang", "lina", "wangfang"):
        assert (await client.get(f"/api/claims/{draft.id}", headers=as_(allowed))).status == 200
    for outsider in ("zhaomin", "bob"):
        hidden = await client.get(f"/api/claims/{draft.id}", headers=as_(outsider))
        assert hidden.status == 404
        listed = await (await client.get("/api/claims", headers=as_(outsider))).json()
        assert listed["claims"] == []
    bad = await client.get("/api/claims/abc", headers=as_("zhangwei"))
    assert bad.status == 400
    bad_status = await client.get("/api/claims?status=lost", headers=as_("zhangwei"))
    assert bad_status.status == 400


async def test_the_outbox_and_conversation_reset_are_admin_only(client: TestClient, assistant: Assistant) -> None:
    employee = bearer(issue_token(assistant.db, "zhangwei"))
    assert (await client.get("/api/outbox", headers=employee)).status == 403
    assert (await client.delete("/api/people/zhangwei/conversation", headers=employee)).status == 403
    admin = bearer(assistant.admin_token)
    assert (await (await client.get("/api/outbox", headers=admin)).json())["effects"] == []
    gone = await client.delete("/api/people/zhangwei/conversation", headers=admin)
    assert gone.status == 200 and (await gone.json())["forgotten"] == 0
    assert (await client.delete("/api/people/nobody/conversation", headers=admin)).status == 404
