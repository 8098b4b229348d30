"""The expense text parser: amounts, dates, categories and items, in Chinese and English, typed and spoken.

Every case runs against a fixed today, Thursday 2026-11-26. Case ids start with the language (zh: / en:).
"""

from __future__ import annotations

import ast
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from assistant.expense_text import (
    CATEGORY_WORDS,
    Money,
    ParsedItem,
    entity_spans,
    parse_amount,
    parse_amounts,
    parse_category,
    parse_date,
    parse_items,
)

TODAY = date(2026, 11, 26)  # a Thursday
ROOT = Path(__file__).resolve().parents[1]


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def cases(lang: str, rows: list[tuple]) -> list:
    """pytest params with ids "zh:<text>" / "en:<text>"."""
    return [pytest.param(*row, id=f"{lang}:{str(row[0])[:40]}") for row in rows]


# --- Amounts -----------------------------------------------------------------------------------------------

ZH_AMOUNTS = [
    ("58", "58", "CNY"),
    ("打车统一六百", "600", "CNY"),  # 统一 (uniformly) is no 一 of 一六百
    ("午饭一律三十", "30", "CNY"),
    ("1,280", "1280", "CNY"),
    ("1280.50", "1280.50", "CNY"),
    ("¥58", "58", "CNY"),
    ("￥58", "58", "CNY"),
    ("港币980", "980", "HKD"),  # the currency word before the number, as it is said
    ("酒店港币九百八", "980", "HKD"),
    ("日元5000", "5000", "JPY"),
    ("58元", "58", "CNY"),
    ("58块", "58", "CNY"),
    ("58块钱", "58", "CNY"),
    ("打车 58 RMB", "58", "CNY"),
    ("58 CNY", "58", "CNY"),
    ("２０美元", "20", "USD"),
    ("20美金", "20", "USD"),
    ("15欧元", "15", "EUR"),
    ("三百五十", "350", "CNY"),
    ("两千", "2000", "CNY"),
    ("一千二百五十", "1250", "CNY"),
    ("五十八块", "58", "CNY"),
    ("一百零五", "105", "CNY"),
    ("1.2万", "12000", "CNY"),
    ("两万三", "23000", "CNY"),
    ("3千", "3000", "CNY"),
    ("八百块", "800", "CNY"),
    ("晚餐一百二", "120", "CNY"),
    ("五十八点五", "58.5", "CNY"),
    ("58块5", "58.5", "CNY"),
    ("58快5", "58.5", "CNY"),  # 快: the input method's slip for 块
    ("一块五毛", "1.5", "CNY"),
    ("负58", "-58", "CNY"),
    ("负五十八块", "-58", "CNY"),
    ("打车 -58", "-58", "CNY"),
    ("0元", "0", "CNY"),
    ("零元", "0", "CNY"),
    ("嗯 我昨天 打车 五十八 块", "58", "CNY"),
    ("11月20日打车58", "58", "CNY"),
    ("晚上十点半打车 65", "65", "CNY"),
    ("报销单42的打车 58元", "58", "CNY"),
    ("住了两晚酒店一共900", "900", "CNY"),
    ("买了2个鼠标 共120", "120", "CNY"),
    ("A4纸 60", "60", "CNY"),
    ("100港币", "100", "HKD"),
    ("5毛", "0.5", "CNY"),
    ("打车-58", "58", "CNY"),  # a dash between words, not a minus
    ("十二点五 咖啡", "12.5", "CNY"),
    ("晚上十点三十分打车 五十八点五", "58.5", "CNY"),
    ("58块5月3号", "58", "CNY"),
    ("一千二百八十", "1280", "CNY"),
    ("两千两百", "2200", "CNY"),
    ("飞机票八百六", "860", "CNY"),
]

