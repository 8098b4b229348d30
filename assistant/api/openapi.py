"""The OpenAPI 3 document served at /api/openapi.json. Each resource module adds its paths here."""

from __future__ import annotations

from typing import Any

from assistant import __version__

_ERROR = {"$ref": "#/components/schemas/Error"}


def _responses(ok: dict[str, Any], *codes: int) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}}
    texts = {400: "Malformed request", 401: "Missing or invalid token", 403: "Not allowed",
             404: "Not found", 409: "Conflict"}
    for code in codes:
        out[str(code)] = {"description": texts[code], "content": {"application/json": {"schema": _ERROR}}}
    return out


PERSON = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "name_zh": {"type": "string"}, "name_en": {"type": "string"},
        "title_zh": {"type": "string"}, "title_en": {"type": "string"}, "department": {"type": "string"},
        "department_name_zh": {"type": "string"}, "department_name_en": {"type": "string"},
        "manager": {"type": "string", "nullable": True}, "roles": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["id", "name_zh", "name_en", "department"],
}


CLAIM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "applicant": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "in_review", "returned", "approved", "rejected", "withdrawn",
                                              "cancelled"]},
        "total_cny": {"type": "string"}, "total_fen": {"type": "integer"}, "description": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object"}},
        "chain": {"type": "array", "items": {"type": "object", "properties": {
            "step": {"type": "string"}, "approver": {"type": "string"},
            "state": {"type": "string", "enum": ["done", "current", "upcoming"]}}}},
        "current_step": {"type": "string", "nullable": True},
        "current_approver": {"type": "string", "nullable": True},
        "step_since": {"type": "string", "nullable": True}, "created_at": {"type": "string"},
        "submitted_at": {"type": "string", "nullable": True},
        "timeline": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["id", "applicant", "status", "total_cny", "items", "chain"],
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Deskmate (邻桌) API", "version": __version__,
                 "description": "Bearer tokens: the admin token, or an employee's (`assistant token ID`). "
                                "A request made with an employee's token sees only what that employee may see. "
                                "Errors are JSON in the language of Accept-Language (zh or en)."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                          "required": ["error", "message"]},
                "Person": PERSON,
                "Claim": CLAIM,
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/outbox": {"get": {
                "summary": "Admin: IM effects (direct messages, rooms, invites) and their delivery state",
                "parameters": [{"name": "status", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["pending", "sent", "failed"]}},
                               {"name": "to", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": _responses({"type": "object"}, 400, 401, 403)}},
            "/api/people/{person_id}/conversation": {"delete": {
                "summary": "Admin: forget the question Deskmate is waiting for this person to answer",
                "parameters": [{"name": "person_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": _responses({"type": "object"}, 401, 403, 404)}},
            "/api/claims": {"get": {
                "summary": "Claims the caller may see, newest first (applicant, approvers in the chain, Finance, CEO)",
                "parameters": [{"name": "status", "in": "query", "required": False, "schema": {
                    "type": "string", "enum": ["draft", "in_review", "returned", "approved", "rejected",
                                               "withdrawn", "cancelled"]}}],
                "responses": _responses({"type": "object", "properties": {
                    "claims": {"type": "array", "items": {"$ref": "#/components/schemas/Claim"}}}}, 400, 401)}},
            "/api/claims/{claim_id}": {"get": {
                "summary": "One claim: items, total in CNY, status, approval chain, current step, timeline",
                "parameters": [{"name": "claim_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": _responses({"$ref": "#/components/schemas/Claim"}, 400, 401, 404)}},
            "/api/claims/{claim_id}/timeline": {"get": {
                "summary": "The claim's states in order, each with the topic-room messages written while it was in it",
                "parameters": [{"name": "claim_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": _responses({"type": "object", "properties": {
                    "claim_id": {"type": "integer"}, "timeline": {"type": "array", "items": {"type": "object"}}}},
                    400, 401, 404)}},
            "/api/topics": {"get": {
                "summary": "Knowledge search over the topics the caller may read: closed ones with conclusions first",
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
                "responses": _responses({"type": "object", "properties": {
                    "hits": {"type": "array", "items": {"type": "object"}}}}, 400, 401)}},
            "/api/topics/{topic_id}": {"get": {
                "summary": "One topic the caller takes part in (or a closed public one): participants and why, "
                           "conclusions, notes, links, messages with the bound claim's state; whom it waits for",
                "parameters": [{"name": "topic_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": _responses({"type": "object"}, 400, 401, 404)}},
            "/api/health": {"get": {"summary": "Liveness and database check", "security": [],
                                    "responses": _responses({"type": "object"})}},
            "/api/openapi.json": {"get": {"summary": "This document", "security": [],
                                          "responses": _responses({"type": "object"})}},
            "/api/people": {"get": {
                "summary": "The company directory; with q, resolve a name (id, 中文名, English name, pinyin)",
                "parameters": [{"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": _responses({"type": "object", "properties": {
                    "people": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
                    "match": {"type": "string", "enum": ["person", "group", "ambiguous", "unknown"]}}}, 400, 401)}},
            "/api/people/{person_id}/status": {"get": {
                "summary": "The person's work status as the caller may see it: their manager chain the activity, "
                           "teammates a coarse form, others busy/available, each as the person's setting allows; "
                           "403 status_not_shared otherwise (whether or not there is a status). Logged.",
                "parameters": [{"name": "person_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": _responses({"type": "object", "properties": {
                    "person": {"type": "string"},
                    "relation": {"type": "string", "enum": ["self", "chain", "team", "everyone", "admin"]},
                    "level": {"type": "string", "enum": ["full", "coarse", "presence"]},
                    "state": {"type": "string", "enum": ["manual", "activity", "available", "off_hours", "busy"]},
                    "busy": {"type": "boolean"},
                    "text": {"type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}},
                    "kind": {"type": "string", "nullable": True}, "since": {"type": "string", "nullable": True},
                    "until": {"type": "string", "nullable": True}}}, 401, 403, 404)}},
            "/api/people/{person_id}/status/views": {"get": {
                "summary": "Who looked at the person's status in the last 30 days (the person or the admin only)",
                "parameters": [{"name": "person_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": _responses({"type": "object", "properties": {
                    "views": {"type": "array", "items": {"type": "object"}}}}, 401, 403, 404)}},
            "/api/people/{person_id}": {"get": {
                "summary": "One employee, with their direct reports",
                "parameters": [{"name": "person_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": _responses({"$ref": "#/components/schemas/Person"}, 401, 404)}},
        },
    }
