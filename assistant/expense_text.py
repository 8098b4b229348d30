"""What an employee says about an expense, turned into expense items: amounts, currencies, dates, categories.

This module is the single source of truth for those values; the NLU entities are only hints. It is
deterministic, needs no model, and reads typed text and voice-to-text transcripts alike (no punctuation,
lower case, fillers such as 嗯 / um, numbers spelled out: 五十八块, fifty eight yuan).

It reads, it does not judge: negative, zero, future and absurd values are returned as said, and the policy
layer refuses them with a reason.

Decisions worth knowing (the tests pin each of them):
- Currency defaults to CNY. 块 / 元 / yuan / ¥ / RMB are CNY (and 快, the input method's slip for 块, after a
  number: 58快; 一快 stays 一块 "together"), $ / dollars / 美元 / 美金 / 刀 are USD, € / euros
  / 欧元 are EUR. "bucks" says "money" but not which: it gets the default. Another currency named explicitly
  (港币 / HKD, 日元 / JPY / yen, 英镑 / GBP / £) is returned with its ISO code so the caller can refuse it;
  it is never silently read as CNY.
- A number is not an amount when it is part of a date or a time (11月20日, Nov 20, 22:30, 晚上十点半, 10pm),
  a reference (报销单42, claim #42, 第3笔), an ordinal (3rd), a count (两晚, 2 nights, 3个, 2 people), a
  percentage, a vague quantity (一百多) or glued to letters (A4纸, 5G, G1234), unless a currency word says
  otherwise. A lone Chinese numeral character (一, 两, 十) or a lone English word below ten (one, five) is
  an amount only with a currency word, so 一共, 两晚, 十分 or "one taxi" are not amounts; bare digits are.
- 中文 "X点Y" is a decimal (五十八点五 = 58.5) unless a time-of-day word precedes it (晚上十点三) or a time
  word follows (十点半, 十点三十分); "X点" alone is a time.
- A minus sign counts when it is not glued to a word: "-58", "¥-58", "负58", "minus 58" are negative;
  "打车-58" is a dash and reads 58.
- Dates: 周五 / Friday alone is the most recent one on or before today (expenses are in the past); 上周三 /
  last Wednesday is the Wednesday of the previous calendar week (Monday first); 这周五 / this Friday is
  the one of the current week, even when it is still ahead. A month and day without a year that would be
  in the future is last year's; with an explicit year it stays in the future. 15号 / on the 15th alone is
  the most recent 15th ("the third item" is no date). 上周 / last week without a day, 几天前 / a few days
  ago give no date (the caller asks).
- Categories: words of one category decide it. 客户 / client alone means entertainment, and turns a meal
  into entertainment (请客户吃饭); next to another category (和客户一起打车) it does not count. A place a
  trip goes to is not what was bought: in 打车去酒店 / taxi to the hotel, 酒店 / hotel does not count. Nor
  does a word inside a longer word of another category (the 餐 of 手机套餐). Words of two categories with no
  rule to decide give (None, [both]) so the caller asks.
- Items (parse_items): a message is split at ，,、;；。, a full stop before a space, newlines, the numbers
  of a numbered list (1. / 1、 / (1)) and at 和 / 还有 / 以及 / 另外 / 然后 / 加上 / and / plus / then / also
  (never inside an amount or a date); a clause with two amounts and no separator is split between them.
  A clause without an amount joins the next item; clauses after the last amount join the last item. An
  item without its own date takes the date of the nearest earlier item that has one, and items before
  the first dated item take that first date: "昨天打车58，午饭35" and "taxi 58 and lunch 35 yesterday" are
  both two items of yesterday. An invoice remark in the trailing clause with 都 / all / both applies to
  every item that has none.
- Totals: inside one clause, a total beside other amounts (每晚450 一共900, 450 each 900 in total) is the
  item's amount. A clause that only gives a total (一共93, 900 in total) is dropped when it equals the sum
  of the other items, becomes the amount of the item before it when that one gave a price per night /
  day / person ("$150 a night for 3 nights, $450 total"), and otherwise stays an item without category.
  A message with a category but no amount still gives an item (money None) so the caller can ask.
- Invoices: 发票 is what the policy asks for; a 收据 / 小票 (receipt) is not one, so 没有发票 只有收据 is
  False. In English "receipt" and "invoice" both count. Nights (两晚, 3个晚上, 2 nights) are exposed as
  ParsedItem.nights, never as an amount.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable, Iterator, NamedTuple

import cn2an
from dateutil.relativedelta import relativedelta

from assistant.language import has_cjk
from assistant.word_patterns import HESITATION, alternation

# --- Public types ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """An amount as said. `currency` is 'CNY', 'USD' or 'EUR' (another ISO code only when said explicitly)."""

    amount: Decimal
    currency: str


@dataclass
class ParsedItem:
    """One expense item read from a message. `text` is the part of the message it was read from."""

    category: str | None
    category_candidates: list[str]
    money: Money | None
    spent_on: date | None
    description: str
    client: str | None
    has_invoice: bool | None
    text: str
    nights: int | None = None


# --- Word tables -------------------------------------------------------------------------------------------

DEFAULT_CURRENCY = "CNY"
ZH_DIGITS = "零〇一二三四五六七八九两壹贰叁肆伍陆柒捌玖"
ZH_MAGNITUDES = "十百千万亿拾佰仟"
ZH_MULTIPLIERS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10_000, "亿": 100_000_000}
EN_MULTIPLIERS = {"k": 1000, "hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}

EN_ONES = {
    word: n for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split())
}
EN_TENS = {word: 10 * n for n, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
EN_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
EN_ORDINALS = {
    word: n for n, word in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split(), 1)
} | {"twentieth": 20, "thirtieth": 30}

CURRENCY_PREFIXES = {
    "¥": "CNY", "rmb": "CNY", "cny": "CNY", "人民币": "CNY",
    "us$": "USD", "$": "USD", "usd": "USD", "美元": "USD",
    "€": "EUR", "eur": "EUR", "欧元": "EUR",
    "hk$": "HKD", "hkd": "HKD", "港币": "HKD", "港元": "HKD", "£": "GBP", "gbp": "GBP", "英镑": "GBP", "jpy": "JPY",
    "日元": "JPY",
}
CURRENCY_SUFFIXES: dict[str, str | None] = {
    "块钱": "CNY", "块": "CNY", "快钱": "CNY", "快": "CNY", "元人民币": "CNY", "元": "CNY", "圆": "CNY",
    "人民币": "CNY", "rmb": "CNY", "cny": "CNY", "yuan": "CNY", "kuai": "CNY", "¥": "CNY",
    "美元": "USD", "美金": "USD", "刀": "USD", "dollars": "USD", "dollar": "USD", "usd": "USD", "$": "USD",
    "欧元": "EUR", "欧": "EUR", "euros": "EUR", "euro": "EUR", "eur": "EUR", "€": "EUR",
    "港币": "HKD", "港元": "HKD", "hkd": "HKD", "日元": "JPY", "jpy": "JPY", "yen": "JPY",
    "英镑": "GBP", "gbp": "GBP", "pounds": "GBP",
    "bucks": None,  # money, currency unsaid: the default
}
# 快 after a number is read as 块, except where it starts one of these words: 58 快点批 is "quick"
CURRENCY_SUFFIX_FALSE_FRIENDS_ZH = (
    "快点", "快些", "快到", "快要", "快去", "快来", "快走", "快速", "快递", "快乐", "快捷",
)
JIAO_UNITS = ("毛", "角")  # tenths of a yuan: 5毛 = 0.5, 58块5 = 58.5

COUNT_UNITS_ZH = (
    "个", "晚", "夜", "宿", "天", "日", "号", "月", "年", "周", "星期", "礼拜", "小时", "钟头", "分钟", "分", "秒",
    "点", "时", "次", "趟", "人", "位", "份", "件", "张", "台", "本", "杯", "瓶", "盒", "箱", "包", "只", "支", "间",
    "层", "楼", "岁", "倍", "折", "成", "斤", "公斤", "克", "公里", "千米", "米", "里", "页", "笔", "顿", "餐", "碗",
    "辆", "双", "套", "部", "节", "站", "项", "条", "期", "届", "%",
)
COUNT_UNITS_EN = (
    "nights", "night", "days", "day", "weeks", "week", "months", "month", "years", "year", "hours", "hour", "hrs",
    "hr", "minutes", "minute", "mins", "min", "seconds", "secs", "people", "persons", "person", "pax", "guests",
    "guest", "times", "items", "item", "pieces", "piece", "pcs", "tickets", "rooms", "room", "cups", "meals", "km",
    "kms", "kilometers", "kilometres", "miles", "mile", "am", "pm", "a.m.", "p.m.", "o'clock", "oclock", "percent",
    "gb", "g", "x",
)
APPROXIMATE_AFTER = ("多", "余", "几")  # 一百多: "a hundred and something" is no amount
ITEM_REFERENCE_WORDS_EN = ("item", "entry", "line", "#")  # "change item 2 to 68": the claim form's item numbers
REFERENCE_WORDS = (
    "报销单号", "报销单", "申请单", "单号", "编号", "订单号", "工单号", "工单", "发票号码", "发票号", "第",
    "claim", "request", "ref", "no.", "nr.", "number", "№", "gate", "terminal", "platform", "seat",
    *ITEM_REFERENCE_WORDS_EN,
)
TIME_OF_DAY_ZH = (
    "凌晨", "早上", "早晨", "上午", "中午", "下午", "傍晚", "晚上", "夜里", "半夜", "夜间", "今晚", "昨晚", "今早",
)
PRONOUN_ONE_AFTER = ("the", "this", "that", "last", "next", "which", "each", "every", "another", "same", "other",
                     "latest", "previous", "new")  # "one" after these is an item: the second one, that one
TIME_PREPOSITIONS_EN = ("at", "by", "until", "till", "after", "before")
TOTAL_WORDS = ("一共", "总共", "共计", "合计", "总计", "总额", "total of", "total", "in total", "altogether")
TOTAL_AFTER_WORDS = ("in total", "total", "altogether", "all in")  # 900 in total
PER_UNIT_WORDS = (  # a price per night, day or person: the total comes later
    "每晚", "每天", "每人", "每位", "每间", "/晚", "/天", "/人", "per night", "per day", "per person", "per head",
    "a night", "a day", "a head", "each",
)
NUMBER_FALSE_FRIENDS_ZH = (
    "千万", "万一", "五一", "十一假", "十一期间", "十一长假", "双十一", "双11", "双十二", "双12", "一块儿", "一块去",
    "一块吃", "一快", "统一", "唯一", "一律",  # 打车统一六百: "uniformly 600", not 一六百
)
COUNT_UNIT_FALSE_FRIENDS_ZH = ("晚饭", "晚餐", "夜宵", "点心", "包子")  # 35 晚饭 is 35 for dinner, not 35 nights

SIGN_WORDS = ("负", "minus", "negative", "-")

# Category ids are those of company/policy.yml (a test checks it).
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "transport": (
        "打车", "打的", "出租车", "出租", "滴滴", "网约车", "专车", "快车", "顺风车", "地铁", "公交", "大巴", "巴士",
        "高铁", "火车", "动车", "机票", "飞机", "航班", "停车", "加油", "油费", "过路费", "高速费", "租车", "共享单车",
        "轮渡", "船票", "交通", "机场大巴",
        "taxi", "cab", "uber", "didi", "lyft", "metro", "subway", "bus", "train", "flight", "plane ticket",
        "airfare", "air ticket", "parking", "fuel", "gasoline", "petrol", "toll", "car rental", "shuttle", "ferry",
        "transport", "transportation", "train ticket", "high speed train", "airport shuttle", "mileage", "里程",
    ),
    "meals": (
        "午饭", "午餐", "晚饭", "晚餐", "早餐", "早饭", "夜宵", "宵夜", "工作餐", "吃饭", "饭", "餐", "外卖", "咖啡",
        "餐饮", "餐费", "加班餐", "聚餐", "overtime meal", "team dinner", "team lunch",
        "奶茶", "便当", "下午茶", "星巴克", "麦当劳", "肯德基", "饿了么",
        "lunch", "dinner", "breakfast", "brunch", "supper", "meal", "food", "coffee", "snack", "takeout",
        "takeaway", "restaurant", "starbucks", "mcdonald's", "kfc",
    ),
    "lodging": (
        "酒店", "宾馆", "住宿", "旅馆", "民宿", "客栈", "房费",
        "hotel", "lodging", "accommodation", "airbnb", "hostel", "motel", "inn",
    ),
    "office": (
        "键盘", "鼠标", "显示器", "文具", "打印纸", "a4纸", "办公用品", "墨盒", "硒鼓", "u盘", "网线", "数据线",
        "充电器", "快递", "订书机", "插线板", "电脑包", "办公椅",
        "耳机", "耳麦", "转换头", "转接头", "扩展坞", "摄像头", "升降桌", "显示器支架", "笔记本支架",
        "courier", "express delivery", "stapler", "power strip", "usb cable", "laptop bag", "office chair",
        "printer ink", "ink cartridge", "marker",
        "headset", "headphones", "earphones", "earbuds", "adapter", "dongle", "docking station", "webcam",
        "standing desk", "laptop stand", "monitor arm",
        "keyboard", "mouse", "mice", "monitor", "stationery", "office supplies", "office supply", "printer paper",
        "toner", "usb drive", "pen", "ethernet cable", "charger",
    ),
    "entertainment": (
        "招待", "宴请", "请客", "应酬",
        "entertainment", "entertaining", "entertain", "client dinner", "client lunch", "business dinner",
    ),
    "training": (
        "培训", "课程", "考试", "认证", "学费", "会议门票", "会议注册", "大会门票",
        "training", "course", "certification", "certificate", "exam", "conference ticket", "conference fee",
        "conference registration", "workshop", "seminar", "tuition",
    ),
    "telecom": (
        "话费", "手机费", "电话费", "流量", "宽带", "网费", "通讯费", "通信费", "通讯", "通信",
        "手机套餐", "话费套餐", "流量套餐", "宽带套餐",
        "phone bill", "mobile bill", "mobile plan", "mobile", "internet", "telecom", "broadband", "data plan",
        "phone plan", "sim card",
    ),
}
CLIENT_WORDS = ("客户", "客人", "client", "customer", "guest")  # entertainment alone or with a meal, else nothing
CATEGORY_PRECEDENCE = {frozenset({"entertainment", "meals"}): "entertainment"}  # a meal with a client
PLACE_CATEGORIES = ("lodging", "training", "office")  # may be where a trip goes: 打车去酒店
CATEGORY_FALSE_FRIENDS = ("of course",)

# 发票 is the official invoice the policy asks for: a 收据 / 小票 (receipt) is not one. In English "receipt" is
# what people call it.
INVOICE_NO = (
    r"(?:没|无|未)(?:有|带|开|拿|附)?(?:电子|纸质)?发票",
    r"发票(?:没有|没开|没拿|丢了|弄丢了|找不到了?)",
    r"\b(?:no|without(?: an?| the| any)?|lost(?: the| my)?|missing(?: the)?|(?:didn'?t|did not) get(?: an?| the)?"
    r"|(?:don'?t|do not) have(?: an?| the)?)\s+(?:receipts?|invoices?)\b",
    r"\b(?:receipts?|invoices?)\s+(?:is\s+|are\s+|was\s+)?(?:missing|lost)\b",
)
INVOICE_YES = (
    r"(?:有|带|附|开了?|拿了?|拿到了?|附上了?)(?:电子|纸质)?发票",
    r"发票(?:我)?(?:已经?)?(?:有|附|在|拿到|开好|开了)",
    r"(?:电子|纸质|增值税(?:专用|普通)?)发票",
    r"\bwith(?: an?| the| my)?\s+(?:receipts?|invoices?)\b",
    r"\b(?:receipts?|invoices?)\s+(?:is\s+|are\s+)?(?:attached|included)\b",
    r"\b(?:have|got|has)(?: an?| the)?\s+(?:receipts?|invoices?)\b",
)
ALL_WORDS = ("都", "全部", "均", "all", "both", "each", "every")

ITEM_SEPARATORS_ZH = ("还有", "以及", "另外", "然后", "加上", "和")
ITEM_SEPARATORS_EN = ("as well as", "and", "plus", "then", "also")
EDGE_WORDS_ZH_LEADING = (
    "我要报销", "我想报销", "帮我报销", "申请报销", "报销一下", "报销", "报一笔", "报一下", "记一笔", "记一下",
    "请帮我", "帮我", "我这有个", "有个", "我们", "我", "要", "想", "把", "报", "那个", "就是", "然后", "花了",
    "用了", "付了", "花费", "是", "了", "的", "去", "一笔", "大概", "一共", "总共", "合计", "共计", "还有", "以及",
    "另外", "加上", "和", "还", "也", "都",
)
EDGE_WORDS_ZH_TRAILING = (
    "一共", "总共", "共计", "合计", "花了", "用了", "付了", "大概", "左右", "一笔", "要报", "报了", "报", "了", "的",
    "共", "都", "是", "钱",
)
EDGE_WORDS_EN = frozenset(
    "i i'd i'm we my me our need want would like to expense expensed reimburse claim please can you a an the took "
    "take had have got get paid pay spent spend bought buy for on at of it was is that cost costs and plus then "
    "also so well yeah ok okay from about around in total with by some you know".split()
)
CLIENT_NAME_STOP_EN = frozenset(
    "with the a an our my their new key potential for on at and in of to yesterday today tonight last this "
    "next dinner lunch breakfast meal entertainment from named called name is was it's first again about before "
    "after later please said says wants asked told needs".split()
)
CLIENT_NAME_STOP_ZH = ("我们", "他们", "大家", "一起", "吃饭", "喝酒", "请", "了")
MAX_DESCRIPTION = 60
MAX_DESCRIPTION_SOURCE = 500  # characters of a clause read for its description
MAX_ZH_NUMBER_CHARS = 24

WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
WEEKDAYS_EN = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "wed": 2, "thursday": 3,
    "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sunday": 6,
}
MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
NAMED_DAYS = {
    "大前天": -3, "前天": -2, "前晚": -2, "昨天": -1, "昨日": -1, "昨晚": -1, "昨夜": -1, "昨儿": -1,
    "今天": 0, "今日": 0, "今晚": 0, "今早": 0, "今晨": 0, "今儿": 0,
    "the day before yesterday": -2, "yesterday": -1, "last night": -1, "today": 0, "tonight": 0,
    "this morning": 0, "this afternoon": 0, "this evening": 0,
}
RELATIVE_OFFSETS = {  # weeks or months from the current one
    "上上": -2, "上上个": -2, "上": -1, "上个": -1, "这": 0, "这个": 0, "本": 0, "下": 1, "下个": 1,
    "last": -1, "previous": -1, "this": 0, "next": 1,
}
AGO_UNITS = {"天": "days", "日": "days", "周": "weeks", "星期": "weeks", "礼拜": "weeks", "月": "months",
             "day": "days", "week": "weeks", "month": "months"}
AGO_COUNTS = {"a": 1, "an": 1, "a couple of": 2, "couple of": 2}


# --- Text helpers ------------------------------------------------------------------------------------------

_FULLWIDTH = {0x3000: " ", 0xFFE5: "¥", 0xFF04: "$", 0x2212: "-", 0xFF0D: "-", 0xFF05: "%", 0xFF03: "#"}


def _normalize(text: str) -> str:
    """Lower case, ASCII digits and letters; one character for one, so positions stay those of `text`."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF10 <= code <= 0xFF5A and ch.isalnum():
            ch = chr(code - 0xFEE0)
        ch = _FULLWIDTH.get(code, ch)
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


