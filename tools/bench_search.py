"""Knowledge-search benchmark: `python -m tools.bench_search`.

Seeds 100,000 topic messages over ~2,000 topics (text generated from the search corpus: its messages with
numbers, cities, clients and names varied, cross-talk from other topics and everyday chatter, zh and en) into a
fresh SQLite file and a fresh PostgreSQL database, in bulk and one transaction per backend, then runs 200 searches
(questions.yml and variations) as one typical asker and prints p50/p95/p99 per backend, beside a baseline
measured in the same run on the same database: a primary-key lookup of one topic plus its last 20 messages.
It also times the write path on the largest topic: index_message (own transaction) and reindex_topic.
Results go to results/bench-search.json. The target is search p95 <= 50 ms on both backends.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence

from sqlalchemy import insert, select, text

from assistant import search
from assistant.config import ROOT
from assistant.search_corpus import BASE_TIME, load_corpus, load_questions
from assistant.seed import seed
from assistant.store import Database
from assistant.store.models import Topic, TopicConclusion, TopicMessage, TopicNote, TopicParticipant
from assistant.store.scratch import create_database, drop_database
from assistant.store.search_models import SearchDoc

SEED = 42
PG_URL = os.environ.get("DATABASE_TEST_URL", "postgresql://postgres@127.0.0.1:5432/test")
ASKER = "zhangwei"  # a software engineer: takes part in about one topic in five, reads the closed public ones
TARGET_P95_MS = 50.0

CITIES_ZH = "上海 北京 深圳 广州 杭州 成都 南京 苏州 武汉 西安 厦门 青岛".split()
CITIES_EN = "Shanghai Beijing Shenzhen Guangzhou Hangzhou Chengdu Singapore Tokyo Berlin Munich Seoul Boston".split()
CLIENTS_ZH = "华信银行 东方证券 远洋物流 蓝海零售 瑞丰保险 中和医药 启明教育 长风汽车".split()
CLIENTS_EN = ["Huaxin Bank", "OCBC", "Eastern Securities", "Blue Ocean Retail", "Ruifeng Insurance", "Acme Corp"]
CHATTER_ZH = [
    "好的，收到。", "我{when}看一下。", "这个我跟{name}确认一下再回复你。", "文档已经更新到共享盘了。",
    "会议改到{when}，地点不变。", "辛苦了！", "我这边没问题。", "能不能先发个草稿看看？", "已经提交了，麻烦审批一下。",
    "{name}今天请假，明天再说吧。", "附件里是最新的版本。", "数据我整理好了，大概{n}条。", "同意。", "稍等，我在开会。",
    "{client}那边还没回复，我{when}再催一下。", "这周事情比较多，下周一起看。", "我把链接发群里了。",
]
CHATTER_EN = [
    "Thanks, got it.", "I'll take a look {when}.", "Let me check with {name} and get back to you.", "Sounds good.",
    "Can we sync on this {when}?", "Updated the doc on the shared drive.", "Approved on my side.",
    "{client} hasn't replied yet, I'll follow up {when}.", "Sorry, in a meeting, back in 10.", "+1",
]
WHEN_ZH = "今天下午 明天上午 周三 周五 下周一 月底前".split()
WHEN_EN = ["this afternoon", "tomorrow", "on Wednesday", "on Friday", "next Monday", "by end of month"]
_NUMBER = re.compile(r"\d+")


@dataclass
class Plan:
    """What will be written: rows per table, prepared (segmented) before the timed database insert."""

    topics: List[Dict[str, Any]] = field(default_factory=list)
    participants: List[Dict[str, Any]] = field(default_factory=list)
    messages: List[Dict[str, Any]] = field(default_factory=list)
    conclusions: List[Dict[str, Any]] = field(default_factory=list)
    notes: List[Dict[str, Any]] = field(default_factory=list)
    docs: List[Dict[str, Any]] = field(default_factory=list)


def _vary(value: str, rng: random.Random, names: Sequence[tuple[str, str]]) -> str:
    """A corpus sentence with its numbers, cities, clients and people changed."""
    value = _NUMBER.sub(lambda m: str(rng.randint(10 ** (len(m.group()) - 1), 10 ** len(m.group()) - 1)), value)
    for pool in (CITIES_ZH, CITIES_EN, CLIENTS_ZH, CLIENTS_EN):
        for word in pool:
            if word in value:
                value = value.replace(word, rng.choice(pool))
    for zh, en in names:
        if zh in value:
            value = value.replace(zh, rng.choice(names)[0])
        if en in value:
            value = value.replace(en, rng.choice(names)[1])
    return value


def _chatter(rng: random.Random, lang: str, names: Sequence[tuple[str, str]]) -> str:
    zh = lang == "zh"
    template = rng.choice(CHATTER_ZH if zh else CHATTER_EN)
    return template.format(
        when=rng.choice(WHEN_ZH if zh else WHEN_EN), name=rng.choice(names)[0 if zh else 1],
        client=rng.choice(CLIENTS_ZH if zh else CLIENTS_EN), n=rng.randint(20, 900),
    )


def plan(n_topics: int, n_messages: int, people: Sequence[str], names: Sequence[tuple[str, str]]) -> Plan:
    """Generate every row and the index rows (search.topic_docs, as reindex_topic builds them)."""
    rng = random.Random(SEED)
    themes = load_corpus()
    counts = [rng.randint(5, 95) for _ in range(n_topics)]
    scale = n_messages / sum(counts)
    counts = [max(3, round(c * scale)) for c in counts]
    counts[counts.index(max(counts))] += n_messages - sum(counts)
    out = Plan()
    terms_cache: Dict[str, List[str]] = {}

    def cached(value: str) -> List[str]:
        found = terms_cache.get(value)
        if found is None:
            found = terms_cache[value] = search.index_terms(value)
        return found

    message_id = 0
    for topic_id, count in enumerate(counts, 1):
        theme = themes[rng.randrange(len(themes))]
        lang = "en" if re.match(r"[A-Za-z]", theme["title"]) else "zh"
        suffix = rng.choice(["", "", f"（{rng.choice(CITIES_ZH)}）", f" · {rng.randint(1, 12)}月", f" #{topic_id}"])
        title = theme["title"] + (suffix if lang == "zh" else rng.choice(["", f" ({rng.choice(CITIES_EN)})"]))
        started = BASE_TIME + timedelta(hours=3 * topic_id)
        closed = rng.random() < 0.6
        others = rng.sample([p for p in people if p != theme["created_by"]], rng.randint(1, 5))
        members = [theme["created_by"], *others]
        out.topics.append({"id": topic_id, "title": title, "status": "closed" if closed else "open",
                           "public": closed and rng.random() < 0.6, "created_by": members[0],
                           "created_at": started, "closed_at": started + timedelta(days=3) if closed else None})
        out.participants += [{"topic_id": topic_id, "person_id": p, "reason": {"en": "bench"}, "added_at": started}
                             for p in members]
        bodies = []
        for n in range(count):
            roll = rng.random()
            if roll < 0.5:
                body = _vary(rng.choice(theme["messages"])[1], rng, names)
            elif roll < 0.65:
                body = _vary(rng.choice(themes[rng.randrange(len(themes))]["messages"])[1], rng, names)
            else:
                body = _chatter(rng, lang if rng.random() < 0.9 else ("en" if lang == "zh" else "zh"), names)
            message_id += 1
            bodies.append(body)
            out.messages.append({"id": message_id, "topic_id": topic_id, "event_id": f"$bench-{message_id}",
                                 "author": rng.choice(members), "body": body,
                                 "sent_at": started + timedelta(minutes=5 * n)})
        conclusions = [_vary(c[1], rng, names) for c in theme.get("conclusions") or []] if closed else []
        notes = [_vary(c[1], rng, names) for c in theme.get("notes") or []]
        out.conclusions += [{"topic_id": topic_id, "text": c, "author": members[0], "source_messages": [],
                             "created_at": started + timedelta(days=2)} for c in conclusions]
        out.notes += [{"topic_id": topic_id, "text": c, "author": members[0], "created_at": started}
                      for c in notes]
        out.docs += search.topic_docs(topic_id, title, conclusions, notes, bodies, terms=cached)
    return out


def write(db: Database, rows: Plan) -> None:
    """Bulk inserts (executemany; psycopg2 sends pages of VALUES), one transaction."""
    with db.session() as s:
        for model, values in ((Topic, rows.topics), (TopicParticipant, rows.participants),
                              (TopicMessage, rows.messages), (TopicConclusion, rows.conclusions),
                              (TopicNote, rows.notes), (SearchDoc, rows.docs)):
            for start in range(0, len(values), 20000):
                s.execute(insert(model.__table__), values[start : start + 20000])
        if db.engine.dialect.name == "postgresql":
            for table in ("topics", "topic_messages"):
                s.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))


def queries(n: int) -> List[str]:
    """The questions and variations of them, n in all (deterministic)."""
    rng = random.Random(SEED)
    base = [q["q"] for q in load_questions()]
    out = list(base)
    prefixes = ["请问", "大家好，", "hi, ", "quick question: ", "", "有人知道"]
    while len(out) < n:
        a, b = rng.sample(base, 2)
        words = [g.word for g in search.query_groups(a)]
        choice = rng.random()
        if choice < 0.3:
            out.append(rng.choice(prefixes) + a)
        elif choice < 0.6 and words:
            out.append(" ".join(rng.sample(words, max(1, len(words) // 2))))
        elif choice < 0.8:
            out.append(a + " " + " ".join(g.word for g in search.query_groups(b)[:2]))
        else:
            out.append(a.rstrip("?？") + rng.choice(["？", "吗", " again?", ""]))
    return out[:n]


def percentiles(samples_ms: Sequence[float]) -> Dict[str, float]:
    ordered = sorted(samples_ms)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]

    return {"n": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1],
            "mean": statistics.fmean(ordered)}


def timed(calls: Sequence[Callable[[], Any]]) -> List[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def baseline_lookup(db: Database, topic_id: int) -> None:
    """The plain read a topic page does: the topic by primary key and its last 20 messages."""
    with db.session() as s:
        s.get(Topic, topic_id)
        list(s.execute(select(TopicMessage).where(TopicMessage.topic_id == topic_id)
                       .order_by(TopicMessage.sent_at.desc()).limit(20)).scalars())


def write_path(db: Database, rng: random.Random) -> Dict[str, Any]:
    """index_message, each in its own transaction, and reindex_topic (messages only, as the rebuild reads
    them) on the topic with the most messages."""
    with db.session() as s:
        topic_id = s.execute(select(TopicMessage.topic_id).group_by(TopicMessage.topic_id)
                             .order_by(text("count(*) DESC")).limit(1)).scalar_one()
    bodies = [m[1] for t in load_corpus() for m in t["messages"]]

    def append() -> None:
        with db.session() as s:
            search.index_message(s, topic_id, rng.choice(bodies))

    def rebuild() -> None:
        with db.session() as s:
            search.reindex_topic(s, topic_id)

    with db.session() as s:
        count = s.execute(select(text("count(*)")).select_from(TopicMessage.__table__)
                          .where(TopicMessage.topic_id == topic_id)).scalar_one()
    return {"topic_id": topic_id, "topic_messages": count, "index_message_ms": percentiles(timed([append] * 100)),
            "reindex_topic_ms": percentiles(timed([rebuild] * 20))}


def bench_backend(name: str, url: str, rows: Plan, searches: Sequence[str]) -> Dict[str, Any]:
    rng = random.Random(SEED)
    started = time.perf_counter()
    db = Database(url)
    seed(db, ROOT / "company")
    migrate_s = time.perf_counter() - started
    started = time.perf_counter()
    write(db, rows)
    insert_s = time.perf_counter() - started
    if name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does within a minute of a bulk load
    for q in searches[:10]:
        search.search(db, ASKER, q)  # warm: connection pool, jieba, page cache
    hits = [0]

    def one(q: str) -> Callable[[], None]:
        def run() -> None:
            hits[0] += bool(search.search(db, ASKER, q, limit=5))
        return run

    search_ms = timed([one(q) for q in searches])
    topic_ids = [rng.randint(1, len(rows.topics)) for _ in range(len(searches))]
    base_ms = timed([lambda t=t: baseline_lookup(db, t) for t in topic_ids])
    writes = write_path(db, rng)
    with db.session() as s:
        visible = s.execute(text(f"SELECT count(*) FROM topics t WHERE {search._VISIBLE}"),
                            {"asker": ASKER, "yes": True}).scalar_one()
        index_rows = s.execute(select(text("count(*)")).select_from(SearchDoc.__table__)).scalar_one()
        if name == "postgresql":
            size = s.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        else:
            size = Path(url.split("///", 1)[1]).stat().st_size
    db.dispose()
    found = percentiles(search_ms)
    base = percentiles(base_ms)
    return {
        "backend": name, "migrate_and_seed_people_s": migrate_s, "insert_s": insert_s,
        "search_ms": found, "baseline_ms": base, "p95_ratio": found["p95"] / base["p95"],
        "searches_with_hits": hits[0], "visible_topics": visible, "index_rows": index_rows,
        "database_bytes": size, "write_path": writes, "meets_target": found["p95"] <= TARGET_P95_MS,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench-search.json")
    parser.add_argument("--keep", action="store_true", help="keep the databases (paths/URLs are printed)")
    args = parser.parse_args(argv)
    from assistant.company import load_company

    company = load_company(ROOT / "company")["people"]["people"]
    people = [p["id"] for p in company]
    names = [(p["name_zh"], p["name_en"].split("(")[0].strip()) for p in company]
    search.index_terms("预热")  # load jieba outside the timings
    started = time.perf_counter()
    rows = plan(args.topics, args.messages, people, names)
    generate_s = time.perf_counter() - started
    print(f"generated and segmented {len(rows.messages):,} messages over {len(rows.topics):,} topics "
          f"({len(rows.docs):,} index rows) in {generate_s:.1f} s", flush=True)
    searches = queries(args.searches)
    report: Dict[str, Any] = {"topics": len(rows.topics), "messages": len(rows.messages), "asker": ASKER,
                              "generate_and_segment_s": generate_s, "searches": len(searches),
                              "load_average": os.getloadavg(), "cpus": os.cpu_count(), "backends": {}}
    tmp = Path(tempfile.mkdtemp(prefix="deskmate-bench-search-"))
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        url = f"sqlite:///{tmp / 'bench.db'}" if backend == "sqlite" else create_database(PG_URL, 'deskmate_bench')
        try:
            report["backends"][backend] = result = bench_backend(backend, url, rows, searches)
        finally:
            if backend == "postgresql" and not args.keep:
                drop_database(url)
        s, b = result["search_ms"], result["baseline_ms"]
        print(f"{backend:10s} insert {result['insert_s']:.1f} s | search p50 {s['p50']:.1f} p95 {s['p95']:.1f} "
              f"p99 {s['p99']:.1f} ms | baseline p50 {b['p50']:.2f} p95 {b['p95']:.2f} ms | p95 ratio "
              f"{result['p95_ratio']:.1f}x | index_message p95 {result['write_path']['index_message_ms']['p95']:.1f}"
              f" ms, reindex_topic p95 {result['write_path']['reindex_topic_ms']['p95']:.1f} ms | "
              f"{'meets' if result['meets_target'] else 'MISSES'} p95 <= {TARGET_P95_MS:.0f} ms"
              + (f" | kept at {url}" if args.keep else ""), flush=True)
    if not args.keep:
        for path in tmp.glob("*"):
            path.unlink()
        tmp.rmdir()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(f"details in {args.out}")
    return 0 if all(r["meets_target"] for r in report["backends"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
