"""Topic-turn benchmark: `python -m tools.bench_topics` (also run by `make bench`).

Starts the real assistant (local Synapse, assistant service, Rasa) on its own ports and database, and times
whole chat turns through the REST channel, from request to reply:

- open: "开个话题讨论…，拉上陈静、赵敏、孙浩和李娜" — a free topic with 4 invitees (the room, the invites and
  their reasons go out through the outbox afterwards: the turn does not wait for Synapse);
- bound: "针对报销单N开个话题" by Finance — a claim's topic, joined (claims submitted beforehand);
- submit: the "是的" that confirms a claim's submission (BPMN process started and stored, chain resolved,
  claim room, invites and notifications enqueued; the reimbursement issue's target is p95 <= 150 ms);
- baseline: "李娜是谁", the simplest custom-action turn, in the same run.

Prints p50/p95/p99 and the ratio to the baseline; the target is p95 <= 150 ms for these turns. It also
checks that every room was created and every invite sent (the asynchronous part), and how long that took.
Results go to results/bench-topics.json.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy import func, select

from assistant.chatclient import ChatClient
from assistant.config import ROOT, Settings
from assistant.devstack import Stack
from assistant.seed import seed
from assistant.store import Database
from assistant.store.models import OutboxEffect
from tools.bench_search import percentiles

TARGET_P95_MS = 150.0
PEOPLE = ("chenjing", "zhaomin", "sunhao", "lina")


def timed_turns(client: ChatClient, sender: str, texts: Sequence[str], check: Callable[[str], bool]) -> list[float]:
    samples = []
    for text in texts:
        start = time.perf_counter()
        reply = " ".join(client.say(sender, text))
        samples.append((time.perf_counter() - start) * 1000)
        if not check(reply):
            raise RuntimeError(f"unexpected reply to {text!r}: {reply[:200]}")
    return samples


def submitted_claims(client: ChatClient, count: int) -> tuple[list[int], list[float]]:
    """Claims of zhaomin, each submitted (its topic opened by the submission), for the bound-topic turns;
    and how long each confirming turn took."""
    ids, confirm_ms = [], []
    for _ in range(count):
        client.restart("zhaomin")
        reply = " ".join(client.say("zhaomin", "我要报销昨天打车58块"))
        ids.append(int(re.search(r"#(\d+)", reply).group(1)))
        client.say("zhaomin", "提交")
        confirm_ms += timed_turns(client, "zhaomin", ["是的"], lambda r: "已提交" in r)
    return ids, confirm_ms


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_topics", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60, help="timed turns per scenario (default 60)")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "bench-topics.json")
    args = parser.parse_args(argv)
    var = Path(tempfile.mkdtemp(prefix="deskmate-bench-topics-"))
    settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'deskmate.db'}", rasa_port=5405,
                        api_port=5455, matrix_url="http://127.0.0.1:5408")
    db = Database(settings.database_url)
    seed(db, ROOT / "company")
    print("starting Synapse, the assistant service and Rasa on 5408/5455/5405 ...", flush=True)
    with Stack(settings, log_dir=var / "logs"):
        client = ChatClient(settings.rasa_url, settings.api_url, settings.admin_token())
        for person in ("lina", "chenjing"):
            client.restart(person)
        warm = ["李娜是谁"] * 5 + ["开个话题讨论热身，拉上陈静、赵敏、孙浩和李娜"] * 3
        timed_turns(client, "chenjing", warm, lambda reply: bool(reply))
        baseline = timed_turns(client, "lina", ["李娜是谁"] * args.turns, lambda r: "财务总监" in r)
        opening = timed_turns(client, "yanglei",
                              [f"开个话题讨论方案{i}，拉上陈静、赵敏、孙浩和李娜" for i in range(args.turns)],
                              lambda r: "已开话题" in r and "李娜" in r)
        claims, confirming = submitted_claims(client, min(args.turns, 30))
        bound = timed_turns(client, "lina", [f"针对报销单{c}开个话题" for c in claims],
                            lambda r: "话题 #" in r)
        start = time.monotonic()
        while time.monotonic() - start < 120:
            with db.session() as s:
                waiting = s.execute(select(func.count()).select_from(OutboxEffect)
                                    .where(OutboxEffect.status != "sent")).scalar_one()
            if waiting == 0:
                break
            time.sleep(0.5)
        drained_s = time.monotonic() - start
    base, opened, joined = percentiles(baseline), percentiles(opening), percentiles(bound)
    submitted = percentiles(confirming)
    report: dict[str, Any] = {
        "baseline_who_is_ms": base, "open_free_4_invitees_ms": opened, "bound_topic_ms": joined,
        "submit_confirm_ms": submitted,
        "ratio_p95": {"open": round(opened["p95"] / base["p95"], 2),
                      "bound": round(joined["p95"] / base["p95"], 2),
                      "submit": round(submitted["p95"] / base["p95"], 2)},
        "effects_not_sent_after_s": {"seconds": round(drained_s, 1), "remaining": waiting},
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": max(opened["p95"], joined["p95"], submitted["p95"]) <= TARGET_P95_MS,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"{'turn':<28}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p95 / baseline':>16}")
    for name, row, ratio in (("baseline: 李娜是谁", base, 1.0), ("open topic, 4 invitees", opened,
                                                                report["ratio_p95"]["open"]),
                             ("discuss claim N (join)", joined, report["ratio_p95"]["bound"]),
                             ("submit (confirming 是的)", submitted, report["ratio_p95"]["submit"])):
        print(f"{name:<28}{row['p50']:>9.1f}{row['p95']:>9.1f}{row['p99']:>9.1f}{ratio:>16.2f}")
    print(f"IM effects all sent {drained_s:.1f} s after the last turn ({waiting} left); "
          f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if report['meets_target'] else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
