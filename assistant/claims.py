"""Reimbursement claims: drafts, items, policy findings, submission, decisions, visibility.

A person has at most one claim open for editing: a draft, or a claim returned to them for changes.
Submitting starts the approval workflow (assistant/workflow.py, a BPMN process run by SpiffWorkflow);
its serialized state lives on the claim row, so a claim survives any restart. Every state change writes
the claim's timeline, the audit log and the outbox notifications in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant import audit, outbox, topics
from assistant.claim_status import EDITABLE, FINAL, IN_FLIGHT
from assistant.directory import Directory
from assistant.policy import Finding, ItemFacts, Policy, yuan
from assistant.status import Recorder, claim_activity
from assistant.store import Database
from assistant.store.models import Claim, ClaimEvent, ClaimItem, utcnow
from assistant.workflow import ApprovalWorkflow, WorkflowError, load_process, resolve_approver

PROCESS = Path(__file__).resolve().parent.parent / "processes" / "reimbursement.bpmn"


class ClaimError(Exception):
    """A request the claim's state or the rules refuse; `code` names the message in assistant/i18n.py."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


@dataclass
class NewItem:
    category: str
    amount: Decimal
    currency: str
    spent_on: date
    description: str = ""
    client: str | None = None
    has_invoice: bool | None = None
    nights: int | None = None
    justification: str | None = None


@dataclass
class ItemView:
    position: int
    category: str
    amount_fen: int
    original_amount: str
    currency: str
    spent_on: date
    description: str
    client: str | None
    has_invoice: bool | None
    nights: int | None
    justification: str | None
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "category": self.category, "amount_cny": yuan(self.amount_fen),
                "amount_fen": self.amount_fen, "original_amount": self.original_amount, "currency": self.currency,
                "spent_on": self.spent_on.isoformat(), "description": self.description, "client": self.client,
                "has_invoice": self.has_invoice, "nights": self.nights, "justification": self.justification,
                "findings": [{"code": f.code, "severity": f.severity, **{k: v for k, v in f.values.items()
                                                                         if not k.endswith("_fen")}}
                             for f in self.findings]}


@dataclass
class ClaimView:
    id: int
    applicant: str
    status: str
    lang: str
    description: str
    total_fen: int
    items: list[ItemView]
    chain: list[dict[str, Any]]
    current_step: str | None
    current_approver: str | None
    step_since: datetime | None
    created_at: datetime
    submitted_at: datetime | None
    version: int
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocking(self) -> list[tuple[ItemView, Finding]]:
        """Findings that stop a submission: refusals, open questions, unresolved caps."""
        return [(i, f) for i in self.items for f in i.findings if f.severity in ("refuse", "ask", "over_cap")]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "applicant": self.applicant, "status": self.status, "description": self.description,
                "total_cny": yuan(self.total_fen), "total_fen": self.total_fen,
                "items": [i.as_dict() for i in self.items], "chain": self.chain,
                "current_step": self.current_step, "current_approver": self.current_approver,
                "step_since": self.step_since.isoformat() if self.step_since else None,
                "created_at": self.created_at.isoformat(),
                "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
                "timeline": self.timeline}


