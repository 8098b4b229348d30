"""What an employee says about their work status, turned into the arguments of a status command.

The NLU model says *which* command a message is (set_status, pause_auto_status, set_working_hours,
set_status_privacy, subscribe_digest, set_reply_language); this module reads *its arguments* from the text:
what the person is doing and until when, a duration, an end time, working hours, who may see the status,
the time of a daily message, the reply language. Like assistant/expense_text.py (whose number and text
helpers it uses) it is deterministic, needs no model, and reads typed text and voice-to-text transcripts
alike: no punctuation, lower case, fillers (嗯 / 呃 / um / uh), numbers as words (三点半, two thirty, three pm).

Decisions worth knowing (tests/test_status_text.py pins each of them):
- Every function accepts any string (empty, huge, emoji, None) and answers None instead of raising; only the
  first MAX_TEXT characters are read, so a paste costs no more than a sentence. A manual status longer than
  MAX_TEXT is None: a paste is no status.
- Times of day. Chinese: a number and 点 / 点钟 (or digits and 时), then 半 / 一刻 / 三刻 / minutes (三点二十,
  3点05, 三点五分); "三点五" (a single digit without 分) is no time. English: 3pm, 3:30, 3.30pm, three pm,
  four thirty, half past three, quarter to five, ten past four, noon, midnight; a number alone (3, four)
  is a time only after until / till / by / before / at / around / after, or in a range (9 to 5).
- am / pm: am, 上午, 早上, 早, 凌晨, morning keep the hour; pm, 下午, 傍晚, evening add 12; 晚上 / tonight /
  night add 12 from 5 to 11 (晚上十二点 and midnight are 24:00, 晚上一点 is 1:00); 中午 adds 12 to 1-5.
  A bare hour 1-7 (no such word) is pm: work hours. A "X点到Y点" range's end without its own word is
  after the start (下午三点到五点 = 15-17, 9am to 5 = 9-17).
- An end time (parse_clock) is today's; one already past is tomorrow's, unless a day was said: 明天 /
  tomorrow keep their day, and 今天 / today / tonight with a time already past gives None (the caller
  asks). Midnight / 24点 is the next day's 00:00.
- Durations: 两小时, 两个半小时, 半小时, 一刻钟, 30分钟, 90 min, 1.5h, 2h30, an hour and a half, a couple of
  hours, 两天 / 3 days. 半天 / half a day is no duration (half a working day has no fixed length). Zero,
  negative (-2 hours, 负两小时) and longer than MAX_DURATION are None.
- A duration is an end (parse_clock, manual status) only with its marker: 一小时后 / 一小时以内 / 过一小时,
  for / in / within / after 2 hours, 2 hours from now. A bare duration (开会一小时, 请假两天) is no end.
- Manual status: an end is used only when it is said as one: 到 / 直到 / 至 / until / till / by / before /
  back at, 前 / 之前 / 为止 / 回来 / 结束 after it, a range (三点到五点), or a marked duration. "下午三点开会"
  says when a meeting starts, not until when one is busy: it stays in the text. An end that cannot be
  read (开会到25点, 开会到明天) stays in the text too, with until None. The activity is the text before the
  end clause (after it when nothing is before: 三点前都在开会), without fillers, 我 / 我现在 / 正在 / I'm /
  I am / currently / set my status to, trailing particles (呢 / 吧 / 啊) and "now"; None when nothing is left.
  A leading 在 goes only before an activity verb (我在开会 → 开会, 在面试 → 面试); before a place it stays
  (在客户那边, 在家办公), like the English preposition does (at the dentist).
- Audience: a mention said after "only / 只 / 仅" (or after "except / 除了" in a message that hides) wins;
  else the widest group named without a negation (everyone > team > chain); else a hiding word (隐藏,
  不公开, nobody, private, hide), a negated everyone (别让大家看, don't show anyone) or both team and chain
  refused (不给同事和领导看) mean nobody. A negation covers what it is said before, and the names joined
  to that by 和 / 或 / and / or. "Hide it from my team" hides from everyone: a status cannot be hidden
  from one group only. A lone negated group ("别让同事看到") gives None: the caller asks.
- Reply language: the first language named without a negation; when only one is named and negated
  (不要用中文, don't answer in English) the other one; both (中英文, bilingual) is None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Callable

from assistant.expense_text import (
    EN_ONES,
    EN_TENS,
    TEXT_PUNCT,
    _cn2an,
    _english_words_value,
    prepare_text,
)
from assistant.word_patterns import HESITATION, alternation

MAX_TEXT = 300  # characters read from a message: a status command is short, a paste is not one
MAX_STATUS = 100  # characters of a status text; longer ones are cut with "…"
MAX_DURATION = timedelta(days=30)


# --- Public types ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManualStatus:
    """What a person says they are doing, trimmed ("开会", "in a meeting", "at the dentist"), and until when:
    an aware datetime in the tz of the `now` it was read with, or None when no end was said."""

    text: str
    until: datetime | None


# --- Text helpers ------------------------------------------------------------------------------------------

_FULLWIDTH_PUNCT = str.maketrans("：，；！？（）。～、’‘", ":,;!?().~,''")
_PUNCT = TEXT_PUNCT
_CLAUSE_BREAK_RE = re.compile(r"[,.;!?\n]")
_FILLER_RE = re.compile(HESITATION, re.IGNORECASE)


def _prepare(text: object) -> tuple[str, str]:
    return prepare_text(text, MAX_TEXT, _FULLWIDTH_PUNCT)


def _amount(token: str) -> Decimal | None:
    """A number said as digits (1.5), Chinese numerals (两, 一点五) or English words (forty five, a, a couple)."""
    token = re.sub(r"[\s-]+", " ", token.strip())
    if not token:
        return None
    if token in ("a", "an"):
        return Decimal(1)
    if "couple" in token:
        return Decimal(2)
    if token[0].isdigit():
        try:
            return Decimal(token)
        except InvalidOperation:
            return None
    if token[0].isascii():
        value = _english_words_value(token.split(" "))
        return Decimal(value) if value is not None else None
    return _cn2an(token)


def _whole(token: str) -> int | None:
    value = _amount(token)
    return int(value) if value is not None and value == value.to_integral_value() else None


# --- Words -------------------------------------------------------------------------------------------------

ZH_NUMERALS = "零〇一二两三四五六七八九十"
DAYS_ZH = {"今天": 0, "今日": 0, "今儿": 0, "今早": 0, "今晚": 0, "明天": 1, "明日": 1, "明儿": 1, "明早": 1,
           "明晚": 1, "后天": 2}
DAY_PERIODS_ZH = {"今早": "morning", "今晚": "night", "明早": "morning", "明晚": "night"}
PERIODS_ZH = {
    "凌晨": "dawn", "半夜": "night", "清晨": "morning", "早上": "morning", "早晨": "morning", "上午": "morning",
    "早": "morning", "中午": "noon", "下午": "pm", "傍晚": "evening", "晚上": "night", "夜里": "night",
    "夜间": "night", "晚": "night",
}
DAYS_EN = {"today": 0, "tonight": 0, "tomorrow": 1}
PERIODS_EN = {"morning": "morning", "afternoon": "pm", "evening": "evening", "night": "night"}
HOUR_WORDS_EN = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
ONES_1_9 = HOUR_WORDS_EN[:9]
TEENS_EN = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
            "nineteen")
CLOCK_PREPS = frozenset({"until", "till", "til", "'til", "by", "before", "at", "around", "about", "through", "thru",
                         "after"})  # after them a number alone is a time
END_PREPS = frozenset({"until", "till", "til", "'til", "by", "before", "through", "thru"})  # they say an end
RANGE_PREPS = frozenset({"to", "until", "till", "til", "'til", "through", "thru"})
ZH_WORD_AFTER_ONE = "起下个些直样块共定切旦般半会边同道"  # 一起, 一下, 一个 ... are no numbers
ZH_ONE_FALSE_FRIENDS = "快慢早晚多少好大小差高低近远再有点"  # 快一点, 晚一点, 一点一点: "a bit", not 1:00

# Activity verbs after which a leading 在 is the progressive (在开会 → 开会), not "at" (在家办公 stays).
ACTIVITY_VERBS_ZH = tuple(
    "开会 会议 忙 吃饭 吃午饭 吃晚饭 午休 休息 出差 面试 培训 上课 加班 打电话 通话 处理 写 看 改 做 跑 测试 调试 "
    "开发 讨论 汇报 值班 外出 请假 休假 睡觉 午睡 健身 参加 拜访 见客户 接待 准备 整理 赶 评审 排查 修 录 带 陪 等 "
    "review".split()
)


# --- Durations ---------------------------------------------------------------------------------------------

_UNIT_SECONDS = {"day": 86400, "hour": 3600, "minute": 60}
_UNIT_RANK = {"day": 3, "hour": 2, "minute": 1}
_ZH_UNITS = {"小时": "hour", "钟头": "hour", "分钟": "minute", "天": "day"}
_EN_NUMBER_WORDS = alternation([*EN_ONES, *EN_TENS, *(f"{t} {o}" for t in EN_TENS for o in ONES_1_9)])
_ZH_DURATION_RE = re.compile(
    rf"(?<![\d{ZH_NUMERALS}百.])(?:(?P<n>\d{{1,6}}(?:\.\d{{1,3}})?|[{ZH_NUMERALS}百]{{1,6}}(?:点[{ZH_NUMERALS}]{{1,3}})?)"
    r"\s*个?\s*(?P<half>半)?|(?P<half_only>半)\s*个?)\s*(?P<u>小时|钟头|分钟|天)"
    r"|(?<![\d.])(?P<min>\d{1,4})\s*分(?![钟之])"
    r"|(?<![\d一二两三])(?P<q>[一二两三])\s*刻钟"
)
_EN_DURATION_RE = re.compile(
    rf"(?<![a-z\d.'])(?:(?P<n>\d{{1,6}}(?:\.\d{{1,3}})?)(?:\s*-\s*|\s*)"
    rf"|(?<!half\s)(?P<nw>{_EN_NUMBER_WORDS}|an?|a\s+couple\s+of|couple\s+of|a\s+couple)(?:\s*-\s*|\s+))(?P<half>and\s+a\s+half\s+)?(?P<u>hours?|hrs?|minutes?|mins?|days?)(?![a-z])"
    r"(?P<half2>\s+and\s+a\s+half(?![a-z]))?"
    r"|(?<![a-z\d.])(?P<g>\d{1,3}(?:\.\d{1,2})?)(?P<gu>h|m)(?:(?P<gm>\d{1,2})m?)?(?![a-z\d])"
    r"|(?<![a-z])(?:an?\s+)?half\s+(?:an?\s+)?(?P<half_hour>hour)(?![a-z])"
    r"|(?<![a-z])(?:an?\s+)?(?P<quarter>quarter)\s+(?:of\s+an?\s+)?hour(?![a-z])"
)
_DURATION_JOIN_RE = re.compile(r"\s*(?:,|and|又|零)?\s*")
_NEGATIVE_BEFORE_RE = re.compile(r"(?:-|负|minus|negative)\s*$")


@dataclass(frozen=True)
class _Duration:
    start: int
    end: int
    unit: str  # the smallest unit said: pieces join only from larger to smaller units
    value: timedelta | None  # None: said, but no usable duration (negative, zero, too long, half a day)


def _duration_piece(m: re.Match[str]) -> _Duration | None:
    g = m.groupdict()
    if g.get("min"):
        amount, unit = Decimal(g["min"]), "minute"
    elif g.get("q"):
        amount, unit = Decimal(_whole(g["q"]) or 0) * 15, "minute"
    elif g.get("g"):
        amount, unit = Decimal(g["g"]), "hour" if g["gu"] == "h" else "minute"
        if g["gm"]:
            if unit != "hour":
                return None
            amount += Decimal(g["gm"]) / 60
    elif g.get("half_hour"):
        amount, unit = Decimal("0.5"), "hour"
    elif g.get("quarter"):
        amount, unit = Decimal("0.25"), "hour"
    else:
        said = g["u"]
        unit = _ZH_UNITS.get(said) or {"h": "hour", "m": "minute", "d": "day"}[said[0]]
        if g.get("half_only"):
            if unit == "day":
                return None  # 半天: half a working day, no fixed length
            amount = Decimal("0.5")
        else:
            said_amount = g.get("n") or g.get("nw")
            amount = _amount(said_amount) if said_amount else None
            if amount is None:
                return None
            if g.get("half") or g.get("half2"):
                amount += Decimal("0.5")
    seconds = int(amount * _UNIT_SECONDS[unit])
    return _Duration(m.start(), m.end(), unit, timedelta(seconds=seconds))


def _durations(norm: str) -> list[_Duration]:
    """Every duration in normalized text, in order; adjacent pieces from larger to smaller units are one
    (一小时二十分钟, 2 hours 30 minutes, an hour and 15 minutes)."""
    pieces = sorted(
        (p for pattern in (_ZH_DURATION_RE, _EN_DURATION_RE) for m in pattern.finditer(norm)
         if (p := _duration_piece(m)) is not None),
        key=lambda p: (p.start, -p.end),
    )
    joined: list[_Duration] = []
    for piece in pieces:
        last = joined[-1] if joined else None
        if last and piece.start < last.end:
            continue
        if (last and _UNIT_RANK[piece.unit] < _UNIT_RANK[last.unit] and last.value is not None
                and piece.value is not None and _DURATION_JOIN_RE.fullmatch(norm, last.end, piece.start)):
            joined[-1] = _Duration(last.start, piece.end, piece.unit, last.value + piece.value)
        else:
            joined.append(piece)
    checked = []
    for found in joined:
        value = found.value
        if _NEGATIVE_BEFORE_RE.search(norm, max(0, found.start - 10), found.start) or not value \
                or value > MAX_DURATION:
            value = None
        checked.append(replace(found, value=value))
    return checked


# --- Times of day ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    """A time of day as said, before am / pm and the day are decided."""

    start: int
    end: int
    hour: int
    minute: int
    period: str | None = None  # am, morning, dawn, noon, pm, evening, night
    day: int | None = None  # days from today, when said (今天 0, 明天 1)
    bare: bool = False  # a number alone: a time only after a preposition or in a range
    prep: str | None = None  # the English preposition said before it


_ZH_MINUTE = (r"(?:\d{2}(?!\d)|零[一二三四五六七八九]|[二三四五]?十[一二三四五六七八九]?"
              r"|\d(?=\s*分)|[一二三四五六七八九](?=\s*分))")
_ZH_PREFIX = rf"(?:(?P<day>{alternation(DAYS_ZH)})\s*)?(?:(?P<period>{alternation(PERIODS_ZH)})\s*)?"
_AMPM = r"(?P<ap>[ap])\.?\s?m\.?(?![a-z])"
_EN_HOUR = alternation(HOUR_WORDS_EN)
_EN_MINUTE = (rf"(?:(?:oh|o)[\s-]+{alternation(ONES_1_9)}|{alternation(('twenty', 'thirty', 'forty', 'fifty'))}"
              rf"(?:[\s-]+{alternation(ONES_1_9)})?|{alternation(TEENS_EN)})")
_NOT_A_DURATION = (r"(?!\s*(?:and\s+a\s+half\s+)?(?:hours?|hrs?|minutes?|mins?|days?|weeks?|months?|years?|seconds?|"
                   r"secs?|people|persons?|times?|of)(?![a-z]))")
_NOT_A_COUNT_ZH = r"(?!\s*(?:点|时|个|小时|钟|分|天|号|月|年|岁|人|次|周|刻|位|%|块|元|倍))"

_ZH_CLOCK_RE = re.compile(
    rf"{_ZH_PREFIX}(?<![\d{ZH_NUMERALS}第])(?:(?P<h>\d{{1,3}})\s*(?:点钟|点|时)|(?P<hz>[{ZH_NUMERALS}]{{1,4}})\s*(?:点钟|点))"
    rf"(?:\s*(?:(?P<half>半)|(?P<q>[一三])刻|(?P<m>{_ZH_MINUTE})\s*分?|整)|(?![\d一二三四五六七八九零〇点儿]))"
)
_COLON_RE = re.compile(rf"{_ZH_PREFIX}(?<![\d:.])(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?![\d:])(?:\s*{_AMPM})?")
_EN_AMPM_RE = re.compile(rf"(?<![\d:.])(?P<h>\d{{1,2}})(?:\.(?P<m>\d{{2}}))?\s*{_AMPM}")
_EN_WORDS_RE = re.compile(
    rf"{_EN_HOUR}(?:[\s-]+(?P<m>{_EN_MINUTE}))?(?:\s*(?P<oc>o'?\s?clock))?(?:\s*{_AMPM})?(?![a-z]){_NOT_A_DURATION}"
)
_EN_DIGITS_RE = re.compile(
    rf"(?<![\d:.a-z])(?P<h>\d{{1,2}})(?![\d:]|\.\d)(?:\s*(?P<oc>o'?\s?clock))?(?![a-z]){_NOT_A_DURATION}{_NOT_A_COUNT_ZH}"
)
_EN_PAST_TO_RE = re.compile(
    rf"(?<![a-z])(?:(?P<half>half)|(?:a\s+)?(?P<q>quarter)|(?P<m>{_EN_NUMBER_WORDS}|\d{{1,2}})(?P<mins>\s+minutes?)?)"
    rf"\s+(?P<rel>past|after|to|till|before|of)\s+(?P<h>{_EN_HOUR}|\d{{1,2}})(?![\d:a-z])"
)
_NOON_RE = re.compile(r"(?<![a-z])(?P<w>noon|midday|midnight)(?![a-z])|(?P<zw>正午|午夜)")
_ZH_BARE_RE = re.compile(
    rf"(?<![{ZH_NUMERALS}百千万第\d])(?P<hz>[一二两三四五六七八九十]{{1,3}})(?![{ZH_NUMERALS}百千万{ZH_WORD_AFTER_ONE}])"
    rf"{_NOT_A_COUNT_ZH}"
)
_PREP_RE = re.compile(
    r"(?<![a-z'])(?P<prep>until|till|til|'til|by|before|at|around|about|from|to|through|thru|after|since|starting)"
    r"\s+(?:(?:about|around|roughly|approximately|like)\s+)?$"
)
_EN_SUFFIX_RE = re.compile(
    rf"\s+(?:(?P<d>{alternation(DAYS_EN)})(?:\s+(?P<p1>{alternation(PERIODS_EN)}))?"
    rf"|(?:this|in\s+the|every|tomorrow)\s+(?P<p2>morning|afternoon|evening)|at\s+(?P<p3>night))(?![a-z])"
)
_EN_PREFIX_RE = re.compile(
    rf"(?<![a-z])(?:(?P<d>{alternation(DAYS_EN)})\s+)?(?:(?:this\s+|in\s+the\s+)?(?P<p>{alternation(PERIODS_EN)})\s+)?$"
)


def _zh_clock(m: re.Match[str]) -> _Clock | None:
    hour = _whole(m["h"] or m["hz"])
    if m["half"]:
        minute = 30
    elif m["q"]:
        minute = 15 if m["q"] == "一" else 45
    else:
        minute = _whole(m["m"]) if m["m"] else 0
    if hour is None or minute is None:
        return None
    start = m.start("day") if m["day"] else m.start("period") if m["period"] else m.start("h" if m["h"] else "hz")
    if m["hz"] == "一" and not (m["half"] or m["q"] or m["m"]) and not m["day"] and (
            m["period"] in ("早", "晚") or (start and m.string[start - 1] in ZH_ONE_FALSE_FRIENDS)):
        return None  # 晚一点, 快一点: "a bit"
    period = PERIODS_ZH.get(m["period"] or "") or DAY_PERIODS_ZH.get(m["day"] or "")
    day = DAYS_ZH[m["day"]] if m["day"] else None
    return _Clock(start, m.end(), hour, minute, period, day)


def _colon_clock(m: re.Match[str]) -> _Clock:
    period = ("am" if m["ap"] == "a" else "pm") if m["ap"] else (
        PERIODS_ZH.get(m["period"] or "") or DAY_PERIODS_ZH.get(m["day"] or ""))
    start = m.start("day") if m["day"] else m.start("period") if m["period"] else m.start("h")
    return _Clock(start, m.end(), int(m["h"]), int(m["m"]), period, DAYS_ZH[m["day"]] if m["day"] else None)


def _ampm_clock(m: re.Match[str]) -> _Clock:
    return _Clock(m.start(), m.end(), int(m["h"]), int(m["m"] or 0), "am" if m["ap"] == "a" else "pm")


def _words_clock(m: re.Match[str]) -> _Clock | None:
    hour = _whole(m.group(0).split()[0].split("-")[0])
    minute = _whole(re.sub(r"^o(?:h)?[\s-]+", "", m["m"])) if m["m"] else 0
    if hour is None or minute is None:
        return None
    period = ("am" if m["ap"] == "a" else "pm") if m["ap"] else None
    return _Clock(m.start(), m.end(), hour, minute, period, bare=not (m["m"] or m["oc"] or m["ap"]))


def _digits_clock(m: re.Match[str]) -> _Clock:
    return _Clock(m.start(), m.end(), int(m["h"]), 0, bare=not m["oc"])


def _past_to_clock(m: re.Match[str]) -> _Clock | None:
    hour = _whole(m["h"])
    minutes = 30 if m["half"] else 15 if m["q"] else _whole(m["m"])
    if hour is None or minutes is None or minutes >= 60:
        return None
    if m["rel"] in ("past", "after"):
        return _Clock(m.start(), m.end(), hour, minutes)
    if m["half"] or not (m["q"] or m["mins"]):
        return None  # "ten to five" is also a range: only "quarter to five" and "ten minutes to five"
    return _Clock(m.start(), m.end(), (hour - 1) % 12 or 12, 60 - minutes)


def _noon_clock(m: re.Match[str]) -> _Clock:
    word = m["w"] or m["zw"]
    return _Clock(m.start(), m.end(), 12, 0, "noon" if word in ("noon", "midday", "正午") else "night")


def _zh_bare_clock(m: re.Match[str]) -> _Clock | None:
    hour = _whole(m["hz"])
    return _Clock(m.start(), m.end(), hour, 0, bare=True) if hour is not None else None


_CLOCK_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], _Clock | None]]] = [
    (_ZH_CLOCK_RE, _zh_clock), (_COLON_RE, _colon_clock), (_EN_AMPM_RE, _ampm_clock),
    (_EN_PAST_TO_RE, _past_to_clock), (_EN_WORDS_RE, _words_clock), (_NOON_RE, _noon_clock),
    (_EN_DIGITS_RE, _digits_clock), (_ZH_BARE_RE, _zh_bare_clock),
]


def _with_context(norm: str, clock: _Clock) -> _Clock:
    """The clock with the English preposition before it (until 3) and the day and part of the day said
    around it (tomorrow 9am, four this afternoon, 9 tomorrow morning, every evening at six)."""
    start, end, period, day, prep = clock.start, clock.end, clock.period, clock.day, None
    if m := _PREP_RE.search(norm, max(0, start - 30), start):
        start, prep = m.start(), m["prep"]
    if m := _EN_SUFFIX_RE.match(norm, end):
        end = m.end()
        day = DAYS_EN[m["d"]] if m["d"] and day is None else day
        said = m["p1"] or m["p2"] or m["p3"] or ("night" if m["d"] == "tonight" else None)
        period = period or (PERIODS_EN[said] if said else None)
    if (m := _EN_PREFIX_RE.search(norm, max(0, start - 30), start)) and (m["d"] or m["p"]):
        start = m.start()
        day = DAYS_EN[m["d"]] if m["d"] and day is None else day
        said = m["p"] or ("night" if m["d"] == "tonight" else None)
        period = period or (PERIODS_EN[said] if said else None)
        if prep is None and (m := _PREP_RE.search(norm, max(0, start - 30), start)):
            start, prep = m.start(), m["prep"]
    bare = clock.bare and period is None and day is None
    return replace(clock, start=start, end=end, period=period, day=day, bare=bare, prep=prep)


def _clocks(norm: str) -> list[_Clock]:
    """Every time of day in normalized text, in order, not overlapping (the earliest, then the longest),
    bare numbers included: the caller decides whether a bare one is a time."""
    found = [c for pattern, build in _CLOCK_PATTERNS for m in pattern.finditer(norm) if (c := build(m)) is not None]
    kept: list[_Clock] = []
    for clock in sorted(found, key=lambda c: (c.start, -c.end)):
        if not kept or clock.start >= kept[-1].end:
            kept.append(clock)
    return [_with_context(norm, clock) for clock in kept]


def _accepted(clock: _Clock) -> bool:
    """Whether a clock is a time on its own: not a bare number, or one after until / at / by ..."""
    return not clock.bare or clock.prep in CLOCK_PREPS


def _hour24(hour: int, period: str | None, work_rule: bool = True) -> int | None:
    """The hour on a 24-hour clock (24 is midnight at the end of the day), or None when impossible."""
    if period is None:
        hour = hour + 12 if work_rule and 1 <= hour <= 7 else hour
    elif period in ("am", "dawn", "morning"):
        if hour > 12:
            return None
        hour = 0 if hour == 12 and period != "morning" else hour
    elif period == "noon":
        hour = hour + 12 if 1 <= hour <= 5 else hour
    elif period in ("pm", "evening"):
        hour = hour + 12 if hour < 12 else hour
    elif period == "night":
        hour = 24 if hour == 12 else hour + 12 if 5 <= hour < 12 else hour
    return hour if 0 <= hour <= 24 else None


def _minutes(clock: _Clock, work_rule: bool = True) -> int | None:
    """Minutes after midnight (24:00 is 1440), or None when the hour or minute is out of range."""
    hour = _hour24(clock.hour, clock.period, work_rule)
    if hour is None or not 0 <= clock.minute <= 59 or (hour == 24 and clock.minute):
        return None
    return hour * 60 + clock.minute


def _range_end(first: _Clock, second: _Clock, work_rule: bool = True) -> int | None:
    """The end of a range in minutes after midnight: without its own am / pm it is after the start."""
    if second.period is not None or first.period is None:
        return _minutes(second, work_rule)
    start, end = _minutes(first, work_rule), _minutes(second, work_rule=False)
    if start is None or end is None:
        return None
    return end + 720 if end < 720 and end <= start else end


_RANGE_GAP_RE = re.compile(r"\s*(?:-|–|—|~|到|至|(?<![a-z])(?:to|until|till|til|through|thru)(?![a-z]))\s*")


def _is_range(norm: str, first: _Clock, second: _Clock) -> bool:
    if second.prep in RANGE_PREPS and not norm[first.end:second.start].strip():
        return True
    return second.prep is None and bool(_RANGE_GAP_RE.fullmatch(norm, first.end, second.start))


# --- End times ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _End:
    start: int  # the whole end clause, markers included (到三点前, until 3pm, back in an hour)
    end: int
    when: datetime | None
    marked: bool  # said as an end (until, 到, 前, 回来, a range, a marked duration)


_ZH_END_BEFORE_RE = re.compile(r"(?:(?:一直|直|等)?到|至|截至|截止到?)\s*$")
_ZH_FROM_RE = re.compile(r"从\s*$")
_EN_BACK_BEFORE_RE = re.compile(
    r"(?<![a-z'])(?:(?:i'?ll|i\s+will|will|i'?m|i\s+am|should|gonna)\s+)?(?:be\s+)?"
    r"(?:back|returning|free|available|done|finished|over|online)\s+$"
)
_ZH_END_AFTER_RE = re.compile(
    r"\s*(?:左右)?\s*(?P<w>(?:之|以)?前|为止|(?:之|以)?后)?"
    r"(?:\s*(?P<v>(?:就|才|再|会)?\s*(?:回来|回公司|回办公室|回|结束|完事|开完|完|有空|空闲|在线|上线)))?"
)
_EN_END_AFTER_RE = re.compile(r"\s*(?:or\s+so|-?ish)(?![a-z])")
_ZH_RELATIVE_AFTER_RE = re.compile(r"\s*(?:左右)?\s*(?:之后|以后|后|之内|以内|内)")
_ZH_RELATIVE_BEFORE_RE = re.compile(r"(?:再)?过\s*$")
_EN_RELATIVE_BEFORE_RE = re.compile(
    r"(?<![a-z'])(?:(?:(?:i'?ll|i\s+will|will)\s+)?(?:be\s+)?(?:back|free|available|done|returning)\s+)?"
    r"(?:for|in|within|after)\s+(?:the\s+)?(?:next\s+)?(?:another\s+|about\s+|around\s+|roughly\s+|approximately\s+"
    r"|like\s+)?$"
)
_EN_RELATIVE_AFTER_RE = re.compile(r"\s+(?:from\s+now|later)(?![a-z])")


def _at(clock: _Clock, minutes: int | None, now: datetime) -> datetime | None:
    """The datetime of a time of day: today's, tomorrow's when already past, the day said when one was."""
    if minutes is None:
        return None
    days = clock.day or 0
    if minutes == 1440:
        minutes, days = 0, days + 1
    when = now.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0) + timedelta(days=days)
    if when <= now:
        if clock.day is not None:
            return None  # 今天三点 said at 16:30: the caller asks
        when += timedelta(days=1)
    return when


def _clock_clause(norm: str, start: int, end: int, english_end: bool) -> tuple[int, int, bool]:
    """The end clause around a time: (start, end, whether it is said as an end)."""
    marked = english_end
    if m := _ZH_END_BEFORE_RE.search(norm, max(0, start - 6), start):
        start, marked = m.start(), True
    elif m := _EN_BACK_BEFORE_RE.search(norm, max(0, start - 30), start):
        start, marked = m.start(), True
    elif m := _ZH_FROM_RE.search(norm, max(0, start - 3), start):
        start = m.start()
    if (m := _ZH_END_AFTER_RE.match(norm, end)) and (m["w"] or m["v"]):
        end, marked = m.end(), True
    elif m := _EN_END_AFTER_RE.match(norm, end):
        end = m.end()
    return start, end, marked


def _ends(norm: str, now: datetime) -> list[_End]:
    """Every end said in normalized text, in order: times of day, ranges (their end), marked durations."""
    ends: list[_End] = []
    clocks = _clocks(norm)
    i = 0
    while i < len(clocks):
        first = clocks[i]
        second = clocks[i + 1] if i + 1 < len(clocks) else None
        if second and (_accepted(first) or not second.bare) and _is_range(norm, first, second):
            clock = replace(second, day=second.day if second.day is not None else first.day)
            start, _, _ = _clock_clause(norm, first.start, first.end, False)
            _, end, _ = _clock_clause(norm, second.start, second.end, False)
            ends.append(_End(start, end, _at(clock, _range_end(first, second), now), True))
            i += 2
            continue
        if _accepted(first):
            start, end, marked = _clock_clause(norm, first.start, first.end, first.prep in END_PREPS)
            ends.append(_End(start, end, _at(first, _minutes(first), now), marked))
        i += 1
    for found in _durations(norm):
        start, end = found.start, found.end
        if m := _ZH_RELATIVE_AFTER_RE.match(norm, end):
            end = m.end()
            if (after := _ZH_END_AFTER_RE.match(norm, end)) and after["v"]:
                end = after.end()
        elif m := _EN_RELATIVE_AFTER_RE.match(norm, end):
            end = m.end()
        elif m := _EN_RELATIVE_BEFORE_RE.search(norm, max(0, start - 40), start):
            start = m.start()
            if after := _EN_END_AFTER_RE.match(norm, end):
                end = after.end()
        elif m := _ZH_RELATIVE_BEFORE_RE.search(norm, max(0, start - 3), start):
            start = m.start()
            if (after := _ZH_END_AFTER_RE.match(norm, end)) and after["v"]:
                end = after.end()
        else:
            continue  # a bare duration (开会一小时) is no end
        ends.append(_End(start, end, now + found.value if found.value else None, True))
    return sorted(ends, key=lambda e: e.start)


def parse_clock(text: str, now: datetime) -> datetime | None:
    """The first end time said: '到三点' '三点半' '下午3点' '15:30' 'until 3pm' 'till four thirty'
    '到明天上午十点' 'until tomorrow 9am' '五点前'; in a range (三点到五点) its end.

    A bare hour 1-7 without am / 上午 / 早上 means pm (work hours). A time already past today (after the
    am / pm rule) means tomorrow. Also accepts an end given as a duration relative to now ('一小时后', 'for
    2 hours', 'in 30 minutes'). Returns an aware datetime in `now`'s time zone, or None."""
    _, norm = _prepare(text)
    if not norm.strip():
        return None
    return next((e.when for e in _ends(norm, now) if e.when is not None), None)


def parse_duration(text: str) -> timedelta | None:
    """The first duration said: '两小时' '2 hours' '两个半小时' '一个半小时' '半小时' '30分钟' '90 min' 'an hour'
    'one and a half hours' '1.5h' 'for 45 minutes'. Clock times (三点半, 3点30分) are no durations. None
    when none is said, or when it is zero, negative or longer than MAX_DURATION."""
    _, norm = _prepare(text)
    if not norm.strip():
        return None
    blanked = list(norm)
    for clock in _clocks(norm):
        if not clock.bare:
            blanked[clock.start:clock.end] = " " * (clock.end - clock.start)
    found = _durations("".join(blanked))
    return found[0].value if found else None


# --- Manual status -----------------------------------------------------------------------------------------

_LEADING_ZH_RE = re.compile(
    r"(?:嗯+|呃+|额(?=\s)|那个|就是|然后|好的|帮我|麻烦)"
    r"|(?:把|将)?(?:我的)?(?:当前|现在的)?状态(?:设置|设定|设|改|更新|切换|调)?(?:成|为|到|是)?(?:一下)?\s*:?"
    r"|(?:设置|设|改|更新)(?:一下)?(?:我的)?状态(?:为|成|到|是)?\s*:?"
    r"|我现在|我目前|我正|我(?!们)|现在|目前|此刻|眼下|都|还|也|一直"
)
_LEADING_EN_RE = re.compile(
    r"(?:(?:um+|uh+|uhm|erm|hmm+|so|ok|okay|well|hey|please)(?![a-z])"
    r"|(?:set|change|update|put)\s+(?:my\s+)?status\s+(?:to|as)(?![a-z])\s*:?"
    r"|mark\s+me\s+(?:as\s+)?|(?:my\s+)?status(?:\s+is)?\s*:|my\s+status\s+is(?![a-z])"
    r"|i'?m\s+(?:going\s+to|gonna)\s+be(?![a-z])|i\s+am\s+(?:going\s+to|gonna)\s+be(?![a-z])"
    r"|i'?ll\s+be(?![a-z])|i\s+will\s+be(?![a-z])|gonna\s+be(?![a-z])|will\s+be(?![a-z])"
    r"|i'?m(?![a-z])|i\s+am(?![a-z])|im(?![a-z])"
    r"|currently(?![a-z])|right\s+now(?![a-z])|now(?![a-z])|at\s+the\s+moment(?![a-z])|just(?![a-z])"
    r"|still(?![a-z]))"
)
_TRAILING_ZH_RE = re.compile(
    r"(?:呢|啊|哦|哈|啦|吧|呀|嘛|哟|喔|噢|嗯|呃|然后|大概|大约|估计|预计|应该|可能|差不多|一直)$"
)
_TRAILING_EN_RE = re.compile(
    r"(?<![a-z'])(?:right\s+now|now|at\s+the\s+moment|atm|currently|and|then|but|so|till|until|i'?ll\s+be|"
    r"i\s+will\s+be|will\s+be|be|i'?ll|probably|maybe|about|around|roughly|approximately|um+|uh+)$"
)
_ZAI_BEFORE_VERB_RE = re.compile(rf"正?在\s*(?={alternation(ACTIVITY_VERBS_ZH)})|正在")


def _activity(original: str, norm: str, start: int, end: int) -> str:
    """original[start:end] without the words around an activity (我在, I'm, 呢, now, fillers)."""
    norm = _FILLER_RE.sub(lambda m: " " * len(m.group()), norm)  # positions kept: 我在 呃 开会 → 开会
    previous = None
    while previous != (start, end):
        previous = (start, end)
        while start < end and norm[start] in _PUNCT:
            start += 1
        while end > start and norm[end - 1] in _PUNCT:
            end -= 1
        for pattern in (_LEADING_ZH_RE, _LEADING_EN_RE, _ZAI_BEFORE_VERB_RE):
            if (m := pattern.match(norm, start, end)) and m.end() > start:
                start = m.end()
                break
        for pattern in (_TRAILING_ZH_RE, _TRAILING_EN_RE):
            if (m := pattern.search(norm, start, end)) and m.start() < end:
                end = m.start()
                break
    text = re.sub(r"\s+", " ", _FILLER_RE.sub(" ", original[start:end])).strip(_PUNCT)
    return text if len(text) <= MAX_STATUS else text[:MAX_STATUS - 1].rstrip() + "…"


def parse_manual_status(text: str, now: datetime) -> ManualStatus | None:
    """'我在开会，到三点' -> ('开会', today 15:00); 'in a meeting until 3pm' -> ('in a meeting', 15:00);
    '出去吃饭 一小时后回来' -> ('出去吃饭', now+1h); "I'm at the dentist till 4:30" -> ('at the dentist', 16:30);
    '请假半天' -> ('请假半天', None) ... None when no activity text remains (e.g. '到三点' alone)."""
    original, norm = _prepare(text)
    if not norm.strip() or len(text.strip()) > MAX_TEXT:
        return None  # a paste is no status
    end = next((e for e in _ends(norm, now) if e.marked and e.when is not None), None)
    if end is None:
        activity = _activity(original, norm, 0, len(norm))
    else:
        activity = _activity(original, norm, 0, end.start) or _activity(original, norm, end.end, len(norm))
    if not activity or activity in ("在", "正在") or not any(ch.isalnum() for ch in activity):
        return None
    return ManualStatus(activity, end.when if end else None)


# --- Working hours and the daily time ----------------------------------------------------------------------

_ZH_IDIOM_HOURS_RE = re.compile(
    r"(?:朝|早上?)(?P<a>[一二三四五六七八九十]{1,2}|\d{1,2})(?:点(?P<ah>半)?)?\s*(?:晚上?|傍晚)"
    r"(?P<b>[一二三四五六七八九十]{1,2}|\d{1,2})(?:点(?P<bh>半)?)?"
)
_START_AFTER_RE = re.compile(r"\s*(?:开始)?(?:上班|开工|到岗|到公司|开始工作)")
_END_AFTER_RE = re.compile(r"\s*(?:下班|收工|结束|离开|走)")
_START_BEFORE_RE = re.compile(
    r"(?:上班|开工|到岗)(?:时间)?(?:是|为|在)?\s*$"
    r"|(?<![a-z])(?:start|starts|starting|begin|begins|get\s+in|come\s+in|arrive|clock\s+in)(?:\s+work(?:ing)?)?\s*$"
)
_END_BEFORE_RE = re.compile(
    r"(?:下班|收工)(?:时间)?(?:是|为|在)?\s*$"
    r"|(?<![a-z])(?:finish|finishes|leave|off|end|ends|done|stop|out|go\s+home|log\s+off|clock\s+out)"
    r"(?:\s+work(?:ing)?)?\s*$"
)


def _hours(first: _Clock, second: _Clock) -> tuple[time, time] | None:
    start, end = _minutes(first, work_rule=False), _minutes(second, work_rule=False)
    if second.period is None and start is not None and end is not None and end < 720 and end <= start:
        end += 720  # 十点到七点: a bare end hour not after the start is pm
    if start is None or end is None or end >= 1440 or end <= start:
        return None
    return time(start // 60, start % 60), time(end // 60, end % 60)


def parse_working_hours(text: str) -> tuple[time, time] | None:
    """'十点到七点' -> (10:00, 19:00); '九点半上班六点半下班' -> (9:30, 18:30); 'my working hours are 10am to 7pm';
    '8:30-17:30'; '早上8点到下午5点'; '9-6'; 'nine to five'; '朝九晚五'. The end is after the start (a bare end
    hour <= start is pm); hours across midnight (晚上十点到早上六点) are None."""
    _, norm = _prepare(text)
    if not norm.strip():
        return None
    if m := _ZH_IDIOM_HOURS_RE.search(norm):
        first = _Clock(m.start(), m.end(), _whole(m["a"]) or 0, 30 if m["ah"] else 0, "morning")
        second = _Clock(m.start(), m.end(), _whole(m["b"]) or 0, 30 if m["bh"] else 0, "evening")
        return _hours(first, second)
    clocks = _clocks(norm)
    for first, second in zip(clocks, clocks[1:], strict=False):
        if _is_range(norm, first, second):
            return _hours(first, second)
    times = [c for c in clocks if _accepted(c)]
    starts = [c for c in times if _START_AFTER_RE.match(norm, c.end) or _START_BEFORE_RE.search(norm, 0, c.start)]
    ends = [c for c in times if _END_AFTER_RE.match(norm, c.end) or _END_BEFORE_RE.search(norm, 0, c.start)]
    if starts and ends and starts[0] is not ends[0]:
        return _hours(starts[0], ends[0])
    return _hours(times[0], times[1]) if len(times) >= 2 else None


def parse_daily_time(text: str) -> time | None:
    """The time of day for a daily message: '每天早上九点' -> 9:00, 'at 9am', '18:00', '下班前' -> None unless
    a time is said, 'every evening at six' -> 18:00 ('晚上'/'evening'/'下午'/'pm' add 12 to hours < 12; a
    bare hour 1-7 is pm, as everywhere here; midnight is 00:00)."""
    _, norm = _prepare(text)
    if not norm.strip():
        return None
    for clock in _clocks(norm):
        if _accepted(clock):
            minutes = _minutes(clock)
            return None if minutes is None else time(minutes // 60 % 24, minutes % 60)
    return None


# --- Audience ----------------------------------------------------------------------------------------------

AUDIENCE_ORDER = ("everyone", "team", "chain")  # widest first
_AUDIENCE_PATTERNS: list[tuple[str, str]] = [
    ("nobody", r"谁都不|谁也不|不给任何人|别让任何人|不让任何人|不要让任何人|任何人都不|隐藏|不公开|别公开"
               r"|不要公开|私密|保密|只(?:有|给|让)?我自己|仅(?:我)?自己|仅我|自己可见|只(?:有|给|让)我(?=\s*(?:能|可以|看|可见|知道)|\s*$)"),
    ("nobody", r"(?<![a-z])(?:nobody|no\s+one|noone|no-one|no\s+body|private(?:ly)?|hide|hidden|invisible"
               r"|(?:only|just)\s+(?:me|myself)|to\s+myself|myself\s+only)(?![a-z])"),
    ("team", r"(?:团队|组里|组内|我们组|本组|小组)(?:里|内)?的?(?:所有人|大家|每个人|全员|同事|人)"
             r"|(?:所有|全部|全体)同事"),
    ("team", r"(?<![a-z])(?:everyone|everybody|anyone|anybody|all)\s+(?:of\s+|on\s+|in\s+|from\s+)?(?:my|our|the)\s+"
             r"(?:team|group)(?![a-z])"),
    ("chain", r"领导|上级|经理|老板|主管|上司|汇报线|直属"),
    ("chain", r"(?<![a-z])(?:(?:my\s+)?(?:manager|management)\s+chain|managers?|boss(?:es)?|supervisors?|my\s+lead"
              r"|reporting\s+line|higher[\s-]ups|superiors)(?![a-z])"),
    ("team", r"团队|组里|组内|我们组|本组|组员|队友|小组|同事"),
    ("team", r"(?<![a-z])(?:(?:my|our)\s+team|team\s*mates?|team\s+members?|teams?|colleagues?|co-?workers?"
             r"|(?:my|our)\s+group)(?![a-z])"),
    ("everyone", r"所有人|大家|全公司|公开|全员|每个人|任何人|谁都可以|谁都能|全部人"),
    ("everyone", r"(?<![a-z])(?:everyone|everybody|anybody|anyone|public(?:ly)?|(?:the\s+)?(?:whole|entire)\s+company"
                 r"|all(?!\s+(?:of\s+)?(?:my|our|the|your)\s))(?![a-z])"),
]
_AUDIENCE_RES = [(category, re.compile(pattern)) for category, pattern in _AUDIENCE_PATTERNS]
_HIDE_RE = re.compile(r"hide|hidden|invisible|隐藏|屏蔽")
_NEGATION_RE = re.compile(
    r"不(?!管|论|过|错|仅)|(?<![特区分个类识性告])别|勿|没|禁止|隐藏|屏蔽|拒绝"
    r"|(?<![a-z])(?:not|don'?t|do\s+not|doesn'?t|never|no|hide|hidden|invisible|without|nor|can'?t|cannot|shouldn'?t|won'?t"
    r"|exclude|excluding|block|instead\s+of|rather\s+than)(?![a-z])"
)
_ONLY_RE = re.compile(r"只有|只给|只让|只|仅限|仅|(?<![a-z])(?:only|just|exclusively)(?![a-z])")
_EXCEPT_RE = re.compile(
    r"除了|除|(?<![a-z])(?:except(?:\s+for)?|but|other\s+than|apart\s+from|besides|save\s+for)(?![a-z])"
)
_JOINED_RE = re.compile(
    r"\s*(?:和|或者|或|跟|与|以及|,|/|&|(?<![a-z])(?:and|or|nor)(?![a-z]))\s*(?:my|our|the|我的|我们的|我)?\s*"
)
_NEGATED_AFTER_RE = re.compile(
    r"[^,.;!?]{0,4}?(?:看不到|看不见|不能看|不可见|不可以看|不要看|别看|不让看|不给看|隐藏|屏蔽)"
    r"|\s+(?:[a-z']+\s+){0,2}?(?:can'?t|cannot|can\s+not|shouldn'?t|should\s+not|mustn'?t|won'?t|doesn'?t|don'?t"
    r"|isn'?t|not)(?![a-z])"
)
_ONLY_AFTER_RE = re.compile(r"\s+only(?![a-z])|\s*(?:才能看|才可以看|可见就行)")


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    category: str
    flag: str | None  # None, "neg", "only", "except"


def _mentions(norm: str) -> list[_Mention]:
    """The audience words in normalized text, in order, each with the negation, "only" or "except" said
    before it (since the previous mention), or a negation right after it (同事看不到)."""
    spans: list[tuple[int, int, str]] = []
    for start, neg_end, category in sorted((m.start(), -m.end(), category) for category, pattern in _AUDIENCE_RES
                                           for m in pattern.finditer(norm)):
        if not spans or start >= spans[-1][1]:
            spans.append((start, -neg_end, category))
    mentions: list[_Mention] = []
    for i, (start, end, category) in enumerate(spans):
        following = spans[i + 1] if i + 1 < len(spans) else None
        after_end = len(norm) if following is None else \
            following[1] if _HIDE_RE.fullmatch(norm, following[0], following[1]) else following[0]
        previous = mentions[-1] if mentions else None
        window_start = max(previous.end if previous else 0, start - 30)
        if previous and _HIDE_RE.fullmatch(norm, previous.start, previous.end):
            window_start = max(previous.start, start - 30)  # hide my status from everyone
        if breaks := list(_CLAUSE_BREAK_RE.finditer(norm, window_start, start)):
            window_start = breaks[-1].end()
        markers = sorted(
            [(m.start(), "neg") for m in _NEGATION_RE.finditer(norm, window_start, start)]
            + [(m.start(), "only") for m in _ONLY_RE.finditer(norm, window_start, start)]
            + [(m.start(), "except") for m in _EXCEPT_RE.finditer(norm, window_start, start)]
        )
        if markers:
            flag: str | None = markers[-1][1]
        elif previous and _JOINED_RE.fullmatch(norm, previous.end, start):
            flag = previous.flag  # 不给同事和领导看: the negation covers both
        else:
            flag = None
        if category != "nobody" and _NEGATED_AFTER_RE.match(norm, end, after_end):
            flag = "neg"
        elif _ONLY_AFTER_RE.match(norm, end, after_end):
            flag = "only"
        mentions.append(_Mention(start, end, category, flag))
    return mentions


def parse_audience(text: str) -> str | None:
    """Who may see my status: 'everyone' | 'team' | 'chain' | 'nobody'.

    everyone: 所有人 大家 全公司 公开 everyone anybody anyone all public; team: 团队 组里 同事 我们组 my team
    teammates colleagues; chain: 领导 上级 经理 老板 主管 manager managers boss manager chain 只给我领导; nobody:
    谁都不 不给任何人 别让任何人 隐藏 不公开 只有我自己 nobody no one noone private hide only me. Negations matter:
    '不给任何人看' -> nobody, '别让同事看到 只给领导看' -> chain, 'hide my status from everyone' -> nobody. None when
    no audience is named (or only a group to leave out)."""
    _, norm = _prepare(text)
    mentions = _mentions(norm) if norm.strip() else []
    hiding = any(m.flag == "neg" or (m.category == "nobody" and m.flag is None) for m in mentions)
    flags = [(m.category, ("only" if hiding else "neg") if m.flag == "except" else m.flag) for m in mentions]
    only = [c for c, f in flags if f == "only"]
    if wanted := [c for c in AUDIENCE_ORDER if c in only]:
        return wanted[0]
    if only:
        return "nobody"
    if wanted := [c for c in AUDIENCE_ORDER if (c, None) in flags]:
        return wanted[0]
    if ("nobody", None) in flags or ("everyone", "neg") in flags or {("team", "neg"), ("chain", "neg")} <= set(flags):
        return "nobody"  # 隐藏, don't show anyone, 不给同事和领导看
    return None


# --- Reply language ----------------------------------------------------------------------------------------

_LANGUAGE_PATTERNS = [
    ("both", r"中英文|中英双语|中英|双语|(?<![a-z])(?:bilingual|both\s+languages)(?![a-z])"),
    ("zh", r"简体中文|繁体中文|中文|汉语|普通话|国语|华语|中国话|汉字|(?<![a-z])(?:chinese|mandarin)(?![a-z])"),
    ("en", r"英文|英语|(?<![a-z])english(?![a-z])"),
]
_LANGUAGE_RES = [(lang, re.compile(pattern)) for lang, pattern in _LANGUAGE_PATTERNS]
_LANGUAGE_NEGATION_RE = re.compile(
    r"不(?!管|论|过|错)|(?<![特区分个类识性告])别|从(?!现在|今天|明天|以后|此|今)|而非"
    r"|(?<![a-z])(?:not|don'?t|do\s+not|no|never|stop|instead\s+of|rather\s+than|from(?!\s+now)|can'?t|cannot"
    r"|without)(?![a-z])"
)
_LANGUAGE_NEGATED_AFTER_RE = re.compile(r"\s*(?:我)?(?:看不懂|不懂|听不懂|不会|不行|不好|太差|不太好|不熟)")


def parse_reply_language(text: str) -> str | None:
    """'zh' or 'en': the language the user asks to be answered in: '以后都用英文回复我' -> 'en', 'always answer
    me in Chinese' -> 'zh', '请说中文' -> 'zh', 'switch to English' -> 'en', 'reply in english' -> 'en',
    '用汉语' -> 'zh', '不要用中文' -> 'en'. None when no language is named, or both are (中英文, bilingual)."""
    _, norm = _prepare(text)
    if not norm.strip():
        return None
    found = sorted((m.start(), -m.end(), lang) for lang, pattern in _LANGUAGE_RES for m in pattern.finditer(norm))
    said: list[tuple[str, bool]] = []  # (language, negated)
    last_end = 0
    for start, neg_end, lang in found:
        if start < last_end:
            continue
        window_start = max(last_end, start - 25)
        if breaks := list(_CLAUSE_BREAK_RE.finditer(norm, window_start, start)):
            window_start = breaks[-1].end()
        after = _LANGUAGE_NEGATED_AFTER_RE.match(norm, -neg_end)
        said.append((lang, bool(after) or bool(_LANGUAGE_NEGATION_RE.search(norm, window_start, start))))
        last_end = after.end() if after else -neg_end
    wanted = [lang for lang, negated in said if not negated]
    if wanted:
        return None if wanted[0] == "both" else wanted[0]
    refused = {lang for lang, _ in said} - {"both"}
    if len(refused) == 1:
        return "en" if refused == {"zh"} else "zh"
    return None
