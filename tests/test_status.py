"""Work status: events set it, manual status and pause override it, working hours and expiry bound it (with an
injected clock), each person's privacy setting decides who sees how much, in chat and through the API; every
look is logged; a manager's team table and daily digest respect each report's setting.

The NLU is not involved (the method for the intent is called); tests/dialogues/status_*.yml play the paths
through Rasa.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from assistant.api.app import create_app
from assistant.auth import issue_token
from assistant.claim_chat import Turn
from assistant.claims import NewItem
from assistant.config import Settings
from assistant.core import Assistant
from assistant.seed import seed
from assistant.store import Database
from assistant.store.models import OutboxEffect, StatusView
from assistant.topics import record_message
from tests.conftest import COMPANY

SHANGHAI = ZoneInfo("Asia/Shanghai")
THURSDAY_10AM = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)


class Clock:
    """The injected "now" of the status service."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(timezone.utc)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(THURSDAY_10AM)


def make_core(tmp_path: Path, clock: Clock, db: Database | None = None) -> Assistant:
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'status.db'}")
    db = db or Database(settings.database_url)
    seed(db, COMPANY)
    return Assistant(settings, db, clock=clock)


@pytest.fixture
def core(tmp_path: Path, clock: Clock, db: Database) -> Assistant:
    """On SQLite and on PostgreSQL (the conftest `db` fixture)."""
    return make_core(tmp_path, clock, db)


def say(core: Assistant, person: str, lang: str, method: str, text: str = "", **extra: object) -> str:
    turn = Turn(person, lang, THURSDAY_10AM.date(), text)
    return "\n".join(getattr(core.status_chat, method)(turn, **extra))


def busy_in_topic(core: Assistant, person: str, title: str = "Q3预算") -> int:
    return core.topics.open_free(person, title, []).id


# -- events, expiry, working hours, manual status, pause -----------------------------------------------------------

def test_events_set_the_status_and_the_latest_wins(core: Assistant, clock: Clock) -> None:
    tid = busy_in_topic(core, "zhangwei")
    assert "在话题「Q3预算」中（10:00 起）" in say(core, "zhangwei", "zh", "preview_my_status")
    clock.advance(minutes=20)
    record_message(core.db, tid, "$m1", "zhangwei", "预算再加两台测试机", datetime.now(timezone.utc),
                   core.status.record)
    assert core.status.current("zhangwei").since == THURSDAY_10AM  # the same activity keeps its start
    clock.advance(minutes=5)
    claim, _ = core.claims.open_draft("zhangwei", "zh", THURSDAY_10AM.date())
    taxi = NewItem("transport", Decimal(58), "CNY", THURSDAY_10AM.date(), "打车")
    core.claims.add_items("zhangwei", claim.id, [taxi], THURSDAY_10AM.date())
    now = core.status.current("zhangwei")
    assert now.label == {"zh": f"填写报销单 #{claim.id}", "en": f"filing claim #{claim.id}"}
    assert now.since == clock.now


def test_an_approver_reviewing_and_deciding_is_shown_as_such(core: Assistant, clock: Clock) -> None:
    today = THURSDAY_10AM.date()
    claim, _ = core.claims.open_draft("zhangwei", "en", today)
    core.claims.add_items("zhangwei", claim.id, [NewItem("transport", Decimal(58), "CNY", today, "taxi")], today)
    core.claims.submit("zhangwei", claim.id, today)
    clock.advance(minutes=3)
    core.claims.get("yanglei", claim.id, today)  # the approver opens it
    assert core.status.current("yanglei").label["en"] == f"reviewing claim #{claim.id}"
    core.claims.get("lina", claim.id, today)  # Finance may read it, but it does not wait for her
    assert core.status.current("lina").state == "available"


def test_status_expires_after_inactivity(core: Assistant, clock: Clock) -> None:
    busy_in_topic(core, "zhangwei")
    clock.advance(minutes=119)
    assert core.status.current("zhangwei").state == "activity"
    clock.advance(minutes=2)
    assert core.status.current("zhangwei").state == "available"


