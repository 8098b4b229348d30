"""Work status, digest and personal-memory actions: one per intent, each a single call into the core."""

from __future__ import annotations

from typing import List

from rasa_sdk import Tracker

from actions.claims import AnsweringAction, ChatMethodAction
from actions.client import core, person_entity
from assistant.claim_chat import Turn


class StatusAction(ChatMethodAction):
    service = "status_chat"


class ActionSetStatus(StatusAction):
    method = "set_status"


class ActionClearStatus(StatusAction):
    method = "clear_status"


class ActionPauseAutoStatus(StatusAction):
    method = "pause_auto_status"


class ActionResumeAutoStatus(StatusAction):
    method = "resume_auto_status"


class ActionSetStatusPrivacy(StatusAction):
    method = "set_status_privacy"


class ActionPreviewMyStatus(StatusAction):
    method = "preview_my_status"


class ActionStatusViewers(StatusAction):
    method = "status_viewers"


class ActionTeamStatus(StatusAction):
    method = "team_status"


class ActionSetWorkingHours(StatusAction):
    method = "set_working_hours"


class ActionSubscribeDigest(StatusAction):
    method = "subscribe_digest"


class ActionUnsubscribeDigest(StatusAction):
    method = "unsubscribe_digest"


class ActionAskStatus(StatusAction):
    method = "ask_status"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().status_chat.ask_status(turn, person_entity(tracker))


class ActionRepeatLastItem(AnsweringAction):
    """"Same as last time" may also answer the claim's open question ("same reason as before")."""

    def name(self) -> str:
        return "action_repeat_last_item"

    def respond(self, turn: Turn, tracker: Tracker) -> List[str]:
        return core().claim_chat.repeat_last_item(turn)


class ActionSetReplyLanguage(ChatMethodAction):
    service, method = "memory_chat", "set_reply_language"


class ActionForgetPreferences(ChatMethodAction):
    service, method = "memory_chat", "forget_preferences"
