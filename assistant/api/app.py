"""The assistant service: the HTTP API under /api and the Rasa action webhook under /webhook, one process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, AsyncIterator, Awaitable, Callable

from aiohttp import web

from assistant.api import admin, claims, people, status, topics
from assistant.api.context import ASSISTANT, DELIVERER, PRINCIPAL
from assistant.api.errors import error
from assistant.api.openapi import openapi_document
from assistant.auth import authenticate
from assistant.core import Assistant, set_shared_assistant

log = logging.getLogger(__name__)

PUBLIC_PATHS = {"/api/health", "/api/openapi.json"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return error(request, 404, "not_found")
    except web.HTTPMethodNotAllowed:
        return error(request, 405, "method_not_allowed")
    except web.HTTPException:
        raise
    except Exception:  # noqa: BLE001 - the one place that turns any failure into a clean 500
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error(request, 500, "internal")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /api path but health and the OpenAPI document needs a bearer token."""
    if request.path.startswith("/api/") and request.path not in PUBLIC_PATHS:
        assistant = request.app[ASSISTANT]
        principal = authenticate(assistant.db, assistant.admin_token, request.headers.get("Authorization"))
        if principal is None:
            return error(request, 401, "unauthorized")
        request[PRINCIPAL] = principal
    return await handler(request)


async def health(request: web.Request) -> web.Response:
    assistant = request.app[ASSISTANT]
    count = len(assistant.directory.people)
    return web.json_response({"status": "ok", "database": "ok", "people": count})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def _action_webhook(executor: Any) -> Handler:
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

    async def webhook(request: web.Request) -> web.Response:
        try:
            action_call = await request.json()
        except json.JSONDecodeError:
            return error(request, 400, "bad_request", detail="JSON body expected")
        try:
            result = await executor.run(action_call)
        except ActionExecutionRejection as exc:
            return web.json_response({"error": exc.message, "action_name": exc.action_name}, status=400)
        except ActionNotFoundException as exc:
            return web.json_response({"error": exc.message, "action_name": exc.action_name}, status=404)
        deliverer = request.app.get(DELIVERER)
        if deliverer is not None:  # the action may have enqueued IM effects: deliver them now
            deliverer.wake()
        return web.json_response(result)

    return webhook


def create_app(assistant: Assistant, *, with_actions: bool = True,
               action_package: str | None = "actions") -> web.Application:
    """The aiohttp application. With `with_actions`, the rasa_sdk executor is mounted at POST /webhook."""
    set_shared_assistant(assistant)
    app = web.Application(middlewares=[errors_middleware, auth_middleware], client_max_size=1024 * 1024)
    app[ASSISTANT] = assistant
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/openapi.json", openapi)
    people.register(app)
    claims.register(app)
    admin.register(app)
    topics.register(app)
    status.register(app)
    if with_actions and action_package:
        from rasa_sdk.executor import ActionExecutor

        executor = ActionExecutor()
        executor.register_package(action_package)
        app.router.add_post("/webhook", _action_webhook(executor))
    if assistant.settings.im_backend == "matrix" and assistant.settings.matrix_registration.exists():
        app.cleanup_ctx.append(_delivery)
    app.cleanup_ctx.append(_digests)
    return app


DIGEST_CHECK_SECONDS = 30.0


async def _digests(app: web.Application) -> AsyncIterator[None]:
    """Managers' daily digests, enqueued when their time comes (assistant/digest.py)."""
    assistant = app[ASSISTANT]

    async def run() -> None:
        while True:
            try:
                if await asyncio.to_thread(assistant.digests.send_due) and app.get(DELIVERER) is not None:
                    app[DELIVERER].wake()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the schedule
                log.exception("sending daily digests failed")
            await asyncio.sleep(DIGEST_CHECK_SECONDS)

    task = asyncio.get_running_loop().create_task(run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _delivery(app: web.Application) -> AsyncIterator[None]:
    """The outbox deliverer, running beside the API for the life of the service."""
    from assistant.delivery import DM_NAME, Deliverer
    from assistant.matrix import MatrixPort

    assistant = app[ASSISTANT]
    port = MatrixPort(assistant.settings)
    deliverer = Deliverer(assistant.db, assistant.settings, port)
    app[DELIVERER] = deliverer
    with contextlib.suppress(Exception):  # cosmetic; Synapse may not be up yet
        await port.set_display_name(DM_NAME)
    task = asyncio.get_running_loop().create_task(deliverer.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await port.close()
