"""Latency, throughput, memory and training time of Deskmate against a bare-Rasa baseline (`make bench`).

One run starts, one after the other so they never share the 2 cores:
  1. Deskmate (assistant service + Rasa server with the Deskmate REST channel) on its own ports, with a
     temporary, freshly seeded SQLite database, so a running dev stack and its var/ are never touched;
  2. the baseline: the same trained model under plain `rasa run`, Rasa's built-in `rest` channel, no action
     endpoint;
then times a full `rasa train` into a temporary directory (`--skip-train` to leave it out).

Every scenario is warmed up, then driven with each load (1 client, 8 concurrent clients) through the REST
channel. Rasa's cost per turn grows with the length of the conversation (its tracker store re-reads and
re-featurises every event on every turn), so every sender's conversation is restarted, untimed, every
`--conversation-turns` turns: figures do not depend on the order of scenarios or on the message counts.
RSS of every server process is read after its loads. A table is printed and every figure goes to
results/bench.json with the targets and whether each is met. Targets are reported, never asserted.

New scenarios (a submit turn, a DM round trip, a search) are entries of SCENARIOS; a new kind of server
(e.g. Deskmate behind Matrix) is an entry of SERVERS.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator
from unittest import mock

import aiohttp
import yaml

from assistant import devstack
from assistant.company import load_company
from assistant.config import ROOT, Settings
from assistant.devstack import MODEL, Stack, quiet_env, wait_http

DESKMATE_RASA_PORT = 5105
DESKMATE_API_PORT = 5155
BASELINE_PORT = 5205
STARTUP_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 30.0
RESULTS = Path("results/bench.json")
RESET = "/restart"  # forgets the conversation; an admin-only command on the Deskmate channel
LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms", "median_first_quarter_ms",
                "median_last_quarter_ms")


@dataclass(frozen=True)
class Message:
    """One timed user message. `expect` must appear in a reply of servers that check replies."""

    text: str
    expect: str


@dataclass(frozen=True)
class Scenario:
    """A kind of turn, measured on every server it names."""

    name: str
    description: str
    messages: tuple[Message, ...]
    servers: tuple[str, ...] = ("deskmate",)


@dataclass(frozen=True)
class Load:
    clients: int
    messages: int  # in total, spread over the clients


SCENARIOS: list[Scenario] = [
    Scenario("nlu_only", "domain response, no custom action (greet/help/thanks, zh+en)", (
        Message("你好", "我是邻桌"),
        Message("hello", "I'm Deskmate"),
        Message("你能做什么", "我可以帮你"),
        Message("what can you do", "I can help you with"),
        Message("谢谢", "不客气"),
        Message("thank you", "You're welcome"),
    ), servers=("deskmate", "baseline")),
    Scenario("action_who_is", "custom action action_who_is through the action webhook", (
        Message("李娜是谁", "账号 lina"),
        Message("who is Na Li", "id lina"),
    )),
]


@dataclass(frozen=True)
class Endpoint:
    """Where a server takes chat messages over HTTP; `token` is a bearer token allowed to speak as anyone."""

    url: str
    token: str | None = None
    checks_replies: bool = True  # False when the server cannot pick the reply language (baseline)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def payload(self, sender: str, text: str) -> dict[str, Any]:
        return {"sender": sender, "message": text}


@dataclass
class RunningServer:
    """A started server: where to send messages, its processes by name, how long it took to answer."""

    endpoint: Endpoint
    pids: dict[str, int]
    startup_s: float


# -- processes: memory and CPU from /proc ----------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | str) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return []


def _process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat_fields(entry.name)
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def tree_memory_mib(pid: int) -> dict[str, float]:
    """VmRSS now and VmHWM (peak) of a process and its children, summed, in MiB."""
    tree = _process_tree(pid)
    return {"processes": len(tree),
            "rss_mib": round(sum(_status_kib(p, "VmRSS") for p in tree) / 1024, 1),
            "peak_rss_mib": round(sum(_status_kib(p, "VmHWM") for p in tree) / 1024, 1)}


CpuTicks = tuple[int, dict[str, int], int]  # (whole machine, each server process tree, this process)


def _cpu_ticks(server_pids: dict[str, int]) -> CpuTicks:
    """Busy clock ticks so far: of the whole machine, of each server process tree, of this process."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    machine = sum(values) - values[3] - values[4]  # minus idle and iowait

    def used(pid: int) -> int:
        fields = _stat_fields(pid)
        return int(fields[11]) + int(fields[12]) if fields else 0

    servers = {name: sum(used(p) for p in _process_tree(pid)) for name, pid in server_pids.items()}
    return machine, servers, used(os.getpid())


