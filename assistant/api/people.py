"""/api/people: the company directory. Every employee may read it (it is the company's phone book)."""

from __future__ import annotations

from aiohttp import web

from assistant.api.context import assistant_of
from assistant.api.errors import error
from assistant.directory import Directory, Employee


def _with_department(directory: Directory, person: Employee) -> dict:
    body = person.as_dict()
    unit = directory.units.get(person.department_id)
    body["department_name_zh"] = unit.name_zh if unit else None
    body["department_name_en"] = unit.name_en if unit else None
    return body


async def list_people(request: web.Request) -> web.Response:
    directory = assistant_of(request).directory
    query = request.query.get("q", "").strip()
    if query:
        if len(query) > 200:
            return error(request, 400, "bad_request", detail="q is longer than 200 characters")
        found = directory.resolve(query)
        people = found.people
        return web.json_response({"query": query, "match": found.kind,
                                  "people": [_with_department(directory, p) for p in people]})
    people = sorted(directory.people.values(), key=lambda p: p.id)
    return web.json_response({"people": [_with_department(directory, p) for p in people]})


async def get_person(request: web.Request) -> web.Response:
    directory = assistant_of(request).directory
    person = directory.get(request.match_info["person_id"])
    if person is None:
        return error(request, 404, "not_found")
    body = _with_department(directory, person)
    body["reports"] = [p.id for p in directory.direct_reports(person.id)]
    return web.json_response(body)


def register(app: web.Application) -> None:
    app.router.add_get("/api/people", list_people)
    app.router.add_get("/api/people/{person_id}", get_person)