@pytest.mark.parametrize("when", [datetime(2026, 11, 26, 8, 30, tzinfo=SHANGHAI),  # before work
                                  datetime(2026, 11, 26, 19, 0, tzinfo=SHANGHAI),  # after work
                                  datetime(2026, 11, 28, 11, 0, tzinfo=SHANGHAI)])  # Saturday
def test_no_automatic_status_outside_working_hours(core: Assistant, clock: Clock, when: datetime) -> None:
    clock.now = when
    busy_in_topic(core, "zhangwei")
    assert core.status.current("zhangwei").state == "off_hours"
    clock.now = THURSDAY_10AM.replace(day=30)  # Monday morning: nothing was recorded
    assert core.status.current("zhangwei").state == "available"


def test_an_activity_started_before_work_ends_is_hidden_after_it(core: Assistant, clock: Clock) -> None:
    clock.now = THURSDAY_10AM.replace(hour=18, minute=50)
    busy_in_topic(core, "zhangwei")
    assert core.status.current("zhangwei").state == "activity"
    clock.advance(minutes=15)
    assert core.status.current("zhangwei").state == "off_hours"


def test_personal_working_hours(core: Assistant, clock: Clock) -> None:
    assert "10:00-19:00" in say(core, "zhangwei", "en", "set_working_hours", "my working hours are 10am to 7pm")
    clock.now = THURSDAY_10AM.replace(hour=9, minute=30)
    busy_in_topic(core, "zhangwei")
    assert core.status.current("zhangwei").state == "off_hours"
    reply = say(core, "zhangwei", "zh", "set_working_hours", "我的工作时间是下午六点到上午九点")  # a night shift
    assert "你现在的工作时间是 10:00-19:00" in reply  # not understood as working hours: nothing changed


def test_manual_status_overrides_until_it_ends(core: Assistant, clock: Clock) -> None:
    busy_in_topic(core, "zhaomin")
    reply = say(core, "zhaomin", "zh", "set_status", "我在开会，到十一点")
    assert "开会" in reply and "11:00" in reply
    clock.advance(minutes=30)
    busy_in_topic(core, "zhaomin", "发版")  # an event during the meeting does not replace it
    assert core.status.current("zhaomin").state == "manual"
    assert "开会，到 11:00" in say(core, "yanglei", "zh", "ask_status", "赵敏在忙什么")
    clock.advance(minutes=31)
    assert "在话题「发版」中" in say(core, "yanglei", "zh", "ask_status", "赵敏在忙什么")
    reply = say(core, "zhaomin", "en", "set_status", "in a meeting")
    assert "until 19:00" in reply  # no end said: the end of the working day
    assert "cleared" in say(core, "zhaomin", "en", "clear_status", "clear my status")
    assert "no manual status" in say(core, "zhaomin", "en", "clear_status", "clear my status")


def test_pause_hides_and_stops_automatic_status(core: Assistant, clock: Clock) -> None:
    busy_in_topic(core, "zhaomin")
    assert "12:00" in say(core, "zhaomin", "zh", "pause_auto_status", "暂停自动状态两小时")
    assert core.status.current("zhaomin").state == "available"
    busy_in_topic(core, "zhaomin", "发版")
    assert core.status.current("zhaomin").state == "available"
    assert "恢复" in say(core, "zhaomin", "zh", "resume_auto_status", "恢复自动状态")
    assert core.status.current("zhaomin").label["zh"] == "在话题「Q3预算」中"  # the paused event was not kept
    assert "was not paused" in say(core, "zhaomin", "en", "resume_auto_status", "resume auto status")


# -- privacy -------------------------------------------------------------------------------------------------------

# zhaomin's manager chain: yanglei (direct), chenjing, wangfang; her team: zhangwei, alice (also under yanglei);
# everyone else: sunhao, liuyang.
VIEWERS = {"yanglei": "chain", "wangfang": "chain", "zhangwei": "team", "alice": "team", "sunhao": "everyone",
           "liuyang": "everyone"}
