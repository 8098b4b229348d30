"""Knowledge search over topics: "之前关于住宿标准讨论过什么？" / "did anyone discuss hotel limits before?".

Why it is built this way:

- Segmentation happens here, in Python, once: jieba (search mode, no HMM, so the same string always splits
  the same way) for Chinese runs, lower-case ASCII words with plurals folded for English, stopwords dropped.
  The database only ever sees finished terms separated by spaces, so SQLite FTS5 (`ascii` tokenizer) and
  PostgreSQL (`array_to_tsvector`, no parser, no dictionary) index exactly the same lexemes.
- The index (`search_docs`, see assistant/store/search_models.py and migration 0005) has one row per topic
  field chunk, not per message: the title, then conclusions, notes and messages appended to the newest row
  of their field until it holds CHUNK_ITEMS sources. A query touches a few thousand rows at most even over
  100,000 messages, and a new message rewrites one bounded row.
- The database answers only "which visible topics hold one of these terms, in which field" (visibility is a
  condition of that one statement: an active participant, or a closed public topic). Scores are computed here
  from those facts, so both backends rank identically; nothing private is ever counted, not even in idf.

Ranking (`search`): the query becomes groups, one per content word w, each with weighted alternatives: w
itself (1.0), thesaurus synonyms in either language (0.7), dictionary sub-words of a long Chinese word (0.5)
and their synonyms (0.35). Over the N topics the asker may see, with df(g) the number of them holding any
alternative of group g:

    idf(g)        = ln(1 + (N - df(g) + 0.5) / (df(g) + 0.5))        (a concept's rarity, synonyms included)
    F(fields)     = the highest field weight + 0.2 * the sum of the others
                    (title 1.0, conclusion 0.8, note 0.6, message 0.5)
    relevance(T)  = sum over groups g of  idf(g) * max over weights w of g's alternatives found in T:
                                                     w * F(fields of T holding an alternative of weight w)
    score(T)      = relevance(T) * 1.25  if T is closed and has at least one conclusion, else relevance(T)

so a closed topic with conclusions comes first among "comparably relevant" hits, precisely: it outranks any
other hit whose relevance is less than 1.25 times its own. Ties: the closed-with-conclusions one, then the
newer topic (higher id).
"""

from __future__ import annotations

import functools
import heapq
import logging
import math
import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.orm import Session

from assistant.language import CJK
from assistant.store import Database
from assistant.store.models import Topic, TopicConclusion, TopicMessage, TopicNote
from assistant.store.search_models import SearchDoc

FIELDS = ("title", "conclusion", "note", "message")
FIELD_WEIGHT = {"title": 1.0, "conclusion": 0.8, "note": 0.6, "message": 0.5}
OTHER_FIELDS_FACTOR = 0.2
CONCLUDED_BONUS = 1.25  # closed + conclusions: the "comparably relevant" band
SUBWORD_WEIGHT = 0.5
SYNONYM_WEIGHT = 0.7
CHUNK_ITEMS = 100  # sources per index row: bounds the cost of appending one message
FIELD_SHIFT, TOPIC_SHIFT = 10, 12  # index row id = topic << 12 | field << 10 | chunk (see doc_id)
MAX_CHUNK = (1 << FIELD_SHIFT) - 1  # the last chunk of a field takes whatever comes after it
MAX_QUERY_CHARS = 500
MAX_GROUPS = 12
MAX_ALTERNATIVES = 48
MAX_TERM_CHARS = 40
SNIPPET_CHARS = 90
SNIPPET_SOURCES = 50  # matching messages (and notes) per hit read to choose its snippet from

DOMAIN_WORDS_FILE = Path(__file__).resolve().parent.parent / "nlu" / "domain_words.txt"
# Words jieba's default dictionary lacks (it would split them into single characters) that carry the meaning of
# a discussion about expenses and work. Changing this list, or nlu/domain_words.txt, changes segmentation:
# run reindex_all afterwards.
SEARCH_WORDS = tuple(
    """
    餐补 饭补 误餐 差补 差旅费 招待费 打车费 网约车 住宿费 房费 超标 超支 外币 逾期 补交 事前审批 年会
    团建 发版 工位 报销单 培训费 通讯费 话费 办公用品 笔记本电脑 季度 三季度 预算 上限 限额 封顶 发布会 招聘
    面试 入职 新员工 叫车 招人 打回 搬家 搬迁 签证 机票 高铁 汇率 审批单 滴滴 宴请
    """.split()
)

