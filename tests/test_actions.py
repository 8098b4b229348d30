"""Actions on tracker fixtures, called the way Rasa calls them: an action call through the executor."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from rasa_sdk.executor import ActionExecutor

from assistant.config import Settings
from assistant.core import Assistant, set_shared_assistant
from assistant.seed import seed
from assistant.store import Database
from tests.conftest import COMPANY


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    found = ActionExecutor()
    found.register_package("actions")
    return found


@pytest.fixture(autouse=True)
def core(settings: Settings) -> Iterator[Assistant]:
    db = Database(settings.database_url)
    seed(db, COMPANY)
    assistant = Assistant(settings, db)
    set_shared_assistant(assistant)
    yield assistant
    set_shared_assistant(None)


def action_call(action: str, sender: str, text: str, intent: str,
                entities: list[dict[str, Any]] | None = None, lang: str | None = None) -> dict[str, Any]:
    """The JSON Rasa posts to the action webhook, reduced to what a tracker fixture needs."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or [],
              "metadata": {"lang": lang} if lang else {}}
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {"intents": [], "entities": ["person"], "slots": {}, "responses": {}, "actions": [action]},
        "tracker": {"sender_id": sender, "slots": {}, "latest_message": latest,
                    "events": [{"event": "user", "text": text, "parse_data": latest, "metadata": latest["metadata"]}],
                    "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None},
    }


def person(value: str, text: str) -> list[dict[str, Any]]:
    start = text.index(value)
    return [{"entity": "person", "value": value, "start": start, "end": start + len(value)}]


async def replies(executor: ActionExecutor, call: dict[str, Any]) -> list[str]:
    result = await executor.run(call)
    return [r["text"] for r in result["responses"]]


async def test_who_is_answers_in_chinese(executor: ActionExecutor) -> None:
    text = "李娜是谁"
    call = action_call("action_who_is", "zhangwei", text, "ask_person", person("李娜", text), "zh")
    out = await replies(executor, call)
    assert len(out) == 1 and "财务总监" in out[0] and "Na Li" in out[0]


async def test_who_is_answers_in_english_without_channel_metadata(executor: ActionExecutor) -> None:
    text = "who is Lei Yang"
    call = action_call("action_who_is", "zhangwei", text, "ask_person", person("Lei Yang", text))
    out = await replies(executor, call)
    assert "Platform Team Manager" in out[0] and "Jing Chen" in out[0]


async def test_who_is_an_ambiguous_name_lists_both(executor: ActionExecutor) -> None:
    text = "张伟是谁"
    out = await replies(executor, action_call("action_who_is", "lina", text, "ask_person", person("张伟", text), "zh"))
    assert "哪一位" in out[0] and "zhangwei2" in out[0] and "章玮" in out[0]


async def test_who_is_reads_the_whole_name_when_the_nlu_found_part_of_it(executor: ActionExecutor) -> None:
    text = "who is jie zhou"
    out = await replies(executor, action_call("action_who_is", "bob", text, "ask_person", person("jie", text), "en"))
    assert "Jie Zhou" in out[0] and "can't find" not in out[0]


async def test_who_is_without_a_name_asks_for_one(executor: ActionExecutor) -> None:
    out = await replies(executor, action_call("action_who_is", "lina", "who is that", "ask_person", lang="en"))
    assert "Which colleague" in out[0]


async def test_my_manager_is_resolved_for_the_sender(executor: ActionExecutor) -> None:
    text = "who is my manager"
    out = await replies(executor, action_call("action_who_is", "zhaomin", text, "ask_person",
                                              person("my manager", text), "en"))
    assert out[0].startswith("Lei Yang")


async def test_ask_status_reads_the_person_entity_and_applies_privacy(executor: ActionExecutor,
                                                                      core: Assistant) -> None:
    text = "what is Min Zhao up to these days"
    asked = await replies(executor, action_call("action_ask_status", "yanglei", text, "ask_status",
                                                person("Min Zhao", text), lang="en"))
    assert asked[0].startswith("Min Zhao: ")  # her manager may look (what he sees depends on the clock)
    refused = await replies(executor, action_call("action_ask_status", "sunhao", text, "ask_status",
                                                  person("Min Zhao", text), lang="en"))
    assert refused == ["I can't tell you Min Zhao's status."]


async def test_memory_actions_speak_through_the_core(executor: ActionExecutor, core: Assistant) -> None:
    said = await replies(executor, action_call("action_set_reply_language", "zhaomin", "以后都用英文回复我",
                                               "set_reply_language", lang="zh"))
    assert said == ["OK, from now on I'll answer you in English. Say \"forget my preferences\" to undo it."]
    forgot = await replies(executor, action_call("action_forget_preferences", "zhaomin", "忘掉我的习惯",
                                                 "forget_preferences", lang="zh"))
    assert "回复语言：英文" in forgot[0]