# stripped off the ends of a command's arguments (titles, names, statuses)
TEXT_PUNCT = " \t\r\n,，、。.．;；:：!！?？~～…\"'“”‘’「」『』()（）[]【】<>《》-—_*/\\|"


def prepare_text(text: object, max_chars: int, punctuation: dict[int, str]) -> tuple[str, str]:
    """(original, normalized) of at most `max_chars` characters, for the command parsers. The normalized text
    is lower case with ASCII digits, letters and the given punctuation, one character for one, so a span found
    in it cuts the original."""
    if not isinstance(text, str):
        return "", ""
    original = text[:max_chars]
    return original, _normalize(original).translate(punctuation)


class _Coverage:
    """Which characters of a text some spans cover; asking about a span costs its length, not the span count."""

    def __init__(self, length: int, spans: Iterable[tuple[int, int]]) -> None:
        self._covered = bytearray(length)
        for start, end in spans:
            self._covered[start:end] = b"\x01" * (end - start)

    def overlaps(self, start: int, end: int) -> bool:
        return any(self._covered[start:end])


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the spans replaced by spaces (positions kept)."""
    chars = list(text)
    for start, end in spans:
        start, end = min(start, len(chars)), min(end, len(chars))
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _cn2an(token: str) -> Decimal | None:
    """cn2an's "smart" reading (两万三 = 23000, 1.2万 = 12000), None where it gives up."""
    if len(token) > MAX_ZH_NUMBER_CHARS:
        return None
    try:
        return _decimal(cn2an.cn2an(token, "smart"))
    except Exception:  # noqa: BLE001 - cn2an raises ValueError and others on what is not a number
        return None