_STOP_COMMON = """
的 了 是 在 和 与 及 也 都 就 而 之 吧 吗 呢 啊 呀 嘛 哦 哈 么 着 把 被 给 让 对 向 往 这 那 这个 那个 这些
那些 我 你 您 他 她 它 我们 你们 他们 咱们 自己 一个 一些 一下 有 没 没有 不 很 还 又 再 会 能 可以 就是 还是
但是 因为 所以 如果 或者 以及 并 并且 等 等等 已经 吧 嗯 呃 啦 哎 个 者 其 该 此 为 以 于 即 且 则 哪 啥 a an
the and or of to in on at for per by with from as is are was were be been being it its this that these those i
you he she we they me him her us them my your his our their do does did done doing have has had not no but if
so than then there here which who whom whose can could would should will shall may might must just also very
too into up out off again am im ive id youre dont didn doesn isn wasn arent werent haven hasn won wont cant
couldn shouldn let lets s t re ve ll d m ok okay yes yeah hi hello thanks thank please
"""
# Question frames: how people ask about past discussions. Dropped from queries only, so a message that
# says "讨论" is still indexed as written.
_STOP_QUERY = """
之前 以前 此前 先前 上次 曾经 当初 当时 后来 最后 关于 有关 相关 讨论 讨论过 聊 聊过 说 说过 提 提过 谈 谈过
过 什么 哪些 哪个 怎么 怎么样 怎样 怎么办 如何 要 需要 需不需要 要不要 为什么 有没有 是否 有人 谁 大家 请问 想
想问 问 问问 问一下 知道 了解 告诉 查 查查 查一下 找 找找 找一下 看看 看一下 结论 话题 记录 内容 情况 事 事情
问题 多少 多少钱 几 结果 一般 现在 目前 呢 一定 到底 具体 应该 还能 还用 能不能 可不可以 行不行 算 得 用 did
anyone anybody someone somebody everyone discuss discussed discussing discussion discussions talk talked
talking mention mentioned before previously earlier ever already what whats where when why how who anything
something any topic thread conversation chat know find look tell show about regarding concerning decide
decided decision conclusion conclusions outcome result happen happened get got much many still ago need needs
needed want wants way would like
"""
STOPWORDS = frozenset(_STOP_COMMON.split())
QUERY_STOPWORDS = STOPWORDS | frozenset(_STOP_QUERY.split())

# Synonym rings, both languages, in index form (each entry is one term after segmentation; a test checks it).
# Domain knowledge of expense and office talk, not a list of the evaluation questions' words.
THESAURUS = (
    "住宿 住宿费 酒店 宾馆 旅馆 房费 hotel accommodation lodging",
    "标准 上限 限额 额度 封顶 limit cap ceiling maximum max",
    "超标 超支 超额 超出 exceed exceeded overspend overspent",
    "打车 打车费 出租车 的士 网约车 滴滴 叫车 taxi cab didi uber",
    "深夜 夜间 夜里 半夜 晚上 凌晨 night midnight",
    "发票 开票 票据 单据 收据 小票 invoice receipt fapiao",
    "餐补 饭补 餐费 餐饮 伙食 误餐 meal diem",
    "补贴 补助 津贴 allowance subsidy",
    "培训 培训费 课程 training course",
    "预算 经费 budget",
    "招待 招待费 宴请 请客 应酬 entertainment entertain hospitality",
    "客户 client customer",
    "吃饭 晚餐 晚饭 饭局 聚餐 dinner",
    "笔记本 笔记本电脑 电脑 laptop notebook macbook computer",
    "审批 批准 审核 approval approve approver",
    "事先 事前 提前 advance prior",
    "逾期 过期 超期 补交 late overdue expired",
    "外币 美元 美金 欧元 foreign currency usd eur dollar euro",
    "汇率 换算 exchange conversion",
    "出差 差旅 差旅费 travel trip",
    "报销 报销单 reimburse reimbursement expense",
    "招聘 招人 面试 hiring hire recruit recruiting recruitment interview",
    "候选人 candidate",
    "搬家 搬迁 relocation relocate move",
    "办公室 工位 office desk",
    "发版 发布 上线 release launch rollout deploy deployment",
    "三季度 q3",
    "季度 quarter quarterly",
    "机票 航班 飞机 flight airfare",
    "高铁 火车 动车 rail train",
    "通讯 通讯费 话费 手机 phone mobile telecom",
    "办公用品 文具 supply stationery",
    "会议 大会 峰会 conference summit",
    "团建 offsite",
    "年会 gala",
    "入职 新人 新员工 onboarding newcomer",
    "签证 visa",
    "退回 驳回 打回 reject rejected return returned",
)


