"""Reimbursement and approval actions: one per intent, each a single call into the core."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.client import core, person_entity, reply_language, sender
from assistant.claim_chat import Turn


def turn_of(tracker: Tracker) -> Turn:
    assistant = core()
    message = tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    return Turn(sender(tracker), reply_language(tracker), assistant.today(sender(tracker)), message.get("text") or "",
                room_id=metadata.get("room_id"), reply_to=metadata.get("reply_to"))


def intent_of(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


class ReplyAction(Action, metaclass=ABCMeta):
    """Says what `respond` returns for this turn. Abstract, so rasa_sdk does not register it."""

    @abstractmethod
    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        """The replies for this turn."""

    def replies(self, turn: Turn, tracker: Tracker) -> List[str]:
        return self.respond(turn, tracker)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        for text in self.replies(turn_of(tracker), tracker):
            dispatcher.utter_message(text=text)
        return []


class ChatMethodAction(ReplyAction):
    """An action that is one method of one of the core's chat services, named `action_<method>`."""

    service: str  # the core's attribute: topic_chat, status_chat ...

    @property
    @abstractmethod
    def method(self) -> str:
        """The chat service's method, also the action's name after `action_`."""

    def name(self) -> str:
        return f"action_{self.method}"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return getattr(getattr(core(), self.service), self.method)(turn)


class AnsweringAction(ReplyAction):
    """Answers the open question when the message is an answer to it; otherwise does its own job."""

    def replies(self, turn: Turn, tracker: Tracker) -> List[str]:
        answer: List[str] | None = core().claim_chat.answer(turn, intent_of(tracker))
        return answer if answer is not None else self.respond(turn, tracker)


class ActionClaimExpense(AnsweringAction):
    def name(self) -> str:
        return "action_claim_expense"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.claim_expense(turn)


class ActionChangeItem(AnsweringAction):
    def name(self) -> str:
        return "action_change_item"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.change_item(turn)


class ActionRemoveItem(AnsweringAction):
    def name(self) -> str:
        return "action_remove_item"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.remove_item(turn)


class ActionShowClaim(AnsweringAction):
    def name(self) -> str:
        return "action_show_claim"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.show_claim(turn)


class ActionCancelClaim(AnsweringAction):
    def name(self) -> str:
        return "action_cancel_claim"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.cancel_claim(turn)


class ActionSaveDraft(AnsweringAction):
    def name(self) -> str:
        return "action_save_draft"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.save_draft(turn)


class ActionResumeClaim(AnsweringAction):
    def name(self) -> str:
        return "action_resume_claim"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.resume_claim(turn)


class ActionSubmitClaim(AnsweringAction):
    def name(self) -> str:
        return "action_submit_claim"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.submit_claim(turn)


class ActionAskPolicy(ReplyAction):
    """A policy question is a digression: answered, then the open question comes back."""

    def name(self) -> str:
        return "action_ask_policy"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.ask_policy(turn)


class ActionAnswer(ReplyAction):
    """inform / affirm / deny / nlu_fallback: an answer to the open question, else a plain reply."""

    def name(self) -> str:
        return "action_answer"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.answer_or_reply(turn, intent_of(tracker))


class ActionListPending(ReplyAction):
    def name(self) -> str:
        return "action_list_pending"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().approval_chat.list_pending(turn)


class DecisionAction(ReplyAction):
    @property
    @abstractmethod
    def decision(self) -> str:
        """approve, return or reject."""

    def name(self) -> str:
        return f"action_{self.decision}_claim"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().approval_chat.decide(turn, self.decision, person_entity(tracker))


class ActionApproveClaim(DecisionAction):
    decision = "approve"


class ActionReturnClaim(DecisionAction):
    decision = "return"


class ActionRejectClaim(DecisionAction):
    decision = "reject"


class ActionWithdrawClaim(ReplyAction):
    def name(self) -> str:
        return "action_withdraw_claim"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().approval_chat.withdraw(turn)


class ActionClaimStatus(ReplyAction):
    def name(self) -> str:
        return "action_claim_status"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().approval_chat.status(turn)