EXPECTED = {  # setting -> relation -> level
    "everyone": {"chain": "full", "team": "coarse", "everyone": "presence", "admin": "presence"},
    "team": {"chain": "full", "team": "coarse", "everyone": "refused", "admin": "refused"},
    "chain": {"chain": "full", "team": "refused", "everyone": "refused", "admin": "refused"},
    "nobody": {"chain": "refused", "team": "refused", "everyone": "refused", "admin": "refused"},
}
SEEN = {"full": "赵敏：在话题「Q3预算」中（10:00 起）", "coarse": "赵敏：忙，在某个话题中", "presence": "赵敏：忙",
        "refused": "我不能告诉你赵敏的状态。"}
SETTING_SAID = {"everyone": "所有人都可以看我的状态", "team": "让组里的人能看到我的状态",
                "chain": "我的状态只给我领导看", "nobody": "我的状态谁都不给看"}


@pytest.mark.parametrize("setting", list(EXPECTED))
def test_privacy_matrix_in_chat(core: Assistant, setting: str) -> None:
    say(core, "zhaomin", "zh", "set_status_privacy", SETTING_SAID[setting])
    busy_in_topic(core, "zhaomin")
    for viewer, relation in VIEWERS.items():
        level = EXPECTED[setting][relation]
        assert say(core, viewer, "zh", "ask_status", "赵敏在忙什么") == SEEN[level], (setting, viewer)
    assert "在话题「Q3预算」中" in say(core, "zhaomin", "zh", "ask_status", "赵敏在忙什么")  # oneself: always


def test_a_refused_look_reveals_nothing(core: Assistant) -> None:
    """The refusal reads the same whether there is a status, a manual one, or none."""
    replies = set()
    for prepare in (lambda: None, lambda: busy_in_topic(core, "zhaomin"),
                    lambda: say(core, "zhaomin", "zh", "set_status", "我在面试，到四点")):
        prepare()
        replies.add(say(core, "sunhao", "zh", "ask_status", "赵敏在忙什么"))
        replies.add(say(core, "sunhao", "en", "ask_status", "what is Min Zhao up to", name="Min Zhao"))
    assert replies == {"我不能告诉你赵敏的状态。", "I can't tell you Min Zhao's status."}


def test_asking_about_unknown_or_ambiguous_people(core: Assistant) -> None:
    reply = say(core, "yanglei", "en", "ask_status", "is wei zhang busy")
    assert "Which one" in reply and "(zhangwei)" in reply and "(zhangwei2)" in reply
    assert "诸葛亮" in say(core, "yanglei", "zh", "ask_status", "诸葛亮在忙什么")
    assert "Whose status" in say(core, "yanglei", "en", "ask_status", "status?")
    with core.db.session() as s:  # a question that named nobody is not a look
        assert s.execute(select(StatusView)).first() is None


def test_preview_shows_each_audience(core: Assistant) -> None:
    busy_in_topic(core, "zhaomin")
    reply = say(core, "zhaomin", "zh", "preview_my_status", "别人看到的我的状态是什么")
    assert "仅上级链" in reply and "杨磊、陈静、王芳" in reply and "同组同事（艾丽斯、张伟）" in reply
    lines = reply.splitlines()
    assert "在话题「Q3预算」中" in next(line for line in lines if "上级链（" in line)
    assert "看不到" in next(line for line in lines if "同组" in line)
    reply = say(core, "zhaomin", "en", "set_status_privacy", "everyone can see my status")
    assert "Everyone else sees: busy" in reply and "teammates (Alice Smith, Wei Zhang) see: busy in a topic" in reply


def test_every_look_is_logged_and_reported(core: Assistant, clock: Clock) -> None:
    busy_in_topic(core, "zhaomin")
    say(core, "yanglei", "zh", "ask_status", "赵敏在忙什么")
    clock.advance(minutes=1)
    say(core, "yanglei", "zh", "ask_status", "赵敏在忙什么")
    say(core, "sunhao", "zh", "ask_status", "赵敏在忙什么")
    say(core, "zhaomin", "zh", "ask_status", "赵敏在忙什么")  # oneself: not logged
    reply = say(core, "zhaomin", "zh", "status_viewers", "谁看过我的状态")
    assert "2 人" in reply and "杨磊：2 次，看到具体事项，最近一次 10:01" in reply
    assert "孙浩：想看 1 次，按你的设置什么也没看到" in reply
    assert "Nobody looked" in say(core, "sunhao", "en", "status_viewers", "who looked at my status?")


