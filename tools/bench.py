"""Latency, throughput, memory and training time of Deskmate against baselines measured in the same run (`make bench`).

One run starts, one after the other so they never share the 2 cores:
  1. Deskmate (a local Synapse on :5108, the assistant service, the Rasa server with the Deskmate REST and
     Matrix channels) on its own ports, with a temporary, freshly seeded SQLite database and Synapse data, so a
     running dev stack, its Synapse and its var/ are never touched;
  2. the REST baseline: the same trained model under plain `rasa run`, Rasa's built-in `rest` channel, no
     action endpoint;
then times a full `rasa train` into a temporary directory (`--skip-train` to leave it out).

REST scenarios (SCENARIOS) are warmed up, then driven with each load (1 client, 8 concurrent clients) through
the REST channel. Rasa's cost per turn grows with the length of the conversation (its tracker store
deserializes and re-serializes the session's events, its policies re-read them, on every turn: one sender
without restarts went from 28 to 96 ms per turn over 200 turns), so every conversation is the same length: a
sender says `--conversation-turns` messages in a row after an untimed restart, then the client's next sender
speaks. Every quarter of a load then holds the same mix of early and late turns, and the medians of its first
and last quarters differ only if something else grows during the run. The long_conversation scenario never
restarts: it shows what a long conversation costs each server. RSS of every server process is read after its
loads.

Matrix scenarios (MATRIX_SCENARIOS) run on Deskmate's Synapse, each against a baseline in that same Synapse:
  - dm_round_trip: an employee logged in with mautrix writes in their DM with Deskmate (`--dm-messages`,
    sequential, the conversation restarted like above); timed until Deskmate's reply reaches the employee's
    outstanding /sync long-poll. Baseline ("floor", what Synapse itself costs): a person-to-person message,
    timed until the other person's /sync sees it, interleaved turn by turn with Deskmate's so both see the
    same background load. Ratio: p95 / floor p95; target p95 <= 300 ms. Where the milliseconds go is read
    from Synapse's event timestamps and Deskmate's inbox and outbox rows.
  - topic_rooms: `--rooms` (200) `room.create` outbox effects with 3 invitees each, timed until the assistant
    service's deliverer has sent them all; baseline: the same rooms and invites by direct sequential mautrix
    calls as the application-service bot, no outbox, half before and half after the outbox run. Ratio:
    outbox time / direct time; target <= 60 s. The im_rooms rows and the invitees of a sample of rooms are
    checked.
`--only matrix` runs only those (about 3 minutes with --skip-train); `--only rest` leaves them out.

A table is printed and every figure goes to results/bench.json with the targets and whether each is met.
Targets are reported, never asserted. New REST scenarios (a submit turn, a search) are entries of SCENARIOS,
new Matrix ones entries of MATRIX_SCENARIOS; a new kind of server is an entry of SERVERS.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, TypeVar

import aiohttp
from mautrix.api import HTTPAPI
from mautrix.client import ClientAPI
from mautrix.types import Filter, Membership, RoomCreatePreset
from sqlalchemy import func, select

from assistant import outbox, synapse
from assistant.chatclient import wait_http
from assistant.company import load_company
from assistant.config import ROOT, Settings
from assistant.devstack import MODEL, Stack, quiet_env
from assistant.matrix import OPEN_POWER
from assistant.store import Database
from assistant.store.models import ImRoom, MatrixInboxEvent, OutboxEffect

DESKMATE_RASA_PORT = 5105
DESKMATE_API_PORT = 5155
SYNAPSE_PORT = 5108
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
    one_conversation: bool = False  # each client's first sender says all its messages, restarted only before them


@dataclass(frozen=True)
class Load:
    clients: int
    messages: int  # in total, spread over the clients


NLU_ONLY = (
    Message("你好", "我是邻桌"),
    Message("hello", "I'm Deskmate"),
    Message("你能做什么", "我可以帮你"),
    Message("what can you do", "I can help you with"),
    Message("谢谢", "不客气"),
    Message("thank you", "You're welcome"),
)
SCENARIOS: list[Scenario] = [
    Scenario("nlu_only", "domain response, no custom action (greet/help/thanks, zh+en)", NLU_ONLY,
             servers=("deskmate", "baseline")),
    Scenario("long_conversation", "nlu_only's messages in one conversation per client, never restarted: Deskmate "
             "ends a session every 20 messages (connectors/rasa_speedups.py); compare the quarters", NLU_ONLY,
             servers=("deskmate", "baseline"), one_conversation=True),
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
    """A started server: where to send messages, its processes by name, how long it took to answer.

    A server with Matrix has its settings (Synapse URL, registration, database) and Synapse's pid apart from
    `pids`, so the REST figures (server CPU, memory) stay those of the chat processes alone."""

    endpoint: Endpoint
    pids: dict[str, int]
    startup_s: float
    settings: Settings | None = None
    im_pids: dict[str, int] = field(default_factory=dict)


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
    conversation_turns: int  # each conversation's length, a restart before it; 0: never restart
    time_limit_s: float

    def plan(self, scenario: Scenario, load: Load) -> list[list[Job]]:
        """Each client's jobs: conversations of `conversation_turns` messages (without restarts: one pass through
        the message set), each by the client's next sender; a `one_conversation` scenario: one conversation."""
        count = len(scenario.messages)
        plans: list[list[Job]] = []
        for c in range(load.clients):
            own = self.senders[c::load.clients]
            jobs: list[Job] = []
            messages = load.messages // load.clients + (1 if c < load.messages % load.clients else 0)
            length = messages if scenario.one_conversation else self.conversation_turns or count
            for j in range(messages):
                sender = own[(j // length) % len(own)]
                if (self.conversation_turns or scenario.one_conversation) and j % length == 0:
                    jobs.append((sender, None))
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
def deskmate_server(tmp: Path, model: Path) -> Iterator[RunningServer]:
    """Synapse, the assistant service and Deskmate's Rasa server on bench ports, over a freshly seeded SQLite DB.

    Every Matrix setting is explicit: taken from the environment, a DESKMATE_MATRIX_URL, registration or
    Synapse database would point the bench at a dev server (whose Synapse Stack would reuse if it answers)."""
    var = tmp / "deskmate"
    settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'deskmate.db'}", redis_url="",
                        api_port=DESKMATE_API_PORT, rasa_port=DESKMATE_RASA_PORT, im_backend="matrix",
                        matrix_url=f"http://127.0.0.1:{SYNAPSE_PORT}", local_synapse=True,
                        matrix_registration=var / "synapse" / "deskmate-appservice.yaml", synapse_database_url="")
    if synapse.is_up(settings):
        raise RuntimeError(f"something already answers at {settings.matrix_url}: the bench needs its own Synapse")
    _seed(settings)
    token = settings.admin_token()  # written before both processes start, so they read the same one
    stack = Stack(settings, model=model, log_dir=tmp / "logs" / "deskmate")
    start = time.monotonic()
    stack.start(timeout=STARTUP_TIMEOUT_S)
    try:
        yield RunningServer(Endpoint(f"{settings.rasa_url}/webhooks/deskmate/webhook", token),
                            {"assistant_service": stack.procs["assistant"].pid,
                             "deskmate_rasa": stack.procs["rasa"].pid},
                            time.monotonic() - start, settings, {"synapse": stack.procs["synapse"].pid})
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