def _english_words_value(words: list[str]) -> int | None:
    """The value of a spelled-out number: ["twenty", "one"] = 21. None unless every word is understood."""
    value = 0
    for word in words:
        if word in EN_ONES:
            value += EN_ONES[word]
        elif word in EN_TENS:
            value += EN_TENS[word]
        elif word in EN_ORDINALS:
            value += EN_ORDINALS[word]
        else:
            return None
    return value


def _small_number(token: str) -> int | None:
    """A day, month, year or count written as digits, Chinese numerals or English words."""
    token = token.strip()
    if token.isdigit():
        return int(token)
    if token[:1].isascii():
        return _english_words_value(re.split(r"[\s-]+", token))
    value = _cn2an(token)
    return int(value) if value is not None and value == value.to_integral_value() else None


def position_number(word: str) -> int | None:
    """A position said in a list: '2', '2nd', '二', '两', 'second', 'two' -> 2; 'last' / '最后' -> -1."""
    word = (word or "").strip().lower()
    if word in ("last", "最后"):
        return -1
    suffixed = re.fullmatch(r"(\d+)(?:st|nd|rd|th)", word)
    return int(suffixed.group(1)) if suffixed else (_small_number(word) if word else None)


# --- Numbers -----------------------------------------------------------------------------------------------


class _Number(NamedTuple):
    """A number as written, before deciding whether it is money."""

    value: Decimal
    start: int
    end: int
    kind: str  # "arabic" | "zh" | "en" | "en_hundreds" (two eighty), or "bad": no number (twenty first, 十十)
    strong: bool  # enough to be money without a currency word
    zh_point: bool  # has a Chinese 点 fraction (五十八点五), which may be a time instead


_ARABIC = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:e\+?\d{1,3}(?!\d))?"
_NUMBER_RE = re.compile(
    rf"(?P<arabic>{_ARABIC})(?P<arabic_zh>(?:点\d+)|[{ZH_MAGNITUDES}][{ZH_DIGITS}{ZH_MAGNITUDES}\d]*)?"
    rf"|(?P<zh>[{ZH_DIGITS}{ZH_MAGNITUDES}]+(?:点[{ZH_DIGITS}]+)?)"
)
_EN_MULTIPLIER_AFTER = re.compile(r"\s*(?P<word>hundred|thousand|million|billion)(?![a-z])|(?P<k>k)(?![a-z])")
_EN_WORD = re.compile(r"[a-z]+")
_ZH_FALSE_FRIENDS_RE = re.compile(alternation(NUMBER_FALSE_FRIENDS_ZH))
_EN_GAP = re.compile(r"[\s-]+")


def _arabic_number(match: re.Match, text: str) -> _Number:
    """58, 1,280.50, 1e12, 10点5, 1.2万, 3千5 (cn2an), 2k, 1.5 thousand."""
    digits, tail = match["arabic"].replace(",", ""), match["arabic_zh"] or ""
    end = match.end()
    if tail.startswith("点"):
        value = _decimal(f"{digits}.{tail[1:]}")
    elif tail in ZH_MULTIPLIERS:
        value = Decimal(digits) * ZH_MULTIPLIERS[tail]
    elif tail:
        value = _cn2an(digits + tail)
    else:
        value = Decimal(digits)
        if multiplier := _EN_MULTIPLIER_AFTER.match(text, end):
            value *= EN_MULTIPLIERS[multiplier["word"] or "k"]
            end = multiplier.end()
    if value is None:
        return _Number(Decimal(0), match.start(), end, "bad", False, False)
    return _Number(value, match.start(), end, "arabic", True, tail.startswith("点"))