def test_team_table_for_direct_and_indirect_reports(core: Assistant) -> None:
    busy_in_topic(core, "zhaomin")
    say(core, "alice", "en", "set_status_privacy", "nobody can see my status")
    say(core, "zhoujie", "zh", "set_status", "我在面试，到三点")
    reply = say(core, "chenjing", "zh", "team_status", "我的团队在忙什么")
    lines = reply.splitlines()
    assert "7 人" in lines[0]
    assert "- 杨磊：有空" in lines and "  - 赵敏：在话题「Q3预算」中（10:00 起）" in lines
    assert "  - 艾丽斯：不公开" in lines and "  - 周杰：面试，到 15:00" in lines
    assert "no reports" in say(core, "zhaomin", "en", "team_status", "what is my team working on?")
    with core.db.session() as s:
        assert len(s.execute(select(StatusView).where(StatusView.viewer_id == "chenjing")).all()) == 7
    assert say(core, "chenjing", "zh", "ask_status", "我的团队在忙什么") == reply  # asked as one person's status
    assert "一组人" in say(core, "chenjing", "zh", "ask_status", "销售部在忙什么")


# -- the API applies the same rules ----------------------------------------------------------------------------------

@pytest.fixture
async def api(core: Assistant) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(core, with_actions=False))) as client:
        yield client


def _as(core: Assistant, person: str | None) -> dict[str, str]:
    token = core.admin_token if person is None else issue_token(core.db, person)
    return {"Authorization": f"Bearer {token}", "Accept-Language": "zh"}


@pytest.mark.parametrize("setting", list(EXPECTED))
async def test_privacy_matrix_in_the_api(core: Assistant, api: TestClient, setting: str) -> None:
    core.status.set_audience("zhaomin", setting)
    busy_in_topic(core, "zhaomin")
    for viewer, relation in [*VIEWERS.items(), (None, "admin")]:
        level = EXPECTED[setting][relation]
        response = await api.get("/api/people/zhaomin/status", headers=_as(core, viewer))
        body = await response.json()
        if level == "refused":
            assert (response.status, body) == (403, {"error": "status_not_shared",
                                                     "message": "这个人的状态不对你公开。"}), (setting, viewer)
            continue
        assert response.status == 200 and body["level"] == level and body["relation"] == relation
        assert ("Q3预算" in body["text"]["zh"]) == (level == "full")
        assert body["busy"] is True and ("since" in body) == (level == "full")
    own = await (await api.get("/api/people/zhaomin/status", headers=_as(core, "zhaomin"))).json()
    assert own["level"] == "full" and own["state"] == "activity"
    assert (await api.get("/api/people/nobody/status", headers=_as(core, "zhaomin"))).status == 404


async def test_views_through_the_api_are_the_persons_own(core: Assistant, api: TestClient) -> None:
    await api.get("/api/people/zhaomin/status", headers=_as(core, "sunhao"))
    assert (await api.get("/api/people/zhaomin/status/views", headers=_as(core, "yanglei"))).status == 403
    body = await (await api.get("/api/people/zhaomin/status/views", headers=_as(core, "zhaomin"))).json()
    assert [(v["viewer"], v["level"], v["channel"]) for v in body["views"]] == [("sunhao", "refused", "api")]


# -- the daily digest ----------------------------------------------------------------------------------------------

def _submit_taxi(core: Assistant, person: str, amount: int = 58) -> int:
    today = date.today()
    claim, _ = core.claims.open_draft(person, "zh", today)
    core.claims.add_items(person, claim.id, [NewItem("transport", Decimal(amount), "CNY", today, "打车")], today)
    core.claims.submit(person, claim.id, today)
    return claim.id


