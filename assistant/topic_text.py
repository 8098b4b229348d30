"""What an employee says about a topic, turned into the arguments of a topic command.

The NLU model says *which* command a message is (open_topic, add_to_topic, record_conclusion...); this
module reads *its arguments* from the text: a new topic's title, the people named, a claim or topic
number, a conclusion, a note, what to link, what to search for. Like assistant/expense_text.py it is
deterministic, needs no model, and reads typed text and voice-to-text transcripts alike (no punctuation,
lower case, fillers such as 嗯 / 那个 / um, numbers spelled out: 报销单四十二, claim forty two).

It reads, it does not resolve: people come back as the raw strings typed (张伟, "Wei Zhang", 我的团队,
研发部, my team) for `Directory.resolve` to turn into employees, groups or a question; numbers come back
as numbers, without checking that the claim or topic exists.

Decisions worth knowing (tests/test_topic_text.py pins each of them):
- Every function accepts any string (empty, huge, garbage, None) and answers None / [] / "" instead of
  raising. Only the first MAX_TEXT characters are read.
- Full-width letters, digits and punctuation count as their ASCII forms (：，＃４２); what is returned is
  cut from the original text, so names and titles keep the case and characters they were typed with.
- A claim is named by 报销单 / 报销 / 单子 / 单号 / 申请单 + number (报销单42, 报销42, 单号#42), a number
  + 号 + 报销单 / 单 (23号报销单), or claim / expense claim / reimbursement + number (claim 42, claim #42,
  claim number 42, claim forty two). A topic by 话题 + number (话题7, 话题 #7), 第7个话题, 7号话题 or topic
  + number (topic 7, topic #7, topic number seven). Chinese numerals are read with expense_text's helper
  (cn2an): 报销单四十二 = 42, 第七个话题 = 7; a lone 一 / 两 glued to a following Chinese word is no
  number (话题一起讨论).
- A leading article is not part of a title or a group: "the Q3 budget" → "Q3 budget", "the finance
  team" → "finance team". Group phrases are reduced to the group: 研发部的人 / 研发部的同事 → 研发部,
  "everyone from finance" / "all of engineering" / "the sales people" → finance / engineering / sales.
  我的团队 / my team / my reports are kept whole: the directory knows them.
- Pronouns (他 / 她 / him / her / them) are no names: "周杰不用参与了 把他移出去" gives the name the
  message opened with (周杰), "把他也拉上" alone gives nothing.
- Names are split at 和 / 跟 / 与 / 及 / 以及 / 还有 / 、 / ，/ "," / and / & / plus; Chinese names separated
  only by spaces (孙浩 周杰) are split too, English names never at a space (Wei Zhang is one name).
- A conclusion or a note needs its frame (结论是 / 记录结论 / 定了 / 大家一致同意 / conclusion: / we
  concluded that / we agreed that; 记一下 / 备注 / 待办 / note: / make a note / jot down / remember
  that): without it, or with nothing after it, the answer is None and the caller asks. "remember that" and
  "remember to" count only at the start of the message.
- parse_link prefers, in order, a URL (document), a claim, a topic, then a person named around 关联 / link
  / associate / connect; "this topic", "here", "it" are never a person.
- search_query strips the question frame from both ends (之前 / 有没有人 / 讨论过 / 吗 / did anyone discuss
  / before / ?) and keeps the middle as said; it returns "" when nothing is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from assistant.expense_text import TEXT_PUNCT, _small_number, prepare_text
from assistant.language import CJK
from assistant.word_patterns import alternation

MAX_TEXT = 2000  # characters read from a message: a topic command is short, a paste is not a command
MAX_NAME = 40  # longer "names" are sentences, not names
MAX_TITLE = 80
MAX_NUMBER = 999_999_999
PRESENT_WINDOW = 30  # "刘洋 李娜都要在" is looked for at the end of a message only
MAX_CHUNK = 120  # characters after a verb read for names

LinkKind = Literal["claim", "topic", "person", "document"]


@dataclass(frozen=True)
class OpenRequest:
    """A new topic: its title, the people named (raw, for the directory), the claim it is bound to.

    `current_claim` is True when the message binds the topic to a claim without a number ("针对这张报销单开个
    话题", "discuss this claim"): the caller takes the claim the conversation is about.
    """

    title: str | None
    people: list[str] = field(default_factory=list)
    claim_id: int | None = None
    current_claim: bool = False


@dataclass(frozen=True)
class LinkRequest:
    """What to link to a topic: a claim id, a topic id (both as digit strings), a person's name, a URL."""

    kind: LinkKind
    target: str


# --- Text helpers ------------------------------------------------------------------------------------------

_HAS_CJK_RE = re.compile(f"[{CJK}]")
_PUNCT = TEXT_PUNCT
_ZH_NUMERAL = "零〇一二三四五六七八九十百千万两"
_ZH_WORD_AFTER_ONE = "起下个些直样块共定切点旦次会边同道般半"  # 一起, 一下, 一个 ... are no numbers

FILLERS_ZH = ("嗯嗯", "嗯", "呃", "额", "那个", "就是", "然后", "好的", "ok", "okay")
FILLERS_EN = ("um", "uh", "erm", "hmm", "so", "like", "ok", "okay", "well", "yeah", "hey", "please", "alright")
PRONOUNS = frozenset({"他", "她", "它", "他们", "她们", "ta", "him", "her", "them", "it", "this", "that", "these",
                      "those", "here", "there", "this one", "that one", "someone", "somebody", "everyone", "everybody",
                      "we", "you", "us", "they", "我们", "你", "你们", "大家"})


_FULLWIDTH_PUNCT = str.maketrans("：，；！？（）＃。", ":,;!?()#.")
_FILLER_START_RE = re.compile(
    rf"(?:[\s{re.escape(_PUNCT)}]*(?:{alternation(FILLERS_ZH)}|{alternation(FILLERS_EN)}))+"
)


def _prepare(text: object) -> tuple[str, str]:
    return prepare_text(text, MAX_TEXT, _FULLWIDTH_PUNCT)


def _clean(text: str) -> str:
    """Collapse white space and take punctuation off both ends."""
    return re.sub(r"\s+", " ", text).strip(_PUNCT)


def _body_start(norm: str) -> int:
    """Where the message starts once leading punctuation and fillers (嗯 / 那个 / um / so / please) are skipped."""
    pos = 0
    while True:
        m = _FILLER_START_RE.match(norm, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    while pos < len(norm) and norm[pos] in _PUNCT:
        pos += 1
    return pos


def _strip_fillers(text: str) -> str:
    """`text` without leading fillers, with its white space collapsed and no punctuation at either end."""
    _, norm = _prepare(text)
    return _clean(text[_body_start(norm):])


def _number(token: str) -> int | None:
    """Digits, Chinese numerals or English number words as an int in 0..MAX_NUMBER, else None."""
    token = token.strip()
    if not token or len(token) > 40:
        return None
    try:
        value = _small_number(token)
    except Exception:  # noqa: BLE001 - a parser of free text answers None, it never raises
        return None
    return value if value is not None and 0 <= value <= MAX_NUMBER else None


_REF_GAP_RE = re.compile(r"\s*(?:#\s*|no\.?\s*|number\s+|nr\.?\s*|编号\s*)?")
_DIGITS_RE = re.compile(r"\d{1,9}(?!\d)")
_ZH_NUMERAL_RE = re.compile(f"[{_ZH_NUMERAL}]{{1,8}}")
_EN_NUMBER_WORDS_RE = re.compile(r"[a-z]+(?:[\s-]+[a-z]+){0,3}")


def _read_number(norm: str, start: int) -> int | None:
    """The number right after `start` (white space, #, no., number allowed between): 42, 四十二, forty two."""
    pos = _REF_GAP_RE.match(norm, start).end()  # always matches (everything in it is optional)
    if m := _DIGITS_RE.match(norm, pos):
        return _number(m.group())
    if m := _ZH_NUMERAL_RE.match(norm, pos):
        run, after = m.group(), norm[m.end():m.end() + 1]
        glued = bool(after) and bool(_HAS_CJK_RE.match(after)) and after not in "号的"
        if run in ("一", "两") and glued:  # 话题一起, 报销一下, 两个
            return None
        if run.endswith("一") and after and after in _ZH_WORD_AFTER_ONE:  # 十一下? no: 第十一个 is fine
            return None
        return _number(run)
    if m := _EN_NUMBER_WORDS_RE.match(norm, pos):
        words = re.split(r"[\s-]+", m.group())
        for n in range(len(words), 0, -1):  # the longest run of words that is a number: "forty two please"
            value = _number(" ".join(words[:n]))
            if value is not None:
                return value
    return None


def _cut(text: str, stop: re.Pattern[str]) -> str:
    """`text` up to the first match of `stop`."""
    m = stop.search(text)
    return text[: m.start()] if m else text


# --- Claim and topic references ------------------------------------------------------------------------------

_CLAIM_BEFORE_RE = re.compile(
    r"报销单号|报销单|报销申请|报销|申请单|单号|单子|单据"
    r"|(?<![a-z])(?:expense\s+claim|claim|reimbursement|expense\s+report)(?![a-z])"
)
_CLAIM_AFTER_RE = re.compile(
    rf"(?<![\d{_ZH_NUMERAL}])(\d{{1,9}}|[{_ZH_NUMERAL}]{{1,8}})\s*(?:号\s*(?:报销单|报销|单子|单)|报销单)"
)
_THIS_CLAIM_RE = re.compile(
    r"(?:这张|这个|这份|该|当前|本)(?:报销单|报销|单子)"
    r"|(?<![a-z])(?:this|the\s+current|that|my)\s+(?:expense\s+)?(?:claim|reimbursement)(?![a-z])"
)
_TOPIC_BEFORE_RE = re.compile(r"话题|化题|(?<![a-z])topic(?![a-z])")
_TOPIC_ORDINAL_RE = re.compile(rf"第\s*(\d{{1,9}}|[{_ZH_NUMERAL}]{{1,8}})\s*个?\s*(?:话题|化题)")
_TOPIC_HAO_RE = re.compile(rf"(?<![\d{_ZH_NUMERAL}])(\d{{1,9}}|[{_ZH_NUMERAL}]{{1,8}})\s*号\s*(?:话题|化题)")
_TOPIC_EN_ORDINAL_RE = re.compile(r"(?<![a-z\d])(\d{1,9})(?:st|nd|rd|th)\s+topic(?![a-z])")


def _first_ref(norm: str, before: re.Pattern[str], others: tuple[re.Pattern[str], ...]) -> int | None:
    """The number of the leftmost reference: a word followed by a number, or a pattern whose group 1 is one."""
    found: list[tuple[int, int]] = []
    for m in before.finditer(norm):
        value = _read_number(norm, m.end())
        if value is not None:
            found.append((m.start(), value))
            break
    for pattern in others:
        if (m := pattern.search(norm)) and (value := _number(m.group(1))) is not None:
            found.append((m.start(), value))
    return min(found)[1] if found else None


def parse_claim_ref(text: str) -> int | None:
    """The claim a message names by number: 报销单42, 报销42, 23号报销单, 报销单四十二, claim #42, claim number 42,
    claim forty two. None when no claim is named by number."""
    _, norm = _prepare(text)
    return _first_ref(norm, _CLAIM_BEFORE_RE, (_CLAIM_AFTER_RE,))


def parse_topic_ref(text: str) -> int | None:
    """The topic a command names by number: 话题7, 话题 #7, 第7个话题, 7号话题, 话题七, topic 7, topic #7, topic
    number seven, the 7th topic. None means "this topic": the one of the room the message is said in."""
    _, norm = _prepare(text)
    return _first_ref(norm, _TOPIC_BEFORE_RE, (_TOPIC_ORDINAL_RE, _TOPIC_HAO_RE, _TOPIC_EN_ORDINAL_RE))


# --- People --------------------------------------------------------------------------------------------------

_GROUP_WORDS_ZH = r"所有人|全部人|全体成员|全体|人员|同事们|同事|同学|伙伴|成员|人们|人|大家"
_GROUP_SUFFIX_ZH_RE = re.compile(rf"(?:那边|那里|这边|里)?的?(?:{_GROUP_WORDS_ZH})$")
_MY_TEAM_ZH = frozenset({"组里", "组内", "组", "我们组里", "团队", "团队里", "我们团队", "我们团队里"})
_GROUP_EN_RE = re.compile(
    r"^(?:everyone|everybody|all|people|folks|the\s+people|all\s+the\s+people)\s+(?:from|in|of|on)\s+(?:the\s+)?(.+)$"
    r"|^(?:all\s+of|the\s+whole|the\s+entire|whole|entire|all)\s+(?:the\s+)?(.+?)"
    r"(?:\s+(?:folks|people|guys|staff|colleagues))?$"
    r"|^(.+?)\s+(?:folks|people|guys|colleagues)$"
)
_COUNT_PEOPLE_RE = re.compile(
    rf"^(?:[{_ZH_NUMERAL}\d]+\s*(?:个人|位同事|个同事|位)|(?:two|three|four|five|\d+)\s+(?:more\s+)?people)"
    r"\s*[:：]?\s*",
    re.IGNORECASE,
)
_SPLIT_ZH_RE = re.compile(r"\s*(?:以及|还有|和|跟|与|及|、|,|，|;|；|/|&)\s*")
_SPLIT_EN_RE = re.compile(r"\s*(?:,|;|/|&|(?<![a-z])(?:and|plus|as\s+well\s+as)(?![a-z]))\s*", re.IGNORECASE)
_LEADING_JUNK_ZH = ("再把", "把", "再", "也", "还", "给", "让", "请", "将", "一下", "一起", "一个", "一位", "个", "位")
_TRAILING_JUNK_ZH = ("一起", "也", "都", "吧", "了", "呢", "啊", "呀", "哈", "等人", "等")
_EN_EDGE_WORDS = frozenset(
    "also too as well please here now again and with to the a an in into on onto from off out of this topic "
    "discussion thread conversation chat group".split()
)
_NOT_A_NAME_RE = re.compile(
    r"话题|化题|讨论|群|报销|单子|结论|文档|链接"
    r"|(?<![a-z])(?:topics?|discussions?|threads?|claims?|conversation|chat|room|docs?|documents?|links?)(?![a-z])"
    r"|https?://"
)


def _reduce_group(name: str) -> str:
    """研发部的人 → 研发部, 人事的吴婷 → 吴婷, 组里的人 → 我的团队; "everyone from finance" → finance, "the whole
    sales team" → sales team, "the sales people" → sales. 我的团队 / my team stay as they are."""
    if _HAS_CJK_RE.search(name):
        if name.startswith(("我的", "我们的")):
            return name
        reduced = _GROUP_SUFFIX_ZH_RE.sub("", name)
        if reduced != name:
            return "我的团队" if reduced in _MY_TEAM_ZH else (reduced or name)
        if "的" in name:  # 人事的吴婷: a qualifier, then the name
            return name.rsplit("的", 1)[1] or name
        return "我的团队" if name in ("组里", "组内") else name
    m = _GROUP_EN_RE.match(name.lower())
    if m:
        group = next(i for i in (1, 2, 3) if m.group(i))
        return name[m.start(group):m.end(group)]
    return name


def _tidy_name(name: str) -> str:
    """One name as typed, without the function words around it (把 / 也 / 都 / the / too / please)."""
    previous = None
    while previous != name:
        previous = name
        name = _COUNT_PEOPLE_RE.sub("", _clean(name))
        for word in _LEADING_JUNK_ZH:
            if name.startswith(word) and len(name) > len(word):
                name = name[len(word):]
        for word in _TRAILING_JUNK_ZH:
            if name.endswith(word) and len(name) > len(word):
                name = name[: -len(word)]
        words = name.split(" ")
        while len(words) > 1 and words[0].lower() in _EN_EDGE_WORDS | set(FILLERS_EN):
            words = words[1:]
        while len(words) > 1 and words[-1].lower() in _EN_EDGE_WORDS:
            words = words[:-1]
        name = re.sub(r"['’]s$", "", " ".join(words))
    return _reduce_group(name)


def _is_name(name: str) -> bool:
    low = name.lower()
    if not name or low in PRONOUNS or len(name) > MAX_NAME or len(name.split()) > 5 or _NOT_A_NAME_RE.search(low):
        return False
    if _HAS_CJK_RE.search(name):
        return len(name) >= 2 or name == "我"
    return bool(re.search(r"[a-z]", low))


def _split_names(chunk: str) -> list[str]:
    """A run of names split into names, each tidied; pronouns, sentences and topic words dropped."""
    chunk = _clean(chunk)
    if not chunk:
        return []
    pieces = _SPLIT_ZH_RE.split(chunk) if _HAS_CJK_RE.search(chunk) else _SPLIT_EN_RE.split(chunk)
    names: list[str] = []
    for piece in pieces:
        parts = _clean(piece).split(" ")
        # Chinese names side by side with only a space between them: 孙浩 周杰. English names stay whole.
        if len(parts) > 1 and all(re.fullmatch(f"[{CJK}]{{2,4}}", p) for p in parts):
            subs = parts
        else:
            subs = [piece]
        for sub in subs:
            name = _tidy_name(sub)
            if _is_name(name) and name not in names:
                names.append(name)
    return names


# Chinese: 把 X (也 / 都) VERB; VERB X (STOP); X 也 / 不用 ... (a sentence that opens with the name).
_ZH_MOVE_VERBS = tuple(
    "拉进来 拉进 拉到 拉入 拉上 拉回 加进来 加进 加到 加入 加上 加一下 "
    "邀请 请进来 请进 请出去 请出 叫进来 叫进 叫上 叫来 喊上 带上 放进 "
    "放到 移出 移除 移到 踢出 踢掉 踢了 删掉 删除 删出 删了 去掉 "
    "去除 剔除 拿掉 撤出 清出 从 关联 拉 加 也 都 一起"
    .split()
)
_ZH_BA_RE = re.compile(f"把(?P<who>[^,，。;；!！?？]{{1,40}}?){alternation(_ZH_MOVE_VERBS)}")
_ZH_VERBS_FIRST = tuple(
    "拉上 拉 邀请 请 叫上 叫 喊上 带上 加上 加 让 移除 "
    "去掉 踢掉 踢出 删除 删掉 移出 剔除 拿掉 去除 拉进 加进 缺 "
    "少了 不用 不要 不需要 参与人 参与者"
    .split()
)
_ZH_VERB_FIRST_RE = re.compile(alternation(_ZH_VERBS_FIRST))
_ZH_STOP_RE = re.compile(
    r"进来|进去|进|加入|参与|也|都|一起|一块儿|一块|来|到|出去|出|从|这个|那个|当前|话题|化题|讨论|吧|吗|了|里|中|在|把|"
    r"看看|看一下|过来|退出|去掉|删除|删掉|移出|移除|踢出|谢谢|谢了|多谢|好吗|可以吗|行吗|辛苦|[。;；!！?？]"
    r"|\s+(?=[把将去移踢删拉加叫请让])"
)
_ZH_LEADING_NAME_RE = re.compile(
    rf"(?P<who>[{CJK}a-z][{CJK}a-z .'\d]{{0,30}}?)\s*"
    r"(?:也|都|就|不用|不需要|不要|不必|没必要|拉错|加错|可以|得|要|先|还|应该|已经|需要|拉进|加进)"
)
_EN_VERBS = (
    "also add", "add", "ad", "added", "invite", "invited", "include", "cc", "loop in", "loop", "pull in", "pull",
    "bring in", "bring", "get", "put", "remove", "removed", "kick", "take", "drop", "boot", "unvite", "uninvite",
    "get rid of", "exclude", "missing", "cut", "need", "want",
)
_EN_VERB_RE = re.compile(alternation(_EN_VERBS))
_EN_STOP_RE = re.compile(
    r"(?<![a-z])(?:to|into|from|in|on|onto|out|off|as|too|also|please|here|there|now|by|because|since|i|we|he|she|"
    r"they|so|for|who|which|doesn'?t|don'?t|isn'?t|can|could|should|shouldn'?t|needs?|is|are|join|this|thanks|"
    r"thank\s+you|thx|the\s+(?:topic|discussion|thread|conversation))(?![a-z'])|[.;!?]"
)
_EN_JOIN_RE = re.compile(
    r"(?<![a-z])(?:can|could|should|let|have|want|need|like)\s+(?P<who>.{1,60}?)\s+(?:to\s+)?(?:join|come|be\s+in|hop\s+in)"
)
_EN_LEADING_NAME_RE = re.compile(
    r"(?P<who>[a-z][a-z .'\d-]{0,40}?)\s+(?:doesn'?t|does\s+not|don'?t|isn'?t|is\s+not|shouldn'?t|should|needs|"
    r"can|has|was|is)(?![a-z])"
)


_EN_EVERYONE_FROM_RE = re.compile(
    r"\s*(?:everyone|everybody|all|people|folks|all\s+the\s+people)\s+(?:from|in|of|on)\s+(?:the\s+)?"
    r"(?P<group>[a-z&]+(?:\s+(?:team|department|dept|group))?)(?![a-z])"
)


def _names_after(original: str, norm: str, verbs: re.Pattern[str], stop: re.Pattern[str]) -> list[str]:
    """The names after the first verb that is followed by any: 邀请刘洋加入 → 刘洋, "invite Yang Liu to" → Yang Liu."""
    for m in verbs.finditer(norm):
        if group := _EN_EVERYONE_FROM_RE.match(norm, m.end()):  # "add everyone from sales to ..."
            return _split_names(original[group.start("group"):group.end("group")])
        chunk = _cut(norm[m.end():m.end() + MAX_CHUNK], stop)
        if found := _split_names(original[m.end():m.end() + len(chunk)]):
            return found
    return []


def _leading_names(original: str, norm: str, pattern: re.Pattern[str], start: int) -> list[str]:
    if m := pattern.match(norm, start):
        return _split_names(original[m.start("who"):m.end("who")])
    return []


_ZH_PLACE_OF_RE = re.compile(r"(?:这个|当前|本)?(?:话题|讨论组?|化题|群)(?:成员)?(?:里|中)?的")


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """`text` with the matches of `pattern` replaced by spaces (positions kept)."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


def _people(original: str, norm: str, start: int) -> list[str]:
    original, norm = _blank(original, _ZH_PLACE_OF_RE), _blank(norm, _ZH_PLACE_OF_RE)  # 去掉话题里的吴婷
    if _HAS_CJK_RE.search(norm):
        names = [name for m in _ZH_BA_RE.finditer(norm, start)
                 for name in _split_names(original[m.start("who"):m.end("who")])]
        names = names or _names_after(original, norm, _ZH_VERB_FIRST_RE, _ZH_STOP_RE)
        names = names or _leading_names(original, norm, _ZH_LEADING_NAME_RE, start)
        if names:
            return list(dict.fromkeys(names))
    for m in _EN_JOIN_RE.finditer(norm, start):
        if names := _split_names(original[m.start("who"):m.end("who")]):
            return names
    names = _names_after(original, norm, _EN_VERB_RE, _EN_STOP_RE)
    return names or _leading_names(original, norm, _EN_LEADING_NAME_RE, start)


def parse_people(text: str) -> list[str]:
    """The people an add / remove command names, raw as typed, in order, without repeats.

    "把赵敏也拉进来" → ["赵敏"], "add Min Zhao and Li Na" → ["Min Zhao", "Li Na"], "把赵敏和孙浩移出去" →
    ["赵敏", "孙浩"], "把研发部的人都拉进来" → ["研发部"], "add my team" → ["my team"]. [] when no name is found.
    """
    original, norm = _prepare(text)
    return _people(original, norm, _body_start(norm)) if norm.strip() else []


# --- Opening a topic ------------------------------------------------------------------------------------------

_ZH_TITLE_INTRO_RE = re.compile(
    r"讨论一下|讨论讨论|讨论(?![组群])|聊聊|聊一聊|聊一下|聊下|说一下|说说|商量一下|商量|研究一下|研究|过一下|对一下|同步一下"
    r"|关于|主题是|主题为|主题|标题是|题目是|名字叫|叫做"
)
_ZH_NOUN_BEFORE_DISCUSS_RE = re.compile(r"(?:个|一个|发起|起|建|开|新|创建|新建)\s*$")
_ZH_TOPIC_NOUN_RE = re.compile(r"(?:话题|化题|讨论组|群聊|topic)(?:\s*[:：]\s*|\s+)")
_ZH_AROUND_RE = re.compile(
    r"(?:围绕|就|针对|关于|以)(?P<t>[^开建起创新拉][^,，。;；!！?？]{0,60}?)(?:为主题)?(?:单独)?(?:开|建|发起|起|创建|新建|拉)"
    r"(?:个|一个|一下)?(?:新的?)?(?:话题|讨论|化题)"
)
_ZH_OPEN_PHRASE_RE = re.compile(
    r"(?:开|建|发起|起|创建|新建|拉)(?:个|一个)?(?:新的?)?(?:话题|讨论组?|化题|群)(?:吧|一下)?"
)
_ZH_PEOPLE_CLAUSE_RE = re.compile(
    r"拉上|叫上|喊上|带上|加上|邀请|参与人|参与者|(?:并|再)?把|拉进|加进"
    r"|(?:和|跟|与)[^,，。;；]{1,24}?(?:一起|一块)"
    r"|[,，。;；!！?？]"
)
_ZH_OPEN_PEOPLE_RE = re.compile(r"(?:拉上|叫上|喊上|带上|加上|邀请|参与人|参与者|成员)\s*[:：]?\s*")
_ZH_OPEN_PEOPLE_STOP_RE = re.compile(r"一起|一块|讨论|商量|对一下|聊|同步|[,，。;；!！?？]")
_ZH_WITH_RE = re.compile(
    r"(?:和|跟|与)(?P<who>[^,，。;；]{1,24}?)(?:一起|一块儿?|对一下|讨论|商量|聊|沟通|过一下|同步)"
)
_ZH_NAME = rf"(?:(?![和都也要在])[{CJK}]){{2,4}}?"
_ZH_PRESENT_RE = re.compile(
    rf"(?:^|\s)(?P<who>{_ZH_NAME}(?:\s*[和、\s]\s*{_ZH_NAME})*?)\s*(?:都|也)?(?:要|得|会)?(?:在场|在|参加|参与|到场)"
    r"(?:吧|啊|哈)?$"
)
_ZH_TITLE_TRAILING = ("的事情", "的事儿", "的事", "这件事", "这个事", "的话题", "的讨论", "吧", "呢", "一下")

_EN_TOPIC_NOUN_RE = re.compile(r"(?<![a-z])(?:topic|thread|discussion|conversation|chat)(?![a-z])\s*:?\s*")
_EN_TITLE_INTRO_RE = re.compile(
    r"(?<![a-z])(?:about|regarding|re|concerning|on|for|to\s+discuss|to\s+go\s+over|to\s+review|to\s+talk\s+about"
    r"|discussing|called|named|titled)(?![a-z])\s*:?\s*"
)
_EN_LOOSE_INTRO_RE = re.compile(r"(?<![a-z])(?:about|regarding|concerning)(?![a-z])\s*")
_EN_AFTER_TALK_RE = re.compile(r"(?<![a-z])(?:talk|discuss|chat)(?![a-z])")
_EN_PEOPLE_CLAUSE_RE = re.compile(
    r"\s*(?:[,;.!?]|(?<![a-z])(?:with|and\s+(?:invite|add|include|loop\s+in|bring\s+in|cc)|invite|including|"
    r"include|please|together\s+with|plus|in\s+(?:a|the|this)\s+(?:topic|thread|discussion|chat))(?![a-z]))"
)
_EN_OPEN_PEOPLE_RE = re.compile(
    r"(?<![a-z])(?:with|invite|add|include|including|loop\s+in|bring\s+in|cc|together\s+with)\s+"
)
_EN_OPEN_PEOPLE_STOP_RE = re.compile(
    r"(?<![a-z])(?:about|regarding|on|to|for|please|into|in\s+(?:a|the|this)|so|who)(?![a-z])|[.;!?]"
)
_EN_TITLE_EDGE = frozenset("the a an about on for regarding please now today".split())
_EN_NOT_A_TITLE = frozenset(
    "start open create new make set up spin kick off begin topic thread discussion conversation a an the please "
    "now let's lets".split()
)


def _title_zh(original: str, norm: str, start: int) -> str | None:
    if m := _ZH_AROUND_RE.search(norm, start):
        return _clean(original[m.start("t"):m.end("t")])
    begin = None
    for m in _ZH_TITLE_INTRO_RE.finditer(norm, start):
        if m.group() == "讨论" and _ZH_NOUN_BEFORE_DISCUSS_RE.search(norm[:m.start()]):
            continue  # 发起讨论 / 开个讨论: the noun, not "discuss ..."
        begin = m.end()
        if m.group() == "讨论" and norm[begin:begin + 1] == "下" and not re.match(
                r"下(?:季度|周|个|月|半年|一|次|午|星期|礼拜|学期|年|阶段)", norm[begin:]):
            begin += 1  # 讨论下测试环境 = 讨论一下, 讨论下季度预算 keeps its 下
        break
    if begin is None and (m := _ZH_TOPIC_NOUN_RE.search(norm, start)):
        begin = m.end()
    if begin is None:
        return None
    rest = norm[begin:]
    end = begin + (m.start() if (m := _ZH_PEOPLE_CLAUSE_RE.search(rest)) else len(rest))
    if m := _ZH_PRESENT_RE.search(norm, max(begin - 1, end - PRESENT_WINDOW, 0), end):  # 刘洋 李娜都要在
        end = max(m.start(), begin)
    title = _clean(_ZH_OPEN_PHRASE_RE.sub(" ", original[begin:end]) if _ZH_OPEN_PHRASE_RE.search(norm[begin:end])
                   else original[begin:end])
    for word in _ZH_TITLE_TRAILING:
        if title.endswith(word) and len(title) > len(word):
            title = _clean(title[: -len(word)])
    return title or None


def _title_en(original: str, norm: str, start: int) -> str | None:
    begin = None
    for m in _EN_TITLE_INTRO_RE.finditer(norm, start):
        before = norm[start:m.start()]
        if _EN_TOPIC_NOUN_RE.search(before) or _EN_AFTER_TALK_RE.search(before):
            begin = m.end()
            break
    if begin is None and (m := _EN_TOPIC_NOUN_RE.search(norm, start)):
        begin = m.end()
    if begin is None and (m := _EN_LOOSE_INTRO_RE.search(norm, start)):
        begin = m.end()
    if begin is None:
        return None
    rest = norm[begin:]
    end = begin + (m.start() if (m := _EN_PEOPLE_CLAUSE_RE.search(rest)) else len(rest))
    words = _clean(original[begin:end]).split(" ")
    while words and words[0].lower() in _EN_TITLE_EDGE:
        words = words[1:]
    while words and words[-1].lower() in _EN_TITLE_EDGE:
        words = words[:-1]
    title = " ".join(words)
    if not re.search(r"[a-z\d]", title.lower()) or all(w.lower() in _EN_NOT_A_TITLE for w in words):
        return None
    return title


_CLAIM_TITLE_WORDS_RE = re.compile(
    rf"报销单号|报销单|报销|申请单|单号|单子|单据|单|expense|claims?|reimbursement|report|number|no\.?|this|that|the|my"
    rf"|current|这张|这个|这份|该|当前|本|号|#|的|\d+|[{_ZH_NUMERAL}]+|\s"
)


def _is_claim_title(title: str) -> bool:
    """A title that only names a claim (报销单42, claim 42, 这张报销单) is no title: the topic is bound to it."""
    _, norm = _prepare(title)
    return bool(re.search(r"报销|单|claim|reimbursement", norm)) and not _CLAIM_TITLE_WORDS_RE.sub("", norm)


def _open_people(original: str, norm: str, start: int) -> list[str]:
    people: list[str] = []
    if _HAS_CJK_RE.search(norm):
        for m in _ZH_OPEN_PEOPLE_RE.finditer(norm, start):
            chunk = _cut(norm[m.end():], _ZH_OPEN_PEOPLE_STOP_RE)
            people += _split_names(original[m.end():m.end() + len(chunk)])
        for m in _ZH_WITH_RE.finditer(norm, start):
            people += _split_names(original[m.start("who"):m.end("who")])
        for m in _ZH_BA_RE.finditer(norm, start):
            people += _split_names(original[m.start("who"):m.end("who")])
        if m := _ZH_PRESENT_RE.search(norm, max(start, len(norm) - PRESENT_WINDOW)):
            people += _split_names(original[m.start("who"):m.end("who")])
    if not people:
        for m in _EN_OPEN_PEOPLE_RE.finditer(norm, start):
            chunk = _cut(norm[m.end():], _EN_OPEN_PEOPLE_STOP_RE)
            people += _split_names(original[m.end():m.end() + len(chunk)])
    return list(dict.fromkeys(people))


def parse_open(text: str) -> OpenRequest:
    """A new topic: "开个话题讨论Q3预算，拉上张伟和陈静" → title Q3预算, people 张伟 陈静; "start a topic about the
    Q3 budget with Wei Zhang and Jing Chen" → title "Q3 budget"; "针对报销单42开个话题" / "discuss claim 42" →
    claim 42 and no title; "拉上我的团队" / "with my team" / "和研发部一起" → the group as said."""
    original, norm = _prepare(text)
    if not norm.strip():
        return OpenRequest(title=None)
    start = _body_start(norm)
    claim_id = _first_ref(norm, _CLAIM_BEFORE_RE, (_CLAIM_AFTER_RE,))
    current_claim = claim_id is None and bool(_THIS_CLAIM_RE.search(norm))
    title = _title_zh(original, norm, start) if _HAS_CJK_RE.search(norm) else None
    title = title or _title_en(original, norm, start)
    if title and _is_claim_title(title):
        title = None
    elif title and len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1].rstrip() + "…"
    people = [name for name in _open_people(original, norm, start) if name != title]
    return OpenRequest(title=title, people=people, claim_id=claim_id, current_claim=current_claim)


# --- Conclusions and notes -----------------------------------------------------------------------------------

_CONCLUSION_ZH_RE = re.compile(
    r"(?:(?:帮我)?(?:记录|记下|记一下|记个|写个|写下|定个|把|记)?(?:一下)?"
    r"(?:我们的|最终的?|最后的?|讨论的?|这事的?|这个的?|话题的?)?"
    r"(?:结论|决议|共识|讨论结果|最终结果|最终决定|最后决定)"
    r"(?:记下来|记一下|写下来|已定|已经定了|定为|如下|就是|是|为)?"
    r"|(?:大家|我们|团队)?(?:一致同意|一致决定|达成一致|达成共识|决定了|拍板了|敲定了|商量好了|说好了|定下来了|最后定了|定了))"
    r"\s*[:：]?\s*"
)
_CONCLUSION_EN_RE = re.compile(
    r"(?<![a-z'])(?:"
    r"(?:record|log|write\s+down|note|save|mark|put\s+down)(?:\s+this\s+as|\s+down)?(?:\s+the|\s+our)?"
    r"(?:\s+final)?\s+conclusion(?:\s+as|\s+that|\s+is)?"
    r"|(?:we'?ve\s+|we\s+have\s+)?reached\s+a\s+conclusion"
    r"|mark(?:ed)?\s+as\s+concluded"
    r"|(?:(?:the|our|final|my)\s+)*conclusion(?:\s+(?:is|was))?(?:\s+that)?"
    r"|(?:we\s+)?(?:have\s+|'ve\s+)?concluded(?:\s+that)?"
    r"|(?:(?:the|our|final|my)\s+)*(?:decision\s+we\s+reached|decision|verdict|outcome|resolution|takeaway|consensus"
    r"|result|bottom\s+line|final\s+call|final\s+answer)(?:\s+of\s+the\s+discussion)?(?:\s+(?:is|was))?"
    r"(?:\s+(?:that|to))?"
    r"|(?:(?:we|everyone|everybody|the\s+team|all\s+of\s+us)\s+)?(?:all\s+)?(?:have\s+|'ve\s+)?"
    r"(?:agreed|decided|settled|signed\s+off)(?:\s+(?:that|on|to))?"
    r"|it'?s\s+settled|settled\s+then"
    r")(?![a-z])\s*[:\-–]?\s*"
)
_CONCLUSION_WHOLE_EN_RE = re.compile(r"(?=(?:we'?re|we\s+are|we'?ll|we\s+will)\s+go(?:ing)?\s+with|we\s+landed\s+on)")
_NOTE_ZH_RE = re.compile(
    r"(?:帮我|请|麻烦)?(?:记一下待办事项|记一笔待办|记个待办|记录一个待办|记个笔记|记个事|记一条|记一下|记录一下|记下这个|记下来|"
    r"记下|记着|备注一下|加个备注|加一条备注|加一条笔记|添加笔记|添加备注|写个备注|写一条备忘|写个笔记|备注|备忘录|备忘|笔记|"
    r"待办事项|待办一下|待办|记录|提醒一下大家|提醒大家|todo)"
    r"\s*[:：]?\s*"
)
_NOTE_EN_RE = re.compile(
    r"(?<![a-z'])(?:"
    r"(?:make|take|keep|add|put\s+down|leave)\s+(?:a|this|one|another)\s+(?:quick\s+)?(?:note|todo|to-do|memo)"
    r"(?:\s+of\s+this|\s+to\s+self)?(?:\s+that|\s+to(?=\s))?"
    r"|add\s+to\s+(?:the\s+)?notes|quick\s+note|note\s+to\s+self|note\s+down(?:\s+that)?|note\s+that|noted"
    r"|please\s+note(?:\s+that)?|jot\s+(?:this\s+|that\s+|it\s+)?down(?:\s+that)?|write\s+down(?:\s+that)?"
    r"|action\s+item|to-?do|memo|note"
    r")(?![a-z])\s*[:\-–]?\s*"
)
_REMEMBER_RE = re.compile(r"remember\s+(?:that|to)(?![a-z])\s*[:\-–]?\s*")
FRAME_WINDOW = 12  # a frame is said first: at most this many characters after the fillers


def _after_frame(text: object, patterns: tuple[re.Pattern[str], ...], exact: tuple[re.Pattern[str], ...] = ()
                 ) -> str | None:
    """The words after the first frame that opens the message (`exact`: only right at its start), or None."""
    original, norm = _prepare(text)
    start = _body_start(norm)
    if start >= len(norm):
        return None
    best: re.Match[str] | None = None
    for pattern in patterns:
        m = pattern.search(norm, start, start + FRAME_WINDOW + 40)
        if m and m.start() - start <= FRAME_WINDOW and (best is None or m.start() < best.start()):
            best = m
    for pattern in exact:
        if (m := pattern.match(norm, start)) and (best is None or m.start() <= best.start()):
            best = m
    if best is None:
        return None
    return _strip_fillers(original[best.end():]) or None


def parse_conclusion(text: str) -> str | None:
    """The conclusion said after its frame: "记录结论：发票需要重新开具" → "发票需要重新开具", "conclusion: the
    invoice must be reissued" / "we concluded that the invoice must be reissued" → "the invoice must be
    reissued". None without a frame at the start of the message or without words after it."""
    return _after_frame(text, (_CONCLUSION_ZH_RE, _CONCLUSION_EN_RE), exact=(_CONCLUSION_WHOLE_EN_RE,))


def parse_note(text: str) -> str | None:
    """The note said after its frame: "记一下：周五之前把预算表发给财务" → "周五之前把预算表发给财务", "note: send
    the budget sheet to finance by Friday" → "send the budget sheet to finance by Friday". "remember that /
    remember to" count only when the message starts with them. None without a frame."""
    return _after_frame(text, (_NOTE_ZH_RE, _NOTE_EN_RE), exact=(_REMEMBER_RE,))


# --- Links ----------------------------------------------------------------------------------------------------

_URL_RE = re.compile(r"(?:https?://|www\.)[^\s，。；！？、\"'<>“”‘’（）()\[\]【】]+", re.IGNORECASE)
_LINK_ZH_RES = (
    re.compile(r"把(?P<who>.{1,40}?)(?:关联|链接|绑定)"),
    re.compile(r"(?:和|跟|与)(?P<who>.{1,40}?)(?:关联|绑定|链接)"),
    re.compile(r"(?:关联到|关联上|关联|链接到|链接|绑定)(?P<who>.+)"),
)
_LINK_EN_RES = (
    re.compile(r"(?<![a-z])(?:link|associate|connect|relate|tie|attach)\s+(?P<who>.{1,60}?)\s+(?:to|with)\s+"
               r"(?:this|the|here)(?![a-z])"),
    re.compile(r"(?<![a-z])(?:link|associate|connect|relate|tie)\s+(?:(?:this|it|this\s+topic|the\s+topic)\s+)?"
               r"(?:to|with)\s+(?P<who>.+)"),
    re.compile(r"(?<![a-z])(?:link|associate|connect|relate)\s+(?P<who>.+)"),
)
_LINK_STOP_RE = re.compile(
    r"这个|当前|本|话题|讨论|化题|起来|一下|吧|了|[,，。;；!！?？]"
    r"|(?<![a-z])(?:to|with|here|please|too|as\s+well|now|topic|discussion|thread)(?![a-z])"
)


def parse_link(text: str) -> LinkRequest | None:
    """What a link command names, in this order of preference: a URL (document), a claim (报销42, claim 42),
    a topic (话题7, topic 7), a person (把这个话题关联到李娜, link Li Na to this topic). None when nothing is."""
    original, norm = _prepare(text)
    if not norm.strip():
        return None
    if m := _URL_RE.search(original):
        return LinkRequest("document", m.group().rstrip(".,;:!?)"))
    if (claim := parse_claim_ref(original)) is not None:
        return LinkRequest("claim", str(claim))
    if (topic := parse_topic_ref(original)) is not None:
        return LinkRequest("topic", str(topic))
    start = _body_start(norm)
    for i, pattern in enumerate(_LINK_ZH_RES if _HAS_CJK_RE.search(norm) else _LINK_EN_RES):
        for m in pattern.finditer(norm, start):
            who_start, who_end = m.span("who")
            if i > 0:  # the end of a greedy tail is not known: cut it at the first word that is no name
                who_end = who_start + len(_cut(norm[who_start:who_end], _LINK_STOP_RE))
            if names := _split_names(original[who_start:who_end]):
                return LinkRequest("person", names[0])
    return None


# --- Search ---------------------------------------------------------------------------------------------------

_SEARCH_LEADING_ZH = tuple(
    "请问 帮我 麻烦 之前的 以前的 之前 以前 过去 历史上 历史话题里 历史 以往 "
    "曾经 有没有人 有没有 有人 大家 我们 谁 是不是 是否 在知识库里 知识库里 知识库 "
    "在话题里 话题里 的话题里 的讨论里 有关于 关于 有关 讨论过 讨论了 聊过 问过 说过 "
    "提到过 提到 有提到 有提过 提过 有讲过 讲过 有说过 谈过 话题 讨论 遇到过 "
    "有结论吗 有什么结论 搜一下 搜索一下 搜索 搜话题 搜 查查 查一下 "
    "查下 查 找一下 找找 找 看看 怎么处理 怎么"
    .split()
)
_SEARCH_TRAILING_ZH = tuple(
    "吗 没有 没 呢 啊 吧 的 里 中 什么 之前 以前 过去 "
    "讨论过什么 讨论过 讨论了什么 讨论 聊过什么 聊过 说过什么 说过 问过 提到过 有什么结论 有结论吗 "
    "有什么讨论 的讨论记录 讨论记录 的历史讨论 历史讨论 的讨论 的话题 话题 的结论 结论 的事情 的事 "
    "的情况 的问题 怎么处理的 怎么处理 怎么弄 怎么办 怎么做的 是什么 有哪些"
    .split()
)
_SEARCH_FRAME_EN = frozenset(
    "did does do has have had was were is are anyone anybody someone somebody people we everyone ever discuss "
    "discussed discussing discussion discussions talk talked talking about before previously earlier in the past "
    "search find look up for on topics topic threads thread conversations old past previous closed any anything "
    "knowledge base kb a an the what how who which they say said conclude concluded decide decided last time there "
    "come came mention mentioned ask asked handle handled of regarding re concerning conclusion conclusions please "
    "me show um uh so like hey can you could i want to know been through that which mention mentions mentioning "
    "mentioned".split()
)
_EN_WORD_RE = re.compile(r"[a-z0-9][a-z0-9'’&-]*")


def _search_zh(original: str, norm: str) -> str:
    leading = sorted(_SEARCH_LEADING_ZH + FILLERS_ZH, key=len, reverse=True)
    trailing = sorted(_SEARCH_TRAILING_ZH, key=len, reverse=True)
    start, end = 0, len(norm)
    changed = True
    while changed and start < end:
        changed = False
        while start < end and (norm[start] in _PUNCT or norm[start].isspace()):
            start, changed = start + 1, True
        while end > start and (norm[end - 1] in _PUNCT or norm[end - 1].isspace()):
            end, changed = end - 1, True
        for word in leading:
            if norm.startswith(word, start) and start + len(word) <= end:
                start, changed = start + len(word), True
                break
        for word in trailing:
            if norm.endswith(word, start, end) and end - len(word) >= start:
                end, changed = end - len(word), True
                break
        if (m := re.compile("[a-z]+").match(norm, start, end)) and m.group() in _SEARCH_FRAME_EN:
            start, changed = m.end(), True  # "search topics Q3预算"
    return _clean(original[start:end])


def search_query(text: str) -> str:
    """What to search the topics for, without the question around it: "之前关于住宿标准讨论过什么？" → "住宿标准",
    "did anyone discuss hotel limits before?" → "hotel limits". "" when nothing is left."""
    original, norm = _prepare(text)
    if not norm.strip():
        return ""
    if _HAS_CJK_RE.search(norm):
        return _search_zh(original, norm)
    words = [(m.start(), m.start() + len(m.group().rstrip("'’-"))) for m in _EN_WORD_RE.finditer(norm)]
    i, j = 0, len(words)
    while i < j and norm[words[i][0]:words[i][1]] in _SEARCH_FRAME_EN:
        i += 1
    while j > i and norm[words[j - 1][0]:words[j - 1][1]] in _SEARCH_FRAME_EN:
        j -= 1
    return _clean(original[words[i][0]:words[j - 1][1]]) if i < j else ""
