"""The claims service with the real BPMN workflow: chains, decisions, idempotency, visibility, policy findings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.claims import ClaimError, Claims, NewItem
from assistant.directory import Directory
from assistant.policy import Policy
from assistant.seed import seed
from assistant.store import Database
from assistant.store.models import AuditEntry, Claim, OutboxEffect
from tests.conftest import COMPANY

TODAY = date(2026, 11, 26)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'claims.db'}")
    seed(database, COMPANY)
    return database


@pytest.fixture
def claims(db: Database) -> Claims:
    directory, policy = Directory.load(db), Policy.load(db)
    return Claims(db, lambda: directory, lambda: policy)


def item(category: str, amount: str, currency: str = "CNY", spent_on: date = YESTERDAY, **extra) -> NewItem:  # noqa: ANN003
    return NewItem(category, Decimal(amount), currency, spent_on, description=category, **extra)


def submitted(claims: Claims, person: str, *items: NewItem):  # noqa: ANN201
    draft, _ = claims.open_draft(person, "zh", TODAY)
    claims.add_items(person, draft.id, list(items), TODAY)
    claim, fresh = claims.submit(person, draft.id, TODAY)
    assert fresh
    return claim


def approvers(claim) -> list[str]:  # noqa: ANN001
    return [step["approver"] for step in claim.chain]


def outbox_to(db: Database, person: str) -> list[dict]:
    with db.session() as s:
        rows = s.execute(select(OutboxEffect).where(OutboxEffect.kind == "dm").order_by(OutboxEffect.id)).scalars()
        return [r.payload for r in rows if r.payload.get("to") == person]


def test_a_58_taxi_goes_to_the_manager_then_the_reviewer(claims: Claims, db: Database) -> None:
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    assert claim.status == "in_review" and claim.total_fen == 5800
    assert approvers(claim) == ["yanglei", "liuyang"]
    assert claim.current_approver == "yanglei"
    assert "等你审批" in outbox_to(db, "yanglei")[0]["text"]["zh"]

    claim = claims.decide("yanglei", claim.id, "approve", None, TODAY)
    assert claim.current_approver == "liuyang"
    assert outbox_to(db, "liuyang") and "approved" in outbox_to(db, "zhangwei")[-1]["text"]["en"]
    claim = claims.decide("liuyang", claim.id, "approve", None, TODAY)
    assert claim.status == "approved" and claim.current_approver is None
    assert "fully approved" in outbox_to(db, "zhangwei")[-1]["text"]["en"]


def test_a_6800_trip_needs_director_reviewer_and_ceo(claims: Claims) -> None:
    claim = submitted(claims, "zhangwei", item("lodging", "1800", nights=3, has_invoice=True),
                      item("transport", "5000", has_invoice=True))
    assert claim.total_fen == 680000
    assert approvers(claim) == ["yanglei", "chenjing", "liuyang", "wangfang"]


def test_a_managers_own_claim_starts_at_their_manager(claims: Claims) -> None:
    claim = submitted(claims, "yanglei", item("transport", "58"))
    assert approvers(claim) == ["chenjing", "liuyang"]


def test_training_brings_in_the_hr_director_after_the_reviewer(claims: Claims) -> None:
    claim = submitted(claims, "zhangwei", item("training", "300", has_invoice=True))
    assert approvers(claim) == ["yanglei", "liuyang", "wuting"]


def test_return_then_resubmit_restarts_at_the_step_that_returned(claims: Claims, db: Database) -> None:
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    claim = claims.decide("yanglei", claim.id, "approve", None, TODAY)
    claim = claims.decide("liuyang", claim.id, "return", "发票不清楚", TODAY)
    assert claim.status == "returned" and claim.current_approver is None
    assert "发票不清楚" in outbox_to(db, "zhangwei")[-1]["text"]["zh"]
    claims.update_item("zhangwei", claim.id, 1, TODAY, amount=Decimal("52"))
    claim, fresh = claims.submit("zhangwei", claim.id, TODAY)
    assert fresh and claim.status == "in_review" and claim.current_approver == "liuyang"
    assert claim.total_fen == 5200
    kinds = [e["kind"] for e in claims.get("zhangwei", claim.id, TODAY).timeline]
    assert kinds.index("returned") < kinds.index("resubmitted")


def test_reject_is_final(claims: Claims) -> None:
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    claim = claims.decide("yanglei", claim.id, "reject", "个人消费", TODAY)
    assert claim.status == "rejected"
    with pytest.raises(ClaimError) as err:
        claims.decide("yanglei", claim.id, "approve", None, TODAY)
    assert err.value.code == "not_in_review"
    with pytest.raises(ClaimError):
        claims.withdraw("zhangwei", claim.id, None, TODAY)


def test_the_applicant_can_withdraw_until_the_final_approval(claims: Claims) -> None:
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    claim = claims.decide("yanglei", claim.id, "approve", None, TODAY)
    claim = claims.withdraw("zhangwei", claim.id, "报错了", TODAY)
    assert claim.status == "withdrawn"
    with pytest.raises(ClaimError):
        claims.decide("liuyang", claim.id, "approve", None, TODAY)


def test_only_the_current_approver_decides_and_a_refusal_changes_nothing(claims: Claims, db: Database) -> None:
    claim = submitted(claims, "zhangwei", item("transport", "58"))

    def audits() -> int:
        with db.session() as s:
            return s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()

    before = audits()
    for intruder in ("liuyang", "zhangwei", "wangfang", "zhaomin"):
        with pytest.raises(ClaimError) as err:
            claims.decide(intruder, claim.id, "approve", None, TODAY)
        assert err.value.code in ("not_your_step", "not_found")
    assert audits() == before
    again = claims.get("zhangwei", claim.id, TODAY)
    assert again.version == claim.version and again.current_approver == "yanglei"


def test_a_reason_is_required_to_return_or_reject(claims: Claims) -> None:
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    for decision in ("return", "reject"):
        with pytest.raises(ClaimError) as err:
            claims.decide("yanglei", claim.id, decision, "  ", TODAY)
        assert err.value.code == "reason_required"


def test_submitting_twice_makes_one_claim_and_one_notification(claims: Claims, db: Database) -> None:
    draft, _ = claims.open_draft("zhangwei", "zh", TODAY)
    claims.add_items("zhangwei", draft.id, [item("transport", "58")], TODAY)
    first, fresh = claims.submit("zhangwei", draft.id, TODAY)
    second, again = claims.submit("zhangwei", draft.id, TODAY)
    assert fresh and not again and first.id == second.id
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(Claim).where(Claim.status == "in_review")).scalar_one() == 1
    assert len(outbox_to(db, "yanglei")) == 1


def test_visibility_follows_the_chain_finance_and_the_ceo(claims: Claims) -> None:
    claim = submitted(claims, "zhangwei", item("transport", "58"))
    for viewer in ("zhangwei", "yanglei", "liuyang", "lina", "wangfang", None):
        assert claims.get(viewer, claim.id, TODAY).id == claim.id
    for outsider in ("zhaomin", "sunhao", "bob", "wuting"):
        with pytest.raises(ClaimError):
            claims.get(outsider, claim.id, TODAY)
        assert all(c.id != claim.id for c in claims.visible(outsider, TODAY))


def test_policy_findings_name_the_rule(claims: Claims) -> None:
    draft, _ = claims.open_draft("zhangwei", "en", TODAY)
    view = claims.add_items("zhangwei", draft.id, [
        item("meals", "120", has_invoice=True),
        item("entertainment", "800", has_invoice=True),
        item("office", "300"),
        item("transport", "20", "USD"),
    ], TODAY)
    codes = {i.position: {f.code for f in i.findings} for i in view.items}
    assert codes[1] == {"over_cap"} and view.items[0].findings[0].values["allowed"] == "100"
    assert codes[2] == {"client_required"}
    assert codes[3] == {"invoice_unknown"}
    assert view.items[3].amount_fen == 14200 and "invoice_unknown" in codes[4]
    with pytest.raises(ClaimError) as err:
        claims.submit("zhangwei", draft.id, TODAY)
    assert err.value.code == "blocked"


def test_meals_cap_is_per_day_across_items(claims: Claims) -> None:
    draft, _ = claims.open_draft("zhangwei", "zh", TODAY)
    view = claims.add_items("zhangwei", draft.id, [item("meals", "60"), item("meals", "55")], TODAY)
    assert [f.code for f in view.items[1].findings] == ["over_cap"]
    assert view.items[1].findings[0].values["allowed"] == "40"


def test_a_justification_keeps_an_over_cap_amount(claims: Claims) -> None:
    draft, _ = claims.open_draft("zhangwei", "zh", TODAY)
    claims.add_items("zhangwei", draft.id, [item("meals", "98"), item("meals", "30")], TODAY)
    view = claims.update_item("zhangwei", draft.id, 2, TODAY, justification="加班晚餐")
    assert view.blocking == []
    claim, _ = claims.submit("zhangwei", draft.id, TODAY)
    assert claim.items[1].justification == "加班晚餐"
