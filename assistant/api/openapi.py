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
            },
        },
        "security": [{"bearer": []}],
        "paths": {
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
            "/api/people/{person_id}": {"get": {
                "summary": "One employee, with their direct reports",
                "parameters": [{"name": "person_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": _responses({"$ref": "#/components/schemas/Person"}, 401, 404)}},
        },
    }