EN_AMOUNTS = [
    ("$20", "20", "USD"),
    ("20 USD", "20", "USD"),
    ("20 dollars", "20", "USD"),
    ("US$20", "20", "USD"),
    ("€15", "15", "EUR"),
    ("15 EUR", "15", "EUR"),
    ("15 euros", "15", "EUR"),
    ("58 yuan", "58", "CNY"),
    ("58 rmb", "58", "CNY"),
    ("RMB 58", "58", "CNY"),
    ("taxi 58", "58", "CNY"),
    ("three hundred fifty", "350", "CNY"),
    ("fifty eight", "58", "CNY"),
    ("one thousand two hundred fifty", "1250", "CNY"),
    ("twenty-five dollars", "25", "USD"),
    ("a hundred", "100", "CNY"),
    ("one hundred and five", "105", "CNY"),
    ("twenty five hundred", "2500", "CNY"),
    ("fifty eight yuan", "58", "CNY"),
    ("fifty eight point five", "58.5", "CNY"),
    ("five dollars", "5", "USD"),
    ("2k", "2000", "CNY"),
    ("1.5 thousand", "1500", "CNY"),
    ("minus 58", "-58", "CNY"),
    ("-58", "-58", "CNY"),
    ("-$20", "-20", "USD"),
    ("zero yuan", "0", "CNY"),
    ("0", "0", "CNY"),
    ("1e12", "1000000000000", "CNY"),
    ("1,000,000,000,000", "1000000000000", "CNY"),
    ("58 bucks", "58", "CNY"),
    ("um i took a cab yesterday fifty eight yuan", "58", "CNY"),
    ("taxi on Nov 20 at 10pm 58", "58", "CNY"),
    ("claim #42: taxi 58", "58", "CNY"),
    ("hotel 2 nights 900", "900", "CNY"),
    ("100 HKD", "100", "HKD"),
    ("20$", "20", "USD"),
    ("claim 58 yuan for a taxi", "58", "CNY"),
    ("one thousand two hundred eighty", "1280", "CNY"),
    ("ten", "10", "CNY"),
    ("A hundred and twenty", "120", "CNY"),
    ("lunch at 12:30 was 45", "45", "CNY"),
    ("at 10.30 taxi 58", "58", "CNY"),
    ("dinner two eighty with Philips", "280", "CNY"),  # spoken hundreds, not 80
    ("train one twenty", "120", "CNY"),
    ("the third one should be one fifty", "150", "CNY"),
    ("two ninety nine yuan", "299", "CNY"),
    ("meeting until four thirty, taxi 58", "58", "CNY"),  # a clock time stays one
    ("make the second one eighty", "80", "CNY"),  # "one" is the item here
    ("that one fifty", "50", "CNY"),
    ("taxi one twenty", "120", "CNY"),
]


@pytest.mark.parametrize(("text", "amount", "currency"), cases("zh", ZH_AMOUNTS) + cases("en", EN_AMOUNTS))
def test_amount(text: str, amount: str, currency: str) -> None:
    assert parse_amount(text) == Money(Decimal(amount), currency)


ZH_NOT_AMOUNTS = [
    "11月20日", "2026-11-20", "十一月二十日", "22:30", "晚上十点半", "报销单42", "第3笔", "第三笔", "住了两晚",
    "一共", "等一下", "3天前", "百分之五十", "一百多块", "3号线", "2个", "A4纸", "打车", "",
]
EN_NOT_AMOUNTS = [
    "Nov 20", "November 20th", "20 Nov", "22:30", "10pm", "at ten", "claim #42", "claim 42", "the 3rd",
    "2 nights", "3 days ago", "one taxi", "2 people", "flight CA1234", "taxi", "twenty first of November",
]


@pytest.mark.parametrize("text", cases("zh", [(t,) for t in ZH_NOT_AMOUNTS])
                         + cases("en", [(t,) for t in EN_NOT_AMOUNTS]))
