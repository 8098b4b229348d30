"""/api/claims: claims as the token's owner may see them (applicant, approvers in the chain, Finance, CEO)."""

from __future__ import annotations

from aiohttp import web

from assistant.api.context import assistant_of, id_param, viewer_of
from assistant.api.errors import error
from assistant.claims import ClaimError

STATUSES = {"draft", "in_review", "returned", "approved", "rejected", "withdrawn", "cancelled"}


async def list_claims(request: web.Request) -> web.Response:
    assistant = assistant_of(request)
    status = request.query.get("status")
    if status is not None and status not in STATUSES:
        return error(request, 400, "bad_request", detail=f"status must be one of {', '.join(sorted(STATUSES))}")
    claims = assistant.claims.visible(viewer_of(request), assistant.today(), status)
    return web.json_response({"claims": [c.as_dict() for c in claims]})


async def get_claim(request: web.Request) -> web.Response:
    assistant = assistant_of(request)
    claim_id = id_param(request, "claim_id")
    if claim_id is None:
        return error(request, 400, "bad_request", detail="claim id must be a number")
    try:
        claim = assistant.claims.get(viewer_of(request), claim_id, assistant.today())
    except ClaimError:
        return error(request, 404, "not_found")
    return web.json_response(claim.as_dict())


def register(app: web.Application) -> None:
    app.router.add_get("/api/claims", list_claims)
    app.router.add_get("/api/claims/{claim_id}", get_claim)