def test_digest_respects_each_reports_setting(tmp_path: Path) -> None:
    clock = Clock(datetime.now(SHANGHAI))
    core = make_core(tmp_path, clock)
    assert "没有下属" in say(core, "zhangwei", "zh", "subscribe_digest", "每天早上九点给我发团队日报")
    core.digests.subscribe("yanglei", time(0, 0))
    mine = _submit_taxi(core, "zhangwei")
    core.status.set_audience("alice", "nobody")
    _submit_taxi(core, "alice")
    clock.now = datetime.now(SHANGHAI) + timedelta(seconds=1)  # the audit log is stamped with the real time
    zh = core.digests.compose("yanglei", clock())["zh"]
    assert f"张伟：提交报销 1 张（#{mine}）" in zh and "赵敏：没有记录" in zh
    assert "艾丽斯" not in zh and "另有 1 人按其隐私设置未列出" in zh
    assert core.digests.send_due() == ["yanglei"]
    assert core.digests.send_due() == []  # once a day
    with core.db.session() as s:
        sent = s.execute(select(OutboxEffect).where(OutboxEffect.key.like("digest:yanglei:%"))).scalars().all()
        assert len(sent) == 1 and sent[0].payload["to"] == "yanglei" and "张伟" in sent[0].payload["text"]["zh"]
        looks = s.execute(select(StatusView.level).where(StatusView.channel == "digest",
                                                         StatusView.subject_id == "alice")).scalars().all()
        assert looks == ["refused", "refused"]  # composed twice in this test, each look logged
    assert "no more" in say(core, "yanglei", "en", "unsubscribe_digest", "stop the daily digest")
    assert "not subscribed" in say(core, "yanglei", "en", "unsubscribe_digest", "stop the daily digest")


def test_the_digest_waits_for_its_time(core: Assistant, clock: Clock) -> None:
    reply = say(core, "yanglei", "en", "subscribe_digest", "send me a daily digest at 6pm")
    assert "18:00" in reply
    assert core.digests.send_due() == []
    clock.now = THURSDAY_10AM.replace(hour=18, minute=1)
    assert core.digests.send_due() == ["yanglei"]
    clock.advance(days=1)
    assert core.digests.send_due() == ["yanglei"]


def test_an_ambiguous_name_is_asked_back_and_the_answer_runs_the_question(core: Assistant) -> None:
    busy_in_topic(core, "zhangwei")
    asked = say(core, "yanglei", "zh", "ask_status", "张伟在忙什么")
    assert "哪一位" in asked and "zhangwei2" in asked
    answer = core.claim_chat.answer(Turn("yanglei", "zh", THURSDAY_10AM.date(), "第一个"), "inform")
    assert answer == ["张伟：在话题「Q3预算」中（10:00 起）"]  # his own report
    say(core, "yanglei", "en", "ask_status", "is Wei Zhang busy")
    answer = core.claim_chat.answer(Turn("yanglei", "en", THURSDAY_10AM.date(), "zhangwei2"), "ask_person")
    assert answer == ["I can't tell you Wei Zhang (Mobile)'s status."]  # not in his chain
    say(core, "yanglei", "zh", "ask_status", "张伟在忙什么")
    assert core.claim_chat.answer(Turn("yanglei", "zh", THURSDAY_10AM.date(), "李娜是谁"), "ask_person") is None
    assert core.claim_chat.pending("yanglei") is None  # not an answer: the question is dropped


def test_bad_status_input_gets_a_clear_reply_and_changes_nothing(core: Assistant) -> None:
    assert "最多暂停两周" in say(core, "zhaomin", "zh", "pause_auto_status", "暂停自动状态20天")
    assert "two weeks at most" in say(core, "zhaomin", "en", "pause_auto_status", "pause auto status for 20 days")
    assert "你在忙什么" in say(core, "zhaomin", "zh", "set_status", "开会" * 400)  # a paste is not a status
    assert "What are you doing" in say(core, "zhaomin", "en", "set_status", "until 3pm")  # no activity said
    assert "Who may see your status" in say(core, "zhaomin", "en", "set_status_privacy", "change who sees my status")
    assert core.status.current("zhaomin").state == "available"
    assert core.status.settings_of("zhaomin").audience == "chain"
