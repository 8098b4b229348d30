"""Approvals and claim status in chat: "有什么要我审批的？", "同意 42", "退回 42，发票不清楚", "我的报销到哪一步了"."""

from __future__ import annotations

import re
from typing import Callable

from assistant.claim_chat import ClaimChat, Turn
from assistant.claims import ClaimError, Claims, ClaimView
from assistant.colleagues import candidates_text
from assistant.directory import Directory
from assistant.expense_text import spelled_integers
from assistant.i18n import listing, t
from assistant.policy import yuan
from assistant.word_patterns import HESITATION

# approving, returning, rejecting: taken out of a reason, and what a spelled-out claim number may follow
_DECIDING = (r"同意|批准|通过|退回|打回去?|驳回|拒绝|approve[ds]?|sign(?:ed)?\s+off(?:\s+on)?|green[\s-]?light(?:ed)?"
             r"|return(?:ed)?|send\s+back|reject(?:ed)?|decline")
# What surrounds a reason and is no part of it: "帮我把 42 退回，发票不清楚吧", "um reject Li Na's claim: duplicate".
# Only the edges are stripped, so "重复报销", "not ok" or "其他" inside a reason stay as written.
_LEADING_WORDS = (rf"{_DECIDING}|ok(?:ay)?|deny|please|claim|no\.?|{HESITATION}|号|这(?:个|笔|张)?报销单?|的?报销单?"
                  r"|这个|一下|请|帮我|(?:把|给|他|她|让)(?!的)")
_TRAILING_WORDS = rf"{_DECIDING}|ok(?:ay)?|please|{HESITATION}|吧|一下"
_PUNCTUATION = r"[\s,，:：;；。.、!！?？]"
_LEADING = re.compile(rf"^(?:{_PUNCTUATION}|['’]s(?![A-Za-z])|(?<![A-Za-z])(?:{_LEADING_WORDS})(?![A-Za-z]))+", re.I)
_TRAILING = re.compile(rf"(?:{_PUNCTUATION}|(?<![A-Za-z])(?:{_TRAILING_WORDS})(?![A-Za-z]))+$", re.I)
_ID = re.compile(r"(?:#|＃|报销单|claim\s*#?|单号)?\s*(\d{1,9})")
# A spelled-out number is a claim number only right after a decision verb or a claim word (fillers between), or
# before 号: "approve um forty two", "同意四十二号"; "退回，超了二十块" names no claim 20. A one-digit one (一,
# seven) needs a claim word or 号: "帮我同意一下" names no claim 1.
_FILLERS = rf"(?:\s*(?:{HESITATION}|那个))*\s*$"
_SPELLED_ID_AFTER_VERB = re.compile(rf"(?:{_DECIDING}|撤回|withdraw){_FILLERS}", re.I)
_SPELLED_ID_AFTER_CLAIM_WORD = re.compile(rf"(?:报销单|单号|claim|number|no\.?|#|＃){_FILLERS}", re.I)
_SPELLED_ID_BEFORE_HAO = re.compile(r"\s*号(?!码)")


def _claim_number_span(text: str) -> tuple[int, int, int] | None:
    """(number, start, end) of the claim number in the text: digits anywhere, or a spelled-out number where a
    claim number goes."""
    match = _ID.search(text)
    if match:
        return int(match.group(1)), match.start(), match.end()
    for value, start, end, strong in spelled_integers(text):
        hao = _SPELLED_ID_BEFORE_HAO.match(text, end)
        if hao or _SPELLED_ID_AFTER_CLAIM_WORD.search(text[:start]) or (
                strong and _SPELLED_ID_AFTER_VERB.search(text[:start])):
            return value, start, hao.end() if hao else end
    return None


def claim_number(text: str) -> int | None:
    """The claim number in "同意 42" / "approve claim #42" / "报销单42" / "approve forty two" / "同意四十二号"."""
    found = _claim_number_span(text or "")
    return found[0] if found else None


def decision_reason(text: str, name: str | None = None) -> str:
    """What is left of "退回 42，发票不清楚" once the verb, the number and the person are taken out."""
    text = text or ""
    found = _claim_number_span(text)
    rest = f"{text[:found[1]]} {text[found[2]:]}" if found else text
    if name:
        rest = re.sub(re.escape(name), " ", rest, flags=re.I)
    rest = _TRAILING.sub("", _LEADING.sub("", rest))
    return re.sub(r"\s+", " ", rest).strip()