def _zh_number(match: re.Match) -> _Number:
    """五十八, 两万三, 一千二, 五十八点五 (cn2an). Strong only with a magnitude: 五八 or 一 alone need a currency."""
    token = match["zh"]
    value = _cn2an(token)
    if value is None:
        return _Number(Decimal(0), match.start(), match.end(), "bad", False, False)
    strong = len(token) > 1 and any(ch in ZH_MAGNITUDES for ch in token)
    return _Number(value, match.start(), match.end(), "zh", strong, "点" in token)


def _digit_and_zh_numbers(text: str) -> Iterator[_Number]:
    masked = _blank(text, [m.span() for m in _ZH_FALSE_FRIENDS_RE.finditer(text)])
    for match in _NUMBER_RE.finditer(masked):
        yield _arabic_number(match, text) if match["arabic"] else _zh_number(match)


def _read_english_number(text: str, words: list[re.Match], i: int) -> tuple[_Number, int] | None:
    """The longest well-formed spelled-out number starting at words[i] ("one hundred and five",
    "twenty-five", "fifty eight point five"), with the index of the next word; None when there is none."""
    total, current, last, count = 0, 0, None, 0
    kind = "en"
    last_scale = 10**12
    end = None
    j = i

    def word(k: int) -> str | None:
        if k >= len(words) or (k > i and not _EN_GAP.fullmatch(text, words[k - 1].end(), words[k].start())):
            return None
        return words[k].group()

    while (w := word(j)) is not None:
        if w == "a" and last is None and word(j + 1) in EN_SCALES:
            current, last = 1, "ones"
        elif w == "and" and last in ("hundred", "scale") and (word(j + 1) in EN_ONES or word(j + 1) in EN_TENS):
            pass
        elif w in EN_ONES and (last in (None, "hundred", "scale") or (last == "tens" and 0 < EN_ONES[w] < 10)):
            current += EN_ONES[w]
            last = "ones"
        elif w in EN_TENS and last in (None, "hundred", "scale"):
            current += EN_TENS[w]
            last = "tens"
        elif w in EN_TENS and last == "ones" and count == 1 and 0 < current < 10:
            current = current * 100 + EN_TENS[w]  # spoken hundreds: "two eighty" is 280, "one fifty five" 155
            last, kind = "tens", "en_hundreds"
        elif w == "hundred" and last in ("ones", "tens") and 0 < current < 100:
            current *= 100
            last = "hundred"
        elif w in EN_SCALES and w != "hundred" and last in ("ones", "tens", "hundred") and EN_SCALES[w] < last_scale:
            total += current * EN_SCALES[w]
            current, last, last_scale = 0, "scale", EN_SCALES[w]
        else:
            break
        if w != "and":
            count += 1
            end = words[j].end()
        j += 1
    if count == 0:
        return None
    value = Decimal(total + current)
    if word(j) == "point" and word(j + 1) in EN_ONES and EN_ONES[word(j + 1)] < 10:
        fraction = ""
        j += 1
        while (w := word(j)) in EN_ONES and EN_ONES[w] < 10:
            fraction += str(EN_ONES[w])
            end = words[j].end()
            j += 1
        value = Decimal(f"{total + current}.{fraction}")
    if word(j) in EN_ORDINALS:  # "twenty first" is an ordinal, not 20
        return _Number(value, words[i].start(), words[j].end(), "bad", False, False), j + 1
    strong = count > 1 or value >= 10
    return _Number(value, words[i].start(), end, kind, strong, False), j


def _pronoun_one(words: list[re.Match], i: int) -> bool:
    """"one" standing for an item (the second one, that one), not a number: "make the second one eighty" is 80."""
    return words[i].group() == "one" and i > 0 and (
        words[i - 1].group() in EN_ORDINALS or words[i - 1].group() in PRONOUN_ONE_AFTER)


def _english_numbers(text: str) -> Iterator[_Number]:
    words = list(_EN_WORD.finditer(text))
    i = 0
    while i < len(words):
        found = None if _pronoun_one(words, i) else _read_english_number(text, words, i)
        if found is None:
            i += 1
            continue
        number, i = found
        yield number


def spelled_integers(text: str) -> list[tuple[int, int, int, bool]]:
    """Whole numbers written in Chinese numerals or English words (四十二, forty two): (value, start, end, strong),
    where a weak one (一, seven) may as well be a word (一下) as a number. What a voice-to-text front end writes
    for a claim number."""
    return [(int(n.value), n.start, n.end, n.strong) for n in _numbers(_normalize(text or ""))
            if n.kind in ("zh", "en", "en_hundreds") and n.value == n.value.to_integral_value() and n.value > 0]


def _numbers(text: str) -> list[_Number]:
    """Every number written in `text`, in order, whatever it stands for."""
    return sorted([*_digit_and_zh_numbers(text), *_english_numbers(text)], key=lambda n: n.start)


# --- Money -------------------------------------------------------------------------------------------------

_SIGN = alternation(SIGN_WORDS)
_PREFIX_RE = re.compile(
    rf"(?:(?P<sign1>{_SIGN})\s*)?(?:(?P<cur>{alternation(CURRENCY_PREFIXES)})\s*)?(?:(?P<sign2>{_SIGN})\s*)?$"
)
_SUFFIX_RE = re.compile(  # a symbol after the number only when glued to it and not before another number: 20$
    rf"\s*(?!{alternation(CURRENCY_SUFFIX_FALSE_FRIENDS_ZH)})"
    rf"(?P<cur>{alternation(w for w in CURRENCY_SUFFIXES if w[0].isalnum())})"
    rf"|(?P<sym>{alternation(w for w in CURRENCY_SUFFIXES if not w[0].isalnum())})(?!\s*\d)"
)
_ZH_COUNT_UNIT = rf"\s?(?!{alternation(COUNT_UNIT_FALSE_FRIENDS_ZH)}){alternation(COUNT_UNITS_ZH)}"
_JIAO_RE = re.compile(rf"(?P<digit>[0-9一二三四五六七八九两])(?:{'|'.join(JIAO_UNITS)})?"
                      rf"(?![\d{ZH_DIGITS}{ZH_MAGNITUDES}点])(?!{_ZH_COUNT_UNIT})")
_JIAO_ONLY_RE = re.compile(rf"\s*(?:{'|'.join(JIAO_UNITS)})")
_COUNT_UNIT_RE = re.compile(rf"{_ZH_COUNT_UNIT}|\s*{alternation(COUNT_UNITS_EN)}|(?:st|nd|rd|th)(?![a-z])")
_APPROXIMATE_RE = re.compile(alternation(APPROXIMATE_AFTER))
_REFERENCE_RE = re.compile(rf"{alternation(REFERENCE_WORDS)}\s*(?:号|#|no\.?|:|：)?\s*$")
_TIME_BEFORE_EN_RE = re.compile(rf"{alternation(TIME_PREPOSITIONS_EN)}\s+(?:around\s+)?$")
_TIME_BEFORE_ZH_RE = re.compile(rf"{alternation(TIME_OF_DAY_ZH)}\s*$")
_TIME_WORD_AFTER_ZH_RE = re.compile(rf"[{ZH_MAGNITUDES}]|\s*(?:分|半|刻|钟)")
_CLOCK_RE = re.compile(r"(?<!\d)\d{1,2}[:：]\d{2}(?:[:：]\d{2})?(?!\d)")
_PERCENT_ZH_RE = re.compile(rf"百分之[{ZH_DIGITS}{ZH_MAGNITUDES}\d点]+")
_LIST_MARKER_RE = re.compile(r"(?:^|(?<=[\s:：;；,，]))[(（]?(?P<n>\d{1,2})[.、)）](?=\s*[^\s\d.,])", re.MULTILINE)
_WINDOW = 16


class _Found(NamedTuple):
    money: Money
    start: int
    end: int