@dataclass(frozen=True)
class Hit:
    """One topic found: what a result list shows, and the data to order it again if a caller wants."""

    topic_id: int
    title: str
    status: str
    public: bool
    score: float
    snippet: str
    has_conclusions: bool

    @property
    def link(self) -> str:
        """Where the topic is read (the assistant API's topic page; it enforces the same visibility)."""
        return f"/api/topics/{self.topic_id}"


@dataclass(frozen=True)
class Group:
    """One content word of a query and the terms that count as finding it, with their weights."""

    word: str
    alternatives: Mapping[str, float]


# --- segmentation ------------------------------------------------------------------------------------------

_RUN = re.compile(rf"[{CJK}]+|[a-z0-9]+")
_CJK_START = re.compile(f"[{CJK}]")
_lock = threading.Lock()
_jieba: Any = None
_synonyms: dict[str, frozenset[str]] | None = None


def load_word_list(path: Path) -> list[str]:
    """Words of a user dictionary file, one a line, `#` comments: the format of nlu/domain_words.txt."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _tokenizer() -> Any:
    """A private jieba tokenizer with the project's domain words (the NLU tokenizer's file) and SEARCH_WORDS."""
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in [*load_word_list(DOMAIN_WORDS_FILE), *SEARCH_WORDS]:
                    tokenizer.add_word(word, freq=200000)  # as nlu/tokenizer.py does
                _jieba = tokenizer
    return _jieba


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, accents off: the form both index and query are cut from."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))


def fold_english(word: str) -> str:
    """Plurals to singular (limits → limit, policies → policy); nothing fancier, so "training" stays apart
    from "train"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _keep(term: str, stop: frozenset[str]) -> bool:
    if not term or term in stop or len(term) > MAX_TERM_CHARS:
        return False
    if term.isdigit():
        return len(term) >= 2 and term.strip("0") != ""
    return len(term) >= 2 or bool(_CJK_START.match(term))


def _english(word: str, stop: frozenset[str]) -> str | None:
    if word in stop:
        return None
    folded = fold_english(word)
    return folded if _keep(folded, stop) else None


def index_terms(value: str) -> list[str]:
    """The distinct terms a text is indexed under, in first-seen order (jieba search mode: long words also
    yield their dictionary sub-words, so "住宿费" is found by "住宿")."""
    seen: dict[str, None] = {}
    for run in _RUN.findall(normalize(value)):
        if _CJK_START.match(run):
            for word in _tokenizer().cut_for_search(run, HMM=False):
                if _keep(word, STOPWORDS):
                    seen.setdefault(word, None)
        else:
            folded = _english(run, STOPWORDS)
            if folded:
                seen.setdefault(folded, None)
    return list(seen)


def _synonym_map() -> dict[str, frozenset[str]]:
    global _synonyms
    if _synonyms is None:
        found: dict[str, set[str]] = defaultdict(set)
        for ring in THESAURUS:
            words = ring.split()
            for word in words:
                found[word].update(w for w in words if w != word)
        _synonyms = {word: frozenset(others) for word, others in found.items()}
    return _synonyms


def query_groups(query: str, *, synonyms: bool = True) -> list[Group]:
    """The content words of a query (question frames and stopwords dropped), each with its alternatives."""
    words: list[str] = []
    subwords: dict[str, list[str]] = {}
    for run in _RUN.findall(normalize((query or "")[:MAX_QUERY_CHARS])):
        if _CJK_START.match(run):
            for word in _tokenizer().cut(run, HMM=False):
                if _keep(word, QUERY_STOPWORDS) and word not in words:
                    words.append(word)
                    subwords[word] = [
                        s for s in _tokenizer().cut_for_search(word, HMM=False)
                        if s != word and len(s) >= 2 and _keep(s, QUERY_STOPWORDS)
                    ]
        else:
            folded = _english(run, QUERY_STOPWORDS)
            if folded and folded not in words:
                words.append(folded)
    groups: list[Group] = []
    budget = MAX_ALTERNATIVES
    thesaurus = _synonym_map() if synonyms else {}
    for word in words[:MAX_GROUPS]:
        alternatives: dict[str, float] = {}

        def offer(term: str, weight: float, alternatives: dict[str, float] = alternatives) -> None:
            if weight > alternatives.get(term, 0.0):
                alternatives[term] = weight

        offer(word, 1.0)
        for sub in subwords.get(word, []):
            offer(sub, SUBWORD_WEIGHT)
        for term, weight in list(alternatives.items()):
            for synonym in sorted(thesaurus.get(term, ())):
                offer(synonym, weight * SYNONYM_WEIGHT)
        ranked = sorted(alternatives.items(), key=lambda item: (-item[1], item[0]))[: max(budget, 1)]
        budget -= len(ranked)
        groups.append(Group(word, dict(ranked)))
        if budget <= 0:
            break
    return groups


