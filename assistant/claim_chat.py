"""Reimbursement by conversation: what Deskmate says back for each claim-related intent.

The Rasa actions call one method per intent with the message text; this module parses it
(assistant/expense_text.py), calls the claims service and keeps the one question it is waiting for
(`pending_questions`, so an answer still fits after a restart). A digression (a policy question in the
middle of a claim) is answered, then the open question is asked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from assistant import pending as questions
from assistant.claims import ClaimError, Claims, ClaimView, ItemView, NewItem
from assistant.colleagues import pick_candidate
from assistant.directory import Directory
from assistant.expense_text import (
    ITEM_REFERENCE_WORDS_EN,
    Money,
    ParsedItem,
    parse_amount,
    parse_category,
    parse_date,
    parse_items,
    position_number,
)
from assistant.i18n import listing, t
from assistant.memory import ItemTemplate, Memory
from assistant.policy import Finding, ItemFacts, Policy, yuan
from assistant.store import Database
from assistant.store.models import PendingQuestion
from assistant.word_patterns import alternation

_POSITION = re.compile(rf"第\s*([0-9一二两三四五六七八九十]+|最后)\s*[笔项个条]|"
                       rf"{alternation(ITEM_REFERENCE_WORDS_EN)}\s*(\d+)|"
                       r"\b(first|second|third|fourth|fifth|last)\b(?:\s+(?:one|item))?", re.I)
_SAME_AS_BEFORE = re.compile(r"同上|和上次一样|跟上次一样|还是那个理由|老理由|same (?:reason )?as (?:before|last time)|"
                             r"same reason|as before", re.I)
_CLIENT_PREFIX = re.compile(r"^(客户(是|为|叫)?|the\s+client\s+(was|is)|client\s*(was|is|:)?|for)\s*", re.I)


@dataclass
class Turn:
    """One message's context: who, in which language, today's date in their time zone."""

    person: str
    lang: str
    today: date
    text: str = ""
    room_id: str | None = None  # the IM room it was said in (a topic room makes "this topic" that topic)
    reply_to: str | None = None  # the message it answers, when the client says so


class ClaimChat:
    def __init__(self, db: Database, claims: Claims, directory: Callable[[], Directory],
                 policy: Callable[[], Policy], memory: Memory) -> None:
        self.db = db
        self.claims = claims
        self.memory = memory
        self._directory = directory
        self._policy = policy
        # Runs a request again once "which of these people?" is answered: (payload, chosen id, turn) -> replies.
        # The Assistant sets it (the request may belong to any chat service).
        self.redo: Callable[[dict[str, Any], str, Turn], list[str]] | None = None

    # -- pending question ----------------------------------------------------------------------

    def pending(self, person: str) -> PendingQuestion | None:
        return questions.get(self.db, person)

    def _ask(self, person: str, kind: str, claim_id: int | None, **payload: Any) -> None:
        questions.ask(self.db, person, kind, claim_id, **payload)

    def _clear(self, person: str) -> None:
        questions.clear(self.db, person)

    # -- entry points, one per intent -----------------------------------------------------------

    def claim_expense(self, turn: Turn) -> list[str]:
        """'我要报销' / '报销昨天打车58，午饭35': open (or continue) the claim and add what was said."""
        out: list[str] = []
        parsed = [p for p in parse_items(turn.text, turn.today) if p.money is not None]
        if parsed and self.claims.editable(turn.person, turn.today) is None:
            refusals = [self._refusal_line(p, turn) for p in parsed]
            if all(refusals):  # nothing to claim: no empty draft is left behind
                return [r for r in refusals if r] + [t("claim.nothing_saved", turn.lang)]
        claim, created = self.claims.open_draft(turn.person, turn.lang, turn.today)
        out.append(t("claim.started" if created else "claim.continuing", turn.lang, id=claim.id))
        if created or not claim.items:
            out += self._intro(turn, [p.category for p in parsed if p.category])
        if not parsed:
            if not created and claim.items:
                out.append(t("claim.nothing_parsed", turn.lang))
            else:
                out += self._ask_item(turn, claim.id)
            return out
        return out + self._add_parsed(turn, claim, parsed)

    def _ask_item(self, turn: Turn, claim_id: int) -> list[str]:
        """Ask for the first item, offering the person's usual one when they have a habit."""
        habit = self.memory.suggestion(turn.person)
        if habit is None:
            self._ask(turn.person, "item", claim_id)
            return [t("claim.ask_item", turn.lang)]
        self._ask(turn.person, "item", claim_id, suggestion=habit.as_payload())
        return [t("memory.suggest", turn.lang, category=self.category_name(habit.category, turn.lang),
                  amount=habit.amount_text, description=habit.description, claims=habit.claims)]

    def repeat_last_item(self, turn: Turn) -> list[str]:
        """'老样子，今天' / 'same as last time, today': the latest item again, with the date (and amount) said."""
        template = self.memory.last_item(turn.person)
        if template is None:
            return [t("memory.no_last_item", turn.lang)]
        claim, created = self.claims.open_draft(turn.person, turn.lang, turn.today)
        out = [t("claim.started" if created else "claim.continuing", turn.lang, id=claim.id)]
        if created:
            out += self._intro(turn, [template.category])
        self._clear(turn.person)
        return out + self._add_parsed(turn, claim, [_parsed_from_template(template, turn)])

    def _item_in_question(self, turn: Turn) -> tuple[ClaimView, ItemView] | list[str]:
        """The open claim and the item the message is about, or the reply that says what is missing."""
        claim = self.claims.editable(turn.person, turn.today)
        if claim is None:
            return [t("claim.none_open", turn.lang)]
        item = self._target_item(turn, claim)
        if item is None:
            return [t("claim.which_item", turn.lang, items=self._item_lines(claim, turn.lang))]
        return claim, item

    def change_item(self, turn: Turn) -> list[str]:
        found = self._item_in_question(turn)
        if isinstance(found, list):
            return found
        claim, item = found
        changes: dict[str, Any] = {}
        money = parse_amount(_without_position(turn.text))
        if money is not None:
            changes.update(amount=money.amount, currency=money.currency)
        spent_on = parse_date(turn.text, turn.today)
        if spent_on is not None:
            changes["spent_on"] = spent_on
        if not changes:
            return [t("claim.change_what", turn.lang, position=item.position)]
        try:
            claim = self.claims.update_item(turn.person, claim.id, item.position, turn.today, **changes)
        except ClaimError as exc:
            return [self.error(exc, turn.lang)]
        return [t("claim.changed", turn.lang, position=item.position), self.summary(claim, turn.lang)] + \
            self._next_question(turn, claim)

    def remove_item(self, turn: Turn) -> list[str]:
        found = self._item_in_question(turn)
        if isinstance(found, list):
            return found
        claim, item = found
        claim = self.claims.remove_item(turn.person, claim.id, item.position, turn.today)
        self._clear(turn.person)
        return [t("claim.removed", turn.lang, position=item.position, description=item.description),
                self.summary(claim, turn.lang)] + self._next_question(turn, claim)

    def show_claim(self, turn: Turn) -> list[str]:
        claim = self.claims.editable(turn.person, turn.today) or self.claims.latest(turn.person, turn.today)
        if claim is None:
            return [t("claim.none_open", turn.lang)]
        return [self.summary(claim, turn.lang)]

    def resume_claim(self, turn: Turn) -> list[str]:
        claim = self.claims.editable(turn.person, turn.today)
        if claim is None:
            return [t("claim.none_open", turn.lang)]
        return [t("claim.continuing", turn.lang, id=claim.id), self.summary(claim, turn.lang)] + \
            self._next_question(turn, claim)

    def save_draft(self, turn: Turn) -> list[str]:
        claim = self.claims.editable(turn.person, turn.today)
        if claim is None:
            return [t("claim.none_open", turn.lang)]
        self._clear(turn.person)
        return [t("claim.saved", turn.lang, id=claim.id)]

    def cancel_claim(self, turn: Turn) -> list[str]:
        claim = self.claims.editable(turn.person, turn.today)
        if claim is None:
            return [t("claim.none_open", turn.lang)]
        try:
            self.claims.cancel(turn.person, claim.id)
        except ClaimError as exc:
            return [self.error(exc, turn.lang)]
        self._clear(turn.person)
        return [t("claim.cancelled", turn.lang, id=claim.id)]

    def submit_claim(self, turn: Turn) -> list[str]:
        """Show the standard summary with the approval chain and ask to confirm; the 'yes' submits."""
        claim = self.claims.editable(turn.person, turn.today)
        if claim is None:
            latest = self.claims.latest(turn.person, turn.today)
            if latest is not None and latest.status == "in_review":
                return [self._already_submitted(latest, turn.lang)]
            return [t("claim.none_open", turn.lang)]
        problems = self._problems(claim, turn.lang)
        if not claim.items:
            return [self.error(ClaimError("empty_claim", id=claim.id), turn.lang)]
        if problems:
            return [t("claim.blocked", turn.lang, id=claim.id, problems=problems)] + self._next_question(turn, claim)
        self._ask(turn.person, "confirm_submit", claim.id, version=claim.version)
        return [self.summary(claim, turn.lang, preview_chain=True), t("claim.confirm_submit", turn.lang)]

    def ask_policy(self, turn: Turn) -> list[str]:
        policy = self._policy()
        category, candidates = parse_category(turn.text)
        wanted = [category] if category else candidates
        rules = [policy.categories[c] for c in (wanted or list(policy.categories)) if c in policy.categories]
        if wanted:
            out = [t("policy.one", turn.lang, name=r.name(turn.lang), note=r.note(turn.lang)) for r in rules]
        else:
            rates = ", ".join(f"{code} {rate:.2f}" for code, rate in sorted(policy.rates.items()) if code != "CNY")
            notes = "\n".join(f"- {t('policy.one', turn.lang, name=r.name(turn.lang), note=r.note(turn.lang))}"
                              for r in rules)
            out = [t("policy.notes", turn.lang, notes=notes, invoice=yuan(policy.invoice_over_fen),
                     days=policy.max_age_days, rates=rates)]
        return out + self.reprompt(turn)

    def answer(self, turn: Turn, intent: str) -> list[str] | None:
        """The reply when this message answers the open question; None when it does not."""
        question = self.pending(turn.person)
        if question is None:
            return None
        handler = getattr(self, f"_answer_{question.kind}", None)
        return handler(turn, intent, question) if handler else None

    def answer_or_reply(self, turn: Turn, intent: str) -> list[str]:
        """yes / no / an answer / something not understood: the answer to the open question if it is one,
        else a plain acknowledgement (or the helpful fallback) and the open question again."""
        answer = self.answer(turn, intent)
        if answer is not None:
            return answer
        key = {"affirm": "chat.ok", "deny": "chat.ok", "inform": "chat.unsure"}.get(intent, "chat.fallback")
        return [t(key, turn.lang)] + self.reprompt(turn)

    def reprompt(self, turn: Turn) -> list[str]:
        """After a digression: ask the open question again, so the claim carries on where it was."""
        question = self.pending(turn.person)
        if question is None or question.claim_id is None:
            return []
        claim = self.claims.editable(turn.person, turn.today)
        if claim is None:
            self._clear(turn.person)
            return []
        back = t("claim.back_to_claim", turn.lang, id=claim.id)
        payload = question.payload or {}
        if question.kind == "confirm_submit":
            return [back, t("claim.confirm_submit", turn.lang)]
        if question.kind == "item":
            return [back, t("claim.ask_item", turn.lang)]
        if question.kind == "justification":
            return [back, t("claim.ask_justification", turn.lang)]
        if question.kind == "category":
            return [back, t("claim.ask_category", turn.lang, text=payload["text"], amount=payload["amount"],
                            options=t("claim.categories_list", turn.lang))]
        return [back] + self._next_question(turn, claim)

    # -- answers -------------------------------------------------------------------------------

    def _answer_item(self, turn: Turn, intent: str, question: PendingQuestion) -> list[str] | None:
        suggestion = (question.payload or {}).get("suggestion")
        if suggestion is not None:
            answer = self._answer_suggestion(turn, intent, question, ItemTemplate.from_payload(suggestion))
            if answer is not None:
                return answer
        if intent in ("claim_expense", "inform", "nlu_fallback") and parse_amount(turn.text):
            self._clear(turn.person)
            return self.claim_expense(turn)
        return None

    def _answer_suggestion(self, turn: Turn, intent: str, question: PendingQuestion,
                           template: ItemTemplate) -> list[str] | None:
        """'对，60' / 'yes, 45' / 'yes' (the usual amount) take the offered item; 'no' asks for the item;
        anything naming its own category is a new item, not an answer to the offer."""
        choice = _yes_no(turn.text, intent)
        category, _ = parse_category(turn.text)
        if choice is False and not parse_amount(turn.text):
            self._ask(turn.person, "item", question.claim_id)
            return [t("claim.ask_item", turn.lang)]
        if category is not None or (choice is None and not (intent in ("inform", "nlu_fallback", "affirm")
                                                            and parse_amount(turn.text))):
            return None
        claim = self.claims.editable(turn.person, turn.today)
        self._clear(turn.person)
        if claim is None:
            return [t("claim.none_open", turn.lang)]
        return self._add_parsed(turn, claim, [_parsed_from_template(template, turn)])

    def _answer_which_person(self, turn: Turn, intent: str, question: PendingQuestion) -> list[str] | None:
        """'第二个' / 'zhangwei2' / '章玮' after a list of candidates: the stopped request, with that person. Any
        other message is not an answer: the question is dropped and the message handled as itself."""
        self._clear(turn.person)
        chosen = pick_candidate(self._directory(), turn.text, question.payload["candidates"])
        if chosen is None or self.redo is None:
            return None
        return self.redo(question.payload, chosen, turn)

    def _answer_category(self, turn: Turn, intent: str, question: PendingQuestion) -> list[str] | None:
        if intent not in ("inform", "claim_expense", "nlu_fallback", "affirm"):
            return None
        category, _ = parse_category(turn.text)
        if category is None:
            return [t("claim.ask_category", turn.lang, text=question.payload["text"],
                      amount=question.payload["amount"], options=t("claim.categories_list", turn.lang))]
        item = _parsed_from_payload(question.payload, category)
        claim = self.claims.editable(turn.person, turn.today)
        self._clear(turn.person)
        if claim is None:
            return [t("claim.none_open", turn.lang)]
        return self._add_parsed(turn, claim, [item])

    def _answer_client(self, turn: Turn, intent: str, question: PendingQuestion) -> list[str] | None:
        if intent not in ("inform", "nlu_fallback", "claim_expense"):
            return None
        client = _CLIENT_PREFIX.sub("", turn.text.strip()).strip(" ：:，,。.")
        if not client:
            return None
        return self._update_and_continue(turn, question, t("claim.client_set", turn.lang,
                                                            position=question.payload["position"], client=client),
                                         client=client[:120])

    def _answer_invoice(self, turn: Turn, intent: str, question: PendingQuestion) -> list[str] | None:
        has = _yes_no(turn.text, intent)
        if has is None:
            return None
        position = question.payload["position"]
        if has:
            note = t("claim.invoice_yes", turn.lang, position=position)
        else:
            note = t("claim.invoice_no", turn.lang, position=position, limit=yuan(self._policy().invoice_over_fen))
        return self._update_and_continue(turn, question, note, has_invoice=has)

    def _answer_cap(self, turn: Turn, intent: str, question: PendingQuestion) -> list[str] | None:
        position, allowed = question.payload["position"], question.payload["allowed_fen"]
        choice = _yes_no(turn.text, intent)
        if choice is True:
            return self._update_and_continue(turn, question, t("claim.cap_reduced", turn.lang, position=position,
                                                                allowed=yuan(allowed)),
                                             amount=Decimal(allowed) / 100, currency="CNY")
        reason = _strip_leading_no(turn.text)
        note = question.payload.get("usual_note")
        if note and _SAME_AS_BEFORE.search(reason or turn.text):  # "同上" / "same reason as before"
            reason = note
        if choice is False and not reason:
            self._ask(turn.person, "justification", question.claim_id, position=position, usual_note=note)
            return [t("claim.ask_justification", turn.lang)]
        if (intent in ("inform", "nlu_fallback", "deny") or reason == note) and reason:
            return self._update_and_continue(turn, question, t("claim.justified", turn.lang, position=position),
                                             justification=reason[:500])
        return None

    def _answer_justification(self, turn: Turn, intent: str, question: PendingQuestion) -> list[str] | None:
        position, note = question.payload["position"], question.payload.get("usual_note")
        same = bool(note) and bool(_SAME_AS_BEFORE.search(turn.text))
        if not same and (intent not in ("inform", "nlu_fallback", "deny", "claim_expense") or not turn.text.strip()):
            return None
        reason = note if same else turn.text.strip()
        return self._update_and_continue(turn, question, t("claim.justified", turn.lang, position=position),
                                         justification=reason[:500])

    def _answer_confirm_submit(self, turn: Turn, intent: str, question: PendingQuestion) -> list[str] | None:
        choice = True if intent == "submit_claim" else _yes_no(turn.text, intent)
        if choice is None:
            return None
        self._clear(turn.person)
        if not choice:
            return [t("claim.not_submitted", turn.lang, id=question.claim_id)]
        try:
            claim, fresh = self.claims.submit(turn.person, question.claim_id, turn.today)
        except ClaimError as exc:
            return [self.error(exc, turn.lang)]
        if not fresh:
            return [self._already_submitted(claim, turn.lang)]
        approver = self.person_name(claim.current_approver, turn.lang)
        resubmitted = any(e["kind"] == "returned" for e in claim.timeline)
        key = "claim.resubmitted" if resubmitted else "claim.submitted"
        return [t(key, turn.lang, id=claim.id, total=yuan(claim.total_fen), approver=approver),
                self.summary(claim, turn.lang)]

    def _update_and_continue(self, turn: Turn, question: PendingQuestion, note: str, **changes: Any) -> list[str]:
        self._clear(turn.person)
        try:
            claim = self.claims.update_item(turn.person, question.claim_id, question.payload["position"], turn.today,
                                            **changes)
        except ClaimError as exc:
            return [self.error(exc, turn.lang)]
        return [note] + self._next_question(turn, claim)

    # -- adding items --------------------------------------------------------------------------

    def _intro(self, turn: Turn, categories: list[str]) -> list[str]:
        """The policy notes for the categories mentioned and the changes since the user's last claim."""
        policy = self._policy()
        out = []
        notes = policy.notes(categories, turn.lang)
        if notes:
            out.append(t("claim.notes_header", turn.lang) + "\n" + "\n".join(f"- {n}" for n in notes))
        last = self.claims.last_claim_date(turn.person)
        changes = policy.changes_since(last, turn.today)
        if changes:
            since = (t("claim.since_last_claim", turn.lang, date=last.isoformat()) if last
                     else t("claim.since_90_days", turn.lang))
            lines = [f"- {c.effective.isoformat()} {c.text(turn.lang)}" for c in changes]
            out.append(t("claim.changes_header", turn.lang, since=since) + "\n" + "\n".join(lines))
        return out

    def _add_parsed(self, turn: Turn, claim: ClaimView, parsed: list[ParsedItem]) -> list[str]:
        policy = self._policy()
        out: list[str] = []
        ready: list[NewItem] = []
        unknown: list[ParsedItem] = []
        assumed_date = False
        for item in parsed:
            spent_on = item.spent_on or turn.today
            assumed_date |= item.spent_on is None
            description = item.description or item.text
            refusal = self._refusal_line(item, turn)
            if refusal:
                out.append(refusal)
                continue
            if item.category is None:
                unknown.append(item)
                continue
            ready.append(NewItem(item.category, item.money.amount, item.money.currency, spent_on, description,
                                 item.client, item.has_invoice, getattr(item, "nights", None)))
        if ready:
            claim = self.claims.add_items(turn.person, claim.id, ready, turn.today)
            added = claim.items[-len(ready):]
            out.append(t("claim.added", turn.lang, items=_join(turn.lang, [self._short(i, turn.lang) for i in added])))
            conversions = [self._conversion(i, turn.lang) for i in added if i.currency != "CNY"]
            out += [c for c in conversions if c]
            if assumed_date:
                out.append(t("claim.date_assumed", turn.lang, date=turn.today.isoformat()))
        if unknown:
            first = unknown[0]
            amount = yuan(policy.to_cny_fen(first.money.amount, first.money.currency) or 0)
            self._ask(turn.person, "category", claim.id, **_payload_of(first, turn.today), amount=amount)
            out.append(t("claim.ask_category", turn.lang, text=first.description or first.text, amount=amount,
                         options=_category_options(first.category_candidates, policy, turn.lang)))
            return out
        return out + self._next_question(turn, claim)

    def _refusal_line(self, item: ParsedItem, turn: Turn) -> str | None:
        """The reply that refuses the item, None when it may be claimed."""
        fen = self._policy().to_cny_fen(item.money.amount, item.money.currency)
        refusal = self._refusal(item, fen, item.spent_on or turn.today, turn)
        return t("claim.refused", turn.lang, text=item.description or item.text, reason=refusal) if refusal else None

    def _refusal(self, item: ParsedItem, fen: int | None, spent_on: date, turn: Turn) -> str | None:
        """Why the item can't be claimed at all (not positive, absurd, too old, future, foreign currency)."""
        policy = self._policy()
        if fen is None:
            return t("finding.currency_unsupported", turn.lang, currency=item.money.currency)
        facts = ItemFacts(item.category, fen, item.money.currency, spent_on)
        for finding in policy.check(facts, turn.today):
            if finding.severity == "refuse" and finding.code != "invoice_missing":
                return self.finding(finding, turn.lang)
        return None

    def _next_question(self, turn: Turn, claim: ClaimView) -> list[str]:
        """Ask the first open question of the claim, or say it is ready to submit."""
        for item in claim.items:
            for finding in item.findings:
                question = self._question_for(turn, claim, item, finding)
                if question:
                    return [question]
        if claim.items:
            self._clear(turn.person)
            return [t("claim.ready", turn.lang)]
        return []

    def _question_for(self, turn: Turn, claim: ClaimView, item: ItemView, finding: Finding) -> str | None:
        lang = turn.lang
        if finding.code == "client_required":
            self._ask(turn.person, "client", claim.id, position=item.position)
            return t("claim.ask_client", lang, position=item.position)
        if finding.code == "invoice_unknown":
            self._ask(turn.person, "invoice", claim.id, position=item.position)
            return t("claim.ask_invoice", lang, position=item.position, amount=yuan(item.amount_fen),
                     limit=finding.values["limit"])
        if finding.code == "over_cap":
            note = self.memory.usual_note(turn.person, item.category)
            self._ask(turn.person, "cap", claim.id, position=item.position, allowed_fen=finding.values["allowed_fen"],
                      usual_note=note)
            question = t("claim.ask_cap", lang, position=item.position,
                         category=self.category_name(item.category, lang), amount=yuan(item.amount_fen),
                         rule=self._cap_rule(finding, lang), allowed=finding.values["allowed"])
            return question + (" " + t("memory.offer_note", lang, note=note) if note else "")
        return None

    # -- rendering -----------------------------------------------------------------------------

    def summary(self, claim: ClaimView, lang: str, preview_chain: bool = False) -> str:
        """The standard claim form: number, items table, total in CNY, the approval chain by name."""
        lines = [t("summary.header", lang, id=claim.id, status=t(f"status.{claim.status}", lang),
                   applicant=self.person_name(claim.applicant, lang))]
        lines += [self._item_line(i, lang) for i in claim.items] or [t("summary.empty", lang)]
        lines.append(t("summary.total", lang, total=yuan(claim.total_fen or sum(i.amount_fen for i in claim.items))))
        if claim.description:
            lines.append(t("summary.description", lang, text=claim.description))
        chain = claim.chain
        if preview_chain or (not chain and claim.items):
            chain = [{**c, "state": "upcoming"} for c in self.claims.chain_preview(claim.applicant, claim)]
        if chain:
            arrow = t("chain.arrow", lang)
            parts = [t(f"chain.{c.get('decision')}" if c.get("state") == "done" else "chain.step", lang,
                       name=self.person_name(c.get("approver"), lang), step=t(f"step.{c['step']}", lang))
                     for c in chain]
            lines.append(t("summary.chain", lang, chain=arrow.join(parts)))
        if claim.status == "in_review" and claim.current_approver:
            lines.append(t("summary.current", lang, approver=self.person_name(claim.current_approver, lang),
                           step=t(f"step.{claim.current_step}", lang), since=_when(claim.step_since)))
        return "\n".join(lines)

    def _item_line(self, item: ItemView, lang: str) -> str:
        extra = ""
        if item.currency != "CNY":
            extra += t("summary.original", lang, original=item.original_amount, currency=item.currency)
        if item.client:
            extra += t("summary.client", lang, client=item.client)
        if item.has_invoice is False:
            extra += t("summary.no_invoice", lang)
        if item.justification:
            extra += t("summary.justification", lang, text=item.justification)
        return t("summary.item", lang, position=item.position, category=self.category_name(item.category, lang),
                 description=item.description, date=item.spent_on.isoformat(), amount=yuan(item.amount_fen),
                 extra=extra)

    def _item_lines(self, claim: ClaimView, lang: str) -> str:
        return "\n".join(self._item_line(i, lang) for i in claim.items)

    def _short(self, item: ItemView, lang: str) -> str:
        return t("claim.item_short", lang, category=self.category_name(item.category, lang),
                 description=item.description, amount=yuan(item.amount_fen), date=item.spent_on.isoformat())

    def _conversion(self, item: ItemView, lang: str) -> str:
        rate = self._policy().rates.get(item.currency)
        return t("claim.converted", lang, original=item.original_amount, currency=item.currency, rate=f"{rate:.2f}",
                 amount=yuan(item.amount_fen))

    def _problems(self, claim: ClaimView, lang: str) -> str:
        return "\n".join(t("claim.problem", lang, position=i.position, reason=self.finding(f, lang))
                         for i, f in claim.blocking)

    def finding(self, finding: Finding, lang: str) -> str:
        values = dict(finding.values)
        if finding.code == "over_cap":
            values["rule"] = self._cap_rule(finding, lang)
        return t(f"finding.{finding.code}", lang, **values)

    def _cap_rule(self, finding: Finding, lang: str) -> str:
        return t(f"cap.{finding.values.get('per') or 'item'}", lang, cap=finding.values["cap"])

    def category_name(self, category: str, lang: str) -> str:
        rule = self._policy().categories.get(category)
        return rule.name(lang) if rule else category

    def person_name(self, person_id: str | None, lang: str) -> str:
        person = self._directory().get(person_id or "")
        return person.name(lang) if person else (person_id or "?")

    def _already_submitted(self, claim: ClaimView, lang: str) -> str:
        state = t(f"status.{claim.status}", lang)
        if claim.status == "in_review" and claim.current_approver:
            state += " · " + self.person_name(claim.current_approver, lang)
        return t("claim.already_submitted", lang, id=claim.id, state=state)

    def error(self, exc: ClaimError, lang: str) -> str:
        values = dict(exc.values)
        if "status" in values:
            values["status"] = t(f"status.{values['status']}", lang)
        if "approver" in values:
            values["approver"] = self.person_name(values["approver"], lang)
        return t(f"claim_error.{exc.code}", lang, **values)

    def _target_item(self, turn: Turn, claim: ClaimView) -> ItemView | None:
        """The item a change or removal talks about: by position, by category word, or the only one."""
        if not claim.items:
            return None
        match = _POSITION.search(turn.text)
        if match:
            word = next(g for g in match.groups() if g)
            number = position_number(word)
            if number == -1:
                return claim.items[-1]
            return next((i for i in claim.items if i.position == number), None)
        category, candidates = parse_category(turn.text)
        wanted = {category} if category else set(candidates)
        matches = [i for i in claim.items if i.category in wanted]
        if len(matches) == 1:
            return matches[0]
        words = [w for w in re.split(r"\W+", turn.text.lower()) if len(w) > 1]
        by_description = [i for i in claim.items if i.description and (i.description.lower() in turn.text.lower()
                                                                         or i.description.lower() in words)]
        if len(by_description) == 1:
            return by_description[0]
        return claim.items[0] if len(claim.items) == 1 else None


