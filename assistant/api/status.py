"""/api/people/{id}/status: a person's work status as the token's owner may see it (assistant/status.py), and
/api/people/{id}/status/views: who looked, for that person alone. Every status read here is logged."""

from __future__ import annotations

from aiohttp import web

from assistant.api.context import assistant_of, viewer_of
from assistant.api.errors import error


async def get_status(request: web.Request) -> web.Response:
    assistant = assistant_of(request)
    subject = request.match_info["person_id"]
    if assistant.directory.get(subject) is None:
        return error(request, 404, "not_found")
    look = assistant.status.look(viewer_of(request), subject, "api")
    if look.refused:  # the same answer whether or not there is a status
        return error(request, 403, "status_not_shared")
    return web.json_response(look.as_dict(assistant.status.tz))


async def get_status_views(request: web.Request) -> web.Response:
    assistant = assistant_of(request)
    subject = request.match_info["person_id"]
    viewer = viewer_of(request)
    if assistant.directory.get(subject) is None:
        return error(request, 404, "not_found")
    if viewer is not None and viewer != subject:
        return error(request, 403, "forbidden")
    views = assistant.status.views(subject)
    return web.json_response({"person": subject, "views": [
        {"viewer": v.viewer_id, "relation": v.relation, "level": v.level, "channel": v.channel,
         "viewed_at": v.viewed_at.isoformat()} for v in views]})


def register(app: web.Application) -> None:
    app.router.add_get("/api/people/{person_id}/status", get_status)
    app.router.add_get("/api/people/{person_id}/status/views", get_status_views)
