"""The reimbursement policy (company/policy.yml, seeded into the store) and the checks it imposes on items.

Every check returns a `Finding` with a code and values; `assistant/i18n.py` turns it into a sentence in
the user's language that names the rule broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Literal

from sqlalchemy import select

from assistant.store import Database
from assistant.store.models import PolicyCategory, PolicyChange, PolicySetting

Severity = Literal["refuse", "ask", "over_cap", "info"]
FEN = Decimal("0.01")
MAX_ITEM_FEN = 100_000_000  # 1,000,000 CNY: anything above is a typo, not an expense


def to_fen(amount: Decimal) -> int:
    return int((amount / FEN).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def yuan(fen: int) -> str:
    """'58', '1,280.50': how amounts are shown to people."""
    value = Decimal(fen) / 100
    text = f"{value:,.2f}"
    return text[:-3] if text.endswith(".00") else text


@dataclass(frozen=True)
class CategoryRule:
    id: str
    name_zh: str
    name_en: str
    cap_fen: int | None
    cap_per: str | None
    note_zh: str
    note_en: str
    rules: dict[str, Any] = field(default_factory=dict)

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def note(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else self.note_en


@dataclass(frozen=True)
class Change:
    id: str
    effective: date
    categories: tuple[str, ...]
    text_zh: str
    text_en: str

    def text(self, lang: str) -> str:
        return self.text_zh if lang == "zh" else self.text_en


@dataclass(frozen=True)
class Finding:
    """One thing the policy says about an item: refuse it, ask for something, or it is over a cap."""

    code: str
    severity: Severity
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemFacts:
    """What the checks need to know about one item (a draft item or a parsed one)."""

    category: str | None
    amount_fen: int
    currency: str
    spent_on: date | None
    client: str | None = None
    has_invoice: bool | None = None
    nights: int | None = None
    justification: str | None = None


@dataclass(frozen=True)
class Policy:
    categories: dict[str, CategoryRule]
    rates: dict[str, Decimal]
    invoice_over_fen: int
    max_age_days: int
    changes: tuple[Change, ...]

    @classmethod
    def load(cls, db: Database) -> Policy:
        with db.session() as s:
            settings = {row.key: row.value for row in s.execute(select(PolicySetting)).scalars()}
            categories = {
                row.id: CategoryRule(row.id, row.name_zh, row.name_en, row.cap_fen, row.cap_per, row.note_zh,
                                     row.note_en, dict(row.rules or {}))
                for row in s.execute(select(PolicyCategory)).scalars()
            }
            changes = tuple(
                Change(row.id, row.effective, tuple(row.categories or ()), row.text_zh, row.text_en)
                for row in s.execute(select(PolicyChange).order_by(PolicyChange.effective.desc())).scalars()
            )
        rates = {code: Decimal(str(rate)) for code, rate in (settings.get("exchange_rates") or {}).items()}
        rates["CNY"] = Decimal(1)
        return cls(categories, rates, to_fen(Decimal(str(settings.get("invoice_required_over", 100)))),
                   int(settings.get("max_age_days", 90)), changes)

    # -- conversions and notes -----------------------------------------------------------------

    def to_cny_fen(self, amount: Decimal, currency: str) -> int | None:
        """The amount in CNY fen at the policy's rate, or None for a currency the policy does not accept."""
        rate = self.rates.get(currency.upper())
        return None if rate is None else to_fen(amount * rate)

    def notes(self, categories: Iterable[str], lang: str) -> list[str]:
        return [self.categories[c].note(lang) for c in dict.fromkeys(categories) if c in self.categories]

    def changes_since(self, since: date | None, today: date) -> list[Change]:
        """Changes effective after `since` (the user's last claim), else those of the last 90 days."""
        start = since if since is not None else today - timedelta(days=90)
        return [c for c in self.changes if start < c.effective <= today]

    # -- checks --------------------------------------------------------------------------------

    def check(self, item: ItemFacts, today: date, same_day_meals_fen: int = 0,
              same_month_telecom_fen: int = 0) -> list[Finding]:
        """Everything the policy says about one item. `same_*` are the other items of the claim that share
        the item's per-day or per-month cap."""
        found: list[Finding] = []
        if item.amount_fen <= 0:
            found.append(Finding("amount_not_positive", "refuse", {"amount": yuan(item.amount_fen)}))
        elif item.amount_fen > MAX_ITEM_FEN:
            found.append(Finding("amount_absurd", "refuse", {"amount": yuan(item.amount_fen),
                                                             "limit": yuan(MAX_ITEM_FEN)}))
        if item.spent_on is not None:
            if item.spent_on > today:
                found.append(Finding("future_date", "refuse", {"date": item.spent_on.isoformat()}))
            elif (today - item.spent_on).days > self.max_age_days:
                found.append(Finding("too_old", "refuse", {"date": item.spent_on.isoformat(),
                                                           "days": (today - item.spent_on).days,
                                                           "limit": self.max_age_days}))
        rule = self.categories.get(item.category or "")
        if rule is None:
            found.append(Finding("category_unknown", "ask"))
            return found
        if rule.rules.get("requires_client") and not item.client:
            found.append(Finding("client_required", "ask", {"category": rule.id}))
        if item.amount_fen > self.invoice_over_fen:
            if item.has_invoice is None:
                found.append(Finding("invoice_unknown", "ask", {"limit": yuan(self.invoice_over_fen)}))
            elif item.has_invoice is False:
                found.append(Finding("invoice_missing", "refuse", {"limit": yuan(self.invoice_over_fen)}))
        cap = self._cap_excess(rule, item, same_day_meals_fen, same_month_telecom_fen)
        if cap is not None and not item.justification:
            found.append(cap)
        ceo_over = rule.rules.get("ceo_approval_over")
        if ceo_over is not None and item.amount_fen > to_fen(Decimal(str(ceo_over))):
            found.append(Finding("ceo_approval", "info", {"limit": yuan(to_fen(Decimal(str(ceo_over))))}))
        if rule.rules.get("hr_coapproval"):
            found.append(Finding("hr_coapproval", "info"))
        return found

    def _cap_excess(self, rule: CategoryRule, item: ItemFacts, same_day_meals_fen: int,
                    same_month_telecom_fen: int) -> Finding | None:
        """An over_cap finding with the amount the item may have at most, or None."""
        if rule.cap_fen is None:
            return None
        if rule.cap_per == "night":
            nights = max(item.nights or 1, 1)
            allowed = rule.cap_fen * nights
        elif rule.cap_per == "person_day":
            allowed = max(rule.cap_fen - same_day_meals_fen, 0)
        elif rule.cap_per == "month":
            allowed = max(rule.cap_fen - same_month_telecom_fen, 0)
        else:
            allowed = rule.cap_fen
        if item.amount_fen <= allowed:
            return None
        return Finding("over_cap", "over_cap", {"category": rule.id, "cap": yuan(rule.cap_fen), "per": rule.cap_per,
                                                "allowed": yuan(allowed), "allowed_fen": allowed,
                                                "amount": yuan(item.amount_fen)})