# --- the index, maintained by the topics service in the writer's transaction --------------------------------


def _join(terms: Iterable[str]) -> str:
    return " ".join(terms)


def doc_id(topic_id: int, field: str, chunk: int) -> int:
    """An index row's id says whose it is: topic << 12 | field << 10 | chunk. A search then learns topic and
    field from the full-text match alone (the FTS5 rowid), without reading the row."""
    return (topic_id << TOPIC_SHIFT) | (FIELDS.index(field) << FIELD_SHIFT) | chunk


def _put(session: Session, topic_id: int, field: str, chunk: int, terms: Sequence[str]) -> bool:
    """Insert a new index row; False if a concurrent writer created that row first (it is then there to append
    to, once its transaction ends: PostgreSQL makes this insert wait for it)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(SearchDoc.__table__).values(
        id=doc_id(topic_id, field, chunk), topic_id=topic_id, field=field, items=1, tokens=_join(terms)
    ).on_conflict_do_nothing(index_elements=["id"])
    return session.execute(statement).rowcount == 1


def index_topic_text(session: Session, topic_id: int, field: str, value: str) -> None:
    """Index one text of a topic in the caller's transaction: `title` replaces the title, `conclusion`,
    `note` and `message` are added (call reindex_topic after an edit or a removal)."""
    if field not in FIELDS:
        raise ValueError(f"unknown search field {field!r}; one of {', '.join(FIELDS)}")
    terms = index_terms(value)
    session.flush()
    if field == "title":
        if not _put(session, topic_id, "title", 0, terms):
            row = session.get(SearchDoc, doc_id(topic_id, "title", 0), with_for_update=True, populate_existing=True)
            row.tokens = _join(terms)
        return
    for _attempt in range(3):  # a concurrent writer may create the row we meant to; then append to it
        newest = session.execute(
            select(SearchDoc)
            .where(SearchDoc.id.between(doc_id(topic_id, field, 0), doc_id(topic_id, field, MAX_CHUNK)))
            .order_by(SearchDoc.id.desc())
            .limit(1)
            .with_for_update()  # PostgreSQL: two writers to one topic append in turn, neither loses terms
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if newest is None or (newest.items >= CHUNK_ITEMS and newest.id & MAX_CHUNK < MAX_CHUNK):
            if _put(session, topic_id, field, 0 if newest is None else (newest.id & MAX_CHUNK) + 1, terms):
                return
            continue
        known = newest.tokens.split()
        present = set(known)
        added = [t for t in terms if t not in present]
        newest.items += 1
        if added:
            newest.tokens = _join(known + added)
        return
    raise RuntimeError(f"could not index {field} of topic {topic_id}: its index row keeps changing")


def index_message(session: Session, topic_id: int, body: str) -> None:
    """Index one topic message in the transaction that stores it."""
    index_topic_text(session, topic_id, "message", body)


def topic_docs(
    topic_id: int,
    title: str,
    conclusions: Sequence[str],
    notes: Sequence[str],
    messages: Sequence[str],
    terms: Callable[[str], list[str]] = index_terms,
) -> list[dict[str, Any]]:
    """The index rows of a whole topic (id, topic_id, field, items, tokens): what the incremental calls would
    have built. `terms` lets a bulk loader pass a cached segmentation."""
    rows = [{"id": doc_id(topic_id, "title", 0), "topic_id": topic_id, "field": "title", "items": 1,
             "tokens": _join(terms(title))}]
    for field, texts in (("conclusion", conclusions), ("note", notes), ("message", messages)):
        starts = list(range(0, len(texts), CHUNK_ITEMS))
        for chunk, start in enumerate(starts):
            end = len(texts) if chunk >= MAX_CHUNK else min(len(texts), start + CHUNK_ITEMS)  # the last takes the rest
            seen: dict[str, None] = {}
            for value in texts[start:end]:
                for term in terms(value):
                    seen.setdefault(term, None)
            rows.append({"id": doc_id(topic_id, field, chunk), "topic_id": topic_id, "field": field,
                         "items": end - start, "tokens": _join(seen)})
            if chunk >= MAX_CHUNK:
                break
    return rows


def reindex_topic(session: Session, topic_id: int) -> None:
    """Rebuild a topic's index rows from its stored title, conclusions, notes and messages (after an edit or a
    removal, or to backfill)."""
    session.flush()
    session.execute(delete(SearchDoc).where(SearchDoc.topic_id == topic_id))
    title = session.execute(select(Topic.title).where(Topic.id == topic_id)).scalar_one_or_none()
    if title is None:
        return

    def texts(model: Any, column: Any) -> list[str]:
        return list(session.execute(select(column).where(model.topic_id == topic_id).order_by(model.id)).scalars())

    rows = topic_docs(
        topic_id,
        title,
        texts(TopicConclusion, TopicConclusion.text),
        texts(TopicNote, TopicNote.text),
        texts(TopicMessage, TopicMessage.body),
    )
    session.execute(SearchDoc.__table__.insert(), rows)
    session.expire_all()  # rows written past the ORM: drop any stale SearchDoc it holds


def reindex_all(session: Session) -> int:
    """Rebuild every topic's rows (after a dictionary, stopword or thesaurus change); returns the topic count."""
    ids = list(session.execute(select(Topic.id).order_by(Topic.id)).scalars())
    for topic_id in ids:
        reindex_topic(session, topic_id)
    return len(ids)


