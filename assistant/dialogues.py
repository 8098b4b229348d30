"""Scripted dialogues: YAML files in tests/dialogues/ played against the running assistant.

A file holds `dialogues:`, each with a `name` and `steps`. A step either speaks or checks the API:

    - as: zhangwei            # who speaks (carries over to the next steps)
      say: 李娜是谁
      expect:                  # all optional
        contains: [财务总监]    # every string appears in the reply
        any_of: [你好, 您好]    # at least one appears
        not_contains: [Traceback]
        matches: "李娜.*Na Li"  # regular expression
        lang: zh               # the reply is in this language
      repeat: 3                # optional: send `say` repeated this many times (huge messages)
      capture: {claim: "#(\\d+)"}  # optional: remember the first group of a regex on the reply as {claim}
    - as: yanglei
      say: 同意 {claim}          # {name} is replaced by what was captured earlier in the dialogue
    - api: GET /api/people/lina
      as: zhangwei             # whose token (default: admin)
      expect: {status: 200, json: {name_zh: 李娜}}

Every reply is also checked for leaked tracebacks. `assistant dialogues run PATH` prints pass/fail per dialogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from assistant.chatclient import ChatClient
from assistant.language import detect_language

TokenFor = Callable[[str], str]
FORBIDDEN = ("Traceback", "Exception:", "Error:")


@dataclass
class Outcome:
    name: str
    source: str
    failures: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load(path: Path) -> list[dict[str, Any]]:
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    found = []
    for file in files:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for dialogue in doc.get("dialogues", []):
            dialogue["source"] = file.name
            found.append(dialogue)
    return found


def _check_reply(reply: str, expect: dict[str, Any]) -> list[str]:
    problems = []
    for marker in FORBIDDEN:
        if marker in reply:
            problems.append(f"reply leaks {marker!r}")
    for needle in _as_list(expect.get("contains")):
        if str(needle) not in reply:
            problems.append(f"reply lacks {needle!r}")
    options = _as_list(expect.get("any_of"))
    if options and not any(str(o) in reply for o in options):
        problems.append(f"reply has none of {options!r}")
    for needle in _as_list(expect.get("not_contains")):
        if str(needle) in reply:
            problems.append(f"reply must not contain {needle!r}")
    if "matches" in expect and not re.search(expect["matches"], reply, re.S):
        problems.append(f"reply does not match /{expect['matches']}/")
    if "lang" in expect and detect_language(reply) != expect["lang"]:
        problems.append(f"reply is not in {expect['lang']}")
    return problems


def _check_json(body: Any, expected: Any, where: str = "json") -> list[str]:
    """`expected` must be contained in `body`: dict keys recursively, list items by position or membership."""
    if isinstance(expected, dict):
        if not isinstance(body, dict):
            return [f"{where} is not an object"]
        problems = []
        for key, value in expected.items():
            if key not in body:
                problems.append(f"{where}.{key} missing")
            else:
                problems.extend(_check_json(body[key], value, f"{where}.{key}"))
        return problems
    if isinstance(expected, list) and isinstance(body, list):
        missing = [item for item in expected if not any(not _check_json(b, item) for b in body)]
        return [f"{where} lacks {item!r}" for item in missing]
    return [] if body == expected else [f"{where} is {body!r}, expected {expected!r}"]


def _filled(value: Any, fill: Callable[[str], str]) -> Any:
    """`value` with captured names filled into every string inside it."""
    if isinstance(value, str):
        return fill(value)
    if isinstance(value, dict):
        return {k: _filled(v, fill) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, fill) for v in value]
    return value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def play(dialogue: dict[str, Any], client: ChatClient, token_for: TokenFor) -> Outcome:
    outcome = Outcome(dialogue.get("name", "?"), dialogue.get("source", ""))
    speaker: str | None = None
    restarted: set[str] = set()
    captured: dict[str, str] = {}

    def fill(text: str) -> str:
        for name, value in captured.items():
            text = text.replace("{" + name + "}", value)
        return text

    for number, step in enumerate(dialogue.get("steps", []), 1):
        speaker = step.get("as", speaker)
        expect = step.get("expect") or {}
        try:
            if "say" in step:
                if speaker is None:
                    raise ValueError("a 'say' step needs 'as'")
                if speaker not in restarted:
                    client.restart(speaker)
                    restarted.add(speaker)
                if not isinstance(step["say"], str):
                    raise ValueError(f"'say' must be text, not {step['say']!r}: quote yes/no/on/off in YAML")
                text = fill(step["say"]) * int(step.get("repeat", 1))
                reply = "\n".join(client.say(speaker, text))
                outcome.transcript += [f"{speaker}> {text[:200]}", f"deskmate> {reply}"]
                problems = _check_reply(reply, _filled(expect, fill))
                for name, pattern in (step.get("capture") or {}).items():
                    match = re.search(pattern, reply)
                    if match:
                        captured[name] = match.group(1)
                    else:
                        problems.append(f"nothing to capture as {name} with /{pattern}/")
            elif "api" in step:
                method, path = fill(str(step["api"])).split(" ", 1)
                token = token_for(step["as"]) if step.get("as") else None
                result = client.api(method, path, token, step.get("body"), step.get("lang", "en"))
                outcome.transcript.append(f"{method} {path} -> {result.status}")
                problems = []
                if "status" in expect and result.status != expect["status"]:
                    problems.append(f"status {result.status}, expected {expect['status']}")
                if "json" in expect:
                    problems += _check_json(result.body, _filled(expect["json"], fill))
                if "message" in expect:
                    problems += _check_reply(str((result.body or {}).get("message", "")), expect["message"])
            else:
                raise ValueError("a step needs 'say' or 'api'")
        except Exception as exc:  # noqa: BLE001 - a broken step fails the dialogue, not the run
            problems = [f"{type(exc).__name__}: {exc}"]
        outcome.failures += [f"step {number}: {p}" for p in problems]
    return outcome


def run(paths: list[Path], client: ChatClient, token_for: TokenFor,
        echo: Callable[[str], None] = print) -> list[Outcome]:
    outcomes = []
    for path in paths:
        for dialogue in load(path):
            outcome = play(dialogue, client, token_for)
            outcomes.append(outcome)
            echo(f"{'PASS' if outcome.passed else 'FAIL'}  {outcome.source}: {outcome.name}")
            for failure in outcome.failures:
                echo(f"      {failure}")
            if not outcome.passed:
                for line in outcome.transcript:
                    echo(f"        | {line}")
    passed = sum(o.passed for o in outcomes)
    echo(f"dialogues: {passed} passed, {len(outcomes) - passed} failed")
    return outcomes
