"""What a servlet needs from its request: the process's Assistant and the authenticated principal."""

from __future__ import annotations

from aiohttp import web

from assistant.auth import Principal
from assistant.core import Assistant

ASSISTANT = web.AppKey("assistant", Assistant)
DELIVERER = web.AppKey("deliverer", object)  # assistant.delivery.Deliverer, present when an IM backend is set
PRINCIPAL = "principal"


def assistant_of(request: web.Request) -> Assistant:
    return request.app[ASSISTANT]


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def id_param(request: web.Request, name: str) -> int | None:
    """A numeric id from the path, None when it is not one (ASCII digits only: "²" is a digit to str.isdigit)."""
    raw = request.match_info[name]
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None


def viewer_of(request: web.Request) -> str | None:
    """Whose eyes a request reads with: the token's employee, or None for the admin (who sees everything)."""
    principal = principal_of(request)
    return None if principal.is_admin else principal.person_id
