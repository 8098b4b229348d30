"""/api/topics and a claim's timeline, as the token's owner may see them (participants; closed public topics)."""

from __future__ import annotations

from aiohttp import web

from assistant.api.context import assistant_of, id_param, viewer_of
from assistant.api.errors import error
from assistant.topics import TopicError


async def get_topic(request: web.Request) -> web.Response:
    """One topic with participants, conclusions, notes, links and messages; 404 alike for missing and private."""
    topic_id = id_param(request, "topic_id")
    if topic_id is None:
        return error(request, 400, "bad_request", detail="topic id must be a number")
    try:
        view = assistant_of(request).topics.get(viewer_of(request), topic_id, with_messages=True)
    except TopicError:
        return error(request, 404, "not_found")
    return web.json_response(view.as_dict())


async def claim_timeline(request: web.Request) -> web.Response:
    """The claim's states, each with the topic messages written while the claim was in it."""
    claim_id = id_param(request, "claim_id")
    if claim_id is None:
        return error(request, 400, "bad_request", detail="claim id must be a number")
    try:
        timeline = assistant_of(request).topics.claim_timeline(viewer_of(request), claim_id)
    except TopicError:
        return error(request, 404, "not_found")
    return web.json_response({"claim_id": claim_id, "timeline": timeline})


async def search_topics(request: web.Request) -> web.Response:
    """Knowledge search over the topics the caller may read (the admin token searches as nobody: no hits)."""
    from assistant import search

    query = (request.query.get("q") or "").strip()
    if not query or len(query) > 500:
        return error(request, 400, "bad_request", detail="q is required (at most 500 characters)")
    viewer = viewer_of(request)
    hits = search.search(assistant_of(request).db, viewer or "", query, limit=10) if viewer else []
    return web.json_response({"query": query, "hits": [{
        "topic_id": h.topic_id, "title": h.title, "status": h.status, "public": h.public, "score": h.score,
        "snippet": h.snippet, "has_conclusions": h.has_conclusions} for h in hits]})


def register(app: web.Application) -> None:
    app.router.add_get("/api/topics", search_topics)
    app.router.add_get("/api/topics/{topic_id}", get_topic)
    app.router.add_get("/api/claims/{claim_id}/timeline", claim_timeline)