# -- Matrix scenarios -----------------------------------------------------------------------------

DM_PERSON, DM_PEER = "zhangwei", "lina"  # the employee chatting with Deskmate; the colleague of the floor
DM_MESSAGES: tuple[Message, ...] = (  # quick answers: two domain responses, two who-is actions
    Message("你好", "我是邻桌"),
    Message("李娜是谁", "账号 lina"),
    Message("who is Lei Yang", "id yanglei"),
    Message("what can you do?", "I can help you with"),
)
DEVICE_NAME = "deskmate-bench"
TURN_TIMEOUT_S = 30.0
REPLY_SETTLE_S = 1.0  # warm-up: further replies to one message arrive within this
SYNC_TIMEOUT_MS = 30000
# Timelines up to 50 events per sync, so a turn's events never fall into a gap; no presence, receipts, typing.
SYNC_FILTER = {"room": {"timeline": {"limit": 50}, "ephemeral": {"types": []}, "account_data": {"types": []}},
               "presence": {"types": []}, "account_data": {"types": []}}
ROOM_INVITEES = 3
ROOMS_SAMPLE = 10
# The power levels MatrixPort.create_room gives a topic room, so the direct baseline sends the same requests.
ROOM_POWER = {"users_default": 0, "events_default": OPEN_POWER, "state_default": 100, "invite": 100, "kick": 100,
              "ban": 100, "redact": 100,
              "events": {"m.room.name": 100, "m.room.topic": 100, "m.room.power_levels": 100}}
CONTENDED_CORES = 0.25  # cores busy outside the bench above which a figure is flagged as contended
LATENCY_FIGURES = ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms")
T = TypeVar("T")