# -- small helpers ---------------------------------------------------------------------------------

_YES = re.compile(r"^(是|是的|对|对的|有|有的|有发票|好|好的|可以|行|嗯|ok|okay|yes|yep|yeah|sure|i do|i have)", re.I)
_NO = re.compile(r"^(不|不是|没|没有|无|否|no|nope|not|don't|i don't|none)", re.I)


def _yes_no(text: str, intent: str) -> bool | None:
    """True / False for an answer to a yes-no question (by intent, then by the words), None otherwise."""
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    clean = text.strip().lower()
    if _NO.match(clean):
        return False
    if _YES.match(clean):
        return True
    return None


def _strip_leading_no(text: str) -> str:
    """'不，那天加班到很晚' → '那天加班到很晚'; a bare 'no' → ''."""
    return re.sub(r"^(不|不是|不用|否|no|nope)[\s，,。.:：!！]*", "", text.strip(), flags=re.I).strip()


def _without_position(text: str) -> str:
    return _POSITION.sub(" ", text)


def _join(lang: str, parts: list[str]) -> str:
    return ("；" if lang == "zh" else "; ").join(parts)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "?"


def _payload_of(item: ParsedItem, today: date) -> dict[str, Any]:
    return {"text": item.description or item.text, "amount_text": str(item.money.amount),
            "currency": item.money.currency, "spent_on": (item.spent_on or today).isoformat(),
            "client": item.client, "has_invoice": item.has_invoice, "nights": getattr(item, "nights", None)}


def _parsed_from_payload(payload: dict[str, Any], category: str) -> ParsedItem:
    return ParsedItem(category=category, category_candidates=[], money=Money(Decimal(payload["amount_text"]),
                      payload["currency"]), spent_on=date.fromisoformat(payload["spent_on"]),
                      description=payload["text"], client=payload.get("client"),
                      has_invoice=payload.get("has_invoice"), text=payload["text"], nights=payload.get("nights"))


def _parsed_from_template(template: ItemTemplate, turn: Turn) -> ParsedItem:
    """The remembered item with what this message says instead: a date, an amount."""
    money = parse_amount(turn.text) or Money(template.amount, template.currency)
    return ParsedItem(category=template.category, category_candidates=[], money=money,
                      spent_on=parse_date(turn.text, turn.today), description=template.description,
                      client=template.client, has_invoice=None, text=template.description)


def _category_options(candidates: list[str], policy: Policy, lang: str) -> str:
    names = [policy.categories[c].name(lang) for c in candidates if c in policy.categories]
    return listing(lang, names) if names else t("claim.categories_list", lang)