class Claims:
    """The claims service. `directory` and `policy` are callables so the snapshots stay fresh."""

    def __init__(self, db: Database, directory: Callable[[], Directory], policy: Callable[[], Policy],
                 process: Path = PROCESS, activity: Recorder | None = None) -> None:
        self.db = db
        self._directory = directory
        self._policy = policy
        self.process = process
        self._activity = activity

    def _did(self, s: Session, person: str, claim_id: int, doing: str) -> None:
        """The work event sets the person's status (assistant/status.py), in this transaction."""
        if self._activity is not None:
            self._activity(s, person, claim_activity(claim_id, doing))

    # -- reading -------------------------------------------------------------------------------

    def _view(self, s: Session, claim: Claim, today: date, with_timeline: bool = False) -> ClaimView:
        policy = self._policy()
        rows = list(s.execute(select(ClaimItem).where(ClaimItem.claim_id == claim.id)
                              .order_by(ClaimItem.position)).scalars())
        items: list[ItemView] = []
        for row in rows:
            same_day_meals = sum(i.amount_fen for i in items if i.category == "meals" and i.spent_on == row.spent_on)
            same_month_telecom = sum(i.amount_fen for i in items if i.category == "telecom"
                                     and (i.spent_on.year, i.spent_on.month) == (row.spent_on.year, row.spent_on.month))
            facts = ItemFacts(row.category, row.amount_fen, row.currency, row.spent_on, row.client, row.has_invoice,
                              row.nights, row.justification)
            findings = (policy.check(facts, today, same_day_meals, same_month_telecom)
                        if claim.status in EDITABLE else [])
            items.append(ItemView(row.position, row.category, row.amount_fen, row.original_amount, row.currency,
                                  row.spent_on, row.description, row.client, row.has_invoice, row.nights,
                                  row.justification, findings))
        timeline = []
        if with_timeline:
            for event in s.execute(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)
                                   .order_by(ClaimEvent.id)).scalars():
                timeline.append({"at": event.at.isoformat(), "actor": event.actor, "kind": event.kind,
                                 "step": event.step, "reason": event.reason, "detail": event.detail})
        return ClaimView(claim.id, claim.applicant_id, claim.status, claim.lang, claim.description, claim.total_fen,
                         items, list(claim.chain or []), claim.current_step, claim.current_approver,
                         claim.step_since, claim.created_at, claim.submitted_at, claim.version, timeline)

    def editable(self, person: str, today: date) -> ClaimView | None:
        """The person's claim open for editing (a draft, or one returned for changes), if any."""
        with self.db.session() as s:
            claim = self._editable_row(s, person)
            return self._view(s, claim, today) if claim else None

    def _editable_row(self, s: Session, person: str) -> Claim | None:
        return s.execute(select(Claim).where(Claim.applicant_id == person, Claim.status.in_(EDITABLE))
                         .order_by(Claim.id.desc()).limit(1)).scalars().first()

    def get(self, viewer: str | None, claim_id: int, today: date, with_timeline: bool = True) -> ClaimView:
        """One claim as `viewer` may see it (None: the admin, who sees every claim)."""
        with self.db.session() as s:
            claim = s.get(Claim, claim_id)
            if claim is None or not self.can_view(viewer, claim):
                raise ClaimError("not_found", id=claim_id)
            if viewer is not None and claim.status == "in_review" and claim.current_approver == viewer:
                self._did(s, viewer, claim.id, "review")  # the approver reading the claim waiting for them
            return self._view(s, claim, today, with_timeline)

    def can_view(self, viewer: str | None, claim: Claim) -> bool:
        """Applicant, approvers in its chain, Finance and the CEO (DESIGN.md, visibility); None is the admin."""
        approvers = {step.get("approver") for step in claim.chain or []}
        if viewer is None or viewer == claim.applicant_id or viewer in approvers:
            return True
        person = self._directory().get(viewer)
        return bool(person and (person.department_id == "finance" or "ceo" in person.roles))

    def visible(self, viewer: str, today: date, status: str | None = None, limit: int = 200) -> list[ClaimView]:
        with self.db.session() as s:
            query = select(Claim).order_by(Claim.id.desc())
            if status:
                query = query.where(Claim.status == status)
            rows = [c for c in s.execute(query).scalars() if self.can_view(viewer, c)][:limit]
            return [self._view(s, c, today) for c in rows]

    def own(self, person: str, statuses: tuple[str, ...], today: date) -> list[ClaimView]:
        """The person's own claims in the given states, newest first."""
        with self.db.session() as s:
            rows = s.execute(select(Claim).where(Claim.applicant_id == person, Claim.status.in_(statuses))
                             .order_by(Claim.id.desc())).scalars()
            return [self._view(s, c, today) for c in rows]

    def pending_for(self, approver: str, today: date) -> list[ClaimView]:
        with self.db.session() as s:
            rows = s.execute(select(Claim).where(Claim.status == "in_review", Claim.current_approver == approver)
                             .order_by(Claim.step_since)).scalars()
            return [self._view(s, c, today) for c in rows]

    def latest(self, person: str, today: date) -> ClaimView | None:
        """The person's most recent claim that is not a draft."""
        with self.db.session() as s:
            claim = s.execute(select(Claim).where(Claim.applicant_id == person, Claim.status != "draft",
                                                  Claim.status != "cancelled")
                              .order_by(Claim.id.desc()).limit(1)).scalars().first()
            return self._view(s, claim, today, with_timeline=True) if claim else None

    def last_claim_date(self, person: str) -> date | None:
        """When the person last submitted a claim (for 'policy changes since your last claim')."""
        with self.db.session() as s:
            at = s.execute(select(func.max(Claim.submitted_at)).where(Claim.applicant_id == person)).scalar()
        return at.date() if at else None

    # -- editing -------------------------------------------------------------------------------

    def open_draft(self, person: str, lang: str, today: date) -> tuple[ClaimView, bool]:
        """The person's editable claim, or a new draft; the flag says whether it was created now."""
        with self.db.session() as s:
            claim = self._editable_row(s, person)
            created = claim is None
            if created:
                claim = Claim(applicant_id=person, status="draft", lang=lang)
                s.add(claim)
                s.flush()
                self._event(s, claim, person, "created")
                audit.record(s, person, "create", "claim", str(claim.id))
            return self._view(s, claim, today), created

    def add_items(self, person: str, claim_id: int, items: list[NewItem], today: date) -> ClaimView:
        policy = self._policy()
        with self.db.session() as s:
            claim = self._own_editable(s, person, claim_id)
            position = (s.execute(select(func.max(ClaimItem.position)).where(ClaimItem.claim_id == claim.id))
                        .scalar() or 0)
            for item in items:
                fen = policy.to_cny_fen(item.amount, item.currency)
                if fen is None:
                    raise ClaimError("currency_unsupported", currency=item.currency)
                position += 1
                s.add(ClaimItem(claim_id=claim.id, position=position, category=item.category, amount_fen=fen,
                                original_amount=str(item.amount), currency=item.currency.upper(),
                                spent_on=item.spent_on, description=item.description[:200], client=item.client,
                                has_invoice=item.has_invoice, nights=item.nights, justification=item.justification))
                self._event(s, claim, person, "item_added", detail={"position": position, "category": item.category,
                                                                     "amount_fen": fen})
            self._touch(s, claim)
            self._did(s, person, claim.id, "file")
            return self._view(s, claim, today)

    def update_item(self, person: str, claim_id: int, position: int, today: date, **changes: Any) -> ClaimView:
        """Change fields of one item: amount (with currency), spent_on, category, client, has_invoice,
        nights, justification, description."""
        policy = self._policy()
        with self.db.session() as s:
            claim = self._own_editable(s, person, claim_id)
            row = self._item(s, claim, position)
            if "amount" in changes:
                currency = str(changes.pop("currency", row.currency)).upper()
                fen = policy.to_cny_fen(Decimal(str(changes["amount"])), currency)
                if fen is None:
                    raise ClaimError("currency_unsupported", currency=currency)
                row.amount_fen, row.original_amount, row.currency = fen, str(changes.pop("amount")), currency
                row.justification = None  # an old justification does not cover a new amount
            for name, value in changes.items():
                if name not in {"spent_on", "category", "client", "has_invoice", "nights", "justification",
                                "description"}:
                    raise ValueError(f"unknown item field {name}")
                setattr(row, name, value)
            self._event(s, claim, person, "item_changed", detail={"position": position, "fields": sorted(changes)})
            self._touch(s, claim)
            return self._view(s, claim, today)

    def remove_item(self, person: str, claim_id: int, position: int, today: date) -> ClaimView:
        with self.db.session() as s:
            claim = self._own_editable(s, person, claim_id)
            s.delete(self._item(s, claim, position))
            s.flush()
            rows = s.execute(select(ClaimItem).where(ClaimItem.claim_id == claim.id)
                             .order_by(ClaimItem.position)).scalars()
            for number, row in enumerate(rows, 1):
                row.position = number
            self._event(s, claim, person, "item_removed", detail={"position": position})
            self._touch(s, claim)
            return self._view(s, claim, today)

    def cancel(self, person: str, claim_id: int) -> None:
        """Drop a draft (a returned claim is withdrawn instead: it has a history)."""
        with self.db.session() as s:
            claim = self._own_editable(s, person, claim_id)
            if claim.status != "draft":
                raise ClaimError("cancel_not_draft", id=claim.id)
            claim.status, claim.closed_at = "cancelled", utcnow()
            self._event(s, claim, person, "cancelled")
            audit.record(s, person, "cancel", "claim", str(claim.id))

    # -- workflow ------------------------------------------------------------------------------

    def chain_preview(self, person: str, claim: ClaimView) -> list[dict[str, Any]]:
        """The approval chain the claim would go through if submitted now, by person."""
        flow = ApprovalWorkflow.start(self._process_data(person, claim), self._resolver(person),
                                      spec=load_process(self.process))
        return [{"step": step.id, "role": step.role, "approver": step.approver} for step in flow.upcoming_steps()]

    def submit(self, person: str, claim_id: int, today: date) -> tuple[ClaimView, bool]:
        """Submit (or resubmit, after a return) the person's claim. Idempotent: a claim already in review
        is returned as it is, with False, and nothing else happens."""
        with self.db.session() as s:
            claim = s.get(Claim, claim_id, with_for_update=True)
            if claim is None or claim.applicant_id != person:
                raise ClaimError("not_found", id=claim_id)
            if claim.status in IN_FLIGHT or claim.status in FINAL:
                return self._view(s, claim, today), False
            view = self._view(s, claim, today)
            if not view.items:
                raise ClaimError("empty_claim", id=claim.id)
            if view.blocking:
                raise ClaimError("blocked", id=claim.id)
            if claim.status == "returned":
                flow = ApprovalWorkflow.restore(claim.workflow_state, self._resolver(person))
                flow.resubmit(self._process_data(person, view))
                kind = "resubmitted"
            else:
                flow = ApprovalWorkflow.start(self._process_data(person, view), self._resolver(person),
                                              spec=load_process(self.process))
                claim.submitted_at = utcnow()
                kind = "submitted"
            claim.total_fen = sum(i.amount_fen for i in view.items)
            claim.chain = self._chain(flow)
            self._event(s, claim, person, kind, detail={"total_fen": claim.total_fen})
            audit.record(s, person, kind, "claim", str(claim.id), detail={"total_fen": claim.total_fen})
            self._apply(s, claim, flow, person)
            self._did(s, person, claim.id, "file")
            return self._view(s, claim, today, with_timeline=True), True

    def decide(self, actor: str, claim_id: int, decision: str, reason: str | None, today: date) -> ClaimView:
        """approve / return / reject by the current approver only; a reason is required to return or reject."""
        if decision in ("return", "reject") and not (reason or "").strip():
            raise ClaimError("reason_required", id=claim_id, decision=decision)
        with self.db.session() as s:
            claim = s.get(Claim, claim_id, with_for_update=True)
            if claim is None or not self.can_view(actor, claim):
                raise ClaimError("not_found", id=claim_id)
            if claim.status != "in_review":
                raise ClaimError("not_in_review", id=claim.id, status=claim.status)
            if claim.current_approver != actor:
                raise ClaimError("not_your_step", id=claim.id, approver=claim.current_approver or "")
            flow = ApprovalWorkflow.restore(claim.workflow_state, self._resolver(claim.applicant_id))
            step = claim.current_step
            try:
                flow.decide(step, decision, actor, reason)
            except WorkflowError as exc:
                raise ClaimError("workflow", id=claim.id, detail=str(exc)) from exc
            kind = {"approve": "approved_step", "return": "returned", "reject": "rejected"}[decision]
            self._event(s, claim, actor, kind, step=step, reason=reason)
            audit.record(s, actor, decision, "claim", str(claim.id), reason=reason, detail={"step": step})
            self._apply(s, claim, flow, actor, decided_step=step, decision=decision, reason=reason)
            self._did(s, actor, claim.id, "review")
            return self._view(s, claim, today)

    def withdraw(self, person: str, claim_id: int, reason: str | None, today: date) -> ClaimView:
        with self.db.session() as s:
            claim = s.get(Claim, claim_id, with_for_update=True)
            if claim is None or claim.applicant_id != person:
                raise ClaimError("not_found", id=claim_id)
            if claim.status not in ("in_review", "returned"):
                raise ClaimError("cannot_withdraw", id=claim.id, status=claim.status)
            flow = ApprovalWorkflow.restore(claim.workflow_state, self._resolver(person))
            flow.withdraw()
            self._event(s, claim, person, "withdrawn", reason=reason)
            audit.record(s, person, "withdraw", "claim", str(claim.id), reason=reason)
            self._apply(s, claim, flow, person)
            return self._view(s, claim, today)

    # -- internals -----------------------------------------------------------------------------

    def _process_data(self, person: str, claim: ClaimView) -> dict[str, Any]:
        entertainment = [i.amount_fen for i in claim.items if i.category == "entertainment"]
        return {"applicant": person, "total_cny": sum(i.amount_fen for i in claim.items) / 100,
                "has_training": any(i.category == "training" for i in claim.items),
                "max_entertainment_item": max(entertainment, default=0) / 100}

    def _resolver(self, applicant: str) -> Callable[[str, set[str]], str | None]:
        directory = self._directory()
        return lambda role, already: resolve_approver(role, applicant, directory, already)

    @staticmethod
    def _chain(flow: ApprovalWorkflow) -> list[dict[str, Any]]:
        chain = [{"step": h["step"], "approver": h["actor"], "state": "done", "decision": h["decision"]}
                 for h in flow.history if h.get("decision") in ("approve", "return", "reject")]
        current = flow.current_step()
        if current is not None and flow.status == "in_review":
            chain.append({"step": current.id, "approver": current.approver, "state": "current"})
        seen = {(c["step"], c["approver"]) for c in chain}
        for step in flow.upcoming_steps():
            if (step.id, step.approver) not in seen:
                chain.append({"step": step.id, "approver": step.approver, "state": "upcoming"})
        return chain

    def _apply(self, s: Session, claim: Claim, flow: ApprovalWorkflow, actor: str, decided_step: str | None = None,
               decision: str | None = None, reason: str | None = None) -> None:
        """Copy the workflow's state onto the claim and enqueue the notifications it implies."""
        claim.workflow_state = flow.serialize()
        claim.chain = self._chain(flow)
        claim.version += 1
        step = flow.current_step()
        claim.status = flow.status
        claim.current_step = step.id if step and flow.status == "in_review" else None
        claim.current_approver = step.approver if step and flow.status == "in_review" else None
        claim.step_since = utcnow() if claim.current_step else None
        if flow.status in FINAL:
            claim.closed_at = utcnow()
        claim.updated_at = utcnow()
        self._notify(s, claim, actor, decided_step, decision, reason)
        topics.follow_claim(s, claim, self._directory())

    def _notify(self, s: Session, claim: Claim, actor: str, decided_step: str | None, decision: str | None,
                reason: str | None) -> None:
        from assistant.i18n import both

        directory = self._directory()
        names, actor_names = directory.names(claim.applicant_id), directory.names(actor)
        total = yuan(claim.total_fen)
        base = f"claim:{claim.id}:v{claim.version}"
        if claim.status == "in_review" and claim.current_approver:
            outbox.direct_message(s, f"{base}:approver", claim.current_approver,
                                  both("notify.to_approver", id=claim.id, total=total, applicant=names),
                                  claim_id=claim.id)
        if decision is not None and claim.applicant_id != actor:
            key = {"approve": "notify.step_approved", "return": "notify.returned",
                   "reject": "notify.rejected"}[decision]
            if decision == "approve" and claim.status == "approved":
                key = "notify.approved"
            outbox.direct_message(s, f"{base}:applicant", claim.applicant_id,
                                  both(key, id=claim.id, total=total, actor=actor_names, reason=reason or ""),
                                  claim_id=claim.id)

    def _own_editable(self, s: Session, person: str, claim_id: int) -> Claim:
        claim = s.get(Claim, claim_id)
        if claim is None or claim.applicant_id != person:
            raise ClaimError("not_found", id=claim_id)
        if claim.status not in EDITABLE:
            raise ClaimError("not_editable", id=claim.id, status=claim.status)
        return claim

    @staticmethod
    def _item(s: Session, claim: Claim, position: int) -> ClaimItem:
        row = s.execute(select(ClaimItem).where(ClaimItem.claim_id == claim.id, ClaimItem.position == position)
                        ).scalars().first()
        if row is None:
            raise ClaimError("no_such_item", id=claim.id, position=position)
        return row

    @staticmethod
    def _touch(s: Session, claim: Claim) -> None:
        s.flush()
        claim.total_fen = s.execute(select(func.coalesce(func.sum(ClaimItem.amount_fen), 0))
                                    .where(ClaimItem.claim_id == claim.id)).scalar_one()
        claim.updated_at = utcnow()
        claim.version += 1

    @staticmethod
    def _event(s: Session, claim: Claim, actor: str, kind: str, step: str | None = None,
               reason: str | None = None, detail: dict[str, Any] | None = None) -> None:
        s.add(ClaimEvent(claim_id=claim.id, actor=actor, kind=kind, step=step, reason=reason, detail=detail))