def _prefix(text: str, start: int, not_before: int) -> tuple[str | None, int, int]:
    """Currency and sign written before the number at `start` and after `not_before` (the end of the previous
    amount, whose currency word a "15 EUR 20 USD" must not take twice): (currency, sign, start of the money)."""
    window_start = max(not_before, start - _WINDOW)
    match = _PREFIX_RE.search(text, window_start, start)
    currency = CURRENCY_PREFIXES.get(re.sub(r"\s+", "", match["cur"])) if match["cur"] else None
    sign, money_start = 1, (match.start("cur") if match["cur"] else start)
    for group in ("sign1", "sign2"):
        if not match[group]:
            continue
        before = text[match.start(group) - 1] if match.start(group) > 0 else " "
        if match[group] == "-" and (before.isalnum() or before == "-"):
            continue  # a dash between words (打车-58) or inside a range, not a minus
        sign = -1
        money_start = min(money_start, match.start(group))
    return currency, sign, money_start


class _Suffix(NamedTuple):
    """What follows a number: its currency word (if any), the value it gives the number, where it ends."""

    found: bool
    currency: str | None
    value: Decimal
    end: int


def _suffix(text: str, number: _Number) -> _Suffix:
    """The currency word after a number, with 角 / 毛 read as tenths: 58块5 = 58.5, 5毛 = 0.5."""
    match = _SUFFIX_RE.match(text, number.end)
    if match:
        unit = match["cur"] or match["sym"]
        jiao = _JIAO_RE.match(text, match.end()) if unit in ("块", "快", "元") else None
        if jiao:
            return _Suffix(True, "CNY", number.value + Decimal(_small_number(jiao["digit"]) or 0) / 10, jiao.end())
        return _Suffix(True, CURRENCY_SUFFIXES[unit], number.value, match.end())
    jiao_only = _JIAO_ONLY_RE.match(text, number.end)
    if jiao_only:
        return _Suffix(True, "CNY", number.value / 10, jiao_only.end())
    return _Suffix(False, None, number.value, number.end)


def _not_money(text: str, number: _Number, has_currency: bool, prefix_currency: bool) -> bool:
    """Whether a number without (or despite) a currency word is something else: a reference, a count, a time."""
    before = text[max(0, number.start - _WINDOW):number.start]
    after_char = text[number.end:number.end + 1]
    if number.zh_point and (_TIME_BEFORE_ZH_RE.search(before) or _TIME_WORD_AFTER_ZH_RE.match(text, number.end)):
        return True  # 晚上十点三, 十点三十分
    if _APPROXIMATE_RE.match(text, number.end):
        return True
    if has_currency:
        return False
    if _REFERENCE_RE.search(before) or _COUNT_UNIT_RE.match(text, number.end):
        return True
    if not number.strong:
        return True
    if number.kind == "arabic" and ((before[-1:].isascii() and before[-1:].isalpha() and not prefix_currency)
                                    or (after_char.isascii() and after_char.isalpha())):
        return True  # A4纸, 5g, G1234
    return (number.value <= 24 or number.kind == "en_hundreds") and bool(_TIME_BEFORE_EN_RE.search(before))


def _money(text: str, number: _Number, not_before: int) -> _Found | None:
    """The money a number stands for, with the span of the whole amount (sign and currency included)."""
    if number.kind == "bad":
        return None
    prefix_currency, sign, start = _prefix(text, number.start, not_before)
    suffix = _suffix(text, number)
    if _not_money(text, number, prefix_currency is not None or suffix.found, prefix_currency is not None):
        return None
    value = _tidy(suffix.value)
    currency = prefix_currency or suffix.currency or DEFAULT_CURRENCY
    return _Found(Money(sign * value, currency), start, suffix.end)


def _tidy(value: Decimal) -> Decimal:
    """Whole amounts without decimals or exponent (1.2万 = 12000, 1e12 = 1000000000000), and no "-0"."""
    if not value:
        return Decimal(0)
    try:
        return value.quantize(Decimal(1)) if value == value.to_integral_value() else value
    except InvalidOperation:  # beyond the context's precision: keep as written
        return value


def _list_markers(text: str) -> list[tuple[int, int]]:
    """The numbers of a numbered list ("1. 打车 58 2. 午饭 35", "1、", "(2)"): they count 1, 2, 3 from the first
    one, so "coffee 8. lunch 35" has none."""
    spans = []
    for match in _LIST_MARKER_RE.finditer(text):
        if int(match["n"]) == len(spans) + 1:
            spans.append(match.span())
    return spans


def _blocked_spans(text: str) -> list[tuple[int, int]]:
    """Spans that hold no amount: dates, clock times, percentages, list numbers."""
    spans = [(m.start, m.end) for m in _date_matches(text)] + _list_markers(text)
    spans += [m.span() for m in _CLOCK_RE.finditer(text)] + [m.span() for m in _PERCENT_ZH_RE.finditer(text)]
    return spans


def _find_money(text: str) -> list[_Found]:
    """All amounts in normalized text, in order, not overlapping."""
    blocked = _Coverage(len(text), _blocked_spans(text))
    found: list[_Found] = []
    for number in _numbers(text):
        previous_end = found[-1].end if found else 0
        if number.start < previous_end or blocked.overlaps(number.start, number.end):
            continue
        money = _money(text, number, previous_end)
        if money:
            found.append(money)
    return found


def parse_amounts(text: str) -> list[tuple[Money, int, int]]:
    """All amounts in `text` with their (start, end) character spans, sign and currency words included."""
    return [(f.money, f.start, f.end) for f in _find_money(_normalize(text or ""))]


def parse_amount(text: str) -> Money | None:
    """The first amount in `text`, or None."""
    found = parse_amounts(text)
    return found[0][0] if found else None


# --- Dates -------------------------------------------------------------------------------------------------


def _en_day_words(ordinal: bool) -> dict[str, int]:
    """Days of the month spelled out: "twenty one", "twenty-one" (cardinal) or "twenty-first", "twentieth"."""
    names = {n: w for w, n in (EN_ORDINALS if ordinal else EN_ONES).items()}
    tens_names = {n: w for w, n in EN_TENS.items()}
    days: dict[str, int] = {}
    for n in range(1, 32):
        if n in names:
            days[names[n]] = n
        elif n % 10 == 0:
            days[tens_names[n]] = n
        else:
            for sep in (" ", "-"):
                days[f"{tens_names[n // 10 * 10]}{sep}{names[n % 10]}"] = n
    return days


EN_DAY_WORDS = _en_day_words(ordinal=False) | _en_day_words(ordinal=True)
_ZH_NOT_NUMBER_AFTER = rf"(?![\d{ZH_DIGITS}{ZH_MAGNITUDES}])"
_ZH_MONTH = rf"(?:(?:1[0-2]|0?[1-9])|(?:十[一二]?|[一二三四五六七八九])){_ZH_NOT_NUMBER_AFTER}"
_ZH_DAY = (rf"(?:(?:3[01]|[12]\d|0?[1-9])|(?:三十一?|[二两]?十[一二三四五六七八九]?|[一二三四五六七八九]))"
           rf"{_ZH_NOT_NUMBER_AFTER}")
_ZH_COUNT = rf"(?<![\d{ZH_DIGITS}十])(?:\d{{1,3}}|[{ZH_DIGITS}十]{{1,4}}|几)"  # bounded: no quadratic scan
_ZH_YEAR = r"(?:\d{4}|\d{2}|[〇零一二三四五六七八九]{4})"
_EN_DAY_DIGITS = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?![\da-z])"
_EN_DAY = rf"(?:{_EN_DAY_DIGITS}|{alternation(EN_DAY_WORDS)})"
_EN_ORDINAL_DAY = rf"(?:{_EN_DAY_DIGITS}|{alternation(_en_day_words(ordinal=True))})"
_EN_MONTH = rf"(?P<m>{alternation(MONTHS_EN)})\.?"
_EN_YEAR = r"(?:(?:,\s*|\s+)(?P<y>\d{4})(?!\d))?"
_EN_REL = alternation(("last", "previous", "this", "next"))
_SAID_AS_DAY = r"(?(the)|(?<=[a-z]))"  # after "the", or ending in a letter: 15th, fifth


class _DateMatch(NamedTuple):
    start: int
    end: int
    match: re.Match
    resolve: Callable[[re.Match, date], date | None]


def _safe_date(year: int | None, month: int | None, day: int | None) -> date | None:
    try:
        return date(year, month, day) if year and month and day else None
    except (ValueError, TypeError):
        return None


def _month(token: str) -> int | None:
    return MONTHS_EN.get(token.rstrip(".")) or _small_number(token)


