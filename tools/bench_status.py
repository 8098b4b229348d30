"""Work-status benchmark: `python -m tools.bench_status` (also run by `make bench`).

1. Status turns through the running assistant (assistant service + Rasa on their own ports and database, no IM
   backend: none is needed for these turns), from request to reply:
   - query: "赵敏在忙什么" by her manager (the look is checked, logged, answered);
   - team: "我的团队在忙什么" by the engineering director (7 reports, one look each);
   - baseline: "李娜是谁", the simplest custom-action turn, in the same run.
   Target: status query p95 <= 100 ms.
2. The cost of recording a status from a work event, in process, on SQLite and PostgreSQL: the same topic note
   written with and without the status recorder (same database, alternating), the difference of the medians
   and of the p95s. Target: recording adds <= 5 ms to the turn that caused it.

The clock and working hours are set so every event is inside working hours (else recording returns early and the
figure would flatter it). Results go to results/bench-status.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from assistant.chatclient import ChatClient
from assistant.config import ROOT, Settings
from assistant.core import Assistant
from assistant.devstack import Stack
from assistant.seed import seed
from assistant.store import Database
from assistant.store.scratch import create_database, drop_database
from assistant.topics import Topics
from tools.bench_search import PG_URL, percentiles
from tools.bench_topics import timed_turns

QUERY_TARGET_P95_MS = 100.0
RECORD_TARGET_MS = 5.0
ALWAYS_WORKING = {"DESKMATE_WORKING_HOURS": "00:00-24:00", "DESKMATE_WORKING_DAYS": "1-7"}
THURSDAY_10AM = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def turns(count: int) -> dict[str, Any]:
    var = Path(tempfile.mkdtemp(prefix="deskmate-bench-status-"))
    settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'deskmate.db'}", rasa_port=5505,
                        api_port=5555, im_backend="none")
    seed(Database(settings.database_url), ROOT / "company")
    print("starting the assistant service and Rasa on 5555/5505 ...", flush=True)
    with Stack(settings, log_dir=var / "logs", extra_env=ALWAYS_WORKING):
        client = ChatClient(settings.rasa_url, settings.api_url, settings.admin_token())
        for person in ("zhaomin", "yanglei", "chenjing", "lina"):
            client.restart(person)
        client.say("zhaomin", "开个话题讨论压测方案")  # zhaomin is busy in a topic
        timed_turns(client, "yanglei", ["李娜是谁", "赵敏在忙什么"] * 3, bool)
        baseline = timed_turns(client, "lina", ["李娜是谁"] * count, lambda r: "财务总监" in r)
        query = timed_turns(client, "yanglei", ["赵敏在忙什么"] * count, lambda r: "压测方案" in r)
        team = timed_turns(client, "chenjing", ["我的团队在忙什么"] * count, lambda r: "7" in r and "赵敏" in r)
    base, asked, table = percentiles(baseline), percentiles(query), percentiles(team)
    return {"baseline_who_is_ms": base, "status_query_ms": asked, "team_table_ms": table,
            "ratio_p95": {"query": round(asked["p95"] / base["p95"], 2), "team": round(table["p95"] / base["p95"], 2)},
            "meets_target": asked["p95"] <= QUERY_TARGET_P95_MS}


def recording(url: str, count: int, settings: Settings) -> dict[str, Any]:
    db = Database(url)
    seed(db, ROOT / "company")
    core = Assistant(settings, db, clock=lambda: THURSDAY_10AM)
    unrecorded = Topics(db, lambda: core.directory, core.claims, activity=None)
    topic = core.topics.open_free("zhaomin", "压测", [])
    with_status, without = [], []
    for i in range(count):
        for service, samples in ((core.topics, with_status), (unrecorded, without)):
            start = time.perf_counter()
            service.note("zhaomin", topic.id, f"第{i}条笔记")
            samples.append((time.perf_counter() - start) * 1000)
    assert core.status.current("zhaomin").kind == "note"
    db.dispose()
    on, off = percentiles(with_status), percentiles(without)
    added = {"p50": round(on["p50"] - off["p50"], 2), "p95": round(on["p95"] - off["p95"], 2)}
    return {"note_with_status_ms": on, "note_without_status_ms": off, "added_ms": added,
            "meets_target": added["p95"] <= RECORD_TARGET_MS}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_status", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60, help="timed turns per scenario (default 60)")
    parser.add_argument("--events", type=int, default=300, help="notes written per recording measurement")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "bench-status.json")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"load_average": os.getloadavg(), "turns": turns(args.turns), "recording": {}}
    tmp = Path(tempfile.mkdtemp(prefix="deskmate-bench-record-"))
    settings = Settings(var_dir=tmp, working_hours="09:00-19:00", working_days="1-5")
    for backend in ("sqlite", "postgresql"):
        try:
            url = f"sqlite:///{tmp / 'record.db'}" if backend == "sqlite" else create_database(PG_URL, "deskmate_bench")
        except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: say so and go on
            print(f"PostgreSQL NOT AVAILABLE at {PG_URL} ({exc.__class__.__name__}): recording measured on SQLite only")
            continue
        try:
            report["recording"][backend] = recording(url, args.events, settings)
        finally:
            if backend == "postgresql":
                drop_database(url, PG_URL)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    t = report["turns"]
    print(f"{'turn':<30}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p95 / baseline':>16}")
    for name, row, ratio in (("baseline: 李娜是谁", t["baseline_who_is_ms"], 1.0),
                             ("status query: 赵敏在忙什么", t["status_query_ms"], t["ratio_p95"]["query"]),
                             ("team table (7 reports)", t["team_table_ms"], t["ratio_p95"]["team"])):
        print(f"{name:<30}{row['p50']:>9.1f}{row['p95']:>9.1f}{row['p99']:>9.1f}{ratio:>16.2f}")
    print(f"status query target p95 <= {QUERY_TARGET_P95_MS:.0f} ms: {'met' if t['meets_target'] else 'MISSED'}")
    for backend, r in report["recording"].items():
        on, off = r["note_with_status_ms"], r["note_without_status_ms"]
        print(f"{backend:<11} note with status p50 {on['p50']:.2f} p95 {on['p95']:.2f} ms | without p50 "
              f"{off['p50']:.2f} p95 {off['p95']:.2f} ms | added p50 {r['added_ms']['p50']:.2f} p95 "
              f"{r['added_ms']['p95']:.2f} ms | target <= {RECORD_TARGET_MS:.0f} ms: "
              f"{'met' if r['meets_target'] else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