# --- search ------------------------------------------------------------------------------------------------

_VISIBLE = (
    "((t.status = 'closed' AND t.public = :yes) OR EXISTS (SELECT 1 FROM topic_participants p "
    "WHERE p.topic_id = t.id AND p.person_id = :asker AND p.removed_at IS NULL))"
)
# On PostgreSQL the planner prices `tsv @@ query` at one operator cost per row and so prefers a sequential scan of
# search_docs over the GIN index; with tsvectors of hundreds of lexemes that scan is 5-10 times slower (measured
# by tools/bench_search.py). Inside the search transaction only: GIN bitmap scans, no JIT (compiling costs more
# than any search), no parallel workers (their start-up costs more than the scans).
POSTGRES_SETTINGS = (
    "SET LOCAL enable_seqscan = off",
    "SET LOCAL jit = off",
    "SET LOCAL max_parallel_workers_per_gather = 0",
)


@dataclass(frozen=True)
class _Branch:
    """One full-text condition of a search: "holds any of `terms`", the alternatives of one group at one weight."""

    group: int
    weight: float
    terms: tuple[str, ...]


def _branches(groups: Sequence[Group]) -> list[_Branch]:
    found = []
    for g, group in enumerate(groups):
        levels: dict[float, list[str]] = defaultdict(list)
        for term, weight in group.alternatives.items():
            levels[weight].append(term)
        found += [_Branch(g, weight, tuple(sorted(levels[weight]))) for weight in sorted(levels, reverse=True)]
    return found


def _condition(dialect: str, terms: Sequence[str]) -> str:
    # Terms are CJK or [a-z0-9] only (see _RUN), so quoting cannot be escaped from.
    if dialect == "sqlite":
        return " OR ".join(f'"{term}"' for term in terms)
    return " | ".join(f"'{term}'" for term in terms)


def _match_sql(dialect: str, count: int) -> str:
    """One statement, visibility inside it: a row (branch k, index row id, closed with conclusions) per index row
    of a visible topic matching branch k, and a last row (-1, number of visible topics, 0) for the idf."""
    if dialect == "sqlite":
        branch = "SELECT {k} AS k, rowid AS r FROM search_fts WHERE search_fts MATCH :t{k}"
    elif dialect == "postgresql":
        branch = "SELECT {k} AS k, d.id AS r FROM search_docs d WHERE d.tsv @@ CAST(:t{k} AS tsquery)"
    else:
        raise NotImplementedError(f"knowledge search supports sqlite and postgresql, not {dialect}")
    matches = " UNION ALL ".join(branch.format(k=k) for k in range(count))
    return (
        "WITH vis AS (SELECT t.id, CASE WHEN t.status = 'closed' AND EXISTS (SELECT 1 FROM topic_conclusions c "
        f"WHERE c.topic_id = t.id) THEN 1 ELSE 0 END AS concluded FROM topics t WHERE {_VISIBLE}), "
        f"m AS ({matches}) "
        f"SELECT m.k, m.r, vis.concluded FROM m JOIN vis ON vis.id = m.r / {1 << TOPIC_SHIFT} "
        "UNION ALL SELECT -1, count(*), 0 FROM vis"
    )