def _year(token: str | None) -> int | None:
    if not token:
        return None
    value = _small_number(token)
    return value + 2000 if value is not None and value < 100 else value


def _day(token: str) -> int | None:
    return EN_DAY_WORDS.get(re.sub(r"\s+", " ", token)) or _small_number(re.sub(r"(?:st|nd|rd|th)$", "", token))


def _past_month_day(today: date, month: int | None, day: int | None) -> date | None:
    """This year's month-day, or last year's when this year's is still ahead."""
    found = _safe_date(today.year, month, day)
    if found and found > today:
        found = _safe_date(today.year - 1, month, day)
    return found


def _resolve_month_day(m: re.Match, today: date) -> date | None:
    """11月20日, 2026年11月20日, Nov 20, 20th November 2026, 上个月15号, the 15th of last month."""
    groups = m.groupdict()
    day = _day(groups["d"])
    if groups.get("rel") is not None:
        base = today + relativedelta(months=RELATIVE_OFFSETS[groups["rel"]])
        return _safe_date(base.year, base.month, day)
    month = _month(groups["m"])
    if groups.get("y"):
        return _safe_date(_year(groups["y"]), month, day)
    return _past_month_day(today, month, day)


def _resolve_slash(m: re.Match, today: date) -> date | None:
    """11/20, or 20/11 when only that reading is a date."""
    first, second = int(m["a"]), int(m["b"])
    month, day = (second, first) if first > 12 >= second else (first, second)
    return _past_month_day(today, month, day)


def _resolve_day_only(m: re.Match, today: date) -> date | None:
    """15号 / the 15th: the most recent 15th on or before today."""
    day = _day(m["d"])
    for back in range(13):
        base = today - relativedelta(months=back)
        found = _safe_date(base.year, base.month, day)
        if found and found <= today:
            return found
    return None


def _resolve_named(m: re.Match, today: date) -> date:
    return today + timedelta(days=NAMED_DAYS[re.sub(r"\s+", " ", m.group())])


def _resolve_weekday(m: re.Match, today: date) -> date:
    """周五 (the most recent), 这周一 / this Monday, 上周三 / last Wednesday / Wednesday last week."""
    weekday = WEEKDAYS_ZH.get(m["wd"], WEEKDAYS_EN.get(m["wd"], 0))
    relative = m["pre"] or m.groupdict().get("post")
    if relative is None or relative == "past":
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(weeks=RELATIVE_OFFSETS[relative], days=weekday)


def _resolve_ago(m: re.Match, today: date) -> date | None:
    """3天前 / three days ago / 两周前 / a month ago."""
    token = re.sub(r"\s+", " ", m["n"])
    count = AGO_COUNTS.get(token) or (_small_number(token) if token not in ("几", "a few") else None)
    if count is None:
        return None
    return today - relativedelta(**{AGO_UNITS[m["unit"]]: count})


_DATE_PATTERNS: list[tuple[str, Callable[[re.Match, date], date | None]]] = [
    # 2026-11-20, 2026/11/20, 2026年11月20日, 十一月二十日, 11月20号, 上个月15号, 15号, 11/20
    (r"(?<![\d.])(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)", _resolve_month_day),
    (rf"(?P<y>{_ZH_YEAR})\s*年\s*(?P<m>{_ZH_MONTH})\s*月\s*(?P<d>{_ZH_DAY})\s*[日号]?", _resolve_month_day),
    (rf"(?<![\d{ZH_DIGITS}十])(?P<m>{_ZH_MONTH})\s*月\s*(?P<d>{_ZH_DAY})\s*[日号]?", _resolve_month_day),
    (rf"(?P<rel>上上个|上上|上个|上|这个|这|本|下个|下)月\s*(?P<d>{_ZH_DAY})\s*[日号]", _resolve_month_day),
    (rf"(?<![\d{ZH_DIGITS}十月])(?P<d>{_ZH_DAY})\s*[号日](?![线楼房门座前后])", _resolve_day_only),
    (r"(?<![\d/.])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?![\d/])", _resolve_slash),
    # 今天, 昨晚, 前天, 大前天; 周五, 上周三, 这周一; 3天前, 两周前
    (alternation(NAMED_DAYS), _resolve_named),
    # the 下 of the particle 一下 is no "next" (报一下周二的打车 is this week's Tuesday)
    (r"(?P<pre>上上|上|这|本|(?<!一)下)?个?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])", _resolve_weekday),
    (rf"(?P<n>{_ZH_COUNT})\s*个?\s*(?P<unit>天|日|周|星期|礼拜|月)\s*(?:之|以)?前", _resolve_ago),
    # Friday, last Wednesday, Wednesday last week, this Monday
    (rf"(?:(?P<pre>{_EN_REL}|past)\s+)?(?P<wd>{alternation(WEEKDAYS_EN)})(?:\s+(?P<post>{_EN_REL})\s+week(?![a-z]))?",
     _resolve_weekday),
    # Nov 20, November 20th 2026, 20 Nov, the 20th of November; last month on the 15th; the 15th
    (rf"{_EN_MONTH}\s+(?:the\s+)?(?P<d>{_EN_DAY})(?![a-z]){_EN_YEAR}", _resolve_month_day),
    (rf"(?<![a-z\d])(?:the\s+)?(?P<d>{_EN_DAY})\s+(?:of\s+)?{_EN_MONTH}{_EN_YEAR}", _resolve_month_day),
    # a bare number beside "last month" is the amount ("taxi 168 last month"), not the day: the day is ordinal
    # (15th, fifth) or follows "the"
    (rf"(?P<rel>{_EN_REL})\s+month\s+(?:on\s+)?(?P<the>the\s+)?(?P<d>{_EN_ORDINAL_DAY}){_SAID_AS_DAY}(?![a-z])",
     _resolve_month_day),
    (rf"(?<![a-z\d])(?:on\s+)?(?P<the>the\s+)?(?P<d>{_EN_ORDINAL_DAY}){_SAID_AS_DAY}\s+(?:of\s+)?(?P<rel>{_EN_REL})"
     r"\s+month(?![a-z])", _resolve_month_day),
    (rf"(?<![a-z])on\s+the\s+(?P<d>{_EN_ORDINAL_DAY})(?![a-z])", _resolve_day_only),  # not "the third item"
    # 3 days ago, three days ago, a week ago, a couple of days ago
    (rf"(?<![a-z\d])(?P<n>\d+|{alternation(EN_ONES)}|{alternation(AGO_COUNTS)}|a few)\s+"
     r"(?P<unit>day|week|month)s?\s+(?:ago|back|before)(?![a-z])", _resolve_ago),
]
_DATE_RES = [(re.compile(pattern), resolve) for pattern, resolve in _DATE_PATTERNS]


def _date_matches(text: str) -> list[_DateMatch]:
    """Every date expression in normalized text, in order; of overlapping ones the earliest, then longest."""
    found = [
        _DateMatch(m.start(), m.end(), m, resolve)
        for pattern, resolve in _DATE_RES
        for m in pattern.finditer(text)
        if m.end() > m.start()
    ]
    kept: list[_DateMatch] = []
    for candidate in sorted(found, key=lambda d: (d.start, -d.end)):
        if not kept or candidate.start >= kept[-1].end:
            kept.append(candidate)
    return kept


def _first_date(matches: list[_DateMatch], today: date) -> date | None:
    for found in matches:
        resolved = found.resolve(found.match, today)
        if resolved is not None:
            return resolved
    return None


def parse_date(text: str, today: date) -> date | None:
    """The first date said in `text`, relative to `today` (the user's local date), or None."""
    return _first_date(_date_matches(_normalize(text or "")), today)


# --- Categories --------------------------------------------------------------------------------------------

_CATEGORY_RES = {category: re.compile(alternation(words, "(?:e?s)?")) for category, words in CATEGORY_WORDS.items()}
_CLIENT_RE = re.compile(alternation(CLIENT_WORDS, "s?"))
_CATEGORY_FALSE_FRIENDS_RE = re.compile(alternation(CATEGORY_FALSE_FRIENDS))
_DESTINATION_BEFORE_RE = re.compile(r"(?:去|到|回|从|(?<![a-z])(?:to|from|at)\s+(?:the\s+|a\s+)?)$")


