"""The status text parser: manual status, durations, end times, working hours, audience, daily time and reply
language, in Chinese and English, typed and spoken. Case ids start with the language (zh: / en:).

Every case runs against a fixed now: Thursday 2026-11-26 10:00 in Asia/Shanghai (NOW), and 16:30 the same
day (LATE) for times that are already past and roll over to tomorrow.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant.status_text import (
    MAX_STATUS,
    MAX_TEXT,
    ManualStatus,
    parse_audience,
    parse_clock,
    parse_daily_time,
    parse_duration,
    parse_manual_status,
    parse_reply_language,
    parse_working_hours,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
LATE = datetime(2026, 11, 26, 16, 30, tzinfo=TZ)
H, M = timedelta(hours=1), timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A datetime in November 2026, Shanghai time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def cases(lang: str, rows: list[tuple]) -> list:
    """pytest params with ids "zh:<text>" / "en:<text>"."""
    return [pytest.param(*row, id=f"{lang}:{str(row[0])[:40]}") for row in rows]


# --- Manual status -------------------------------------------------------------------------------------------

MANUAL_ZH = [
    # text, status text (None: no status), until (at NOW)
    ("我在开会，到三点", "开会", at(26, 15)),
    ("我在开会到三点", "开会", at(26, 15)),
    ("我在开会，到三点。", "开会", at(26, 15)),
    ("出去吃饭 一小时后回来", "出去吃饭", NOW + H),
    ("请假半天", "请假半天", None),
    ("到三点", None, None),
    ("我在", None, None),
    ("我在客户那边 五点前回来", "在客户那边", at(26, 17)),  # 在 before a place stays
    ("在家办公", "在家办公", None),
    ("我正在面试 到下午四点半", "面试", at(26, 16, 30)),  # 在 before a verb goes
    ("在面试候选人 到四点", "面试候选人", at(26, 16)),
    ("我正在处理客户的问题", "处理客户的问题", None),
    ("现在在开会 两点前结束", "开会", at(26, 14)),
    ("嗯 我在开会 到三点半", "开会", at(26, 15, 30)),
    ("嗯 那个 我在 呃 开会 到四点", "开会", at(26, 16)),
    ("开会 到 三 点", "开会", at(26, 15)),
    ("三点到五点在开会", "开会", at(26, 17)),  # a range: its end
    ("到三点都在开会", "开会", at(26, 15)),  # nothing before the end clause: the words after it
    ("我下午不在 三点回来", "下午不在", at(26, 15)),
    ("把状态设置成出差 到明天上午十点", "出差", at(27, 10)),
    ("我在开会 大概三点结束", "开会", at(26, 15)),
    ("开会到下午三点半 有事发消息", "开会", at(26, 15, 30)),
    ("午休到一点半", "午休", at(26, 13, 30)),
    ("午休到一点", "午休", at(26, 13)),
    ("我去吃饭了 半小时后回来", "去吃饭了", NOW + 30 * M),
    ("开会中 两个小时以后有空", "开会中", NOW + 2 * H),
    ("在路上 半个小时后到", "在路上", NOW + 30 * M),
    ("出差 三天后回来", "出差", NOW + timedelta(days=3)),
    ("我们组在开会 到三点", "我们组在开会", at(26, 15)),
    # no end said as one: the words stay as said
    ("下午三点开会", "下午三点开会", None),  # when a meeting starts, not until when one is busy
    ("开会一小时", "开会一小时", None),  # a bare duration is no end
    ("请假两天", "请假两天", None),
    ("开会到25点", "开会到25点", None),  # an end that cannot be read stays in the text
    ("开会到明天", "开会到明天", None),
]

MANUAL_EN = [
    ("in a meeting until 3pm", "in a meeting", at(26, 15)),
    ("In a Meeting until 3pm", "In a Meeting", at(26, 15)),  # the case as typed
    ("I'm at the dentist till 4:30", "at the dentist", at(26, 16, 30)),
    ("I’m at the dentist till 4:30", "at the dentist", at(26, 16, 30)),  # typographic apostrophe
    ("um im in a meeting till four thirty", "in a meeting", at(26, 16, 30)),
    ("i am in a meeting until three thirty pm", "in a meeting", at(26, 15, 30)),
    ("um I am uh in a meeting", "in a meeting", None),
    ("ummm I am uhhh in a meeting", "in a meeting", None),
    ("out for lunch back in an hour", "out for lunch", NOW + H),
    ("out for lunch, I'll be back at 2", "out for lunch", at(26, 14)),
    ("in a meeting, back at 3:30", "in a meeting", at(26, 15, 30)),
    ("in a meeting for 2 hours", "in a meeting", NOW + 2 * H),
    ("on a call for the next 30 minutes", "on a call", NOW + 30 * M),
    ("on leave for two days", "on leave", NOW + timedelta(days=2)),
    ("until 3 I'm in a meeting", "in a meeting", at(26, 15)),
    ("set my status to on vacation until tomorrow 9am", "on vacation", at(27, 9)),
    ("Out of office until tomorrow 9am", "Out of office", at(27, 9)),
    ("busy until noon", "busy", at(26, 12)),
    ("doctor appointment until 3:30 pm", "doctor appointment", at(26, 15, 30)),
    ("in a meeting until 3:30pm.", "in a meeting", at(26, 15, 30)),
    ("currently in a workshop till five", "in a workshop", at(26, 17)),
    ("right now in a meeting until 3pm", "in a meeting", at(26, 15)),
    ("at lunch till 1", "at lunch", at(26, 13)),
    ("Meeting with the PM until 3", "Meeting with the PM", at(26, 15)),
    ("working from home", "working from home", None),
    ("I'm out sick", "out sick", None),
    ("WFH until tomorrow", "WFH until tomorrow", None),  # no time said: the words stay
    ("I'm", None, None),
    ("until 3pm", None, None),
    ("um uh", None, None),
]


@pytest.mark.parametrize(("text", "status", "until"), cases("zh", MANUAL_ZH) + cases("en", MANUAL_EN))
def test_parse_manual_status(text: str, status: str | None, until: datetime | None) -> None:
    expected = ManualStatus(status, until) if status is not None else None
    assert parse_manual_status(text, NOW) == expected


MANUAL_LATE = [
    ("zh", "我在开会 到三点", "开会", at(27, 15)),  # 15:00 is past at 16:30: tomorrow
    ("zh", "我在开会 到五点", "开会", at(26, 17)),
    ("zh", "开会到今天三点", "开会到今天三点", None),  # today said, already past: no end
    ("en", "in a meeting until 4:30", "in a meeting", at(27, 16, 30)),  # exactly now: tomorrow
    ("en", "in a meeting until 5", "in a meeting", at(26, 17)),
    ("en", "out for lunch back in an hour", "out for lunch", LATE + H),
]


@pytest.mark.parametrize(("text", "status", "until"),
                         [pytest.param(*row[1:], id=f"{row[0]}:late:{row[1]}") for row in MANUAL_LATE])
def test_parse_manual_status_rolls_over_late_in_the_day(text: str, status: str, until: datetime | None) -> None:
    assert parse_manual_status(text, LATE) == ManualStatus(status, until)


def test_manual_status_is_in_the_time_zone_of_now() -> None:
    new_york = ZoneInfo("America/New_York")
    found = parse_manual_status("in a meeting until 3pm", datetime(2026, 11, 26, 10, 0, tzinfo=new_york))
    assert found == ManualStatus("in a meeting", datetime(2026, 11, 26, 15, 0, tzinfo=new_york))
    assert found.until.tzinfo is new_york


def test_a_long_status_is_cut_and_a_paste_is_none() -> None:
    found = parse_manual_status("开会" + "很" * 200, NOW)
    assert found is not None and len(found.text) == MAX_STATUS and found.text.endswith("…")
    assert parse_manual_status("开会到三点" + "很" * 10_000, NOW) is None


# --- Durations -------------------------------------------------------------------------------------------------

DURATION_ZH = [
    ("两小时", 2 * H),
    ("两个半小时", 2 * H + 30 * M),
    ("一个半小时", 90 * M),
    ("半小时", 30 * M),
    ("半个小时", 30 * M),
    ("一个小时", H),
    ("30分钟", 30 * M),
    ("十五分钟", 15 * M),
    ("一刻钟", 15 * M),
    ("一小时二十分钟", 80 * M),
    ("一点五小时", 90 * M),
    ("暂停自动状态两个钟头", 2 * H),
    ("两天", timedelta(days=2)),
    ("半天", None),  # half a working day has no fixed length
    ("负两小时", None),
    ("0分钟", None),
    ("三点半", None),  # a clock time, not a duration
    ("3点30分", None),
    ("暂停到三点半", None),
    ("请假", None),
]

DURATION_EN = [
    ("2 hours", 2 * H),
    ("two hours", 2 * H),
    ("90 min", 90 * M),
    ("45min", 45 * M),
    ("an hour", H),
    ("1 hr", H),
    ("one and a half hours", 90 * M),
    ("an hour and a half", 90 * M),
    ("1.5h", 90 * M),
    ("2h30", 150 * M),
    ("2 hours 30 minutes", 150 * M),
    ("for 45 minutes", 45 * M),
    ("pause for 20 mins", 20 * M),
    ("twenty minutes", 20 * M),
    ("ninety minutes", 90 * M),
    ("a couple of hours", 2 * H),
    ("half an hour", 30 * M),
    ("a quarter of an hour", 15 * M),
    ("two-hour", 2 * H),
    ("3 days", timedelta(days=3)),
    ("half a day", None),
    ("-2 hours", None),
    ("minus 30 minutes", None),
    ("0 minutes", None),
    ("99999 hours", None),  # longer than MAX_DURATION
    ("until 3pm", None),
    ("admin", None),
]


@pytest.mark.parametrize(("text", "expected"), cases("zh", DURATION_ZH) + cases("en", DURATION_EN))
def test_parse_duration(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


# --- End times -------------------------------------------------------------------------------------------------

CLOCK_ZH = [
    # text, at NOW (10:00), at LATE (16:30)
    ("到三点", at(26, 15), at(27, 15)),
    ("到3点", at(26, 15), at(27, 15)),
    ("三点半", at(26, 15, 30), at(27, 15, 30)),
    ("三点钟", at(26, 15), at(27, 15)),
    ("下午3点", at(26, 15), at(27, 15)),
    ("15:30", at(26, 15, 30), at(27, 15, 30)),
    ("15：30", at(26, 15, 30), at(27, 15, 30)),  # full-width colon
    ("15时30分", at(26, 15, 30), at(27, 15, 30)),
    ("三点一刻", at(26, 15, 15), at(27, 15, 15)),
    ("两点三刻", at(26, 14, 45), at(27, 14, 45)),
    ("三点零五", at(26, 15, 5), at(27, 15, 5)),
    ("三点五分", at(26, 15, 5), at(27, 15, 5)),
    ("三点二十分", at(26, 15, 20), at(27, 15, 20)),
    ("五点前", at(26, 17), at(26, 17)),
    ("到九点", at(27, 9), at(27, 9)),  # 9 is not pm; past at 10:00: tomorrow
    ("十一点", at(26, 11), at(27, 11)),
    ("十二点", at(26, 12), at(27, 12)),
    ("中午一点", at(26, 13), at(27, 13)),
    ("傍晚6点", at(26, 18), at(26, 18)),
    ("到晚上八点", at(26, 20), at(26, 20)),
    ("到晚上十二点", at(27, 0), at(27, 0)),
    ("零点", at(27, 0), at(27, 0)),
    ("凌晨两点", at(27, 2), at(27, 2)),
    ("到明天上午十点", at(27, 10), at(27, 10)),
    ("明早十点", at(27, 10), at(27, 10)),
    ("今晚八点", at(26, 20), at(26, 20)),
    ("今天下午三点", at(26, 15), None),  # today said, already past at 16:30
    ("下午三点到五点", at(26, 17), at(26, 17)),
    ("一小时后", NOW + H, LATE + H),
    ("半小时以后", NOW + 30 * M, LATE + 30 * M),
    ("两个小时之后", NOW + 2 * H, LATE + 2 * H),
    ("过一刻钟回来", NOW + 15 * M, LATE + 15 * M),
    ("到25点", None, None),
    ("3点70", None, None),
    ("三点五", None, None),  # a single digit without 分 is no time
    ("晚一点", None, None),  # "a bit later"
    ("快一点回来", None, None),
    ("两小时", None, None),  # a bare duration is no end
    ("在客户那边", None, None),
]

CLOCK_EN = [
    ("until 3pm", at(26, 15), at(27, 15)),
    ("until 3 p.m.", at(26, 15), at(27, 15)),
    ("until 3.30pm", at(26, 15, 30), at(27, 15, 30)),
    ("three pm", at(26, 15), at(27, 15)),
    ("till four thirty", at(26, 16, 30), at(27, 16, 30)),
    ("until 3.", at(26, 15), at(27, 15)),
    ("by 5", at(26, 17), at(26, 17)),
    ("by 8", at(27, 8), at(27, 8)),
    ("before 6:30", at(26, 18, 30), at(26, 18, 30)),
    ("until 9am", at(27, 9), at(27, 9)),
    ("until tomorrow 9am", at(27, 9), at(27, 9)),
    ("till 9 tomorrow morning", at(27, 9), at(27, 9)),
    ("until 9 tonight", at(26, 21), at(26, 21)),
    ("until four this afternoon", at(26, 16), at(27, 16)),
    ("until 3pm today", at(26, 15), None),
    ("until noon", at(26, 12), at(27, 12)),
    ("until midnight", at(27, 0), at(27, 0)),
    ("until 12am", at(27, 0), at(27, 0)),
    ("half past three", at(26, 15, 30), at(27, 15, 30)),
    ("quarter to five", at(26, 16, 45), at(26, 16, 45)),
    ("ten past four", at(26, 16, 10), at(27, 16, 10)),
    ("9am to 5", at(26, 17), at(26, 17)),
    ("for 2 hours", NOW + 2 * H, LATE + 2 * H),
    ("in 30 minutes", NOW + 30 * M, LATE + 30 * M),
    ("back in an hour", NOW + H, LATE + H),
    ("within 45 minutes", NOW + 45 * M, LATE + 45 * M),
    ("two hours from now", NOW + 2 * H, LATE + 2 * H),
    ("until 25:00", None, None),
    ("until 3:75", None, None),
    ("two hours", None, None),
    ("about 3 people", None, None),
    ("in a meeting", None, None),
]


@pytest.mark.parametrize(("text", "at_now", "at_late"), cases("zh", CLOCK_ZH) + cases("en", CLOCK_EN))
def test_parse_clock(text: str, at_now: datetime | None, at_late: datetime | None) -> None:
    assert parse_clock(text, NOW) == at_now
    assert parse_clock(text, LATE) == at_late


# --- Audience --------------------------------------------------------------------------------------------------

AUDIENCE_ZH = [
    ("所有人", "everyone"),
    ("大家都能看", "everyone"),
    ("全公司", "everyone"),
    ("公开", "everyone"),
    ("团队", "team"),
    ("组里的人可以看", "team"),
    ("同事", "team"),
    ("我们组", "team"),
    ("让团队和领导都能看", "team"),  # the widest named
    ("领导", "chain"),
    ("上级", "chain"),
    ("只给我领导", "chain"),
    ("只给我领导看", "chain"),
    ("谁都不给看", "nobody"),
    ("不给任何人看", "nobody"),
    ("别让任何人看到", "nobody"),
    ("隐藏", "nobody"),
    ("不公开", "nobody"),
    ("只有我自己", "nobody"),
    ("对所有人隐藏", "nobody"),
    ("不给同事和领导看", "nobody"),
    ("别让同事看到 只给领导看", "chain"),
    ("别让同事看到只给领导看", "chain"),
    ("除了领导谁都不给看", "chain"),
    ("不公开 给团队看", "team"),
    ("别让同事看到", None),  # only who not to show: the caller asks
    ("随便", None),
]

AUDIENCE_EN = [
    ("everyone", "everyone"),
    ("anybody can see it", "everyone"),
    ("make it public", "everyone"),
    ("visible to all", "everyone"),
    ("everyone except my boss", "everyone"),
    ("my team", "team"),
    ("teammates", "team"),
    ("colleagues", "team"),
    ("everyone on my team", "team"),
    ("show all my colleagues", "team"),
    ("hide it from everyone except my team", "team"),
    ("no one except my team", "team"),
    ("manager chain", "chain"),
    ("my boss", "chain"),
    ("managers only", "chain"),
    ("only me and my manager", "chain"),
    ("don't let my team see it, only my manager", "chain"),
    ("dont let my team see it only my manager", "chain"),
    ("nobody", "nobody"),
    ("no one", "nobody"),
    ("noone", "nobody"),
    ("keep it private", "nobody"),
    ("hide my status", "nobody"),
    ("only me", "nobody"),
    ("hide my status from everyone", "nobody"),
    ("don't show it to anyone", "nobody"),
    ("my team shouldn't see it", None),
    ("what is my status", None),
]


@pytest.mark.parametrize(("text", "expected"), cases("zh", AUDIENCE_ZH) + cases("en", AUDIENCE_EN))
def test_parse_audience(text: str, expected: str | None) -> None:
    assert parse_audience(text) == expected


# --- Working hours ---------------------------------------------------------------------------------------------

WORKING_HOURS_ZH = [
    ("十点到七点", (time(10), time(19))),
    ("九点半上班六点半下班", (time(9, 30), time(18, 30))),
    ("早上8点到下午5点", (time(8), time(17))),
    ("上午10点到下午7点", (time(10), time(19))),
    ("从八点半到五点半", (time(8, 30), time(17, 30))),
    ("10:00到19:00", (time(10), time(19))),
    ("上班时间九点 下班时间六点", (time(9), time(18))),
    ("九到六", (time(9), time(18))),
    ("九点到十二点", (time(9), time(12))),
    ("朝九晚五", (time(9), time(17))),
    ("我的工作时间是早九晚六", (time(9), time(18))),
    ("晚上十点到早上六点", None),  # across midnight
    ("十点到25点", None),
    ("九点上班", None),
]

WORKING_HOURS_EN = [
    ("my working hours are 10am to 7pm", (time(10), time(19))),
    ("8:30-17:30", (time(8, 30), time(17, 30))),
    ("9-6", (time(9), time(18))),
    ("nine to five", (time(9), time(17))),
    ("from 9 to 6", (time(9), time(18))),
    ("I start at 9 and finish at 6", (time(9), time(18))),
    ("start at 8:30 leave at 5", (time(8, 30), time(17))),
    ("9am 6pm", (time(9), time(18))),
    ("working hours 8.30am to 5.30pm", (time(8, 30), time(17, 30))),
    ("10pm to 6am", None),
    ("I work a lot", None),
]


@pytest.mark.parametrize(("text", "expected"), cases("zh", WORKING_HOURS_ZH) + cases("en", WORKING_HOURS_EN))
def test_parse_working_hours(text: str, expected: tuple[time, time] | None) -> None:
    assert parse_working_hours(text) == expected


# --- Daily time ------------------------------------------------------------------------------------------------

DAILY_ZH = [
    ("每天早上九点", time(9)),
    ("每天下午五点半", time(17, 30)),
    ("每天晚上9点", time(21)),
    ("每天8点", time(8)),
    ("每天三点", time(15)),  # a bare hour 1-7 is pm
    ("每天上午10点发给我", time(10)),
    ("下班前", None),
    ("每天25点", None),
]

DAILY_EN = [
    ("at 9am", time(9)),
    ("18:00", time(18)),
    ("every evening at six", time(18)),
    ("at 6 in the evening", time(18)),
    ("daily at 9", time(9)),
    ("every day at noon", time(12)),
    ("at half past eight", time(8, 30)),
    ("at midnight", time(0)),
    ("send it every morning", None),
]


@pytest.mark.parametrize(("text", "expected"), cases("zh", DAILY_ZH) + cases("en", DAILY_EN))
def test_parse_daily_time(text: str, expected: time | None) -> None:
    assert parse_daily_time(text) == expected


# --- Reply language --------------------------------------------------------------------------------------------

LANGUAGE_ZH = [
    ("以后都用英文回复我", "en"),
    ("请说中文", "zh"),
    ("用汉语", "zh"),
    ("用普通话跟我说", "zh"),
    ("从现在开始用英文", "en"),
    ("不管什么时候都用英文回复", "en"),
    ("不要用中文", "en"),  # one language refused: the other one
    ("我看不懂英文，请用中文", "zh"),
    ("英文看不懂 用中文", "zh"),
    ("别再说中文了用英文", "en"),
    ("中英文都可以", None),
    ("你好", None),
]

LANGUAGE_EN = [
    ("always answer me in Chinese", "zh"),
    ("switch to English", "en"),
    ("reply in english", "en"),
    ("REPLY IN ENGLISH", "en"),
    ("speak mandarin", "zh"),
    ("from now on in english", "en"),
    ("switch from chinese to english", "en"),
    ("english please instead of chinese", "en"),
    ("reply in english not chinese", "en"),
    ("i can't read chinese, reply in english", "en"),
    ("don't answer in english", "zh"),
    ("bilingual please", None),
    ("hello", None),
]


@pytest.mark.parametrize(("text", "expected"), cases("zh", LANGUAGE_ZH) + cases("en", LANGUAGE_EN))
def test_parse_reply_language(text: str, expected: str | None) -> None:
    assert parse_reply_language(text) == expected


# --- Robustness ------------------------------------------------------------------------------------------------

GARBAGE = [
    "", "   ", "\n\n", "😀", "😀😀😀", "\x00\x01\x02", "？？？", "a" * 10_000, "到" * 10_000, "一" * 10_000,
    "点" * 5_000, "一点" * 5_000, "9" * 10_000, "9:" * 5_000, "-" * 10_000, "十" * 10_000, "until " * 2_000,
    "and a half " * 1_000, "quarter to " * 1_000, "o'clock " * 1_000, "p.m. " * 2_000, "twenty " * 2_000, " " * 10_000,
]
PARSERS = [
    pytest.param(lambda text: parse_manual_status(text, NOW), id="parse_manual_status"),
    pytest.param(lambda text: parse_clock(text, NOW), id="parse_clock"),
    pytest.param(parse_duration, id="parse_duration"),
    pytest.param(parse_audience, id="parse_audience"),
    pytest.param(parse_working_hours, id="parse_working_hours"),
    pytest.param(parse_daily_time, id="parse_daily_time"),
    pytest.param(parse_reply_language, id="parse_reply_language"),
]


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("text", [pytest.param(g, id=repr(g)[:24]) for g in GARBAGE] + [None, 42])
def test_bad_input_gives_none(parser, text) -> None:
    assert parser(text) is None


def test_only_the_first_max_text_characters_are_read() -> None:
    assert parse_clock("到三点" + "x" * 10_000, NOW) == at(26, 15)
    assert parse_clock("x" * MAX_TEXT + "到三点", NOW) is None
    assert parse_duration("两小时" + "很" * 10_000) == 2 * H
    assert parse_audience("谁" * MAX_TEXT + "不公开") is None
