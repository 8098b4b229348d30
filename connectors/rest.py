"""The authenticated REST channel: typed chat, voice-to-text front ends and scripted test dialogues.

POST /webhooks/deskmate/webhook  {"sender": "zhangwei", "message": "...", "metadata": {...}}
with `Authorization: Bearer <token>`. An employee's token speaks only as that employee; the admin token
(front ends, test harnesses) may speak as any employee. Every message passes the intake gate first;
the reply language is chosen per message and names the output channel, so domain responses pick their
`channel: zh` variation without an action call.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.auth import Principal, authenticate
from assistant.core import Assistant
from assistant.i18n import language_from_header, t
from assistant.intake import check_message
from assistant.preferences import remember_language, reply_language_of
from assistant.store import Database
from connectors import rasa_speedups

rasa_speedups.install()

log = logging.getLogger(__name__)

class ChineseOutput(CollectingOutputChannel):
    @classmethod
    def name(cls) -> str:
        return "zh"


class EnglishOutput(CollectingOutputChannel):
    @classmethod
    def name(cls) -> str:
        return "en"


OUTPUTS = {"zh": ChineseOutput, "en": EnglishOutput}


class ChatGate:
    """Authentication, the intake gate and the per-sender reply language, shared by the chat channels."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._last_lang: Dict[str, str] = {}

    def principal(self, header: str | None) -> Principal | None:
        return authenticate(self.assistant.db, self.assistant.admin_token, header)

    def admit(self, sender: str, text: str | None, *, is_admin: bool) -> tuple[str, str | None]:
        """(language, refusal) for one message; refusal is None when the message may go to the NLU."""
        directory = self.assistant.directory
        verdict = check_message(
            text,
            sender_known=directory.get(sender) is not None,
            sender=sender,
            previous_lang=self._last_lang.get(sender),
            default_lang=self.assistant.settings.default_language,
            max_chars=self.assistant.settings.max_message_chars,
            allow_commands=is_admin,
            without_names=directory.without_names,
        )
        if verdict.accepted and self._last_lang.get(sender) != verdict.lang:
            self._last_lang[sender] = verdict.lang
            # Kept for the messages Deskmate starts later (notifications, invitations), whatever the channel.
            remember_language(self.assistant.db, sender, verdict.lang)
        if verdict.accepted:
            # a language the person asked for ("always answer me in English") wins over the one they wrote in
            return reply_language_of(self.assistant.db, sender) or verdict.lang, None
        return verdict.lang, verdict.reply

    async def converse(self, sender: str, text: str | None, channel: str, metadata: dict[str, Any],
                       on_new_message: Callable[[UserMessage], Awaitable[Any]], *, is_admin: bool = False
                       ) -> list[dict[str, Any]]:
        """One message through the gate and Rasa: Deskmate's reply messages, never none and never a trace."""
        lang, refusal = self.admit(sender, text, is_admin=is_admin)
        if refusal is not None:
            return [{"recipient_id": sender, "text": refusal}]
        collector = OUTPUTS[lang]()
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=channel,
                                             metadata={**metadata, "lang": lang}))
        except Exception:  # noqa: BLE001 - the user gets a clean apology, the log keeps the trace
            log.exception("message from %s failed", sender)
            return [{"recipient_id": sender, "text": t("error.internal", lang)}]
        # e.g. an action that failed: the user must not be left in silence
        return collector.messages or [{"recipient_id": sender, "text": t("error.no_reply", lang)}]


@functools.lru_cache(maxsize=1)
def shared_gate() -> ChatGate:
    """The gate, and so the Assistant, that the input channels of one Rasa process share (one store engine, one
    directory snapshot); the schema is the assistant service's to migrate."""
    from assistant.config import get_settings

    settings = get_settings()
    return ChatGate(Assistant(settings, Database(settings.database_url, migrate=False)))


def _http_error(request: Request, status: int, code: str, **values: str) -> HTTPResponse:
    lang = language_from_header(request.headers.get("Accept-Language", ""))
    return response.json({"error": code, "message": t(f"http.{code}", lang, **values)}, status=status)


class DeskmateRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "deskmate"

    def __init__(self, assistant: Assistant | None = None) -> None:
        self._assistant = assistant
        self._gate: ChatGate | None = None

    @property
    def gate(self) -> ChatGate:
        if self._gate is None:
            self._gate = ChatGate(self._assistant) if self._assistant is not None else shared_gate()
        return self._gate

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            principal = self.gate.principal(request.headers.get("Authorization"))
            if principal is None:
                return _http_error(request, 401, "unauthorized")
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - sanic raises its own error type for bad JSON
                body = None
            if not isinstance(body, dict):
                return _http_error(request, 400, "bad_chat_request")
            text, sender = body.get("message"), body.get("sender") or principal.person_id
            metadata = body.get("metadata") or {}
            if not isinstance(sender, str) or not (text is None or isinstance(text, str)) \
                    or not isinstance(metadata, dict):
                return _http_error(request, 400, "bad_chat_request")
            if not principal.is_admin and sender != principal.person_id:
                return _http_error(request, 403, "forbidden_sender", sender=sender[:64])
            return response.json(await self.gate.converse(sender, text, self.name(), metadata, on_new_message,
                                                          is_admin=principal.is_admin))

        return hook