@dataclass
class _Candidate:
    topic_id: int
    concluded: bool  # closed, with at least one conclusion
    best: list[float]  # per group: max over its matched weights w of w * F(fields where that weight matched)
    relevance: float = 0.0
    score: float = 0.0


def _evidence(bits: int) -> float:
    weights = sorted((FIELD_WEIGHT[f] for i, f in enumerate(FIELDS) if bits & (1 << i)), reverse=True)
    return weights[0] + OTHER_FIELDS_FACTOR * sum(weights[1:]) if weights else 0.0


EVIDENCE = [_evidence(bits) for bits in range(1 << len(FIELDS))]  # F by the set of fields that matched


def _rank(
    n_groups: int, branches: Sequence[_Branch], rows: Sequence[Any], visible: int, limit: int
) -> list[_Candidate]:
    """Apply the formula in the module docstring to the (branch, index row id, concluded) rows; the best `limit`
    candidates, best first."""
    fields: dict[tuple[int, int], int] = defaultdict(int)  # (branch, topic) -> bits of the fields that matched
    concluded: dict[int, bool] = {}
    for k, row_id, closed_with_conclusions in rows:
        topic_id = row_id >> TOPIC_SHIFT
        fields[k, topic_id] |= 1 << ((row_id >> FIELD_SHIFT) & 3)
        concluded[topic_id] = bool(closed_with_conclusions)
    holders: list[set[int]] = [set() for _ in range(n_groups)]
    candidates: dict[int, _Candidate] = {}
    for (k, topic_id), bits in fields.items():
        branch = branches[k]
        holders[branch.group].add(topic_id)
        candidate = candidates.get(topic_id)
        if candidate is None:
            candidate = candidates[topic_id] = _Candidate(topic_id, concluded[topic_id], [0.0] * n_groups)
        candidate.best[branch.group] = max(candidate.best[branch.group], branch.weight * EVIDENCE[bits])
    n = max(visible, 1)
    idf = [math.log(1 + (n - len(h) + 0.5) / (len(h) + 0.5)) for h in holders]
    for candidate in candidates.values():
        candidate.relevance = sum(i * b for i, b in zip(idf, candidate.best, strict=True))
        candidate.score = candidate.relevance * (CONCLUDED_BONUS if candidate.concluded else 1.0)
    return heapq.nsmallest(
        limit,
        (c for c in candidates.values() if c.relevance > 0),
        key=lambda c: (-round(c.score, 9), -c.concluded, -c.topic_id),
    )


def search(db: Database, asker: str, query: str, limit: int = 5, *, synonyms: bool = True) -> list[Hit]:
    """The topics `asker` may read that best match `query`, best first (see the module docstring for the
    formula). A topic the asker may not read is never a candidate: it can be neither read nor found."""
    groups = query_groups(query, synonyms=synonyms)
    if not asker or not groups or limit <= 0:
        return []
    branches = _branches(groups)
    with db.session() as s:
        dialect = s.get_bind().dialect.name
        if dialect == "postgresql":
            for setting in POSTGRES_SETTINGS:
                s.execute(text(setting))
        params: dict[str, Any] = {f"t{k}": _condition(dialect, b.terms) for k, b in enumerate(branches)}
        params.update(asker=asker, yes=True)
        rows = s.execute(text(_match_sql(dialect, len(branches))), params).all()
        visible = next(row_id for k, row_id, _concluded in rows if k == -1)
        ranked = _rank(len(groups), branches, [r for r in rows if r[0] >= 0], visible, limit)
        return _hits(s, ranked, groups)