def cpu_cores(before: CpuTicks, after: CpuTicks, seconds: float) -> dict[str, Any]:
    """Cores busy on average between two `_cpu_ticks`: the servers, the bench's clients, everything else."""
    def cores(ticks: int) -> float:
        return round(ticks / CLOCK_TICKS / seconds, 2)

    per_process = {name: cores(after[1][name] - ticks) for name, ticks in before[1].items()}
    servers, bench = sum(after[1].values()) - sum(before[1].values()), after[2] - before[2]
    return {"server_cores": cores(servers), "server_cores_by_process": per_process, "bench_cores": cores(bench),
            "other_cores": max(0.0, cores(after[0] - before[0] - servers - bench))}


# -- driving a load -------------------------------------------------------------------------------

Job = tuple[str, Message | None]  # (sender, message); None: restart the sender's conversation, untimed


@dataclass
class Sample:
    """What one load produced: wall time per successful timed request, in send order, and the failures."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    unexpected: int = 0
    first_problem: str | None = None
    resets: int = 0
    reset_s: float = 0.0  # summed over clients
    wall_s: float = 0.0
    truncated: bool = False
    cpu: dict[str, Any] = field(default_factory=dict)

    def problem(self, text: str, unexpected: bool = False) -> None:
        if unexpected:
            self.unexpected += 1
        else:
            self.errors += 1
        self.first_problem = self.first_problem or text[:300]

    def summary(self, clients: int) -> dict[str, Any]:
        lat = self.latencies_ms
        # The server works through the untimed restarts too: take their share (their summed wall time over
        # the number of clients, exact for one client and for a saturated server) out of the wall time.
        busy_s = self.wall_s - self.reset_s / clients
        figures: dict[str, Any] = {
            "ok": len(lat), "errors": self.errors, "unexpected_replies": self.unexpected,
            "first_problem": self.first_problem, "truncated": self.truncated, "wall_s": round(self.wall_s, 2),
            "resets": self.resets, "reset_s": round(self.reset_s, 2),
            "throughput_msg_s": round(len(lat) / busy_s, 1) if busy_s > 0 else None, **self.cpu,
            # robust to other load on the machine; includes the share of the untimed restarts
            "server_cpu_ms_per_msg": round(self.cpu["server_cores"] * self.wall_s * 1000 / len(lat), 1)
            if lat and self.cpu else None,
        }
        if len(lat) < 2:
            return {**figures, **dict.fromkeys(LATENCY_KEYS)}
        cuts = statistics.quantiles(lat, n=100, method="inclusive")
        quarter = max(1, len(lat) // 4)
        values = (cuts[49], cuts[94], cuts[98], statistics.fmean(lat), max(lat),
                  statistics.median(lat[:quarter]), statistics.median(lat[-quarter:]))
        return {**figures, **{key: round(value, 1) for key, value in zip(LATENCY_KEYS, values, strict=True)}}


@dataclass(frozen=True)
class Driver:
    """Sends a scenario's messages as the company's employees: each client has its own senders."""

    senders: list[str]
    conversation_turns: int  # restart a sender's conversation before its first turn and every so many; 0: never
    time_limit_s: float

    def plan(self, scenario: Scenario, load: Load) -> list[list[Job]]:
        """Each client's jobs; a sender goes through the whole message set before the next sender speaks."""
        count = len(scenario.messages)
        plans: list[list[Job]] = []
        for c in range(load.clients):
            own = self.senders[c::load.clients]
            turns: dict[str, int] = {}
            jobs: list[Job] = []
            for j in range(load.messages // load.clients + (1 if c < load.messages % load.clients else 0)):
                sender = own[(j // count) % len(own)]
                if self.conversation_turns and turns.get(sender, 0) % self.conversation_turns == 0:
                    jobs.append((sender, None))
                turns[sender] = turns.get(sender, 0) + 1
                jobs.append((sender, scenario.messages[(c + j) % count]))
            plans.append(jobs)
        return plans

    def measure(self, server: RunningServer, scenario: Scenario, load: Load) -> Sample:
        """Drive `load` of `scenario`; sending stops after `time_limit_s`."""
        return asyncio.run(self._drive(server, scenario, load))

    async def _drive(self, server: RunningServer, scenario: Scenario, load: Load) -> Sample:
        sample = Sample()
        connector = aiohttp.TCPConnector(limit=load.clients)  # keep-alive: one connection per client
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)) as session:
            deadline = time.monotonic() + self.time_limit_s
            ticks, start = _cpu_ticks(server.pids), time.perf_counter()
            await asyncio.gather(*(_client(session, server.endpoint, jobs, sample, deadline)
                                   for jobs in self.plan(scenario, load)))
            sample.wall_s = time.perf_counter() - start
            sample.cpu = cpu_cores(ticks, _cpu_ticks(server.pids), sample.wall_s)
        return sample


async def _client(session: aiohttp.ClientSession, endpoint: Endpoint, jobs: list[Job], sample: Sample,
                  deadline: float) -> None:
    """One client: its jobs one after the other over one keep-alive connection."""
    for sender, message in jobs:
        if time.monotonic() > deadline:
            sample.truncated = True
            return
        text = message.text if message else RESET
        start = time.perf_counter()
        try:
            async with session.post(endpoint.url, json=endpoint.payload(sender, text),
                                    headers=endpoint.headers()) as resp:
                body = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            sample.problem(f"{text!r}: {type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - start
        texts = [m.get("text") or "" for m in body] if isinstance(body, list) else []
        if message is None:
            sample.resets += 1
            sample.reset_s += elapsed
            if status != 200:
                sample.problem(f"{text!r}: HTTP {status}: {str(body)[:200]}")
        elif status != 200 or not any(texts):
            sample.problem(f"{text!r}: HTTP {status}: {str(body)[:200]}")
        else:
            sample.latencies_ms.append(elapsed * 1000)
            if endpoint.checks_replies and message.expect not in "\n".join(texts):
                sample.problem(f"{text!r} -> {texts!r}", unexpected=True)


# -- servers --------------------------------------------------------------------------------------

@contextmanager
def spawned(settings: Settings, name: str, argv: list[str], log_dir: Path,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """One child with Stack's process handling: own process group, dies with the bench, log file, stopped on exit."""
    group = Stack(settings, log_dir=log_dir, extra_env=env or {})
    try:
        yield group._spawn(name, argv)  # devstack has no public one-process spawn yet
    finally:
        group.stop()


def _rasa() -> str:
    return str(Path(sys.executable).parent / "rasa")


def _seed(settings: Settings) -> None:
    subprocess.run([sys.executable, "-m", "assistant.cli", "seed"], cwd=settings.root, check=True,
                   stdout=subprocess.DEVNULL, env=quiet_env({"DESKMATE_VAR": str(settings.var_dir),
                                                              "DATABASE_URL": settings.database_url}))


@contextmanager
def _action_endpoint_on_api_port() -> Iterator[None]:
    """endpoints.yml hard-codes the action webhook on 5055: point it at the service Stack starts instead."""
    original = devstack.endpoints_file

    def endpoints_file(settings: Settings) -> Path:
        doc = yaml.safe_load(original(settings).read_text(encoding="utf-8")) or {}
        doc["action_endpoint"] = {"url": f"{settings.api_url}/webhook"}
        out = settings.var_dir / "endpoints.bench.yml"
        out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return out

    with mock.patch.object(devstack, "endpoints_file", endpoints_file):
        yield


@contextmanager
def deskmate_server(tmp: Path, model: Path) -> Iterator[RunningServer]:
    """The assistant service and Deskmate's Rasa server on bench ports, over a freshly seeded SQLite DB."""
    var = tmp / "deskmate"
    settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'deskmate.db'}", redis_url="",
                        api_port=DESKMATE_API_PORT, rasa_port=DESKMATE_RASA_PORT)
    _seed(settings)
    token = settings.admin_token()  # written before both processes start, so they read the same one
    stack = Stack(settings, model=model, log_dir=tmp / "logs" / "deskmate")
    start = time.monotonic()
    with _action_endpoint_on_api_port():
        stack.start(timeout=STARTUP_TIMEOUT_S)
    try:
        yield RunningServer(Endpoint(f"{settings.rasa_url}/webhooks/deskmate/webhook", token),
                            {"assistant_service": stack.procs["assistant"].pid,
                             "deskmate_rasa": stack.procs["rasa"].pid},
                            time.monotonic() - start)
    finally:
        stack.stop()


@contextmanager
def baseline_server(tmp: Path, model: Path) -> Iterator[RunningServer]:
    """The same model under plain `rasa run`: built-in `rest` channel, no action endpoint, nothing of Deskmate's."""
    conf = tmp / "baseline"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    (conf / "endpoints.yml").write_text("{}\n", encoding="utf-8")  # else rasa reads ./endpoints.yml
    settings = Settings(var_dir=conf, rasa_port=BASELINE_PORT)
    argv = [_rasa(), "run", "--model", str(model), "--credentials", str(conf / "credentials.yml"),
            "--endpoints", str(conf / "endpoints.yml"), "--interface", settings.host, "--port", str(BASELINE_PORT)]
    start = time.monotonic()
    with spawned(settings, "rasa-baseline", argv, tmp / "logs" / "baseline") as proc:
        wait_http(f"{settings.rasa_url}/webhooks/rest/", STARTUP_TIMEOUT_S, proc)
        yield RunningServer(Endpoint(f"{settings.rasa_url}/webhooks/rest/webhook", checks_replies=False),
                            {"baseline_rasa": proc.pid}, time.monotonic() - start)


SERVERS: dict[str, Callable[[Path, Path], ContextManager[RunningServer]]] = {
    "deskmate": deskmate_server,
    "baseline": baseline_server,
}


def train(tmp: Path, time_limit_s: float) -> dict[str, Any]:
    """A full `rasa train` (the Makefile's model target, --out a temp dir, empty training cache), timed."""
    argv = [_rasa(), "train", "--domain", "domain", "--config", "config.yml", "--data", "data",
            "--out", str(tmp / "models"), "--fixed-model-name", "deskmate"]
    env = {"RASA_CACHE_DIRECTORY": str(tmp / "rasa-cache")}  # a warm .rasa/cache would skip most of the work
    start = time.monotonic()
    with spawned(Settings(var_dir=tmp), "train", argv, tmp / "logs", env) as proc:
        try:
            code = proc.wait(timeout=time_limit_s)
        except subprocess.TimeoutExpired:
            code = None
    seconds = time.monotonic() - start
    ok = code == 0 and (tmp / "models" / "deskmate.tar.gz").exists()
    return {"seconds": round(seconds, 1) if ok else None, "exit_code": code, "ok": ok, "timed_out": code is None}


# -- targets and report ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Goal:
    """A target figure from the issue: `value` reads it from the report."""

    name: str
    description: str
    op: str  # "<=" or ">="
    limit: float
    value: Callable[[dict[str, Any]], float | None]

    def judge(self, report: dict[str, Any]) -> dict[str, Any]:
        value = self.value(report)
        met = None if value is None else (value <= self.limit if self.op == "<=" else value >= self.limit)
        return {"name": self.name, "description": self.description, "target": f"{self.op} {self.limit:g}",
                "value": value, "met": met}


def _figure(server: str, scenario: str, clients: int, key: str) -> Callable[[dict[str, Any]], float | None]:
    def read(report: dict[str, Any]) -> float | None:
        return next((r[key] for r in report["runs"]
                     if (r["server"], r["scenario"], r["clients"]) == (server, scenario, clients)), None)
    return read


GOALS: list[Goal] = [
    Goal("nlu_p50_ms", "NLU-only turn p50, 1 client, Deskmate", "<=", 30, _figure("deskmate", "nlu_only", 1, "p50_ms")),
    Goal("nlu_p95_ms", "NLU-only turn p95, 1 client, Deskmate", "<=", 60, _figure("deskmate", "nlu_only", 1, "p95_ms")),
    Goal("nlu_throughput_msg_s", "NLU-only turns/s, 8 clients, Deskmate", ">=", 40,
         _figure("deskmate", "nlu_only", 8, "throughput_msg_s")),
    Goal("rasa_rss_mib", "Deskmate's Rasa server RSS after load, MiB", "<=", 1536,
         lambda r: (r["memory"].get("deskmate_rasa") or {}).get("rss_mib")),
    Goal("training_s", "full `rasa train`, s", "<=", 300, lambda r: (r.get("training") or {}).get("seconds")),
]


def ratios(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deskmate/baseline for p50, p95, throughput and server CPU per message, for each scenario and load on both."""
    index = {(r["server"], r["scenario"], r["clients"]): r for r in runs}
    out = []
    for (server, scenario, clients), mine in index.items():
        base = index.get(("baseline", scenario, clients))
        if server != "deskmate" or base is None:
            continue
        row: dict[str, Any] = {"scenario": scenario, "clients": clients}
        for key in ("p50_ms", "p95_ms", "throughput_msg_s", "server_cpu_ms_per_msg"):
            row[key] = round(mine[key] / base[key], 2) if mine[key] and base[key] else None
        out.append(row)
    return out


COLUMNS = (("server", "server", 9), ("scenario", "scenario", 14), ("clients", "cl", 2), ("ok", "ok", 4),
           ("errors", "err", 3), ("unexpected_replies", "bad", 3), ("p50_ms", "p50", 6), ("p95_ms", "p95", 6),
           ("p99_ms", "p99", 6), ("max_ms", "max", 6), ("median_first_quarter_ms", "1st¼", 6),
           ("median_last_quarter_ms", "last¼", 6), ("throughput_msg_s", "msg/s", 5),
           ("server_cpu_ms_per_msg", "cpu/msg", 7), ("server_cores", "srvCPU", 6), ("other_cores", "others", 6))


def _row(values: list[Any]) -> str:
    cells = ("-" if v is None else str(v) for v in values)
    return " ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                    for i, (cell, (_, _, w)) in enumerate(zip(cells, COLUMNS, strict=True)))


def print_report(report: dict[str, Any], path: Path) -> None:
    print("\nlatency in ms: wall time per request at the client. err = failed, bad = unexpected reply;")
    print("1st¼ / last¼ = median of the first / last quarter of the requests; cpu/msg = server CPU ms per message;")
    print("srvCPU / others = cores busy in the server processes / in processes outside the bench during the load")
    head = _row([title for _, title, _ in COLUMNS])
    print(head)
    print("-" * len(head))
    for r in report["runs"]:
        print(_row([r[key] for key, _, _ in COLUMNS]) + ("  TRUNCATED" if r["truncated"] else ""))
    for r in report["runs"] + report["warmups"]:
        if r["first_problem"]:
            print(f"  first problem, {r['server']}/{r['scenario']}/{r['clients']} client(s): {r['first_problem']}")
    print("\ndeskmate / baseline")
    for r in report["ratios"]:
        print(f"  {r['scenario']:<14} {r['clients']} client(s): p50 x{r['p50_ms']}  p95 x{r['p95_ms']}  "
              f"throughput x{r['throughput_msg_s']}  server CPU/msg x{r['server_cpu_ms_per_msg']}")
    print("\nmemory after the loads (MiB, process + children): RSS / peak RSS")
    for name, mem in report["memory"].items():
        print(f"  {name:<18} {mem['rss_mib']:>7} / {mem['peak_rss_mib']}")
    print("startup until the chat webhook answers (s): "
          + ", ".join(f"{name} {seconds}" for name, seconds in report["startup_s"].items()))
    training = report["training"]
    print("full training: " + ("skipped" if training is None else
                               f"{training['seconds']} s" if training["ok"] else f"FAILED {training}"))
    print("\ntargets (reported, not asserted)")
    for goal in report["targets"]:
        verdict = {True: "met", False: "MISSED", None: "n/a"}[goal["met"]]
        print(f"  {goal['description']:<44} {goal['target']:>8}  value {goal['value']}  {verdict}")
    print(f"\ntotal run time {report['total_s']} s; figures in {path}")


def _print_log_tails(log_dir: Path, lines: int = 15) -> None:
    for log in sorted(log_dir.rglob("*.log")):
        print(f"--- {log.relative_to(log_dir)} (last {lines} lines)", file=sys.stderr)
        print("\n".join(log.read_text(errors="replace").splitlines()[-lines:]), file=sys.stderr)


# -- the run --------------------------------------------------------------------------------------

def bench_server(name: str, start_server: Callable[[Path, Path], ContextManager[RunningServer]], tmp: Path,
                 model: Path, driver: Driver, loads: list[Load], warmup: int, report: dict[str, Any]) -> None:
    """Start one server, warm up and drive each of its scenarios with each load, read its memory, stop it."""
    scenarios = [s for s in SCENARIOS if name in s.servers]
    if not scenarios:
        return
    print(f"starting {name}...", file=sys.stderr, flush=True)
    with start_server(tmp, model) as server:
        report["startup_s"][name] = round(server.startup_s, 1)
        for scenario in scenarios:
            for load, kind in [(Load(1, warmup), "warmups")] + [(load, "runs") for load in loads]:
                print(f"  {name} {scenario.name}: {load.messages} messages from {load.clients} client(s)"
                      + (" (warm-up)" if kind == "warmups" else ""), file=sys.stderr, flush=True)
                sample = driver.measure(server, scenario, load)
                report[kind].append({"server": name, "scenario": scenario.name, "clients": load.clients,
                                     "messages": load.messages, **sample.summary(load.clients)})
        for process, pid in server.pids.items():
            report["memory"][process] = tree_memory_mib(pid)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-train", action="store_true", help="do not time a full `rasa train`")
    parser.add_argument("--messages-1", type=int, default=300, help="messages from 1 client (default 300)")
    parser.add_argument("--messages-8", type=int, default=800, help="messages in total from 8 clients (default 800)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed messages per scenario and server")
    parser.add_argument("--conversation-turns", type=int, default=20,
                        help="restart each conversation (untimed) every so many turns; 0: never (default 20)")
    parser.add_argument("--load-time-limit", type=float, default=120.0, help="seconds per load before it stops")
    parser.add_argument("--train-time-limit", type=float, default=900.0, help="seconds before training is abandoned")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    began = time.monotonic()
    os.chdir(ROOT)
    if not MODEL.exists():
        print(f"no trained model at {MODEL}: run `make model`", file=sys.stderr)
        return 2
    senders = [p["id"] for p in load_company(ROOT / "company")["people"]["people"]]
    driver = Driver(senders, args.conversation_turns, args.load_time_limit)
    loads = [Load(1, args.messages_1), Load(8, args.messages_8)]
    report: dict[str, Any] = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg(),
                    "python": platform.python_version(), "platform": platform.platform()},
        "config": {"model": str(MODEL),
                   "loads": [vars(load) for load in loads], "warmup": args.warmup,
                   "conversation_turns": args.conversation_turns, "senders": senders,
                   "scenarios": [{"name": s.name, "description": s.description, "servers": list(s.servers),
                                  "messages": [m.text for m in s.messages]} for s in SCENARIOS]},
        "runs": [], "warmups": [], "memory": {}, "startup_s": {}, "training": None,
    }
    with tempfile.TemporaryDirectory(prefix="deskmate-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model = tmp / "model.tar.gz"  # a copy: both servers load the same model even if `make model` runs meanwhile
        shutil.copyfile(MODEL, model)
        report["config"]["model_sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
        try:
            for name, start_server in SERVERS.items():
                bench_server(name, start_server, tmp, model, driver, loads, args.warmup, report)
        except Exception:
            _print_log_tails(tmp / "logs")
            raise
        if not args.skip_train:
            print("timing a full `rasa train`...", file=sys.stderr, flush=True)
            report["training"] = train(tmp, args.train_time_limit)
    report["machine"]["loadavg_at_end"] = os.getloadavg()
    report["ratios"] = ratios(report["runs"])
    report["targets"] = [goal.judge(report) for goal in GOALS]
    report["total_s"] = round(time.monotonic() - began, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print_report(report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