def test_not_an_amount(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize(("text", "expected"), cases("zh", [
    ("打车58，午饭35", [("58", "CNY", 2, 4), ("35", "CNY", 7, 9)]),
    ("¥58和20美元", [("58", "CNY", 0, 3), ("20", "USD", 4, 8)]),
    ("负58 和 五十八块", [("-58", "CNY", 0, 3), ("58", "CNY", 6, 10)]),
]) + cases("en", [
    ("taxi $20 and lunch 35 yuan", [("20", "USD", 5, 8), ("35", "CNY", 19, 26)]),
    ("15 EUR 20 USD", [("15", "EUR", 0, 6), ("20", "USD", 7, 13)]),
    ("minus 58 then fifty eight", [("-58", "CNY", 0, 8), ("58", "CNY", 14, 25)]),
]))
def test_amounts_with_spans(text: str, expected: list[tuple[str, str, int, int]]) -> None:
    assert parse_amounts(text) == [(Money(Decimal(a), c), s, e) for a, c, s, e in expected]


@pytest.mark.parametrize(("text", "expected"), cases("zh", [
    ("昨天打车58，午饭35", [("date", "昨天", "昨天"), ("category", "打车", "transport"), ("amount", "58", "58 CNY"),
                       ("category", "午饭", "meals"), ("amount", "35", "35 CNY")]),
    ("停车费三十块", [("category", "停车费", "transport"), ("amount", "三十块", "30 CNY")]),
    ("加班餐38", [("category", "加班餐", "meals"), ("amount", "38", "38 CNY")]),
]) + cases("en", [
    ("high speed train 128 three days ago", [("category", "high speed train", "transport"),
                                             ("amount", "128", "128 CNY"),
                                             ("date", "three days ago", "three days ago")]),
    ("the client dinner came to $20", [("category", "client dinner", "entertainment"), ("amount", "$20", "20 USD")]),
    ("of course, lunch", [("category", "lunch", "meals")]),
    # the claim form's item numbers, which claim_chat reads as positions, are no amounts
    ("change item 2 to 68", [("amount", "68", "68 CNY")]),
    ("drop entry 3", []),
    ("remove line 2", []),
    ("item 2 was 45 yuan", [("amount", "45 yuan", "45 CNY")]),
]))
def test_entity_spans_are_what_the_parser_reads(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(e.entity, text[e.start:e.end], e.value) for e in entity_spans(text)] == expected


# --- Dates -------------------------------------------------------------------------------------------------

ZH_DATES = [
    ("今天打车", d(11, 26)),
    ("昨天", d(11, 25)),
    ("昨晚打车", d(11, 25)),
    ("前天", d(11, 24)),
    ("大前天", d(11, 23)),
    ("上周三", d(11, 18)),
    ("上个星期五", d(11, 20)),
    ("这周一", d(11, 23)),
    ("本周二", d(11, 24)),
    ("帮我报一下周二的高铁", d(11, 24)),  # 一下 is a particle, not 下周 (next week)
    ("下周二", d(12, 1)),
    ("周五", d(11, 20)),
    ("星期五", d(11, 20)),
    ("礼拜五", d(11, 20)),
    ("星期四", d(11, 26)),
    ("周日加油", d(11, 22)),
    ("11月20日", d(11, 20)),
    ("11月20号", d(11, 20)),
    ("十一月二十日", d(11, 20)),
    ("2026-11-20", d(11, 20)),
    ("2026/11/20", d(11, 20)),
    ("2026年11月20日", d(11, 20)),
    ("二〇二六年十一月二十日", d(11, 20)),
    ("12月25日", d(12, 25, 2025)),
    ("2026年12月25日", d(12, 25)),
    ("3天前", d(11, 23)),
    ("三天前", d(11, 23)),
    ("两周前", d(11, 12)),
    ("上个月15号", d(10, 15)),
    ("上月3日", d(10, 3)),
    ("15号", d(11, 15)),
    ("28号", d(10, 28)),
    ("11/20", d(11, 20)),
    ("打车58", None),
    ("上周打车", None),
    ("几天前", None),
    ("2月30日", None),
]

EN_DATES = [
    ("today", d(11, 26)),
    ("yesterday", d(11, 25)),
    ("last night", d(11, 25)),
    ("the day before yesterday", d(11, 24)),
    ("tonight", d(11, 26)),
    ("last Wednesday", d(11, 18)),
    ("last friday", d(11, 20)),
    ("Wednesday last week", d(11, 18)),
    ("this Monday", d(11, 23)),
    ("Friday", d(11, 20)),
    ("on monday", d(11, 23)),
    ("thursday", d(11, 26)),
    ("Sunday", d(11, 22)),
    ("Nov 20", d(11, 20)),
    ("November 20", d(11, 20)),
    ("20 Nov", d(11, 20)),
    ("20th November", d(11, 20)),
    ("the 20th of November", d(11, 20)),
    ("November 20th, 2026", d(11, 20)),
    ("Dec 25", d(12, 25, 2025)),
    ("December 25, 2026", d(12, 25)),
    ("2026-11-20", d(11, 20)),
    ("3 days ago", d(11, 23)),
    ("three days ago", d(11, 23)),
    ("a week ago", d(11, 19)),
    ("last month on the 15th", d(10, 15)),
    ("the 15th of last month", d(10, 15)),
    ("on the 15th", d(11, 15)),
    ("the fifth of last month", d(10, 5)),
    ("on 8th last month", d(10, 8)),
    ("last month the 5", d(10, 5)),
    ("november twentieth", d(11, 20)),
    ("the twenty first of november", d(11, 21)),
    ("taxi 58", None),
    ("last week", None),
    ("12 last month", None),  # a bare number beside "last month" is an amount, not a day
    ("last month 25", None),
    ("a few days ago", None),
    ("drop the third item", None),
    ("February 30", None),
]


@pytest.mark.parametrize(("text", "expected"), cases("zh", ZH_DATES) + cases("en", EN_DATES))
def test_date(text: str, expected: date | None) -> None:
    assert parse_date(text, TODAY) == expected


def test_a_month_day_that_is_today_stays_this_year() -> None:
    assert parse_date("11月26日", TODAY) == TODAY
    assert parse_date("Nov 27", TODAY) == d(11, 27, 2025)


# --- Categories --------------------------------------------------------------------------------------------

ZH_CATEGORIES = [
    ("打车", "transport"), ("出租车", "transport"), ("滴滴", "transport"), ("网约车", "transport"),
    ("地铁", "transport"), ("公交", "transport"), ("高铁", "transport"), ("火车票", "transport"),
    ("动车", "transport"), ("机票", "transport"), ("飞机票", "transport"), ("停车费", "transport"),
    ("加油", "transport"),
    ("午饭", "meals"), ("晚餐", "meals"), ("早饭", "meals"), ("外卖", "meals"), ("咖啡", "meals"),
    ("吃饭", "meals"),
    ("酒店", "lodging"), ("宾馆", "lodging"), ("住宿", "lodging"),
    ("键盘", "office"), ("鼠标", "office"), ("显示器", "office"), ("文具", "office"), ("打印纸", "office"),
    ("招待", "entertainment"), ("请客户吃饭", "entertainment"), ("宴请", "entertainment"),
    ("请华为的客户吃饭", "entertainment"), ("客户", "entertainment"),
    ("培训", "training"), ("课程", "training"), ("考试", "training"), ("认证", "training"),
    ("话费", "telecom"), ("手机费", "telecom"), ("流量", "telecom"), ("宽带", "telecom"),
    # a meal word (餐) inside a longer word of another category does not count; inside its own, it does
    ("手机套餐199", "telecom"), ("话费套餐是全家共用的", "telecom"), ("午餐套餐35", "meals"),
    ("打车去酒店", "transport"), ("和客户一起打车", "transport"),
    ("交通费140", "transport"), ("是交通", "transport"), ("机场大巴30", "transport"), ("餐饮268", "meals"),
    ("加班餐三十八", "meals"), ("算通讯吧", "telecom"), ("快递费23块", "office"), ("订书机二十五", "office"),
    ("插线板56块", "office"), ("电脑包199", "office"), ("办公椅超过五百", "office"),
    ("耳机299", "office"), ("转换头六十九", "office"), ("扩展坞 420", "office"), ("升降桌1800", "office"),
    ("里程 120", "transport"),
]
EN_CATEGORIES = [
    ("taxi", "transport"), ("cab", "transport"), ("uber", "transport"), ("didi", "transport"),
    ("metro", "transport"), ("subway", "transport"), ("bus", "transport"), ("train", "transport"),
    ("flight", "transport"), ("plane ticket", "transport"), ("parking", "transport"), ("fuel", "transport"),
    ("lunch", "meals"), ("dinner", "meals"), ("breakfast", "meals"), ("meal", "meals"), ("food", "meals"),
    ("coffee", "meals"),
    ("hotel", "lodging"), ("lodging", "lodging"), ("accommodation", "lodging"), ("airbnb", "lodging"),
    ("keyboard", "office"), ("mouse", "office"), ("monitor", "office"), ("stationery", "office"),
    ("office supplies", "office"),
    ("client dinner", "entertainment"), ("entertainment", "entertainment"), ("entertaining", "entertainment"),
    ("dinner with client Acme", "entertainment"),
    ("training", "training"), ("course", "training"), ("certification", "training"),
    ("conference ticket", "training"),
    ("phone bill", "telecom"), ("mobile", "telecom"), ("internet", "telecom"), ("telecom", "telecom"),
    ("taxi to the hotel", "transport"), ("Taxis", "transport"), ("business lunch", "meals"),
    ("transport 140", "transport"), ("it's transport", "transport"), ("train ticket", "transport"),
    ("overtime meal 38", "meals"), ("team dinner 860", "meals"), ("courier 23", "office"), ("stapler", "office"),
    ("usb cable 29", "office"), ("laptop bag", "office"), ("mobile plan 150", "telecom"),
    ("office chair 420", "office"), ("the mobile bill is over two hundred", "telecom"),
    ("printer ink 180", "office"), ("whiteboard markers, forty two", "office"),
    ("headset 299", "office"), ("noise cancelling headphones", "office"), ("usb-c adapter 89", "office"),
    ("docking station", "office"), ("standing desk 1800", "office"), ("mileage 120", "transport"),
    ("samples sent by express delivery, thirty six yuan", "office"),
]


@pytest.mark.parametrize(("text", "category"), cases("zh", ZH_CATEGORIES) + cases("en", EN_CATEGORIES))
def test_category(text: str, category: str) -> None:
    assert parse_category(text) == (category, [])


@pytest.mark.parametrize(("text", "candidates"), cases("zh", [
    ("酒店早餐", ["lodging", "meals"]),
    ("火车上吃饭", ["transport", "meals"]),
    ("我要报销", []),
]) + cases("en", [
    ("hotel breakfast", ["lodging", "meals"]),
    ("train course", ["transport", "training"]),
    ("of course", []),
]))
def test_unsure_or_unknown_category(text: str, candidates: list[str]) -> None:
    assert parse_category(text) == (None, candidates)


def test_category_ids_are_those_of_the_policy() -> None:
    policy = yaml.safe_load((ROOT / "company" / "policy.yml").read_text(encoding="utf-8"))
    assert set(CATEGORY_WORDS) == {c["id"] for c in policy["categories"]}


# --- Items -------------------------------------------------------------------------------------------------


def summary(items: list[ParsedItem]) -> list[tuple]:
    return [(i.category, str(i.money.amount) if i.money else None, i.spent_on, i.description) for i in items]


ZH_ITEMS = [
    ("昨天打车58，午饭35", [("transport", "58", d(11, 25), "打车"), ("meals", "35", d(11, 25), "午饭")]),
    ("住了两晚酒店一共900", [("lodging", "900", None, "住了两晚酒店")]),
    ("嗯 我昨天 打车 五十八 块", [("transport", "58", d(11, 25), "打车")]),
    ("我要报销昨天打车 58 块", [("transport", "58", d(11, 25), "打车")]),
    ("打车58、地铁6；午饭35", [("transport", "58", None, "打车"), ("transport", "6", None, "地铁"),
                               ("meals", "35", None, "午饭")]),
    ("昨天打车58和今天午饭35", [("transport", "58", d(11, 25), "打车"), ("meals", "35", d(11, 26), "午饭")]),
    ("打车58\n午饭35\n咖啡28", [("transport", "58", None, "打车"), ("meals", "35", None, "午饭"),
                               ("meals", "28", None, "咖啡")]),
    ("打车58还有午饭35", [("transport", "58", None, "打车"), ("meals", "35", None, "午饭")]),
    ("打车58午饭35", [("transport", "58", None, "打车"), ("meals", "35", None, "午饭")]),
    ("打车，58", [("transport", "58", None, "打车")]),
    ("打车58，午饭35，一共93", [("transport", "58", None, "打车"), ("meals", "35", None, "午饭")]),
    ("酒店两晚 每晚450 一共900", [("lodging", "900", None, "酒店两晚 每晚")]),
    ("我要报销昨天打车", [("transport", None, d(11, 25), "打车")]),
    ("58", [(None, "58", None, "")]),
    ("上周三请华为的客户吃饭 1500 有发票", [("entertainment", "1500", d(11, 18), "请华为的客户吃饭")]),
    ("报一笔周二的出租车六十三块", [("transport", "63", d(11, 24), "出租车")]),
    ("呃 地铁三块 还有 公交两块", [("transport", "3", None, "地铁"), ("transport", "2", None, "公交")]),
    ("嗯嗯嗯 昨天打车五十八 呃呃", [("transport", "58", d(11, 25), "打车")]),  # drawn-out hesitations
    ("打车58快，午饭三十五快钱", [("transport", "58", None, "打车"), ("meals", "35", None, "午饭")]),  # 快 for 块
    ("打车58 快点批", [("transport", "58", None, "打车 快点批")]),  # 快点 is "quick", no currency
    ("我们一快去吃饭 花了200", [("meals", "200", None, "一快去吃饭")]),  # 一快 (一块, together) is no 1 yuan
    ("打车58 午饭35 晚饭80 酒店450", [("transport", "58", None, "打车"), ("meals", "35", None, "午饭"),
                                  ("meals", "80", None, "晚饭"), ("lodging", "450", None, "酒店")]),
    ("我要报销：\n1、打车 58\n2、午饭 35", [("transport", "58", None, "打车"), ("meals", "35", None, "午饭")]),
    ("酒店每晚450，住了两晚，一共900", [("lodging", "900", None, "酒店每晚")]),
    ("打车58，午饭35，一共100", [("transport", "58", None, "打车"), ("meals", "35", None, "午饭"),
                              (None, "100", None, "")]),  # a total that adds nothing up: the caller asks
    ("双十一买的显示器 1299", [("office", "1299", None, "双十一买的显示器")]),
    ("", []),
    ("开一张新的报销单", []),
]
EN_ITEMS = [
    ("taxi 58 and lunch 35 yesterday", [("transport", "58", d(11, 25), "taxi"), ("meals", "35", d(11, 25), "lunch")]),
    ("um i took a cab yesterday fifty eight yuan", [("transport", "58", d(11, 25), "cab")]),
    ("I need to expense a 58 yuan taxi ride from yesterday", [("transport", "58", d(11, 25), "taxi ride")]),
    ("dinner with client Acme 1500", [("entertainment", "1500", None, "dinner with client Acme")]),
    ("hotel 2 nights 900 in total", [("lodging", "900", None, "hotel 2 nights")]),
    ("taxi 58, lunch 35, coffee 28", [("transport", "58", None, "taxi"), ("meals", "35", None, "lunch"),
                                      ("meals", "28", None, "coffee")]),
    ("taxi 58 plus parking 20", [("transport", "58", None, "taxi"), ("transport", "20", None, "parking")]),
    ("flight 1200 then hotel 600", [("transport", "1200", None, "flight"), ("lodging", "600", None, "hotel")]),
    ("58 taxi 35 lunch", [("transport", "58", None, "taxi"), ("meals", "35", None, "lunch")]),
    ("taxi 58 lunch 35", [("transport", "58", None, "taxi"), ("meals", "35", None, "lunch")]),
    ("yesterday taxi 58, today lunch 35", [("transport", "58", d(11, 25), "taxi"),
                                           ("meals", "35", d(11, 26), "lunch")]),
    ("taxi 58 and lunch 35 and 93 in total", [("transport", "58", None, "taxi"), ("meals", "35", None, "lunch")]),
    ("one hundred and five for lunch", [("meals", "105", None, "lunch")]),
    ("taxi, 58", [("transport", "58", None, "taxi")]),
    ("I want to expense a taxi from Tuesday", [("transport", None, d(11, 24), "taxi")]),
    ("58", [(None, "58", None, "")]),
    ("plane ticket 860 on Nov 21", [("transport", "860", d(11, 21), "plane ticket")]),
    ("um subway three yuan and bus two yuan", [("transport", "3", None, "subway"), ("transport", "2", None, "bus")]),
    ("ummm taxi fifty eight yesterday", [("transport", "58", d(11, 25), "taxi")]),  # a drawn-out "um"
    ("umbrella 35 yesterday", [(None, "35", d(11, 25), "umbrella")]),  # no "um" inside a word
    ("1. taxi 58 2. lunch 35", [("transport", "58", None, "taxi"), ("meals", "35", None, "lunch")]),
    ("coffee 8. lunch 35.", [("meals", "8", None, "coffee"), ("meals", "35", None, "lunch")]),
    ("the hotel was $150 a night for 3 nights, $450 total",
     [("lodging", "450", None, "hotel was a night for 3 nights")]),
    ("took the subway line 2, 6 yuan", [("transport", "6", None, "subway line 2")]),
    ("taxi 168 last month", [("transport", "168", None, "taxi last month")]),  # not "the 8th of last month"
    ("lunch last month 25", [("meals", "25", None, "lunch last month")]),
    ("taxi 58 the 8th last month", [("transport", "58", d(10, 8), "taxi")]),
    ("", []),
    ("show me my claim", []),
]


@pytest.mark.parametrize(("text", "expected"), cases("zh", ZH_ITEMS) + cases("en", EN_ITEMS))
def test_items(text: str, expected: list[tuple]) -> None:
    assert summary(parse_items(text, TODAY)) == expected


@pytest.mark.parametrize(("text", "client"), cases("zh", [
    ("请华为的客户吃饭 1500", "华为"),
    ("跟阿里巴巴客户吃饭 800", "阿里巴巴"),
    ("请小米客户喝咖啡花了216", "小米"),
    ("招待客户 客户是字节 2000", "字节"),
    ("请客户吃饭 1500", None),
]) + cases("en", [
    ("dinner with client Acme 1500", "Acme"),
    ("Acme client dinner 1500", "Acme"),
    ("entertaining clients from Contoso 2000", "Contoso"),
    ("the client is Globex, dinner 900", "Globex"),
    ("dinner with the client 1500", None),
]))
def test_client(text: str, client: str | None) -> None:
    [item] = parse_items(text, TODAY)
    assert (item.category, item.client) == ("entertainment", client)


@pytest.mark.parametrize(("text", "has_invoice"), cases("zh", [
    ("打车58 有发票", True), ("打车58 带发票", True), ("打车58 没发票", False), ("打车58 无发票", False),
    ("打车58 没有发票", False), ("打车58", None), ("打车58 没有发票 只有收据", False), ("开的是电子发票 打车58", True),
]) + cases("en", [
    ("taxi 58 with receipt", True), ("taxi 58 with invoice", True), ("taxi 58, invoice attached", True),
    ("taxi 58 no receipt", False), ("taxi 58 no invoice", False), ("taxi 58 without a receipt", False),
    ("taxi 58", None), ("I lost the receipt for the taxi 58", False),
]))
def test_invoice(text: str, has_invoice: bool | None) -> None:
    [item] = parse_items(text, TODAY)
    assert item.has_invoice is has_invoice


@pytest.mark.parametrize(("text", "expected"), cases("zh", [
    ("打车58，午饭35，都有发票", [True, True]),
    ("打车58有发票，午饭35没发票", [True, False]),
]) + cases("en", [
    ("taxi 58 and lunch 35, all with receipts", [True, True]),
    ("taxi 58 with receipt, lunch 35 no receipt", [True, False]),
]))
def test_invoice_per_item(text: str, expected: list[bool]) -> None:
    assert [item.has_invoice for item in parse_items(text, TODAY)] == expected


@pytest.mark.parametrize(("text", "nights", "amount"), cases("zh", [
    ("住了两晚酒店一共900", 2, "900"), ("酒店3晚 1500", 3, "1500"), ("酒店住了一晚 450", 1, "450"),
    ("酒店 450", None, "450"),
]) + cases("en", [
    ("hotel 2 nights 900", 2, "900"), ("two nights at the hotel 1200", 2, "1200"), ("hotel a night 450", 1, "450"),
    ("hotel 450", None, "450"),
]))
def test_nights_are_not_amounts(text: str, nights: int | None, amount: str) -> None:
    [item] = parse_items(text, TODAY)
    assert (item.category, item.nights, item.money) == ("lodging", nights, Money(Decimal(amount), "CNY"))


def test_item_text_is_the_part_of_the_message_it_came_from() -> None:
    first, second = parse_items("昨天打车58，午饭35", TODAY)
    assert (first.text, second.text) == ("昨天打车58", "午饭35")


def test_foreign_currency_items_keep_their_currency() -> None:
    [item] = parse_items("hotel in Paris €150 on Nov 20", TODAY)
    assert (item.category, item.money, item.spent_on) == ("lodging", Money(Decimal(150), "EUR"), d(11, 20))


# --- Bad input: the parser reads, it does not judge ----------------------------------------------------------


@pytest.mark.parametrize("text", cases("zh", [("",), ("   ",), ("🚕🍜😀",), ("？？？",)])
                         + cases("en", [("",), ("\n\t",), ("👍👍",), ("!!!",)]))
def test_nothing_to_read(text: str) -> None:
    assert parse_amount(text) is None
    assert parse_amounts(text) == []
    assert parse_date(text, TODAY) is None
    assert parse_category(text) == (None, [])
    assert parse_items(text, TODAY) == []


@pytest.mark.parametrize(("text", "amount", "spent_on"), cases("zh", [
    ("打车 负58", "-58", None), ("打车 0元", "0", None), ("打车 1e12", "1000000000000", None),
    ("打车 一万亿", "1000000000000", None), ("2027年1月1日打车58", "58", d(1, 1, 2027)),
]) + cases("en", [
    ("taxi minus 58", "-58", None), ("taxi zero dollars", "0", None), ("taxi 1e12", "1000000000000", None),
    ("taxi 999,999,999,999.99", "999999999999.99", None), ("taxi 58 on January 1, 2027", "58", d(1, 1, 2027)),
]))
def test_negative_zero_absurd_and_future_are_returned_as_said(text: str, amount: str, spent_on: date | None) -> None:
    [item] = parse_items(text, TODAY)
    assert (item.category, item.money.amount, item.spent_on) == ("transport", Decimal(amount), spent_on)


@pytest.mark.parametrize("text", cases("zh", [("打车58，" * 2000,), ("一" * 10_000,), ("嗯" * 10_000,)])
                         + cases("en", [("taxi 58, " * 1111 + "x",), ("one " * 2500,), ("a" * 10_000,)]))
def test_ten_thousand_characters(text: str) -> None:
    assert len(text) >= 10_000
    started = time.perf_counter()
    items = parse_items(text, TODAY)
    parse_amounts(text)
    assert time.perf_counter() - started < 5
    if text.startswith(("打车58", "taxi 58")):
        assert len(items) == text.count("58") and all(i.money == Money(Decimal(58), "CNY") for i in items)
    else:
        assert items == []


def test_the_core_package_module_does_not_import_rasa() -> None:
    tree = ast.parse((ROOT / "assistant" / "expense_text.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(name.split(".")[0] in ("rasa", "rasa_sdk") for name in imported)