def _category_matches(text: str) -> list[tuple[re.Match, str]]:
    """Every category word in normalized text with its category, false friends (of course) left out, and a word
    inside a longer word of another category too: 手机套餐 is a phone plan, not a meal (餐)."""
    text = _blank(text, [m.span() for m in _CATEGORY_FALSE_FRIENDS_RE.finditer(text)])
    found = [(m, category) for category, pattern in _CATEGORY_RES.items() for m in pattern.finditer(text)]
    return [(m, category) for m, category in found
            if not any(other != category and o.start() <= m.start() and m.end() <= o.end()
                       and o.end() - o.start() > m.end() - m.start() for o, other in found)]


def _category_hits(text: str) -> list[tuple[int, str, bool]]:
    """(position, category, is a destination) for every category word in normalized text."""
    return sorted(
        (m.start(), category, bool(_DESTINATION_BEFORE_RE.search(text, max(0, m.start() - 10), m.start())))
        for m, category in _category_matches(text)
    )


def _categories(text: str) -> tuple[str | None, list[str]]:
    """parse_category on normalized text (see the module docstring for the rules)."""
    hits = _category_hits(text)
    ordered = list(dict.fromkeys(category for _, category, _ in hits))
    if "transport" in ordered:  # 打车去酒店: the hotel is where the taxi went
        ordered = [c for c in ordered if c not in PLACE_CATEGORIES
                   or not all(dest for _, cat, dest in hits if cat == c)]
    if _CLIENT_RE.search(text):
        if not ordered:
            ordered = ["entertainment"]
        elif "meals" in ordered:
            ordered = list(dict.fromkeys("entertainment" if c == "meals" else c for c in ordered))
    if len(ordered) == 1:
        return ordered[0], []
    winner = CATEGORY_PRECEDENCE.get(frozenset(ordered))
    return (winner, []) if winner else (None, ordered)


def parse_category(text: str) -> tuple[str | None, list[str]]:
    """(category id, []) when the words decide it; (None, [candidates]) when they point at several
    categories; (None, []) when no category word is there."""
    return _categories(_normalize(text or ""))


# --- Entities: what the NLU pipeline reports --------------------------------------------------------------


class EntitySpan(NamedTuple):
    """An amount, date or category word as this parser reads it, with its character span in the text."""

    entity: str  # "amount" | "date" | "category"
    start: int
    end: int
    value: str  # "58 CNY", the date as written, the category id


_CATEGORY_FEE_RE = re.compile("费用|费|票")  # 停车费, 火车票: the word with its fee ending


def entity_spans(text: str) -> list[EntitySpan]:
    """Every amount, date and category word in `text`, in order, none overlapping another of its kind: the
    pipeline's amount/date/category entities come from here (nlu/expense_entities.py), so what the NLU
    reports is what the claim actions read."""
    norm = _normalize(text or "")
    spans = [EntitySpan("amount", f.start, f.end, f"{f.money.amount} {f.money.currency}") for f in _find_money(norm)]
    spans += [EntitySpan("date", d.start, d.end, text[d.start:d.end]) for d in _date_matches(norm)]
    words: list[EntitySpan] = []
    for m, category in sorted(_category_matches(norm), key=lambda mc: (mc[0].start(), -mc[0].end())):
        if words and m.start() < words[-1].end:
            continue
        end = m.end()
        if has_cjk(norm[end - 1:end]) and (fee := _CATEGORY_FEE_RE.match(norm, end)):
            end = fee.end()
        words.append(EntitySpan("category", m.start(), end, category))
    return sorted(spans + words, key=lambda e: (e.start, e.entity))


# --- Item details: invoice, client, nights, description ----------------------------------------------------

_INVOICE_NO_RE = re.compile("|".join(INVOICE_NO))
_INVOICE_YES_RE = re.compile("|".join(INVOICE_YES))
_ALL_RE = re.compile(alternation(ALL_WORDS))
_NIGHTS_RE = re.compile(
    rf"(?<![\d{ZH_DIGITS}十])(?P<n>\d{{1,3}}|[{ZH_DIGITS}十]{{1,4}})\s*个?\s*(?:晚上?|夜|宿)(?![饭餐])"
    rf"|(?<![a-z\d])(?P<en>\d+|{alternation(EN_ONES)}|a|an)\s+nights?(?![a-z])"
)
_CLIENT_PATTERNS = (
    re.compile(r"(?:请|和|跟|与|陪|招待|宴请|接待)了?(?P<name>[^\s，,。、;；的]{1,15}?)(?:公司)?的?(?:客户|客人)"),
    re.compile(r"(?P<name>[^\s，,。、;；的请和跟与]{1,15}?)(?:公司)?的(?:客户|客人)"),
    re.compile(r"(?:客户|客人)(?:名称|名字|名)?(?:是|为|叫|:|：)\s*(?P<name>[^\s，,。、;；的\d]{2,15}?)(?=的|，|,|\s|$|\d)"),
    re.compile(r"(?<![a-z])(?:clients?|customers?|guests?)(?:'s)?(?:\s+name)?\s*(?:is|was|it's|:|=)\s*"
               r"(?P<name>[a-z][\w&.'-]*(?:\s+[a-z][\w&.'-]*){0,2})"),
    re.compile(r"(?<![a-z])(?:clients?|customers?|guests?)(?:\s*:\s*|\s+(?:from\s+|at\s+|of\s+|named\s+|called\s+)?)"
               r"(?P<name>[a-z][\w&.'-]*(?:\s+[a-z][\w&.'-]*){0,2})"),
    re.compile(r"(?<![a-z])(?P<name>[a-z][\w&.'-]*)\s+(?:clients?|customers?|guests?)(?![a-z])"),
)
_TOTAL_BEFORE_RE = re.compile(rf"{alternation(TOTAL_WORDS + ('共',))}\s*(?:是|花了|花费|:|：)?\s*$")
_TOTAL_AFTER_RE = re.compile(rf"\s*{alternation(TOTAL_AFTER_WORDS)}")
_PER_UNIT_RE = re.compile(alternation(PER_UNIT_WORDS))
_TOTAL_WORDS_RE = re.compile(alternation(TOTAL_WORDS))
_FILLERS_RE = re.compile(HESITATION)
_EDGE_PUNCT = " \t\r\n,，.。、;；:：!！?？-—~·()（）[]【】\"'“”‘’"
_ZH_LEADING_RE = re.compile(alternation(EDGE_WORDS_ZH_LEADING))
_ZH_TRAILING_RE = re.compile(alternation(EDGE_WORDS_ZH_TRAILING) + "$")
_EN_EDGE_WORD_RE = re.compile(r"[a-z][a-z'.]*(?![a-z0-9])")


def _invoice(text: str) -> tuple[bool | None, list[tuple[int, int]]]:
    """Whether an invoice (receipt) is said to exist, and the spans saying so. "No" is read first: 没有发票
    contains 有发票."""
    no = [m.span() for m in _INVOICE_NO_RE.finditer(text)]
    yes = [m.span() for m in _INVOICE_YES_RE.finditer(_blank(text, no))]
    if no and not yes:
        return False, no
    if yes and not no:
        return True, yes
    return None, no + yes


def _client(text: str, original: str) -> str | None:
    """The client's name for entertainment: 请华为的客户吃饭 -> 华为, dinner with client Acme -> Acme."""
    for pattern in _CLIENT_PATTERNS:
        for m in pattern.finditer(text):
            name = _client_name(original[m.start("name"):m.end("name")])
            if name:
                return name
    return None


def _client_name(name: str) -> str | None:
    """A plausible client name: English words stop at the first stop word; no category word, no pronoun."""
    words = []
    for word in name.split():
        if word.lower() in CLIENT_NAME_STOP_EN or word.lower() in EN_ONES or word.lower() in EN_TENS:
            break
        words.append(word)
    name = " ".join(words).strip(_EDGE_PUNCT)
    if not name or any(name.startswith(stop) for stop in CLIENT_NAME_STOP_ZH) or _category_hits(_normalize(name)):
        return None
    return name


def _nights(text: str) -> int | None:
    """How many nights are said (两晚, 3个晚上, 2 nights); of several ("$150 a night for 3 nights"), the most."""
    counts = [1 if (m["n"] or m["en"]) in ("a", "an") else _small_number(m["n"] or m["en"])
              for m in _NIGHTS_RE.finditer(text)]
    return max((c for c in counts if c), default=None)