# --- result rows and snippets --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _pattern(term: str) -> re.Pattern[str]:
    """A term's pattern, built once per term (scoring asks for it for every text of every hit)."""
    if _CJK_START.match(term):
        return re.compile(re.escape(term))
    forms = [re.escape(term), re.escape(term) + "e?s"]
    if term.endswith("y"):
        forms.append(re.escape(term[:-1]) + "ies")
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(forms)})(?![a-z0-9])")


def _text_score(value: str, groups: Sequence[Group]) -> tuple[float, int]:
    """How well a raw text matches (sum over groups of the best alternative weight) and where the best
    alternative first occurs."""
    lowered = normalize(value)
    score, position, best_weight = 0.0, -1, 0.0
    for group in groups:
        found = 0.0
        for term, weight in group.alternatives.items():
            hit = _pattern(term).search(lowered)
            if hit and weight > found:
                found = weight
                if weight > best_weight:
                    best_weight, position = weight, hit.start()
        score += found
    return score, position if len(lowered) == len(value) else -1


def excerpt(value: str, position: int) -> str:
    """About SNIPPET_CHARS characters of `value` around `position`, with ellipses where it was cut."""
    flat = " ".join(value.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    if len(flat) != len(value):
        position = -1  # whitespace was collapsed: the offset no longer points at the match
    start = max(0, min(position - SNIPPET_CHARS // 3, len(flat) - SNIPPET_CHARS)) if position >= 0 else 0
    end = start + SNIPPET_CHARS
    # English is cut between words: move the cuts to the nearest space within a few characters
    if start and flat[start - 1 : start + 1].isascii() and flat[start - 1 : start + 1].isalnum():
        space = flat.find(" ", start, start + 15)
        start = space + 1 if space >= 0 else start
    if end < len(flat) and flat[end - 1 : end + 1].isascii() and flat[end - 1 : end + 1].isalnum():
        space = flat.rfind(" ", end - 15, end)
        end = space if space > start else end
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _best(texts: Iterable[str], groups: Sequence[Group]) -> tuple[float, str, int] | None:
    best: tuple[float, str, int] | None = None
    for value in texts:
        score, position = _text_score(value, groups)
        if best is None or score > best[0]:
            best = (score, value, position)
    return best


def _hits(s: Session, ranked: Sequence[_Candidate], groups: Sequence[Group]) -> list[Hit]:
    """Titles and snippets for the ranked topics only: from the best-matching conclusion when the topic has
    conclusions (the answer a reader wants), else the best-matching message or note, else its first message."""
    ids = [c.topic_id for c in ranked]
    if not ids:
        return []
    topics = {t.id: t for t in s.execute(select(Topic).where(Topic.id.in_(ids))).scalars()}
    texts: dict[int, list[str]] = defaultdict(list)
    for topic_id, value in s.execute(
        select(TopicConclusion.topic_id, TopicConclusion.text)
        .where(TopicConclusion.topic_id.in_(ids))
        .order_by(TopicConclusion.id)
    ):
        texts[topic_id].append(value)
    others = [i for i in ids if i not in texts]
    terms = sorted({term for group in groups for term in group.alternatives})
    other_texts: dict[int, list[str]] = defaultdict(list)
    if others and terms:
        for model, column in ((TopicNote, TopicNote.text), (TopicMessage, TopicMessage.body)):
            like = [column.ilike(f"%{term}%") for term in terms]
            order = func.row_number().over(partition_by=model.topic_id, order_by=model.id).label("n")
            first = select(model.topic_id, column.label("value"), order).where(
                model.topic_id.in_(others), or_(*like)).subquery()
            rows = s.execute(select(first.c.topic_id, first.c.value).where(first.c.n <= SNIPPET_SOURCES)
                             .order_by(first.c.topic_id, first.c.n))
            for topic_id, value in rows:
                other_texts[topic_id].append(value)
    hits = []
    for candidate in ranked:
        topic = topics[candidate.topic_id]
        found = _best(texts.get(topic.id) or other_texts.get(topic.id) or [], groups)
        if found is None:
            first = s.execute(
                select(TopicMessage.body).where(TopicMessage.topic_id == topic.id).order_by(TopicMessage.id).limit(1)
            ).scalar_one_or_none()
            snippet = excerpt(first or "", -1)
        else:
            snippet = excerpt(found[1], found[2])
        hits.append(
            Hit(
                topic_id=topic.id,
                title=topic.title,
                status=topic.status,
                public=bool(topic.public),
                score=round(candidate.score, 4),
                snippet=snippet,
                has_conclusions=topic.id in texts,
            )
        )
    return hits