class ApprovalChat:
    def __init__(self, claims: Claims, claim_chat: ClaimChat, directory: Callable[[], Directory]) -> None:
        self.claims = claims
        self.chat = claim_chat
        self._directory = directory

    def list_pending(self, turn: Turn) -> list[str]:
        pending = self.claims.pending_for(turn.person, turn.today)
        if not pending:
            return [t("approve.none_pending", turn.lang)]
        lines = [t("approve.pending_header", turn.lang, count=len(pending))]
        lines += [self._pending_line(c, turn.lang) for c in pending]
        return ["\n".join(lines)]

    def decide(self, turn: Turn, decision: str, person_entity: str | None = None) -> list[str]:
        """approve / return / reject a claim named by number or by its applicant's name."""
        found = self._claim_for(turn, person_entity)
        if isinstance(found, list):
            return found
        claim_id, name = found
        reason = decision_reason(turn.text, name) or None
        if decision in ("return", "reject") and not reason:
            return [t("approve.reason_required", turn.lang, decision=t(f"decision.{decision}", turn.lang), id=claim_id,
                      example=t(f"example.{decision}", turn.lang, id=claim_id))]
        try:
            claim = self.claims.decide(turn.person, claim_id, decision, reason, turn.today)
        except ClaimError as exc:
            return [self.chat.error(exc, turn.lang)]
        if decision == "approve":
            next_approver = self.chat.person_name(claim.current_approver, turn.lang)
            follow = (t("approve.final", turn.lang) if claim.status == "approved" else
                      t("approve.next_step", turn.lang, approver=next_approver))
            return [t("approve.done", turn.lang, id=claim.id, next=follow)]
        key = "approve.returned" if decision == "return" else "approve.rejected"
        applicant = self.chat.person_name(claim.applicant, turn.lang)
        return [t(key, turn.lang, id=claim.id, reason=reason, applicant=applicant)]

    def withdraw(self, turn: Turn) -> list[str]:
        claim_id = claim_number(turn.text)
        if claim_id is None:
            mine = self.claims.own(turn.person, ("in_review", "returned"), turn.today)
            if not mine:
                return [t("claim.nothing_to_withdraw", turn.lang)]
            if len(mine) > 1:
                return [t("claim.withdraw_which", turn.lang, ids=", ".join(f"#{c.id}" for c in mine))]
            claim_id = mine[0].id
        try:
            claim = self.claims.withdraw(turn.person, claim_id, decision_reason(turn.text) or None, turn.today)
        except ClaimError as exc:
            return [self.chat.error(exc, turn.lang)]
        return [t("claim.withdrawn", turn.lang, id=claim.id)]

    def status(self, turn: Turn) -> list[str]:
        claim_id = claim_number(turn.text)
        try:
            claim = (self.claims.get(turn.person, claim_id, turn.today) if claim_id is not None
                     else self.claims.latest(turn.person, turn.today))
        except ClaimError as exc:
            return [self.chat.error(exc, turn.lang)]
        if claim is None:
            return [t("claim.status_none", turn.lang)]
        return [self.chat.summary(claim, turn.lang)]

    def _claim_for(self, turn: Turn, person_entity: str | None) -> tuple[int, str | None] | list[str]:
        """(claim id, the name used) or the reply that asks which claim or person was meant."""
        claim_id = claim_number(turn.text)
        if claim_id is not None:
            return claim_id, None
        if not person_entity:
            return [t("approve.which_claim", turn.lang)]
        directory = self._directory()
        found = directory.resolve(person_entity, asker=turn.person)
        pending = self.claims.pending_for(turn.person, turn.today)
        if found.kind == "ambiguous":  # never guessed, even when only one of them has a claim waiting
            ids = {p.id for p in found.people}
            theirs = [c for c in pending if c.applicant in ids]
            lines = [t("who.ambiguous", turn.lang, name=person_entity,
                       candidates=candidates_text(directory, found.people, turn.lang))]
            if theirs:
                lines.append(t("approve.pick_by_number", turn.lang,
                               claims="\n".join(self._pending_line(c, turn.lang) for c in theirs)))
            return ["\n".join(lines)]
        if found.kind != "person":
            return [t("who.unknown", turn.lang, name=person_entity)]
        theirs = [c for c in pending if c.applicant == found.people[0].id]
        name = found.people[0].name(turn.lang)
        if not theirs:
            return [t("approve.no_claim_from", turn.lang, name=name)]
        if len(theirs) > 1:
            return [t("approve.pick_claim", turn.lang, name=name,
                      claims="\n".join(self._pending_line(c, turn.lang) for c in theirs))]
        return theirs[0].id, person_entity

    def _pending_line(self, claim: ClaimView, lang: str) -> str:
        items = listing(lang, (f"{self.chat.category_name(i.category, lang)} {yuan(i.amount_fen)}"
                               for i in claim.items))
        since = claim.step_since.strftime("%m-%d %H:%M") if claim.step_since else "?"
        return t("approve.pending_line", lang, id=claim.id, applicant=self.chat.person_name(claim.applicant, lang),
                 total=yuan(claim.total_fen), items=items, step=t(f"step.{claim.current_step}", lang), since=since)
