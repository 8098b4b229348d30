"""Admin-only resources: the IM outbox, and forgetting what Deskmate waits for from someone."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import delete, select

from assistant import audit
from assistant.api.context import assistant_of, principal_of
from assistant.api.errors import error
from assistant.store.models import OutboxEffect, PendingQuestion

OUTBOX_STATUSES = ("pending", "sent", "failed")


def _admin_only(request: web.Request) -> web.Response | None:
    return None if principal_of(request).is_admin else error(request, 403, "forbidden")


async def list_outbox(request: web.Request) -> web.Response:
    """GET /api/outbox?status=pending&to=yanglei: effects waiting for (or done by) the IM connector."""
    refused = _admin_only(request)
    if refused is not None:
        return refused
    status = request.query.get("status")
    if status is not None and status not in OUTBOX_STATUSES:
        return error(request, 400, "bad_request", detail=f"status must be one of {', '.join(OUTBOX_STATUSES)}")
    to = request.query.get("to")
    with assistant_of(request).db.session() as s:
        query = select(OutboxEffect).order_by(OutboxEffect.id)
        if status:
            query = query.where(OutboxEffect.status == status)
        rows = [r for r in s.execute(query).scalars() if to is None or r.payload.get("to") == to]
        body = [{"id": r.id, "key": r.key, "kind": r.kind, "status": r.status, "attempts": r.attempts,
                 "payload": r.payload, "created_at": r.created_at.isoformat(), "last_error": r.last_error}
                for r in rows]
    return web.json_response({"effects": body})


async def forget_conversation(request: web.Request) -> web.Response:
    """DELETE /api/people/{id}/conversation: drop the question Deskmate is waiting for this person to answer."""
    refused = _admin_only(request)
    if refused is not None:
        return refused
    assistant = assistant_of(request)
    person_id = request.match_info["person_id"]
    if assistant.directory.get(person_id) is None:
        return error(request, 404, "not_found")
    with assistant.db.session() as s:
        gone = s.execute(delete(PendingQuestion).where(PendingQuestion.person_id == person_id)).rowcount
        if gone:
            audit.record(s, "admin", "forget_question", "people", person_id)
    return web.json_response({"person": person_id, "forgotten": gone})


def register(app: web.Application) -> None:
    app.router.add_get("/api/outbox", list_outbox)
    app.router.add_delete("/api/people/{person_id}/conversation", forget_conversation)