def latency_figures(values_ms: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/mean/max of a list of milliseconds (None when there are fewer than two)."""
    if len(values_ms) < 2:
        return dict.fromkeys(LATENCY_FIGURES)
    cuts = statistics.quantiles(values_ms, n=100, method="inclusive")
    values = (cuts[49], cuts[94], cuts[98], statistics.fmean(values_ms), max(values_ms))
    return {key: round(value, 1) for key, value in zip(LATENCY_FIGURES, values, strict=True)}


def _ratio(mine: float | None, base: float | None) -> float | None:
    return round(mine / base, 2) if mine and base else None


def _utc_seconds(value: datetime | None) -> float | None:
    """A stored timestamp as epoch seconds; SQLite hands back naive datetimes that were written as UTC."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


@dataclass(frozen=True)
class Seen:
    """A timeline event as it reached a client: when its /sync returned, by perf_counter and by wall clock."""

    at: float
    wall: float
    room_id: str
    event: dict[str, Any]

    @property
    def event_id(self) -> str:
        return self.event.get("event_id") or ""

    def is_message_from(self, sender: str, room_id: str) -> bool:
        return self.room_id == room_id and self.event.get("sender") == sender \
            and self.event.get("type") == "m.room.message"


class SyncWatcher:
    """A client's /sync long-poll with a since token, always outstanding like a real client's, so an event is
    timed when it reaches the client, not when the bench gets round to asking for it."""

    def __init__(self, client: ClientAPI) -> None:
        self.client = client
        self.seen: list[Seen] = []
        self.limited = 0  # syncs whose timeline had a gap (events may be missing from `seen`)
        self._since = ""
        self._filter = ""
        self._new = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None

    async def start(self) -> None:
        """A first sync without waiting (history is not news), then the loop in the background."""
        self._filter = await self.client.create_filter(Filter.deserialize(SYNC_FILTER))
        self._since = (await self.client.sync(timeout=0, filter_id=self._filter))["next_batch"]
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        try:
            while True:
                resp = await self.client.sync(since=self._since, timeout=SYNC_TIMEOUT_MS, filter_id=self._filter)
                at, wall = time.perf_counter(), time.time()
                self._since = resp["next_batch"]
                for room_id, data in ((resp.get("rooms") or {}).get("join") or {}).items():
                    timeline = data.get("timeline") or {}
                    self.limited += bool(timeline.get("limited"))
                    self.seen.extend(Seen(at, wall, room_id, event) for event in timeline.get("events") or [])
                self._new.set()
        except Exception as exc:  # noqa: BLE001 - handed to whoever waits
            self._error = exc
            self._new.set()

    async def wait(self, find: Callable[[], T | None], timeout: float) -> T | None:
        """Until `find` (looking at `seen`) returns something; None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            self._new.clear()
            found = find()
            if found is not None:
                return found
            if self._error is not None:
                raise RuntimeError(f"/sync failed: {type(self._error).__name__}: {self._error}") from self._error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new.wait(), remaining)


async def _login(settings: Settings, person: str) -> ClientAPI:
    """An employee's own session, logged in with their local password as any Matrix client would."""
    client = ClientAPI(settings.matrix_id(person), api=HTTPAPI(settings.matrix_url, default_retry_count=0))
    await client.login(password=synapse.password_for(settings, person), device_name=DEVICE_NAME)
    return client


def _as_bot(settings: Settings) -> ClientAPI:
    """Deskmate's application-service user, with the registration's as_token (what MatrixPort uses)."""
    registration = synapse.Registration.load(settings.matrix_registration)
    return ClientAPI(settings.bot_id, api=HTTPAPI(settings.matrix_url, registration.as_token,
                                                  as_user_id=settings.bot_id, default_retry_count=0))


async def _close(client: ClientAPI, logout: bool = True) -> None:
    if logout:
        with suppress(Exception):
            await client.logout()
    await client.api.session.close()


async def _until_joined(client: ClientAPI, room_id: str, user_id: str, timeout: float) -> bool:
    """Synapse pushes Deskmate only the events of rooms it has joined: a DM message sent while it is merely
    invited would never reach it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if user_id in await client.get_joined_members(room_id):
            return True
        await asyncio.sleep(0.05)
    return False


async def _restart(session: aiohttp.ClientSession, endpoint: Endpoint, person: str) -> None:
    """Restart a conversation through the REST channel (admin): the tracker is the person's on every channel."""
    async with session.post(endpoint.url, json=endpoint.payload(person, RESET), headers=endpoint.headers()) as resp:
        body = await resp.text()
        if resp.status != 200:
            raise RuntimeError(f"restarting {person}'s conversation: HTTP {resp.status}: {body[:200]}")


@dataclass
class DmTurn:
    """One DM message: sent when, its own event as the sender's sync saw it, Deskmate's replies after it."""

    text: str
    event_id: str
    sent_wall: float
    latency_ms: float | None = None
    own: Seen | None = None
    replies: list[Seen] = field(default_factory=list)


async def _dm_turn(client: ClientAPI, watcher: SyncWatcher, room_id: str, bot: str, text: str,
                   expected: int) -> DmTurn:
    """Send `text`, wait until `expected` replies of Deskmate follow it in the DM's timeline. The round trip
    ends when the first reply reached the client; waiting for all keeps late replies out of the next turn."""
    mark = len(watcher.seen)
    wall, start = time.time(), time.perf_counter()
    turn = DmTurn(text, await client.send_text(room_id, text), wall)

    def look() -> bool | None:
        seen = watcher.seen[mark:]
        index = next((i for i, s in enumerate(seen) if s.event_id == turn.event_id), None)
        if index is None:
            return None
        turn.own = seen[index]
        turn.replies = [s for s in seen[index + 1:] if s.is_message_from(bot, room_id)]
        return True if len(turn.replies) >= expected else None

    await watcher.wait(look, TURN_TIMEOUT_S)
    if turn.replies:
        turn.latency_ms = (turn.replies[0].at - start) * 1000
    return turn


async def _floor_turn(sender: ClientAPI, receiver: SyncWatcher, room_id: str, text: str) -> float | None:
    """A person-to-person message: ms from sending until the other person's sync sees it."""
    mark = len(receiver.seen)
    start = time.perf_counter()
    event_id = await sender.send_text(room_id, text)
    found = await receiver.wait(lambda: next((s for s in receiver.seen[mark:] if s.event_id == event_id), None),
                                TURN_TIMEOUT_S)
    return None if found is None else (found.at - start) * 1000


DM_SEGMENTS = (
    ("send_to_stored", "send → stored by Synapse"),
    ("stored_to_inbox", "Synapse → Deskmate's inbox (AS push)"),
    ("inbox_to_enqueued", "inbox → reply enqueued (worker, gate, Rasa, actions)"),
    ("enqueued_to_reply_stored", "reply enqueued → stored by Synapse (claim, post)"),
    ("reply_stored_to_visible", "reply stored → in the client's /sync"),
    ("reply_stored_to_marked_sent", "(off the path) reply stored → outbox row marked sent"),
    ("inbox_to_handled", "(off the path) inbox → event handled, all replies sent"),
)


def _dm_breakdown(settings: Settings, turns: list[DmTurn]) -> dict[str, dict[str, float | None]]:
    """Where a turn's milliseconds go, from Synapse's origin_server_ts of both events, the inbox row of the
    message and the outbox row of the first reply (all one machine's clock; Synapse's has ms resolution)."""
    done = [t for t in turns if t.own is not None and t.replies]
    db = Database(settings.database_url, migrate=False)
    try:
        with db.session() as s:
            inbox = {row.event_id: row for row in s.execute(select(MatrixInboxEvent).where(
                MatrixInboxEvent.event_id.in_([t.event_id for t in done]))).scalars()}
            effects = {row.key: row for row in s.execute(select(OutboxEffect).where(
                OutboxEffect.key.in_([f"reply:{t.event_id}:0" for t in done]))).scalars()}
    finally:
        db.dispose()
    spans: dict[str, list[float]] = {key: [] for key, _ in DM_SEGMENTS}
    for turn in done:
        row, effect = inbox.get(turn.event_id), effects.get(f"reply:{turn.event_id}:0")
        assert turn.own is not None
        stored = turn.own.event["origin_server_ts"] / 1000
        reply_stored = turn.replies[0].event["origin_server_ts"] / 1000
        received = _utc_seconds(row.received_at) if row else None
        handled = _utc_seconds(row.handled_at) if row else None
        enqueued = _utc_seconds(effect.created_at) if effect else None
        marked = _utc_seconds(effect.sent_at) if effect else None
        points = {"send_to_stored": (turn.sent_wall, stored), "stored_to_inbox": (stored, received),
                  "inbox_to_enqueued": (received, enqueued), "enqueued_to_reply_stored": (enqueued, reply_stored),
                  "reply_stored_to_visible": (reply_stored, turn.replies[0].wall),
                  "reply_stored_to_marked_sent": (reply_stored, marked), "inbox_to_handled": (received, handled)}
        for key, (begin, end) in points.items():
            if begin is not None and end is not None:
                spans[key].append((end - begin) * 1000)
    out: dict[str, dict[str, float | None]] = {}
    for key, values in spans.items():
        figures = latency_figures(values)
        out[key] = {"p50_ms": figures["p50_ms"], "p95_ms": figures["p95_ms"], "n": len(values)}
    return out


def dm_round_trip(server: RunningServer, args: argparse.Namespace) -> dict[str, Any]:
    """Deskmate's DM round trip over Matrix against a person-to-person message in the same Synapse."""
    return asyncio.run(_dm_round_trip(server, args))


async def _dm_round_trip(server: RunningServer, args: argparse.Namespace) -> dict[str, Any]:
    settings = server.settings
    assert settings is not None
    bot = settings.bot_id
    me, peer = await _login(settings, DM_PERSON), await _login(settings, DM_PEER)
    watchers: list[SyncWatcher] = []
    try:
        started = time.perf_counter()
        dm = await me.create_room(is_direct=True, invitees=[bot], preset=RoomCreatePreset.TRUSTED_PRIVATE)
        if not await _until_joined(me, dm, bot, TURN_TIMEOUT_S):
            raise RuntimeError(f"Deskmate did not join {DM_PERSON}'s DM {dm} within {TURN_TIMEOUT_S:.0f} s")
        join_s = time.perf_counter() - started
        floor = await me.create_room(invitees=[peer.mxid], preset=RoomCreatePreset.TRUSTED_PRIVATE,
                                     name="bench floor")
        await peer.join_room_by_id(floor)
        mine, theirs = SyncWatcher(me), SyncWatcher(peer)
        watchers = [mine, theirs]
        for watcher in watchers:
            await watcher.start()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)) as http:
            # Warm-up, untimed: each message until its replies settle, which also tells how many it gets.
            await _restart(http, server.endpoint, DM_PERSON)
            expected: dict[str, int] = {}
            warmup_problems: list[str] = []
            for n in range(max(args.dm_warmup, len(DM_MESSAGES))):
                message = DM_MESSAGES[n % len(DM_MESSAGES)]
                turn = await _dm_turn(me, mine, dm, bot, message.text, 1)
                await asyncio.sleep(REPLY_SETTLE_S)
                count = sum(1 for s in mine.seen if s.is_message_from(bot, dm) and turn.replies
                            and s.at >= turn.replies[0].at)
                if not count:
                    warmup_problems.append(f"{message.text!r}: no reply within {TURN_TIMEOUT_S:.0f} s")
                expected[message.text] = max(expected.get(message.text, 0), count, 1)
                await _floor_turn(me, theirs, floor, message.text)
            await _restart(http, server.endpoint, DM_PERSON)

            deskmate, base = Sample(), Sample()
            turns: list[DmTurn] = []
            deadline = time.monotonic() + args.load_time_limit
            pids = {**server.pids, **server.im_pids}
            ticks, start = _cpu_ticks(pids), time.perf_counter()
            for n in range(args.dm_messages):
                if time.monotonic() > deadline:
                    deskmate.truncated = True
                    break
                if args.conversation_turns and n and n % args.conversation_turns == 0:
                    began = time.perf_counter()
                    await _restart(http, server.endpoint, DM_PERSON)
                    deskmate.resets += 1
                    deskmate.reset_s += time.perf_counter() - began
                message = DM_MESSAGES[n % len(DM_MESSAGES)]
                turn = await _dm_turn(me, mine, dm, bot, message.text, expected[message.text])
                turns.append(turn)
                texts = "\n".join((s.event.get("content") or {}).get("body") or "" for s in turn.replies)
                if turn.latency_ms is None:
                    deskmate.problem(f"{message.text!r}: no reply within {TURN_TIMEOUT_S:.0f} s")
                else:
                    deskmate.latencies_ms.append(turn.latency_ms)
                    if len(turn.replies) < expected[message.text] or message.expect not in texts:
                        deskmate.problem(f"{message.text!r} -> {texts!r}", unexpected=True)
                floor_ms = await _floor_turn(me, theirs, floor, message.text)
                if floor_ms is None:
                    base.problem(f"{message.text!r}: not seen by {DM_PEER} within {TURN_TIMEOUT_S:.0f} s")
                else:
                    base.latencies_ms.append(floor_ms)
            wall_s = time.perf_counter() - start
            cpu = cpu_cores(ticks, _cpu_ticks(pids), wall_s)
        # For reference, after the timed loop (so its CPU figures stay the DM's): the same messages through
        # Deskmate's REST channel, which is Rasa's turn with neither Synapse nor the inbox and outbox around it.
        rest_scenario = Scenario("dm_rest", "the DM messages through the REST channel", DM_MESSAGES)
        rest = await Driver([DM_PERSON], args.conversation_turns, args.load_time_limit)._drive(
            server, rest_scenario, Load(1, len(turns)))
    finally:
        for watcher in watchers:
            await watcher.stop()
        for client in (me, peer):
            await _close(client)

    def figures(sample: Sample) -> dict[str, Any]:
        return {"ok": len(sample.latencies_ms), "errors": sample.errors, "unexpected_replies": sample.unexpected,
                "first_problem": sample.first_problem, **latency_figures(sample.latencies_ms)}

    mine_fig, floor_fig = figures(deskmate), figures(base)
    done = max(len(turns), 1)
    return {
        "description": f"{DM_PERSON} writes in the DM with Deskmate over Matrix; ms until the reply is in "
                       f"{DM_PERSON}'s /sync. Floor: {DM_PERSON} to {DM_PEER}, ms until {DM_PEER}'s /sync has it",
        "messages": [m.text for m in DM_MESSAGES], "replies_per_message": expected,
        "warmup_problems": warmup_problems, "truncated": deskmate.truncated,
        "resets": deskmate.resets, "reset_s": round(deskmate.reset_s, 2), "dm_join_s": round(join_s, 2),
        "limited_syncs": mine.limited + theirs.limited, "wall_s": round(wall_s, 1),
        "deskmate": mine_fig, "floor": floor_fig,
        "rest_reference": {**{key: value for key, value in rest.summary(1).items()
                              if key in ("ok", "errors", "unexpected_replies", "first_problem", *LATENCY_FIGURES)},
                           "cpu_ms_per_turn": {
                               name: round(cores * rest.wall_s * 1000 / max(len(rest.latencies_ms), 1), 1)
                               for name, cores in rest.cpu["server_cores_by_process"].items()}},
        "ratio": {"p50": _ratio(mine_fig["p50_ms"], floor_fig["p50_ms"]),
                  "p95": _ratio(mine_fig["p95_ms"], floor_fig["p95_ms"])},
        "breakdown_ms": _dm_breakdown(settings, turns),
        # per Deskmate turn and its floor turn together (only Synapse works for the floor)
        "cpu_ms_per_turn": {name: round(cores * wall_s * 1000 / done, 1)
                            for name, cores in cpu["server_cores_by_process"].items()},
        "cpu": cpu,
    }


