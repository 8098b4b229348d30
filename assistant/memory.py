"""What Deskmate learns about a person: their usual expenses and the language they want to be answered in.

Habits are read from the person's own claims (nothing is copied elsewhere), counting only claims made after
`memory_since`, so "forget my preferences" erases them by moving that horizon and clearing the reply
language; the claims stay, as the records they are. Suggestions are offered, never applied without a yes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from assistant.preferences import reply_language_of, setting_row
from assistant.store import Database
from assistant.store.models import Claim, ClaimItem, PersonSetting, utcnow

HABIT_MIN_CLAIMS = 3  # a category in this many recent claims is a habit
RECENT_CLAIMS = 10


@dataclass(frozen=True)
class ItemTemplate:
    """An item to offer again: its category, amount as claimed, description and client."""

    category: str
    amount: Decimal
    currency: str
    description: str
    client: str | None = None
    claims: int = 1  # in how many recent claims it appeared (for habits)

    @property
    def amount_text(self) -> str:
        """'58 CNY', '12.5 USD'."""
        return f"{self.amount.normalize():f} {self.currency}"

    def as_payload(self) -> dict[str, Any]:
        return {"category": self.category, "amount_text": str(self.amount), "currency": self.currency,
                "text": self.description, "client": self.client, "claims": self.claims}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ItemTemplate:
        return cls(payload["category"], Decimal(payload["amount_text"]), payload["currency"], payload["text"],
                   payload.get("client"), payload.get("claims", 1))


@dataclass(frozen=True)
class Forgotten:
    habits: list[ItemTemplate]
    last_item: ItemTemplate | None
    reply_language: str | None


def _template(item: ClaimItem, claims: int = 1) -> ItemTemplate:
    return ItemTemplate(item.category, Decimal(item.original_amount), item.currency, item.description or "",
                        item.client, claims)


class Memory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _recent_items(self, person: str, submitted_only: bool) -> list[tuple[int, ClaimItem]]:
        """(claim id, item) of the person's recent claims since the memory horizon, newest claim first."""
        with self.db.session() as s:
            setting = s.get(PersonSetting, person)
            query = select(Claim.id).where(Claim.applicant_id == person, Claim.status != "cancelled")
            if submitted_only:
                query = query.where(Claim.status != "draft")
            if setting is not None and setting.memory_since is not None:
                query = query.where(Claim.created_at > setting.memory_since)
            ids = list(s.execute(query.order_by(Claim.id.desc()).limit(RECENT_CLAIMS)).scalars())
            if not ids:
                return []
            items = s.execute(select(ClaimItem).where(ClaimItem.claim_id.in_(ids))
                              .order_by(ClaimItem.claim_id.desc(), ClaimItem.position.desc())).scalars()
            rows = [(item.claim_id, item) for item in items]
            for _, item in rows:
                s.expunge(item)
            return rows

    def habits(self, person: str) -> list[ItemTemplate]:
        """Categories in at least HABIT_MIN_CLAIMS of the recent submitted claims, most frequent first, each
        with its most usual amount and description (ties: the most recent)."""
        rows = self._recent_items(person, submitted_only=True)
        claims_per_category: dict[str, set[int]] = {}
        for claim_id, item in rows:
            claims_per_category.setdefault(item.category, set()).add(claim_id)
        found = []
        for category, claims in sorted(claims_per_category.items(), key=lambda kv: -len(kv[1])):
            if len(claims) < HABIT_MIN_CLAIMS:
                continue
            items = [item for _, item in rows if item.category == category]  # newest first
            amount = _usual([(item.original_amount, item.currency) for item in items])
            description = _usual([item.description or "" for item in items])
            client = _usual([item.client for item in items])
            found.append(ItemTemplate(category, Decimal(amount[0]), amount[1], description, client, len(claims)))
        return found

    def suggestion(self, person: str) -> ItemTemplate | None:
        habits = self.habits(person)
        return habits[0] if habits else None

    def last_item(self, person: str) -> ItemTemplate | None:
        """The person's latest item (drafts included), for "same as last time"."""
        rows = self._recent_items(person, submitted_only=False)
        return _template(rows[0][1]) if rows else None

    def usual_note(self, person: str, category: str) -> str | None:
        """The reason the person most often gave for keeping an over-cap amount in this category (recent
        submitted claims), to offer again; None when they never gave one."""
        notes = [item.justification for _, item in self._recent_items(person, submitted_only=True)
                 if item.category == category and item.justification]
        return _usual(notes) if notes else None

    def set_reply_language(self, person: str, lang: str) -> None:
        with self.db.session() as s:
            row = setting_row(s, person)
            row.reply_language, row.updated_at = lang, utcnow()

    def forget(self, person: str) -> Forgotten:
        """Erase what was learned and say what it was."""
        forgotten = Forgotten(self.habits(person), self.last_item(person), reply_language_of(self.db, person))
        with self.db.session() as s:
            row = setting_row(s, person)
            row.memory_since, row.reply_language, row.updated_at = utcnow(), None, utcnow()
        return forgotten


def _usual(values: list[Any]) -> Any:
    """The most frequent value; on a tie the one seen first (the lists are newest first)."""
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)