def _strip_edges(description: str) -> str:
    """Take off, from both ends, punctuation and words that say nothing about the expense (我要报销, i took a)."""
    previous = None
    while previous != description:
        previous = description
        description = description.strip(_EDGE_PUNCT)
        low = description.lower()
        if (m := _EN_EDGE_WORD_RE.match(low)) and m.group().rstrip(".") in EDGE_WORDS_EN:
            description = description[m.end():]
        elif m := _ZH_LEADING_RE.match(low):
            description = description[m.end():]
        elif (tail := re.search(r"(?<![a-z])[a-z][a-z']*$", low)) and tail.group() in EDGE_WORDS_EN:
            description = description[:tail.start()]
        elif tail := _ZH_TRAILING_RE.search(low):
            description = description[:tail.start()]
    return description


def _description(original: str, norm: str, removed: list[tuple[int, int]]) -> str:
    """A short description: the clause without amounts, dates, invoice remarks, totals and fillers."""
    original, norm = original[:MAX_DESCRIPTION_SOURCE], norm[:MAX_DESCRIPTION_SOURCE]
    removed = removed + [m.span() for pattern in (_FILLERS_RE, _TOTAL_WORDS_RE) for m in pattern.finditer(norm)]
    text = re.sub(r"\s+", " ", _blank(original, removed))
    text = _strip_edges(text)
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 1].rstrip() + "…"


# --- Items -------------------------------------------------------------------------------------------------

_SEPARATOR_RE = re.compile(
    r"[，、;；。!！?？\n]+|\.(?=\s)|(?<!\d),|,(?!\d{3}(?!\d))"
    rf"|{alternation(ITEM_SEPARATORS_ZH)}|(?<=\s){alternation(ITEM_SEPARATORS_EN)}(?=\s)"
)


@dataclass
class _Segment:
    """The stretch of the message one item is read from, and its amount (None when there is none)."""

    start: int
    end: int
    money: _Found | None
    trailing: tuple[int, int] | None = None  # clauses after the last amount, joined to this item
    amounts: list[_Found] = field(default_factory=list)


def _clauses(text: str, protected: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans between separators that are not inside an amount or a date; empty clauses dropped."""
    covered = _Coverage(len(text), protected)
    cuts = [m.span() for m in _SEPARATOR_RE.finditer(text) if not covered.overlaps(*m.span())]
    cuts = sorted(cuts + _list_markers(text))
    bounds, start = [], 0
    for cut_start, cut_end in cuts:
        bounds.append((start, cut_start))
        start = cut_end
    bounds.append((start, len(text)))
    return [(s, e) for s, e in bounds if text[s:e].strip()]


def _is_total(text: str, amount: _Found, not_before: int) -> bool:
    """Whether an amount is said to be a total: 一共900, total: 900, 900 in total."""
    before = _TOTAL_BEFORE_RE.search(text, max(not_before, amount.start - _WINDOW), amount.start)
    return bool(before or _TOTAL_AFTER_RE.match(text, amount.end))


def _split_clause(text: str, start: int, end: int, amounts: list[_Found]) -> list[_Segment]:
    """One clause holding several amounts, cut between them. A total among them (每晚450 一共900) makes the
    clause one item of that total. When the clause opens with an amount ("58 taxi 35 lunch") each piece
    starts at its amount, else ("打车58午饭35") each piece ends at its amount."""
    if len(amounts) == 1:
        return [_Segment(start, end, amounts[0], amounts=amounts)]
    totals = [a for a in amounts if _is_total(text, a, start)]
    if totals:
        return [_Segment(start, end, totals[-1], amounts=amounts)]
    amount_first = not _category_hits(text[start:amounts[0].start])
    pieces = []
    for i, amount in enumerate(amounts):
        if amount_first:
            piece_start = start if i == 0 else amount.start
            piece_end = amounts[i + 1].start if i + 1 < len(amounts) else end
        else:
            piece_start = start if i == 0 else amounts[i - 1].end
            piece_end = amount.end if i + 1 < len(amounts) else end
        pieces.append(_Segment(piece_start, piece_end, amount, amounts=[amount]))
    return pieces


def _segments(text: str, amounts: list[_Found], dates: list[_DateMatch]) -> list[_Segment]:
    """Group clauses into items around their amounts (or, when no amount is said, around category words)."""
    protected = [(a.start, a.end) for a in amounts] + [(d.start, d.end) for d in dates]
    starts = [a.start for a in amounts]
    segments: list[_Segment] = []
    pending: int | None = None
    for start, end in _clauses(text, protected):
        inside = amounts[bisect_left(starts, start):bisect_left(starts, end)]
        anchored = inside or (not amounts and _categories(text[start:end]) != (None, []))
        if not anchored:
            pending = start if pending is None else pending
            continue
        pieces = _split_clause(text, start, end, inside) if inside else [_Segment(start, end, None)]
        if pending is not None:  # the clauses without an amount before this one belong to its first item
            pieces[0].start, pending = pending, None
        segments.extend(pieces)
    if pending is not None and segments:
        segments[-1].trailing = (pending, len(text))
        segments[-1].end = len(text)
    return segments


def _item(original: str, norm: str, segment: _Segment, today: date, markers: list[tuple[int, int]]) -> ParsedItem:
    """The item read from one segment; `markers` are the message's list numbers, left out of the description."""
    start, end = segment.start, segment.end
    part, part_norm = original[start:end], norm[start:end]
    dates = _date_matches(part_norm)
    amounts = [(a.start - start, a.end - start) for a in segment.amounts]
    has_invoice, invoice_spans = _invoice(part_norm)
    category, candidates = _categories(part_norm)
    markers = [(s - start, e - start) for s, e in markers if start <= s < end]
    removed = amounts + [(d.start, d.end) for d in dates] + invoice_spans + markers
    return ParsedItem(
        category=category,
        category_candidates=candidates,
        money=segment.money.money if segment.money else None,
        spent_on=_first_date(dates, today),
        description=_description(part, part_norm, removed),
        client=_client(_blank(part_norm, amounts + [(d.start, d.end) for d in dates]), part),
        has_invoice=has_invoice,
        text=part.strip(),
        nights=_nights(part_norm),
    )


def _fill_dates(items: list[ParsedItem]) -> None:
    """An item without a date takes the nearest earlier item's; items before the first dated one take it."""
    first = next((item.spent_on for item in items if item.spent_on), None)
    current = first
    for item in items:
        if item.spent_on is None:
            item.spent_on = current
        current = item.spent_on


def _absorb_totals(pairs: list[tuple[ParsedItem, _Segment]], norm: str) -> list[ParsedItem]:
    """A clause that only gives a total (一共93, 900 in total: no category of its own) is no item when it adds
    up the other items, and is the amount of the item before it when that one gave a price per night, day or
    person ("hotel 450 a night, 900 in total"). Otherwise it stays an item, for the caller to ask about."""
    items = [item for item, _ in pairs]
    kept: list[ParsedItem] = []
    for item, segment in pairs:
        if (item.money is None or item.category or item.category_candidates or len(items) < 2
                or not _TOTAL_WORDS_RE.search(norm, segment.start, segment.end)):
            kept.append(item)
            continue
        others = [o.money for o in items if o is not item and o.money]
        if len(others) == len(items) - 1 and all(m.currency == item.money.currency for m in others) \
                and sum(m.amount for m in others) == item.money.amount:
            continue
        previous = kept[-1] if kept else None
        if previous and previous.money and _PER_UNIT_RE.search(_normalize(previous.text)):
            previous.money, previous.nights = item.money, previous.nights or item.nights
            continue
        kept.append(item)
    return kept


def parse_items(text: str, today: date) -> list[ParsedItem]:
    """The expense items said in one message, in order (see the module docstring for how it is split, and
    how dates and invoice remarks carry over between items)."""
    original = text or ""
    norm = _normalize(original)
    amounts = _find_money(norm)
    segments = _segments(norm, amounts, _date_matches(norm))
    markers = _list_markers(norm)
    items = [_item(original, norm, segment, today, markers) for segment in segments]
    items = _absorb_totals(list(zip(items, segments, strict=True)), norm)
    _fill_dates(items)
    trailing = segments[-1].trailing if segments else None
    if trailing and _ALL_RE.search(norm, *trailing):
        said, _ = _invoice(norm[trailing[0]:trailing[1]])
        for item in items:
            item.has_invoice = said if item.has_invoice is None else item.has_invoice
    return items
