"""JSON errors in the caller's language (Accept-Language), never a traceback."""

from __future__ import annotations

from aiohttp import web

from assistant.i18n import language_from_header, t


def request_language(request: web.Request) -> str:
    return language_from_header(request.headers.get("Accept-Language", ""))


def error(request: web.Request, status: int, code: str, **values: str) -> web.Response:
    return web.json_response({"error": code, "message": t(f"http.{code}", request_language(request), **values)},
                             status=status)