def topic_rooms(server: RunningServer, args: argparse.Namespace) -> dict[str, Any]:
    """Rooms with invitees through the outbox and the deliverer, against the same requests sent directly."""
    return asyncio.run(_topic_rooms(server, args))


async def _topic_rooms(server: RunningServer, args: argparse.Namespace) -> dict[str, Any]:
    settings = server.settings
    assert settings is not None
    people = [p["id"] for p in load_company(settings.company_dir)["people"]["people"]]
    count, tag = args.rooms, secrets.token_hex(3)
    pids = {**server.pids, **server.im_pids}

    def invitees(n: int) -> list[str]:
        return [people[(n * ROOM_INVITEES + k) % len(people)] for k in range(ROOM_INVITEES)]

    def reason(n: int) -> dict[str, str]:
        return {"zh": f"基准测试话题 {n}：请你参与", "en": f"bench topic {n}: you take part"}

    def name(n: int) -> str:
        return f"基准测试 #{n} · Bench #{n}"

    bot = _as_bot(settings)
    db = Database(settings.database_url, migrate=False)
    direct_rooms: list[str] = []
    halves: list[tuple[float, dict[str, Any], dict[str, int]]] = []  # (seconds, cpu, AS events) of each half

    async def direct_half(numbers: range) -> None:
        """The requests MatrixPort makes for a room.create effect, one after the other, no outbox."""
        wall0, ticks, start = time.time(), _cpu_ticks(pids), time.perf_counter()
        for n in numbers:
            room_id = await bot.create_room(alias_localpart=f"deskmate_benchdirect_{tag}_{n}", name=name(n),
                                            topic="bench", preset=RoomCreatePreset.PRIVATE,
                                            power_level_override=ROOM_POWER)
            for person in invitees(n):
                await bot.invite_user(room_id, settings.matrix_id(person), reason=reason(n)[settings.default_language])
            direct_rooms.append(room_id)
        seconds = time.perf_counter() - start
        halves.append((seconds, cpu_cores(ticks, _cpu_ticks(pids), seconds),
                       await asyncio.to_thread(_inbox_outcomes, db, wall0, time.time())))

    try:
        # The baseline in two halves around the outbox run, so a change of background load (2 cores, shared)
        # weighs on both sides alike; its time is the sum of the halves.
        await direct_half(range(count // 2))
        # Deskmate: the effects in one transaction, then wait for the assistant service's deliverer.
        wall0, ticks, start = time.time(), _cpu_ticks(pids), time.perf_counter()
        keys = [f"bench:{tag}:room:{n}" for n in range(count)]

        def enqueue() -> None:
            with db.session() as s:
                for n, key in enumerate(keys):
                    outbox.create_room(s, key, f"bench:{n}", name(n), "bench",
                                       {person: reason(n) for person in invitees(n)})

        await asyncio.to_thread(enqueue)
        enqueue_s = time.perf_counter() - start
        timed_out = False
        while True:
            statuses = await asyncio.to_thread(_statuses, db, keys)
            if statuses.get("sent", 0) + statuses.get("failed", 0) >= count:
                break
            if time.perf_counter() - start > args.rooms_time_limit:
                timed_out = True
                break
            await asyncio.sleep(0.1)
        observed_s = time.perf_counter() - start
        cpu = cpu_cores(ticks, _cpu_ticks(pids), observed_s)
        rows = await asyncio.to_thread(_effects, db, keys)
        # A claim leases the effect for LEASE_SECONDS and marking it sent leaves that alone, so
        # next_attempt_at - lease is when the deliverer last took it.
        claims = sorted(((_utc_seconds(r.next_attempt_at) or 0) - outbox.LEASE_SECONDS, _utc_seconds(r.sent_at) or 0)
                        for r in rows if r.status == "sent")
        claimed = [claim for claim, _ in claims]
        delivery_ms = [(sent - claim) * 1000 for claim, sent in claims]
        outbox_s = max(sent for _, sent in claims) - wall0 if len(claims) == count else None
        via_outbox = {
            "seconds": round(outbox_s, 2) if outbox_s else None,
            "rooms_per_s": round(count / outbox_s, 1) if outbox_s else None,
            "observed_s": round(observed_s, 2), "timed_out": timed_out, "statuses": statuses,
            "retried": sum(1 for r in rows if r.attempts), "first_error": next((r.last_error for r in rows
                                                                                if r.last_error), None),
            "enqueue_s": round(enqueue_s, 3),
            "first_claim_after_s": round(claimed[0] - wall0, 2) if claimed else None,
            "delivery_per_room_ms": latency_figures(delivery_ms),  # claim to marked sent
            "claim_rounds": _rounds(claims), "cpu": cpu,
            "as_events": await asyncio.to_thread(_inbox_outcomes, db, wall0, time.time()),
            "inbox_backlog_at_end": await asyncio.to_thread(_inbox_backlog, db),
        }
        via_outbox["rasa_cpu_ms_per_as_event"] = _per_event_ms(cpu, observed_s, via_outbox["as_events"])
        await direct_half(range(count // 2, count))
        direct_s = sum(seconds for seconds, _, _ in halves)
        direct = {"seconds": round(direct_s, 2), "rooms_per_s": round(count / direct_s, 1),
                  "per_room_ms": round(direct_s * 1000 / count, 1), "halves_s": [round(h[0], 2) for h in halves],
                  "cpu": _merge_cpu([(half_cpu, seconds) for seconds, half_cpu, _ in halves]),
                  "as_events": _summed([events for _, _, events in halves])}
        direct["rasa_cpu_ms_per_as_event"] = _per_event_ms(direct["cpu"], direct_s, direct["as_events"])
        verified = await _verify_rooms(settings, bot, db, count, tag, direct_rooms, invitees)
    finally:
        await _close(bot, logout=False)  # an as_token is not a session: nothing to log out
        db.dispose()
    return {
        "description": f"{count} room.create effects with {ROOM_INVITEES} invitees each through the outbox, "
                       "until all are sent; baseline: the same rooms and invites by direct sequential mautrix calls",
        "rooms": count, "invitees_per_room": ROOM_INVITEES, "outbox": via_outbox, "direct": direct,
        "ratio": _ratio(via_outbox["seconds"], direct["seconds"]), "verified": verified,
    }


def _statuses(db: Database, keys: list[str]) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(OutboxEffect.status, func.count()).where(OutboxEffect.key.in_(keys))
                         .group_by(OutboxEffect.status))
        return {status: n for status, n in rows}


def _effects(db: Database, keys: list[str]) -> list[OutboxEffect]:
    with db.session() as s:
        return list(s.execute(select(OutboxEffect).where(OutboxEffect.key.in_(keys))).scalars())


def _inbox_outcomes(db: Database, since: float, until: float) -> dict[str, int]:
    """How Deskmate's Rasa server (the AS) handled the events Synapse pushed between two wall-clock times
    (compared in Python: SQLite keeps them as text without a zone)."""
    with db.session() as s:
        rows = s.execute(select(MatrixInboxEvent.received_at, MatrixInboxEvent.outcome)).all()
    out: dict[str, int] = {}
    for at, outcome in rows:
        if since <= (_utc_seconds(at) or 0) <= until:
            out[outcome or "unhandled"] = out.get(outcome or "unhandled", 0) + 1
    return out


def _summed(counts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for count in counts:
        for key, n in count.items():
            out[key] = out.get(key, 0) + n
    return out


def _per_event_ms(cpu: dict[str, Any], seconds: float, events: dict[str, int]) -> float | None:
    """CPU ms Deskmate's Rasa server spent per event Synapse pushed to it (its only work during the rooms runs)."""
    total = sum(events.values())
    return round(cpu["server_cores_by_process"]["deskmate_rasa"] * seconds * 1000 / total, 1) if total else None


def _inbox_backlog(db: Database) -> int:
    with db.session() as s:
        return s.execute(select(func.count()).select_from(MatrixInboxEvent)
                         .where(MatrixInboxEvent.status.in_(("new", "handling")))).scalar_one()


def _rounds(claims: list[tuple[float, float]], gap_s: float = 0.25) -> list[dict[str, float]]:
    """(claimed, sent) times grouped into the deliverer's rounds (a pause of more than `gap_s` between claims
    starts a new one): a round claims up to 50 effects, all stamped with the round's start, delivers them 8 at
    a time, and the next round only starts when the last of them is done."""
    rounds: list[list[tuple[float, float]]] = []
    for claim in claims:
        if rounds and claim[0] - rounds[-1][-1][0] <= gap_s:
            rounds[-1].append(claim)
        else:
            rounds.append([claim])
    out = []
    for r in rounds:
        seconds = max(sent for _, sent in r) - r[0][0]
        out.append({"effects": len(r), "starts_s": round(r[0][0] - claims[0][0], 2), "seconds": round(seconds, 2),
                    "rooms_per_s": round(len(r) / seconds, 1) if seconds > 0 else None})
    return out


def _merge_cpu(parts: list[tuple[dict[str, Any], float]]) -> dict[str, Any]:
    """cpu_cores figures of several spans as one, each weighted by its length."""
    total = sum(seconds for _, seconds in parts) or 1.0

    def mean(read: Callable[[dict[str, Any]], float]) -> float:
        return round(sum(read(cpu) * seconds for cpu, seconds in parts) / total, 2)

    names = parts[0][0]["server_cores_by_process"] if parts else {}
    return {"server_cores": mean(lambda c: c["server_cores"]),
            "server_cores_by_process": {n: mean(lambda c, n=n: c["server_cores_by_process"][n]) for n in names},
            "bench_cores": mean(lambda c: c["bench_cores"]), "other_cores": mean(lambda c: c["other_cores"])}


async def _verify_rooms(settings: Settings, bot: ClientAPI, db: Database, count: int, tag: str,
                        direct_rooms: list[str], invitees: Callable[[int], list[str]]) -> dict[str, Any]:
    """im_rooms has a row per bench purpose; a sample of rooms of each kind has exactly its invitees invited."""
    with db.session() as s:
        recorded = dict(s.execute(select(ImRoom.purpose, ImRoom.room_id).where(ImRoom.purpose.like("bench:%"))).all())
    sample = sorted({round(i * (count - 1) / max(ROOMS_SAMPLE - 1, 1)) for i in range(min(ROOMS_SAMPLE, count))})
    problems: list[str] = []

    async def check(kind: str, n: int, room_id: str | None) -> bool:
        if room_id is None:
            problems.append(f"{kind} room {n}: not recorded")
            return False
        members = await bot.get_members(room_id)
        invited = {str(m.state_key) for m in members if m.content.membership == Membership.INVITE}
        joined = {str(m.state_key) for m in members if m.content.membership == Membership.JOIN}
        want = {settings.matrix_id(p) for p in invitees(n)}
        if invited != want or joined != {settings.bot_id}:
            problems.append(f"{kind} room {n}: invited {sorted(invited)}, joined {sorted(joined)}, "
                            f"expected {sorted(want)} invited")
            return False
        return True

    outbox_ok = [await check("outbox", n, recorded.get(f"bench:{n}")) for n in sample]
    direct_ok = [await check("direct", n, direct_rooms[n] if n < len(direct_rooms) else None) for n in sample]
    return {"im_rooms": len(recorded), "im_rooms_expected": count,
            "sample_outbox_ok": f"{sum(outbox_ok)}/{len(sample)}",
            "sample_direct_ok": f"{sum(direct_ok)}/{len(sample)}",
            "ok": len(recorded) == count and all(outbox_ok) and all(direct_ok), "problems": problems[:5]}


@dataclass(frozen=True)
class MatrixScenario:
    """A scenario over Matrix with its own same-run baseline; `run` returns its figures for the report."""

    name: str
    run: Callable[[RunningServer, argparse.Namespace], dict[str, Any]]
    wanted: Callable[[argparse.Namespace], bool]  # False: left out by its flags (a count of 0)
    servers: tuple[str, ...] = ("deskmate",)


MATRIX_SCENARIOS: list[MatrixScenario] = [
    MatrixScenario("dm_round_trip", dm_round_trip, lambda args: args.dm_messages > 0),
    MatrixScenario("topic_rooms", topic_rooms, lambda args: args.rooms > 0),
]


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


def _matrix_figure(report: dict[str, Any], *path: str) -> Any:
    value: Any = report.get("matrix") or {}
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


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
    Goal("matrix_dm_p95_ms", "Matrix DM round trip p95, Deskmate", "<=", 300,
         lambda r: _matrix_figure(r, "dm_round_trip", "deskmate", "p95_ms")),
    Goal("matrix_200_rooms_s", "200 topic rooms x3 invites via outbox, s", "<=", 60,
         lambda r: _matrix_figure(r, "topic_rooms", "outbox", "seconds")
         if _matrix_figure(r, "topic_rooms", "rooms") == 200 else None),
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


def _latencies(figures: dict[str, Any]) -> str:
    return (f"ok {figures['ok']} err {figures['errors']} bad {figures['unexpected_replies']}  "
            + "  ".join(f"{key[:-3]} {figures[key]}" for key in LATENCY_FIGURES))


def _cores(cpu: dict[str, Any]) -> str:
    return ", ".join(f"{name} {cores}" for name, cores in cpu["server_cores_by_process"].items()) \
        + f"; others {cpu['other_cores']}"


def print_matrix(results: dict[str, Any]) -> None:
    """The Matrix scenarios: Deskmate's figures, the same-run baseline's, the ratio, and where the time goes."""
    print(f"\nMatrix scenarios (Synapse on :{SYNAPSE_PORT}; each baseline measured in the same run)")
    for name, result in results.items():
        if "error" in result:
            print(f"  {name}: FAILED {result['error']}")
            continue
        if name == "dm_round_trip":
            mine, floor = result["deskmate"], result["floor"]
            print(f"  DM round trip, ms until the reply is in the client's /sync ({mine['ok']} messages, "
                  f"sequential{', TRUNCATED' if result['truncated'] else ''}; replies per message "
                  f"{result['replies_per_message']})")
            print(f"    deskmate  {_latencies(mine)}")
            print(f"    floor     {_latencies(floor)}   (person to person, same Synapse, interleaved)")
            print(f"    deskmate / floor: p50 x{result['ratio']['p50']}  p95 x{result['ratio']['p95']}")
            rest = result["rest_reference"]
            print(f"    for reference, the same messages through Deskmate's REST channel (Rasa's turn alone, run "
                  f"after): {_latencies(rest)}; server CPU ms per turn "
                  + ", ".join(f"{k} {v}" for k, v in rest["cpu_ms_per_turn"].items()))
            for problem in filter(None, (mine["first_problem"], floor["first_problem"],
                                         result["rest_reference"]["first_problem"], *result["warmup_problems"])):
                print(f"    problem: {problem}")
            print("    where a Deskmate turn's ms go (p50 / p95):")
            for key, label in DM_SEGMENTS:
                seg = result["breakdown_ms"][key]
                print(f"      {label:<56} {seg['p50_ms']} / {seg['p95_ms']}")
            print("    server CPU ms per turn (Synapse's includes the floor turn): "
                  + ", ".join(f"{k} {v}" for k, v in result["cpu_ms_per_turn"].items())
                  + f"; cores busy outside the bench {result['cpu']['other_cores']}"
                  + ("  CONTENDED" if result["cpu"]["other_cores"] > CONTENDED_CORES else ""))
        elif name == "topic_rooms":
            via, direct, ok = result["outbox"], result["direct"], result["verified"]
            print(f"  {result['rooms']} topic rooms x {result['invitees_per_room']} invites")
            print(f"    outbox  {via['seconds']} s  {via['rooms_per_s']} rooms/s  (statuses {via['statuses']}"
                  f"{', TIMED OUT' if via['timed_out'] else ''}; first claim after {via['first_claim_after_s']} s; "
                  f"claim→sent per room, incl. waiting for one of 8 slots, p50 "
                  f"{via['delivery_per_room_ms']['p50_ms']} ms p95 {via['delivery_per_room_ms']['p95_ms']} ms)")
            print("            deliverer rounds (effects in s): " + ", ".join(
                f"{r['effects']} in {r['seconds']}" for r in via["claim_rounds"]))
            print(f"    direct  {direct['seconds']} s  {direct['rooms_per_s']} rooms/s  "
                  f"({direct['per_room_ms']} ms per room, sequential mautrix calls as the AS bot, in halves of "
                  f"{' + '.join(map(str, direct['halves_s']))} s before and after the outbox run)")
            print(f"    outbox / direct: x{result['ratio']}")
            print(f"    verified: im_rooms {ok['im_rooms']}/{ok['im_rooms_expected']}, invitees of sampled rooms: "
                  f"outbox {ok['sample_outbox_ok']}, direct {ok['sample_direct_ok']}"
                  + ("" if ok["ok"] else f"  PROBLEMS {ok['problems']}"))
            if via["first_error"]:
                print(f"    first outbox error: {via['first_error']}")
            print(f"    cores busy, outbox: {_cores(via['cpu'])}")
            print(f"    cores busy, direct: {_cores(direct['cpu'])}")
            if max(via["cpu"]["other_cores"], direct["cpu"]["other_cores"]) > CONTENDED_CORES:
                print("    CONTENDED: processes outside the bench kept a core busy meanwhile")
            print(f"    events Synapse pushed to Deskmate's AS, by how it handled them: outbox {via['as_events']}, "
                  f"direct {direct['as_events']}; inbox backlog after the outbox run {via['inbox_backlog_at_end']}")
            print(f"    Rasa CPU ms per pushed event: outbox {via['rasa_cpu_ms_per_as_event']}, "
                  f"direct {direct['rasa_cpu_ms_per_as_event']}")


def print_report(report: dict[str, Any], path: Path) -> None:
    if report["runs"]:
        print("\nlatency in ms: wall time per request at the client. err = failed, bad = unexpected reply;")
        print("1st¼ / last¼ = median of the first / last quarter of the requests; cpu/msg = server CPU ms per "
              "message;")
        print("srvCPU / others = cores busy in the server processes / in processes outside the bench during the "
              "load")
        head = _row([title for _, title, _ in COLUMNS])
        print(head)
        print("-" * len(head))
        for r in report["runs"]:
            print(_row([r[key] for key, _, _ in COLUMNS]) + ("  TRUNCATED" if r["truncated"] else ""))
        for r in report["runs"] + report["warmups"]:
            if r["first_problem"]:
                print(f"  first problem, {r['server']}/{r['scenario']}/{r['clients']} client(s): "
                      f"{r['first_problem']}")
        print("\ndeskmate / baseline")
        for r in report["ratios"]:
            print(f"  {r['scenario']:<14} {r['clients']} client(s): p50 x{r['p50_ms']}  p95 x{r['p95_ms']}  "
                  f"throughput x{r['throughput_msg_s']}  server CPU/msg x{r['server_cpu_ms_per_msg']}")
    if report["matrix"]:
        print_matrix(report["matrix"])
    for title, memory in (("the REST loads", report["memory"]), ("the Matrix scenarios", report["matrix_memory"])):
        if memory:
            print(f"\nmemory after {title} (MiB, process + children): RSS / peak RSS")
            for name, mem in memory.items():
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
                 model: Path, driver: Driver, loads: list[Load], args: argparse.Namespace,
                 report: dict[str, Any]) -> None:
    """Start one server, warm up and drive each of its REST scenarios with each load, read its memory, run its
    Matrix scenarios, stop it. A server with nothing selected to run is not started."""
    scenarios = [s for s in SCENARIOS if name in s.servers] if args.only != "matrix" else []
    matrix = [s for s in MATRIX_SCENARIOS if name in s.servers and s.wanted(args)] if args.only != "rest" else []
    if not scenarios and not matrix:
        return
    print(f"starting {name}...", file=sys.stderr, flush=True)
    with start_server(tmp, model) as server:
        report["startup_s"][name] = round(server.startup_s, 1)
        for scenario in scenarios:
            for load, kind in [(Load(1, args.warmup), "warmups")] + [(load, "runs") for load in loads]:
                print(f"  {name} {scenario.name}: {load.messages} messages from {load.clients} client(s)"
                      + (" (warm-up)" if kind == "warmups" else ""), file=sys.stderr, flush=True)
                sample = driver.measure(server, scenario, load)
                report[kind].append({"server": name, "scenario": scenario.name, "clients": load.clients,
                                     "messages": load.messages, **sample.summary(load.clients)})
        if scenarios:
            for process, pid in server.pids.items():
                report["memory"][process] = tree_memory_mib(pid)
        for matrix_scenario in matrix:
            print(f"  {name} {matrix_scenario.name} over Matrix...", file=sys.stderr, flush=True)
            try:
                report["matrix"][matrix_scenario.name] = matrix_scenario.run(server, args)
            except Exception as exc:  # noqa: BLE001 - reported; the other scenarios and the report still run
                report["matrix"][matrix_scenario.name] = {"error": f"{type(exc).__name__}: {exc}"}
                traceback.print_exc()
                _print_log_tails(tmp / "logs")
        if matrix:
            for process, pid in {**server.pids, **server.im_pids}.items():
                report["matrix_memory"][process] = tree_memory_mib(pid)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-train", action="store_true", help="do not time a full `rasa train`")
    parser.add_argument("--messages-1", type=int, default=300, help="messages from 1 client (default 300)")
    parser.add_argument("--messages-8", type=int, default=800, help="messages in total from 8 clients (default 800)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed messages per scenario and server")
    parser.add_argument("--conversation-turns", type=int, default=20,
                        help="turns per conversation, each by one sender after an untimed restart; 0: never restart "
                             "(default 20)")
    parser.add_argument("--load-time-limit", type=float, default=120.0, help="seconds per load before it stops")
    parser.add_argument("--train-time-limit", type=float, default=900.0, help="seconds before training is abandoned")
    parser.add_argument("--only", choices=("all", "rest", "matrix"), default="all",
                        help="run only the REST scenarios or only the Matrix scenarios (default all)")
    parser.add_argument("--dm-messages", type=int, default=100,
                        help="timed DM messages over Matrix, sequential (default 100; 0 leaves the scenario out)")
    parser.add_argument("--dm-warmup", type=int, default=8, help="untimed DM messages first (default 8)")
    parser.add_argument("--rooms", type=int, default=200,
                        help="topic rooms to create each way (default 200; 0 leaves the scenario out)")
    parser.add_argument("--rooms-time-limit", type=float, default=300.0,
                        help="seconds to wait for the outbox to send every room")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"default {RESULTS}, or results/bench-rest.json / bench-matrix.json with --only, so a "
                             "partial run never overwrites a full one")
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS if args.only == "all" else RESULTS.with_name(f"bench-{args.only}.json")
    return args


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
                                  "messages": [m.text for m in s.messages]} for s in SCENARIOS],
                   "only": args.only,
                   "matrix": {"synapse_url": f"http://127.0.0.1:{SYNAPSE_PORT}",
                              "scenarios": [s.name for s in MATRIX_SCENARIOS], "dm_messages": args.dm_messages,
                              "dm_warmup": args.dm_warmup, "dm_texts": [m.text for m in DM_MESSAGES],
                              "rooms": args.rooms, "invitees_per_room": ROOM_INVITEES}},
        "runs": [], "warmups": [], "memory": {}, "startup_s": {}, "training": None, "matrix": {},
        "matrix_memory": {},
    }
    with tempfile.TemporaryDirectory(prefix="deskmate-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model = tmp / "model.tar.gz"  # a copy: both servers load the same model even if `make model` runs meanwhile
        shutil.copyfile(MODEL, model)
        report["config"]["model_sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
        try:
            for name, start_server in SERVERS.items():
                bench_server(name, start_server, tmp, model, driver, loads, args, report)
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
